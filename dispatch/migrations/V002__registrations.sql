-- Cards registered to their holders at the comune (seed 001 §6.3), and second halves sent again
-- to a corrected mailbox ("Invio PIN/PUK"). Rows are never changed.

CREATE TABLE registrations (
  id                     bigserial PRIMARY KEY,
  card_number            text NOT NULL UNIQUE REFERENCES cards,
  office                 text NOT NULL CHECK (office ~ '^[0-9]{6}$'),
  holder_cf              text NOT NULL,
  registered_by_cf       text NOT NULL,   -- the person whose session registered it
  registered_by_surname  text NOT NULL,
  registered_by_name     text NOT NULL,
  registered_at          timestamptz NOT NULL,
  requested_by           text NOT NULL,   -- the caller, as the request journal names it
  request_id             text NOT NULL,
  UNIQUE (requested_by, request_id)
);

CREATE TABLE halves_resends (
  id            bigserial PRIMARY KEY,
  card_number   text NOT NULL REFERENCES cards,
  to_address    text NOT NULL,
  resent_at     timestamptz NOT NULL,
  requested_by  text NOT NULL,
  request_id    text NOT NULL,
  UNIQUE (requested_by, request_id)
);

SELECT audit_track('registrations', ARRAY['id', 'card_number', 'office', 'holder_cf',
  'registered_by_cf', 'requested_by', 'request_id']);
SELECT audit_track('halves_resends', ARRAY['id', 'card_number', 'to_address', 'requested_by',
  'request_id']);
