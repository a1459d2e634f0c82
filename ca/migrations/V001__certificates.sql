-- Every certificate tessera-ca signs. A row is written in state INTENT, and committed, before
-- the token signs; the certificate is stored (state ISSUED) after. A crash in between leaves
-- an INTENT row that names the serial: the certificate is never unrecorded.
CREATE TABLE certificates (
  serial              text PRIMARY KEY CHECK (serial ~ '^[0-9a-f]+$'),  -- lower-case hex
  request_id          text NOT NULL UNIQUE,            -- the client's idempotency key
  request_sha256      bytea NOT NULL,                  -- what was asked under that key
  issuer              text NOT NULL,                   -- issuing CA name
  profile             text NOT NULL,
  subject             text NOT NULL,                   -- RFC 2253 form, for search
  subject_data        jsonb NOT NULL,                  -- what the subject was built from
  subject_public_key  bytea NOT NULL,                  -- SubjectPublicKeyInfo, DER
  subject_key_sha256  bytea NOT NULL,
  not_before          timestamptz NOT NULL,
  not_after           timestamptz NOT NULL,
  state               text NOT NULL CHECK (state IN ('INTENT', 'ISSUED')),
  der                 bytea,
  intent_at           timestamptz NOT NULL DEFAULT now(),
  issued_at           timestamptz,
  revoked_at          timestamptz,
  revocation_reason   integer CHECK (revocation_reason BETWEEN 0 AND 10 AND revocation_reason <> 7),
  CHECK ((state = 'ISSUED') = (der IS NOT NULL)),
  CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
);

-- No two live certificates share a public key.
CREATE UNIQUE INDEX certificates_live_key ON certificates (subject_key_sha256)
  WHERE revoked_at IS NULL;
CREATE INDEX certificates_issuer_revoked ON certificates (issuer, revoked_at)
  WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_subject ON certificates (subject);
