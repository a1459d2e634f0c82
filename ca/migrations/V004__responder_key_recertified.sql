-- A delegated OCSP responder's key stays on the HSM and tessera-ca certifies it again before
-- each short-lived certificate expires, so its certificates overlap: the one-live-certificate-
-- per-key rule holds for every other profile.
DROP INDEX certificates_live_key;
CREATE UNIQUE INDEX certificates_live_key ON certificates (subject_key_sha256)
  WHERE revoked_at IS NULL AND profile <> 'ocsp_responder';
