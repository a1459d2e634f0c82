-- One person across comuni, one live card per person with its history, and the Ministry's own
-- operators as records the Ministry manages.

-- A person is known by the codice fiscale with omocodia undone (identity::PersonKey: the first
-- 15 characters with digits in the digit positions), so two spellings of one code are one
-- person. codice_fiscale keeps the spelling first recorded. The identity (surname, name, birth
-- date, sex, birthplace) is the person's; every census naming them must agree with it.
ALTER TABLE persons ADD COLUMN person_key text;
UPDATE persons SET person_key =
  substr(codice_fiscale, 1, 6) || translate(substr(codice_fiscale, 7, 2), 'LMNPQRSTUV', '0123456789') ||
  substr(codice_fiscale, 9, 1) || translate(substr(codice_fiscale, 10, 2), 'LMNPQRSTUV', '0123456789') ||
  substr(codice_fiscale, 12, 1) || translate(substr(codice_fiscale, 13, 3), 'LMNPQRSTUV', '0123456789');
ALTER TABLE persons ALTER COLUMN person_key SET NOT NULL;
ALTER TABLE persons ADD CONSTRAINT persons_person_key UNIQUE (person_key);
ALTER TABLE persons ADD CONSTRAINT persons_person_key_form
  CHECK (person_key ~ '^[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}$');

-- The personal mailbox (where the credentials' second halves go) is what each comune declared:
-- it moves from the person to the census that names them.
ALTER TABLE census_users ADD COLUMN email text;
UPDATE census_users u SET email = p.email FROM persons p WHERE p.codice_fiscale = u.codice_fiscale;
ALTER TABLE census_users ALTER COLUMN email SET NOT NULL;
ALTER TABLE persons DROP COLUMN email;

-- The Ministry's own operators. Ministry rights come only from a live row here, which only the
-- Ministry writes (never a census); the operator's card is ordered by the Ministry.
CREATE TABLE ministry_operators (
  codice_fiscale  text PRIMARY KEY REFERENCES persons (codice_fiscale),
  email           text NOT NULL,
  added_at        timestamptz NOT NULL
);

-- Every change to the Ministry's operators, with who made it and why. Rows are never changed.
CREATE TABLE ministry_operator_changes (
  id              bigserial PRIMARY KEY,
  codice_fiscale  text NOT NULL REFERENCES persons (codice_fiscale),
  change          text NOT NULL CHECK (change IN ('added', 'removed')),
  reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  changed_at      timestamptz NOT NULL,
  request_id      text NOT NULL,
  changed_by_kind text NOT NULL,
  changed_by      text NOT NULL,
  changed_by_serial text,
  call_id         text,
  UNIQUE (request_id)
);
CREATE TRIGGER ministry_operator_changes_append_only BEFORE UPDATE OR DELETE
  ON ministry_operator_changes FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER ministry_operator_changes_no_truncate BEFORE TRUNCATE ON ministry_operator_changes
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

-- Cards: one *live* card per person (live until it ends: revoked, replaced or failed), every
-- earlier card kept as history. A card is ordered by a census or by the Ministry (census_id
-- NULL, numbered under the prefix 000000 that no comune or province has).
ALTER TABLE card_orders DROP CONSTRAINT card_orders_codice_fiscale_key;
ALTER TABLE card_orders ALTER COLUMN census_id DROP NOT NULL;
ALTER TABLE card_orders ADD COLUMN ended_at timestamptz;
ALTER TABLE card_orders ADD COLUMN end_reason text
  CHECK (end_reason IN ('revoked', 'replaced', 'failed'));
ALTER TABLE card_orders ADD CONSTRAINT card_orders_end CHECK ((ended_at IS NULL) = (end_reason IS NULL));
ALTER TABLE card_orders ADD CONSTRAINT card_orders_ministry_prefix
  CHECK ((census_id IS NULL) = (card_number LIKE '000000%'));
CREATE UNIQUE INDEX card_orders_one_live_card ON card_orders (codice_fiscale) WHERE ended_at IS NULL;
