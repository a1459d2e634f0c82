-- Card login: the challenges handed out to machines, and the sessions opened with them.

-- A challenge is good once, for one minute, for the machine (client certificate) it was given
-- to. Used and expired ones are kept a day for the record, then swept.
CREATE TABLE login_challenges (
  id              text PRIMARY KEY,
  codice_fiscale  text NOT NULL,   -- as typed, normalized
  machine         text NOT NULL,   -- the connection certificate's CN
  machine_sha256  text NOT NULL CHECK (machine_sha256 ~ '^[0-9a-f]{64}$'),
  to_sign         bytea NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);
CREATE INDEX login_challenges_created ON login_challenges (created_at);

-- Every session ever opened. One that ends before its expiry (logout, the person removed or
-- blocked) gets the next number of session_endings: services pull the ended ones by it.
CREATE SEQUENCE session_endings;
CREATE TABLE sessions (
  id              text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
  codice_fiscale  text NOT NULL REFERENCES persons (codice_fiscale),
  office          text NOT NULL CHECK (office ~ '^(comune:[0-9]{6}|prefettura:[0-9]{3}|ministero)$'),
  profiles        text[] NOT NULL,
  machine         text NOT NULL,
  machine_sha256  text NOT NULL CHECK (machine_sha256 ~ '^[0-9a-f]{64}$'),
  method          text NOT NULL CHECK (method IN ('card', 'daily_password')),
  card_serial     text,            -- the card that logged in (method 'card')
  started_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  renew_until     timestamptz NOT NULL,
  ended_at        timestamptz,
  end_reason      text CHECK (end_reason IN ('logout', 'removed', 'blocked')),
  ended_seq       bigint UNIQUE,
  CHECK ((method = 'card') = (card_serial IS NOT NULL)),
  CHECK ((ended_at IS NULL) = (end_reason IS NULL) AND (ended_at IS NULL) = (ended_seq IS NULL)),
  CHECK (expires_at <= renew_until)
);
CREATE INDEX sessions_open_by_person ON sessions (codice_fiscale) WHERE ended_at IS NULL;
CREATE INDEX sessions_ended ON sessions (ended_seq) WHERE ended_seq IS NOT NULL;
