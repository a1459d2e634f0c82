-- The outbox of a service's schema (mail/outbox.h), for schemas made after it took this shape
-- (the registry's reached it through its own migrations V011 and V013). Included by a
-- migration ("--@include mail/outbox.sql"), run with search_path set to the schema.
CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL,
  to_address       text NOT NULL,
  subject          text NOT NULL,
  body             text,            -- plain, when it holds no secret
  sealed_body      bytea,           -- sealed, when it does
  created_at       timestamptz NOT NULL,
  sent_at          timestamptz,
  message_id       text NOT NULL UNIQUE DEFAULT ('<' || gen_random_uuid()::text || '@tessera>'),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz,     -- NULL: at once
  claimed_by       text,
  claimed_until    timestamptz,
  last_error       text,
  failed_at        timestamptz,     -- given up: never sent
  CHECK ((body IS NULL) <> (sealed_body IS NULL)),
  CONSTRAINT outbox_sent_or_failed CHECK (sent_at IS NULL OR failed_at IS NULL)
);
CREATE INDEX outbox_due ON outbox (coalesce(next_attempt_at, created_at))
  WHERE sent_at IS NULL AND failed_at IS NULL;
