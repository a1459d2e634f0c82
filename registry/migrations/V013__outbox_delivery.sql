-- The outbox's delivery (mail/outbox.h): each mail's Message-ID, fixed when it is queued (a
-- resend after a crash is recognisably the same message); attempts with backoff; the sender
-- holding it (a lease: a sender that died lets another take it over); given up for good.
ALTER TABLE outbox
  ADD COLUMN message_id text NOT NULL UNIQUE
    DEFAULT ('<' || gen_random_uuid()::text || '@tessera>'),
  ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  ADD COLUMN next_attempt_at timestamptz,   -- NULL: at once
  ADD COLUMN claimed_by text,
  ADD COLUMN claimed_until timestamptz,
  ADD COLUMN last_error text,
  ADD COLUMN failed_at timestamptz,         -- given up: never sent
  ADD CONSTRAINT outbox_sent_or_failed CHECK (sent_at IS NULL OR failed_at IS NULL);
DROP INDEX outbox_unsent;
CREATE INDEX outbox_due ON outbox (coalesce(next_attempt_at, created_at))
  WHERE sent_at IS NULL AND failed_at IS NULL;

-- Its audit records name the delivery too.
SELECT audit_track('outbox', ARRAY['id', 'kind', 'to_address', 'subject', 'message_id', 'attempts',
  'claimed_by', 'sent_at', 'failed_at', 'last_error']);
