--@include audit/chain.sql

-- What each table's audit records name (audit_track's columns): keys, states and who acted;
-- never a secret, a hash of one, a sealed value or a whole document.
SELECT audit_track('comune_declarations', ARRAY['istat', 'declared_workstations',
  'declared_employees', 'switch_over']);
SELECT audit_track('censuses', ARRAY['id', 'kind', 'owner', 'state', 'revision',
  'submitted_by_kind', 'submitted_by']);
SELECT audit_track('persons', ARRAY['codice_fiscale', 'person_key']);
SELECT audit_track('census_users', ARRAY['census_id', 'codice_fiscale', 'profiles', 'email']);
SELECT audit_track('card_orders', ARRAY['card_number', 'codice_fiscale', 'census_id', 'state',
  'claimed_by', 'certificate_serial', 'failure', 'outcome_by', 'end_reason']);
SELECT audit_track('workstation_orders', ARRAY['workstation_owner', 'progressive', 'census_id',
  'state', 'claimed_by', 'certificate_serial', 'failure', 'outcome_by']);
SELECT audit_track('census_access_codes', ARRAY['office', 'issued_at', 'expires_at']);
SELECT audit_track('access_code_issuances', ARRAY['id', 'office', 'expires_at', 'issued_by_kind',
  'issued_by', 'call_id']);
SELECT audit_track('ministry_operators', ARRAY['codice_fiscale', 'email']);
SELECT audit_track('ministry_operator_changes', ARRAY['id', 'codice_fiscale', 'change',
  'request_id', 'changed_by_kind', 'changed_by']);
SELECT audit_track('accepted_code_mismatches', ARRAY['codice_fiscale', 'part', 'request_id',
  'accepted_by_kind', 'accepted_by']);
SELECT audit_track('requests', ARRAY['caller', 'request_id', 'call']);
SELECT audit_track('login_challenges', ARRAY['id', 'codice_fiscale', 'machine', 'expires_at',
  'used_at']);
SELECT audit_track('sessions', ARRAY['id', 'codice_fiscale', 'office', 'profiles', 'machine',
  'method', 'card_serial', 'expires_at', 'ended_at', 'end_reason']);
SELECT audit_track('daily_password_grants', ARRAY['codice_fiscale', 'office', 'until_date',
  'granted_by', 'granted_by_session', 'request_id']);
SELECT audit_track('daily_passwords', ARRAY['codice_fiscale', 'office', 'day', 'expires_at']);
SELECT audit_track('daily_password_attempts', ARRAY['id', 'codice_fiscale', 'machine',
  'succeeded']);
SELECT audit_track('outbox', ARRAY['id', 'kind', 'to_address', 'subject', 'sent_at']);

-- The ISTAT reference lists, loaded in bulk: one record per statement.
SELECT audit_track_statements('province');
SELECT audit_track_statements('comuni');
SELECT audit_track_statements('codici_catastali');
