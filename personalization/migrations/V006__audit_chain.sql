--@include audit/chain.sql

-- What each table's audit records name (audit_row's arguments): keys, states and who acted;
-- never a secret, a hash of one, a sealed value or a whole document.
CREATE TRIGGER cards_audit AFTER INSERT OR UPDATE OR DELETE ON cards
  FOR EACH ROW EXECUTE FUNCTION audit_row('card_number', 'done', 'attempt');
CREATE TRIGGER batches_audit AFTER INSERT OR UPDATE OR DELETE ON batches
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'name', 'province_sigla', 'istat', 'state',
    'created_by');
CREATE TRIGGER batch_requests_audit AFTER INSERT OR UPDATE OR DELETE ON batch_requests
  FOR EACH ROW EXECUTE FUNCTION audit_row('request_id', 'batch_id', 'action', 'actor_kind', 'actor',
    'call_id');
CREATE TRIGGER batch_results_audit AFTER INSERT OR UPDATE OR DELETE ON batch_results
  FOR EACH ROW EXECUTE FUNCTION audit_row('order_id', 'batch_id', 'card', 'certificate_serial',
    'failure');
CREATE TRIGGER lots_audit AFTER INSERT OR UPDATE OR DELETE ON lots
  FOR EACH ROW EXECUTE FUNCTION audit_row('lot_number', 'batch_id', 'office', 'prefettura',
    'files_at', 'printed_at', 'printed_by', 'printed_request', 'handed_over_at', 'handed_over_to');
CREATE TRIGGER lot_cards_audit AFTER INSERT OR UPDATE OR DELETE ON lot_cards
  FOR EACH ROW EXECUTE FUNCTION audit_row('card_number', 'lot_number', 'position');
CREATE TRIGGER mail_half_requests_audit AFTER INSERT OR UPDATE OR DELETE ON mail_half_requests
  FOR EACH ROW EXECUTE FUNCTION audit_row('request_id', 'card_number', 'asked_by');

-- The readers' table is not audited: it is each reader's heartbeat and current step, rewritten
-- every few seconds; the cards' and batches' tables record what the readers did.
