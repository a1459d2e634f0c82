-- Who did what (README, "Who did what"): every act on a certificate or a workstation bundle
-- names its actor in the same transaction as the act: the caller's principal kind
-- (service, workstation, operator, access_code; "system" for tessera-ca's own background
-- acts), its name, its certificate's serial, and the id of the call in the access log
-- (event "rpc", field call_id). Rows written before this migration say 'unrecorded'.

ALTER TABLE certificates
  ADD COLUMN requested_by_kind text NOT NULL DEFAULT 'unrecorded',
  ADD COLUMN requested_by text NOT NULL DEFAULT 'unrecorded',
  ADD COLUMN requested_by_serial text,    -- NULL: the actor had no certificate (system)
  ADD COLUMN requested_call_id text,      -- NULL: a background act, not an RPC
  ADD COLUMN revoked_by_kind text,
  ADD COLUMN revoked_by text,
  ADD COLUMN revoked_by_serial text,
  ADD COLUMN revoked_call_id text;
-- From now on every insert must name its actor: the database refuses an act by nobody.
ALTER TABLE certificates
  ALTER COLUMN requested_by_kind DROP DEFAULT,
  ALTER COLUMN requested_by DROP DEFAULT;
UPDATE certificates SET revoked_by_kind = 'unrecorded', revoked_by = 'unrecorded'
  WHERE revoked_at IS NOT NULL;
ALTER TABLE certificates
  ADD CONSTRAINT certificates_requested_by_kind CHECK (requested_by_kind IN
    ('service', 'workstation', 'operator', 'access_code', 'system', 'unrecorded')),
  ADD CONSTRAINT certificates_revoked_by CHECK (
    (revoked_at IS NULL) = (revoked_by_kind IS NULL) AND
    (revoked_by_kind IS NULL) = (revoked_by IS NULL));

-- Each revocation request (a repeat of an earlier revocation under a new request_id too).
ALTER TABLE revocation_requests
  ADD COLUMN requested_by_kind text NOT NULL DEFAULT 'unrecorded',
  ADD COLUMN requested_by text NOT NULL DEFAULT 'unrecorded',
  ADD COLUMN requested_by_serial text,
  ADD COLUMN call_id text;
ALTER TABLE revocation_requests
  ALTER COLUMN requested_by_kind DROP DEFAULT,
  ALTER COLUMN requested_by DROP DEFAULT;

ALTER TABLE workstation_bundles
  ADD COLUMN requested_by_kind text NOT NULL DEFAULT 'unrecorded',
  ADD COLUMN requested_by text NOT NULL DEFAULT 'unrecorded',
  ADD COLUMN requested_by_serial text,
  ADD COLUMN requested_call_id text;
ALTER TABLE workstation_bundles
  ALTER COLUMN requested_by_kind DROP DEFAULT,
  ALTER COLUMN requested_by DROP DEFAULT;

-- Every time a bundle (a private key and its password) is handed out again: one row per
-- download, committed before the bundle leaves tessera-ca. Rows are never changed or deleted.
CREATE TABLE bundle_downloads (
  id                    bigserial PRIMARY KEY,
  serial                text NOT NULL REFERENCES certificates (serial),
  bundle_request_id     text NOT NULL REFERENCES workstation_bundles (request_id),
  downloaded_by_kind    text NOT NULL,
  downloaded_by         text NOT NULL,
  downloaded_by_serial  text,
  call_id               text,  -- GetWorkstationBundle carries no request id: the call's id
  downloaded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bundle_downloads_serial ON bundle_downloads (serial);

-- Audit tables are append-only: an UPDATE, DELETE or TRUNCATE fails.
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: its rows record who did what', TG_TABLE_SCHEMA,
    TG_TABLE_NAME;
END
$$;
CREATE TRIGGER bundle_downloads_append_only BEFORE UPDATE OR DELETE ON bundle_downloads
  FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER bundle_downloads_no_truncate BEFORE TRUNCATE ON bundle_downloads
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
