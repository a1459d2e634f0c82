-- Who did what (README, "Who did what"): submitting a census and issuing a census access code
-- name their actor in the same transaction as the act: the caller's principal kind (service,
-- workstation, operator, access_code), its name, its certificate's serial (NULL for an access
-- code) and the id of the call in the access log (event "rpc", field call_id).

ALTER TABLE censuses
  ADD COLUMN submitted_by_kind text,
  ADD COLUMN submitted_by text,
  ADD COLUMN submitted_by_serial text,
  ADD COLUMN submitted_call_id text;
UPDATE censuses SET submitted_by_kind = 'unrecorded', submitted_by = 'unrecorded'
  WHERE state = 'SUBMITTED';
-- A submitted census always names who submitted it; a draft names nobody.
ALTER TABLE censuses ADD CONSTRAINT censuses_submitted_by CHECK (
  (state = 'SUBMITTED') = (submitted_by_kind IS NOT NULL) AND
  (submitted_by_kind IS NULL) = (submitted_by IS NULL));

-- Every census access code issued. census_access_codes keeps only the current code's digest
-- and loses it when a new code replaces it or the census is submitted; this table keeps who
-- issued each code and when (never the code, nor its digest). Rows are never changed.
CREATE TABLE access_code_issuances (
  id                bigserial PRIMARY KEY,
  istat             text NOT NULL REFERENCES comuni (istat),
  issued_at         timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  issued_by_kind    text NOT NULL,
  issued_by         text NOT NULL,
  issued_by_serial  text,
  call_id           text
);
CREATE INDEX access_code_issuances_istat ON access_code_issuances (istat);

-- Audit tables are append-only: an UPDATE, DELETE or TRUNCATE fails.
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: its rows record who did what', TG_TABLE_SCHEMA,
    TG_TABLE_NAME;
END
$$;
CREATE TRIGGER access_code_issuances_append_only BEFORE UPDATE OR DELETE
  ON access_code_issuances FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER access_code_issuances_no_truncate BEFORE TRUNCATE ON access_code_issuances
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
