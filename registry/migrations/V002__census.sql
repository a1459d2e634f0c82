-- Censuses, the people they declare, and the orders a submitted census creates.

-- What a comune declared in its monitoring sheet, and its planned switch-over to ANPR: the
-- limits of its census.
CREATE TABLE comune_declarations (
  istat                  text PRIMARY KEY REFERENCES comuni (istat),
  declared_workstations  integer NOT NULL CHECK (declared_workstations >= 0),
  declared_employees     integer NOT NULL CHECK (declared_employees >= 0),
  switch_over            date NOT NULL
);

-- One census per comune (owner = ISTAT code) or prefettura (owner = province code). The
-- document is the census as last saved, valid or not; SUBMITTED is final.
CREATE TABLE censuses (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('comune', 'prefettura')),
  owner         text NOT NULL CHECK (owner ~ '^[0-9]{3}([0-9]{3})?$'),
  state         text NOT NULL CHECK (state IN ('DRAFT', 'SUBMITTED')),
  document      jsonb NOT NULL,
  revision      integer NOT NULL DEFAULT 1,
  saved_at      timestamptz NOT NULL,
  submitted_at  timestamptz,
  UNIQUE (kind, owner),
  CHECK ((state = 'SUBMITTED') = (submitted_at IS NOT NULL))
);

-- A person censused by one or more comuni: one row, one card.
CREATE TABLE persons (
  codice_fiscale  text PRIMARY KEY CHECK (codice_fiscale ~ '^[A-Z0-9]{16}$'),
  surname         text NOT NULL,
  name            text NOT NULL,
  birth_date      date NOT NULL,
  birth_place     text NOT NULL,
  birth_province  text NOT NULL,
  sex             text NOT NULL CHECK (sex IN ('M', 'F')),
  email           text NOT NULL,
  created_at      timestamptz NOT NULL
);

-- Who a submitted census declares, with the profiles it gives them (profiles are per comune).
CREATE TABLE census_users (
  census_id       bigint NOT NULL REFERENCES censuses (id),
  codice_fiscale  text NOT NULL REFERENCES persons (codice_fiscale),
  profiles        text[] NOT NULL CHECK (cardinality(profiles) > 0),
  PRIMARY KEY (census_id, codice_fiscale)
);

-- The last progressive handed out per card-number prefix (a comune's ISTAT code, or a
-- province code + "000"): numbers only grow, so none is ever reused.
CREATE TABLE card_number_counters (
  prefix  text PRIMARY KEY CHECK (prefix ~ '^[0-9]{6}$'),
  last    bigint NOT NULL CHECK (last BETWEEN 1 AND 9999999999)
);

-- One card per person, valid for every comune that censuses them.
CREATE TABLE card_orders (
  card_number     text PRIMARY KEY CHECK (card_number ~ '^[0-9]{16}$'),
  codice_fiscale  text NOT NULL UNIQUE REFERENCES persons (codice_fiscale),
  census_id       bigint NOT NULL REFERENCES censuses (id),   -- the census that ordered it
  state           text NOT NULL CHECK (state IN ('LAVORAZIONE')),
  created_at      timestamptz NOT NULL,
  claimed_by      text,
  claimed_at      timestamptz
);
CREATE INDEX card_orders_unclaimed ON card_orders (created_at) WHERE claimed_by IS NULL;

-- A workstation certificate to issue: the comune's ISTAT code (a prefettura: province code +
-- "000") and the 4-digit progressive of its CN; 99 is the comune's own server certificate.
CREATE TABLE workstation_orders (
  workstation_owner  text NOT NULL CHECK (workstation_owner ~ '^[0-9]{6}$'),
  progressive        integer NOT NULL CHECK (progressive BETWEEN 1 AND 9999),
  census_id          bigint NOT NULL REFERENCES censuses (id),
  state              text NOT NULL CHECK (state IN ('LAVORAZIONE')),
  created_at         timestamptz NOT NULL,
  claimed_by         text,
  claimed_at         timestamptz,
  PRIMARY KEY (workstation_owner, progressive)
);
CREATE INDEX workstation_orders_unclaimed ON workstation_orders (created_at)
  WHERE claimed_by IS NULL;
