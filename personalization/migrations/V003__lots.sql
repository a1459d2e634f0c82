-- Lots (personalization/lots.h): a batch's produced cards, grouped per ordering office when the
-- batch has ended and no reader is still finishing one of its cards, each lot with a national number, the prefettura that receives it, and its print
-- files in the spool. The holder and office are kept with each result for the lot's files.
ALTER TABLE batch_results
  ADD COLUMN codice_fiscale text NOT NULL DEFAULT '',
  ADD COLUMN surname        text NOT NULL DEFAULT '',
  ADD COLUMN name           text NOT NULL DEFAULT '',
  ADD COLUMN office         text NOT NULL DEFAULT '',
  ADD COLUMN office_name    text NOT NULL DEFAULT '',
  ADD COLUMN province_sigla text NOT NULL DEFAULT '';

-- Lot numbers: the year and a national sequence ("2026000042"); one database for the country.
CREATE SEQUENCE lot_numbers;

CREATE TABLE lots (
  lot_number      text PRIMARY KEY CHECK (lot_number ~ '^[0-9]{10}$'),
  batch_id        bigint NOT NULL REFERENCES batches,
  office          text NOT NULL,          -- ISTAT code, province code, or "ministero"
  office_name     text NOT NULL,          -- "ACCUMOLI (RI)"
  prefettura      text NOT NULL,          -- sigla of the receiving prefettura's province
  sealed_at       timestamptz NOT NULL,
  cards_file      text,                   -- card faces PDF, once written
  envelopes_file  text,                   -- envelope sheets PDF (0600), once written
  files_at        timestamptz,
  printed_at      timestamptz,            -- envelope file destroyed, envelope halves dropped
  printed_by      text,
  printed_request text,
  handed_over_at  timestamptz,            -- taken over by the dispatch service
  handed_over_to  text
);
CREATE INDEX lots_by_batch ON lots (batch_id);

CREATE TABLE lot_cards (
  card_number text PRIMARY KEY,
  lot_number  text NOT NULL REFERENCES lots,
  position    integer NOT NULL,           -- order of the card in the lot's files
  UNIQUE (lot_number, position)
);
