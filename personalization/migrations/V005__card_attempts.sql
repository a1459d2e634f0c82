-- How often a card was started again on a new token (personalization/card_maker.h): each
-- attempt asks tessera-ca under its own request id, and the card is given up after a few.
ALTER TABLE cards ADD COLUMN attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0);
