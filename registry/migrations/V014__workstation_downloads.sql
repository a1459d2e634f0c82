-- Every download of workstation certificates by an office's Amministratore Postazioni
-- (registry/workstation_certificates.h): who, in which session, at which machine, which
-- certificates, as one zip or not. The bundles themselves stay at tessera-ca.
CREATE TABLE workstation_downloads (
  id            bigserial PRIMARY KEY,
  office        text NOT NULL,
  common_ids    text[] NOT NULL CHECK (cardinality(common_ids) > 0),
  archive       boolean NOT NULL,
  person        text NOT NULL,
  session       text NOT NULL,
  machine       text NOT NULL,
  downloaded_at timestamptz NOT NULL
);
CREATE INDEX workstation_downloads_office ON workstation_downloads (office, downloaded_at);

SELECT audit_track('workstation_downloads', ARRAY['id', 'office', 'common_ids', 'archive',
  'person', 'session', 'machine', 'downloaded_at']);
