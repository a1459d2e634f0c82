-- Census access codes (registry/access_code.h): one per comune, for the comune that has no
-- certificate yet. Only the SHA-256 digest of the code is kept; the code itself is shown once,
-- to whoever issued it. A new code replaces the old; submission revokes it.
CREATE TABLE census_access_codes (
  istat        text PRIMARY KEY REFERENCES comuni (istat),
  code_sha256  bytea NOT NULL CHECK (length(code_sha256) = 32),
  issued_at    timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL CHECK (expires_at > issued_at)
);
