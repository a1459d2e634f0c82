-- The temporary daily password (seed 001 §8.1): grants by a security administrator, each day's
-- password as an Argon2id hash only, every attempt (rate limits, lock-out), and the outbox that
-- carries the password to the person's personal mailbox.

-- A person's grant at one office, until an end date (Italian calendar); a new grant replaces it.
CREATE TABLE daily_password_grants (
  codice_fiscale  text NOT NULL REFERENCES persons (codice_fiscale),
  office          text NOT NULL CHECK (office ~ '^(comune:[0-9]{6}|prefettura:[0-9]{3})$'),
  until_date      date NOT NULL,
  reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  granted_at      timestamptz NOT NULL,
  granted_by      text NOT NULL,   -- the codice fiscale of the administrator's session
  granted_by_session text NOT NULL,
  request_id      text NOT NULL,
  PRIMARY KEY (codice_fiscale, office)
);

-- One password per grant and Italian day; only its hash.
CREATE TABLE daily_passwords (
  codice_fiscale  text NOT NULL,
  office          text NOT NULL,
  day             date NOT NULL,
  hash            text NOT NULL CHECK (hash LIKE '$argon2id$%'),
  expires_at      timestamptz NOT NULL,
  issued_at       timestamptz NOT NULL,
  PRIMARY KEY (codice_fiscale, office, day),
  FOREIGN KEY (codice_fiscale, office) REFERENCES daily_password_grants (codice_fiscale, office)
    ON DELETE CASCADE
);

-- Every password login attempt: the lock-outs count the failures.
CREATE TABLE daily_password_attempts (
  id              bigserial PRIMARY KEY,
  codice_fiscale  text NOT NULL,
  machine         text NOT NULL,
  at              timestamptz NOT NULL,
  succeeded       boolean NOT NULL
);
CREATE INDEX daily_password_attempts_person ON daily_password_attempts (codice_fiscale, at);
CREATE INDEX daily_password_attempts_machine ON daily_password_attempts (machine, at);

-- Mail tessera sends (the dispatch service's sender delivers it). A body with a secret in it is
-- sealed (AES-256-GCM under a key on the registry's HSM, the purpose as associated data).
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL,
  to_address      text NOT NULL,
  subject         text NOT NULL,
  body            text,            -- plain, when it holds no secret
  sealed_body     bytea,           -- sealed, when it does
  created_at      timestamptz NOT NULL,
  sent_at         timestamptz,
  CHECK ((body IS NULL) <> (sealed_body IS NULL))
);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

-- A session also ends when its card's certificate is revoked (the registry sweeps live card
-- sessions against the CRLs).
ALTER TABLE sessions DROP CONSTRAINT sessions_end_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_end_reason_check
  CHECK (end_reason IN ('logout', 'removed', 'blocked', 'card_revoked'));
CREATE INDEX sessions_live_cards ON sessions (expires_at) WHERE ended_at IS NULL AND method = 'card';
