--@include audit/chain.sql

-- What each table's audit records name (audit_row's arguments): keys, states and who acted;
-- never a secret, a hash of one, a sealed value or a whole document.
CREATE TRIGGER certificates_audit AFTER INSERT OR UPDATE OR DELETE ON certificates
  FOR EACH ROW EXECUTE FUNCTION audit_row('serial', 'request_id', 'issuer', 'profile', 'subject',
    'state', 'not_before', 'not_after', 'revoked_at', 'revocation_reason', 'requested_by_kind',
    'requested_by', 'requested_call_id', 'revoked_by_kind', 'revoked_by', 'revoked_call_id');
CREATE TRIGGER crl_state_audit AFTER INSERT OR UPDATE OR DELETE ON crl_state
  FOR EACH ROW EXECUTE FUNCTION audit_row('issuer', 'revision', 'built_revision', 'crl_number',
    'this_update', 'next_update');
CREATE TRIGGER revocation_requests_audit AFTER INSERT OR UPDATE OR DELETE ON revocation_requests
  FOR EACH ROW EXECUTE FUNCTION audit_row('request_id', 'serial', 'reason', 'requested_by_kind',
    'requested_by', 'call_id');
CREATE TRIGGER workstation_bundles_audit AFTER INSERT OR UPDATE OR DELETE ON workstation_bundles
  FOR EACH ROW EXECUTE FUNCTION audit_row('request_id', 'istat', 'progressive', 'completed_at',
    'requested_by_kind', 'requested_by', 'requested_call_id');
CREATE TRIGGER bundle_downloads_audit AFTER INSERT OR UPDATE OR DELETE ON bundle_downloads
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'serial', 'bundle_request_id', 'downloaded_by_kind',
    'downloaded_by', 'call_id');
