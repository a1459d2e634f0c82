--@include audit/chain.sql

-- What each table's audit records name (audit_track's columns): keys, states and who acted;
-- never a secret, a hash of one, a sealed value or a whole document.
SELECT audit_track('certificates', ARRAY['serial', 'request_id', 'issuer', 'profile', 'subject',
  'state', 'not_before', 'not_after', 'revoked_at', 'revocation_reason', 'requested_by_kind',
  'requested_by', 'requested_call_id', 'revoked_by_kind', 'revoked_by', 'revoked_call_id']);
SELECT audit_track('crl_state', ARRAY['issuer', 'revision', 'built_revision', 'crl_number',
  'this_update', 'next_update']);
SELECT audit_track('revocation_requests', ARRAY['request_id', 'serial', 'reason',
  'requested_by_kind', 'requested_by', 'call_id']);
SELECT audit_track('workstation_bundles', ARRAY['request_id', 'istat', 'progressive',
  'completed_at', 'requested_by_kind', 'requested_by', 'requested_call_id']);
SELECT audit_track('bundle_downloads', ARRAY['id', 'serial', 'bundle_request_id',
  'downloaded_by_kind', 'downloaded_by', 'call_id']);
