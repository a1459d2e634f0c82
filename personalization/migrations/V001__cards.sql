-- Each card's production as tessera-perso journals it (personalization/card_maker.h): the last
-- step done and what the next steps need. The six halves of the card's PIN, PUK and password
-- are kept only sealed (AES-256-GCM under a key on the HSM, bound to the card, credential and
-- half): the envelope halves until the envelope file is printed, the mail halves until the
-- holder's registration releases them.
CREATE TABLE cards (
  card_number        text PRIMARY KEY CHECK (card_number ~ '^[0-9]{16}$'),
  done               text NOT NULL CHECK (done IN ('none', 'credentials', 'token', 'key',
                                                  'request', 'certificate', 'written',
                                                  'proved')),
  envelope_pin       bytea,
  envelope_puk       bytea,
  envelope_password  bytea,
  mail_pin           bytea,
  mail_puk           bytea,
  mail_password      bytea,
  request            bytea,  -- PKCS#10 DER signed on the card
  certificate        bytea,  -- X.509 DER from tessera-ca
  updated_at         timestamptz NOT NULL
);
