-- Revocation bookkeeping per issuing CA. A revocation bumps its CA's revision in the same
-- transaction (a short row lock); the CRL publisher (not the request path) signs a new CRL
-- when the revision moved past the one the last CRL reflects, so a revoke stays fast however
-- many certificates are already revoked.
CREATE TABLE crl_state (
  issuer          text PRIMARY KEY,
  revision        bigint NOT NULL DEFAULT 0,   -- bumped by every revocation of this issuer
  built_revision  bigint NOT NULL DEFAULT -1,  -- the revision the last CRL reflects
  crl_number      bigint NOT NULL DEFAULT 0,   -- of the last CRL signed; the next is + 1
  this_update     timestamptz,
  next_update     timestamptz,
  der             bytea                        -- the last CRL signed
);

CREATE TABLE revocation_requests (
  request_id   text PRIMARY KEY,               -- the caller's idempotency key
  serial       text NOT NULL REFERENCES certificates (serial),
  reason       integer NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX certificates_revoked_by_issuer ON certificates (issuer, not_after)
  WHERE revoked_at IS NOT NULL;
