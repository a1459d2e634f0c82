-- Reference data: provinces (each with its prefettura), comuni, and every cadastral code a
-- codice fiscale may carry as birthplace. Loaded from deploy/reference by
-- `tessera registry load-reference`; rows that leave the list are marked ceased, never
-- deleted, because censuses and cards keep pointing at them.
CREATE TABLE province (
  code        text PRIMARY KEY CHECK (code ~ '^[0-9]{3}$'),   -- ISTAT province code
  sigla       text NOT NULL CHECK (sigla ~ '^[A-Z]{2}$'),
  name        text NOT NULL CHECK (name <> ''),
  region      text NOT NULL CHECK (region <> ''),
  ceased_at   timestamptz
);
CREATE UNIQUE INDEX province_live_sigla ON province (sigla) WHERE ceased_at IS NULL;

CREATE TABLE comuni (
  istat          text PRIMARY KEY CHECK (istat ~ '^[0-9]{6}$'),
  name           text NOT NULL CHECK (name <> ''),
  province_code  text NOT NULL REFERENCES province (code),
  belfiore       text NOT NULL CHECK (belfiore ~ '^[A-Z][0-9]{3}$'),  -- cadastral code
  ceased_at      timestamptz,
  CHECK (left(istat, 3) = province_code)
);
CREATE UNIQUE INDEX comuni_live_belfiore ON comuni (belfiore) WHERE ceased_at IS NULL;
CREATE INDEX comuni_by_province ON comuni (province_code);

CREATE TABLE codici_catastali (
  code         text NOT NULL CHECK (code ~ '^[A-Z][0-9]{3}$'),
  sigla        text NOT NULL CHECK (sigla ~ '^[A-Z]{2}$'),   -- 'EE' for a foreign state
  name         text NOT NULL CHECK (name <> ''),             -- as the list writes it
  folded_name  text NOT NULL,                                -- A-Z only, for lookups
  current      boolean NOT NULL,
  PRIMARY KEY (code, sigla, name)
);
CREATE INDEX codici_catastali_by_place ON codici_catastali (folded_name, sigla);
