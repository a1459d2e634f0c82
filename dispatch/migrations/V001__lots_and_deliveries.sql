-- tessera-dispatch: the lots it took over from tessera-perso, their cards on their way to the
-- holders, the deliveries at the prefetture with their protocol numbers, and its outbox.

-- A lot as tessera-perso sealed it; taken over = shipped to the prefettura of its province.
CREATE TABLE lots (
  lot_number     text PRIMARY KEY CHECK (lot_number ~ '^[0-9]{10}$'),
  batch_id       bigint NOT NULL,
  office         text NOT NULL CHECK (office ~ '^([0-9]{6}|[0-9]{3}|ministero)$'),
  office_name    text NOT NULL,
  prefettura     text NOT NULL CHECK (prefettura ~ '^([A-Z]{2})?$'),  -- '' for the Ministry's
  sealed_at      timestamptz NOT NULL,
  taken_over_at  timestamptz NOT NULL
);
CREATE INDEX lots_by_office ON lots (office, lot_number);

-- A delivery at the prefettura: who handed over which cards to whom, under which protocol
-- number (the receipt's).
CREATE TABLE deliveries (
  id                  bigserial PRIMARY KEY,
  protocol            text NOT NULL UNIQUE,   -- "RI-2026-000001"
  prefettura          text NOT NULL,
  office              text NOT NULL,          -- the comune (ISTAT), prefettura (province code)
  office_name         text NOT NULL,
  collector_cf        text NOT NULL,
  collector_surname   text NOT NULL,
  collector_name      text NOT NULL,
  operator_cf         text NOT NULL,          -- the person whose session delivered
  operator_surname    text NOT NULL,
  operator_name       text NOT NULL,
  operated_at         timestamptz NOT NULL,
  requested_by        text NOT NULL,          -- the caller, as the request journal names it
  request_id          text NOT NULL,
  fingerprint         text NOT NULL,          -- what was asked, for a retry under the same id
  UNIQUE (requested_by, request_id)
);

-- Protocol numbers: a sequence per prefettura and year, with no gaps.
CREATE TABLE protocol_counters (
  prefettura  text NOT NULL,
  year        integer NOT NULL,
  last        integer NOT NULL CHECK (last > 0),
  PRIMARY KEY (prefettura, year)
);

-- Each card of a taken-over lot: SPEDITA (at the prefettura) → CONSEGNATA (delivered to the
-- comune) → ATTIVA (registered to its holder; a collector's own card at its delivery).
CREATE TABLE cards (
  card_number         text PRIMARY KEY CHECK (card_number ~ '^[0-9]{16}$'),
  lot_number          text NOT NULL REFERENCES lots,
  position            integer NOT NULL,
  codice_fiscale      text NOT NULL,
  surname             text NOT NULL,
  name                text NOT NULL,
  subject_dn          text NOT NULL,          -- the certificate's subject: Identificativo Carta
  certificate_serial  text NOT NULL,
  state               text NOT NULL CHECK (state IN ('SPEDITA', 'CONSEGNATA', 'ATTIVA')),
  delivery_id         bigint REFERENCES deliveries,
  activated_at        timestamptz,
  CHECK ((state = 'SPEDITA') = (delivery_id IS NULL)),
  CHECK ((state = 'ATTIVA') = (activated_at IS NOT NULL)),
  UNIQUE (lot_number, position)
);
CREATE INDEX cards_by_holder ON cards (codice_fiscale);
CREATE INDEX cards_by_delivery ON cards (delivery_id);

--@include mail/outbox.sql

--@include audit/chain.sql

SELECT audit_track('lots', ARRAY['lot_number', 'batch_id', 'office', 'prefettura']);
SELECT audit_track('deliveries', ARRAY['id', 'protocol', 'prefettura', 'office', 'collector_cf',
  'operator_cf', 'requested_by', 'request_id']);
SELECT audit_track('protocol_counters', ARRAY['prefettura', 'year', 'last']);
SELECT audit_track('cards', ARRAY['card_number', 'lot_number', 'codice_fiscale',
  'certificate_serial', 'state', 'delivery_id', 'activated_at']);
SELECT audit_track('outbox', ARRAY['id', 'kind', 'to_address', 'subject', 'message_id', 'attempts',
  'claimed_by', 'sent_at', 'failed_at', 'last_error']);
