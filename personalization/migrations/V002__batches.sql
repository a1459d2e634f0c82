-- Issuance batches (personalization/batches.h): what a Ministry operator asked for and what
-- became of it. Every daemon sharing this database works on every running batch; the order
-- claims themselves are tessera-registry's (leases per reader), so a batch row is never locked
-- for long.
CREATE TABLE batches (
  id             bigserial PRIMARY KEY,
  name           text NOT NULL,
  province_sigla text NOT NULL DEFAULT '',
  istat          text NOT NULL DEFAULT '',
  orders         text[] NOT NULL DEFAULT '{}',
  state          text NOT NULL CHECK (state IN ('created', 'running', 'paused', 'cancelled',
                                                'finished')),
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  -- open orders in the reach at tessera-registry when a reader last asked; NULL: not yet
  open_orders    integer,
  open_at        timestamptz
);
CREATE INDEX batches_live ON batches (id) WHERE state IN ('created', 'running', 'paused');

-- Every act on a batch under its idempotency key: a retry finds its act here.
CREATE TABLE batch_requests (
  request_id  text PRIMARY KEY,
  batch_id    bigint NOT NULL REFERENCES batches,
  action      text NOT NULL CHECK (action IN ('create', 'run', 'pause', 'cancel')),
  fingerprint text NOT NULL,  -- what was asked (name and reach for create)
  actor_kind  text NOT NULL,
  actor       text NOT NULL,
  actor_serial text NOT NULL,
  call_id     text NOT NULL,
  at          timestamptz NOT NULL
);

-- Each order's end, once, against the batch whose reader ended it.
CREATE TABLE batch_results (
  order_id           text PRIMARY KEY,  -- card number or workstation common id
  batch_id           bigint NOT NULL REFERENCES batches,
  card               boolean NOT NULL,
  certificate_serial text,
  failure            text,
  at                 timestamptz NOT NULL,
  CHECK ((certificate_serial IS NULL) <> (failure IS NULL))
);
CREATE INDEX batch_results_by_batch ON batch_results (batch_id, at);

-- Each reader of each daemon as it last said: what it works on, and why it waits.
CREATE TABLE readers (
  station     text NOT NULL,
  reader      integer NOT NULL,
  batch_id    bigint,
  card_number text NOT NULL DEFAULT '',
  step        text NOT NULL DEFAULT '',
  waiting_for text NOT NULL DEFAULT '',
  card_since  timestamptz,
  beat_at     timestamptz NOT NULL,
  PRIMARY KEY (station, reader)
);
