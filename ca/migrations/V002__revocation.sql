-- Revocation bookkeeping per issuing CA. A revocation marks its CA's CRL stale in the same
-- transaction; the CRL builder (not the request path) re-signs stale CRLs, so a revoke stays
-- fast however many certificates are already revoked.
CREATE TABLE crl_state (
  issuer       text PRIMARY KEY,
  crl_number   bigint NOT NULL DEFAULT 0,    -- of the last CRL signed; the next is + 1
  stale        boolean NOT NULL DEFAULT true,
  this_update  timestamptz,
  next_update  timestamptz,
  der          bytea                         -- the last CRL signed
);

CREATE TABLE revocation_requests (
  request_id  text PRIMARY KEY,              -- the caller's idempotency key
  serial      text NOT NULL REFERENCES certificates (serial),
  reason      integer NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now()
);
