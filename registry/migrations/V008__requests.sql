-- The idempotency keys of the census calls (declarations, reference lists, drafts, imports,
-- submissions, access codes), per caller. A call records its key in the same transaction as
-- its change, so a retry after a lost answer finds it and is answered from `outcome`; the
-- same key with another digest is refused.
CREATE TABLE registry.requests (
  caller text NOT NULL,        -- the actor: kind ':' name (a service, workstation, access code)
  request_id text NOT NULL,
  call text NOT NULL,          -- SaveDraft, SubmitCensus, ...
  fingerprint bytea NOT NULL,  -- SHA-256 of what was asked (RequestFingerprint)
  outcome jsonb,               -- what the first call answered, as the store needs to repeat it
  created_at timestamptz NOT NULL,
  PRIMARY KEY (caller, request_id)
);
