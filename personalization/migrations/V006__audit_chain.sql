--@include audit/chain.sql

-- What each table's audit records name (audit_track's columns): keys, states and who acted;
-- never a secret, a hash of one, a sealed value or a whole document.
SELECT audit_track('cards', ARRAY['card_number', 'done', 'attempt']);
SELECT audit_track('batches', ARRAY['id', 'name', 'province_sigla', 'istat', 'state',
  'created_by']);
SELECT audit_track('batch_requests', ARRAY['request_id', 'batch_id', 'action', 'actor_kind',
  'actor', 'call_id']);
SELECT audit_track('batch_results', ARRAY['order_id', 'batch_id', 'card', 'certificate_serial',
  'failure']);
SELECT audit_track('lots', ARRAY['lot_number', 'batch_id', 'office', 'prefettura', 'files_at',
  'printed_at', 'printed_by', 'printed_request', 'handed_over_at', 'handed_over_to']);
SELECT audit_track('lot_cards', ARRAY['card_number', 'lot_number', 'position']);
SELECT audit_track('mail_half_requests', ARRAY['request_id', 'card_number', 'asked_by']);

-- The readers' table is not audited: it is each reader's heartbeat and current step, rewritten
-- every few seconds; the cards' and batches' tables record what the readers did.
