--@include audit/chain.sql

-- What each table's audit records name (audit_row's arguments): keys, states and who acted;
-- never a secret, a hash of one, a sealed value or a whole document.
CREATE TRIGGER comune_declarations_audit AFTER INSERT OR UPDATE OR DELETE ON comune_declarations
  FOR EACH ROW EXECUTE FUNCTION audit_row('istat', 'declared_workstations', 'declared_employees',
    'switch_over');
CREATE TRIGGER censuses_audit AFTER INSERT OR UPDATE OR DELETE ON censuses
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'kind', 'owner', 'state', 'revision',
    'submitted_by_kind', 'submitted_by');
CREATE TRIGGER persons_audit AFTER INSERT OR UPDATE OR DELETE ON persons
  FOR EACH ROW EXECUTE FUNCTION audit_row('codice_fiscale', 'person_key');
CREATE TRIGGER census_users_audit AFTER INSERT OR UPDATE OR DELETE ON census_users
  FOR EACH ROW EXECUTE FUNCTION audit_row('census_id', 'codice_fiscale', 'profiles', 'email');
CREATE TRIGGER card_orders_audit AFTER INSERT OR UPDATE OR DELETE ON card_orders
  FOR EACH ROW EXECUTE FUNCTION audit_row('card_number', 'codice_fiscale', 'census_id', 'state',
    'claimed_by', 'certificate_serial', 'failure', 'outcome_by', 'end_reason');
CREATE TRIGGER workstation_orders_audit AFTER INSERT OR UPDATE OR DELETE ON workstation_orders
  FOR EACH ROW EXECUTE FUNCTION audit_row('workstation_owner', 'progressive', 'census_id', 'state',
    'claimed_by', 'certificate_serial', 'failure', 'outcome_by');
CREATE TRIGGER census_access_codes_audit AFTER INSERT OR UPDATE OR DELETE ON census_access_codes
  FOR EACH ROW EXECUTE FUNCTION audit_row('office', 'issued_at', 'expires_at');
CREATE TRIGGER access_code_issuances_audit AFTER INSERT OR UPDATE OR DELETE ON access_code_issuances
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'office', 'expires_at', 'issued_by_kind',
    'issued_by', 'call_id');
CREATE TRIGGER ministry_operators_audit AFTER INSERT OR UPDATE OR DELETE ON ministry_operators
  FOR EACH ROW EXECUTE FUNCTION audit_row('codice_fiscale', 'email');
CREATE TRIGGER ministry_operator_changes_audit AFTER INSERT OR UPDATE OR DELETE ON ministry_operator_changes
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'codice_fiscale', 'change', 'request_id',
    'changed_by_kind', 'changed_by');
CREATE TRIGGER accepted_code_mismatches_audit AFTER INSERT OR UPDATE OR DELETE ON accepted_code_mismatches
  FOR EACH ROW EXECUTE FUNCTION audit_row('codice_fiscale', 'part', 'request_id',
    'accepted_by_kind', 'accepted_by');
CREATE TRIGGER requests_audit AFTER INSERT OR UPDATE OR DELETE ON requests
  FOR EACH ROW EXECUTE FUNCTION audit_row('caller', 'request_id', 'call');
CREATE TRIGGER login_challenges_audit AFTER INSERT OR UPDATE OR DELETE ON login_challenges
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'codice_fiscale', 'machine', 'expires_at',
    'used_at');
CREATE TRIGGER sessions_audit AFTER INSERT OR UPDATE OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'codice_fiscale', 'office', 'profiles', 'machine',
    'method', 'card_serial', 'expires_at', 'ended_at', 'end_reason');
CREATE TRIGGER daily_password_grants_audit AFTER INSERT OR UPDATE OR DELETE ON daily_password_grants
  FOR EACH ROW EXECUTE FUNCTION audit_row('codice_fiscale', 'office', 'until_date', 'granted_by',
    'granted_by_session', 'request_id');
CREATE TRIGGER daily_passwords_audit AFTER INSERT OR UPDATE OR DELETE ON daily_passwords
  FOR EACH ROW EXECUTE FUNCTION audit_row('codice_fiscale', 'office', 'day', 'expires_at');
CREATE TRIGGER daily_password_attempts_audit AFTER INSERT OR UPDATE OR DELETE ON daily_password_attempts
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'codice_fiscale', 'machine', 'succeeded');
CREATE TRIGGER outbox_audit AFTER INSERT OR UPDATE OR DELETE ON outbox
  FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'kind', 'to_address', 'subject', 'sent_at');

-- The ISTAT reference lists, loaded in bulk: one record per statement.
CREATE TRIGGER province_audit_insert AFTER INSERT ON province
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER province_audit_update AFTER UPDATE ON province
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER province_audit_delete AFTER DELETE ON province
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER comuni_audit_insert AFTER INSERT ON comuni
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER comuni_audit_update AFTER UPDATE ON comuni
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER comuni_audit_delete AFTER DELETE ON comuni
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER codici_catastali_audit_insert AFTER INSERT ON codici_catastali
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER codici_catastali_audit_update AFTER UPDATE ON codici_catastali
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
CREATE TRIGGER codici_catastali_audit_delete AFTER DELETE ON codici_catastali
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();
