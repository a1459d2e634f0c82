-- Census access codes for prefetture too: a code belongs to an office, named as its
-- workstations are (a comune's ISTAT code, or a prefettura's province code + "000"), no longer
-- only to a comune of the reference list.
ALTER TABLE census_access_codes DROP CONSTRAINT census_access_codes_istat_fkey;
ALTER TABLE census_access_codes RENAME COLUMN istat TO office;
ALTER TABLE census_access_codes ADD CONSTRAINT census_access_codes_office
  CHECK (office ~ '^[0-9]{6}$');
ALTER TABLE access_code_issuances DROP CONSTRAINT access_code_issuances_istat_fkey;
ALTER TABLE access_code_issuances RENAME COLUMN istat TO office;
ALTER TABLE access_code_issuances ADD CONSTRAINT access_code_issuances_office
  CHECK (office ~ '^[0-9]{6}$');
ALTER INDEX access_code_issuances_istat RENAME TO access_code_issuances_office;
