-- Codici fiscali the Agenzia delle Entrate issued that do not match their holder's data (an old
-- error, a name changed since): a census naming such a person would be refused forever. The
-- Ministry accepts one part (surname, name, birth date, sex or birthplace) of one code, with
-- a reason; the census check then lets that part through for that code. Rows are never
-- changed (who accepted what, and why, stays on record).
CREATE TABLE accepted_code_mismatches (
  codice_fiscale    text NOT NULL CHECK (codice_fiscale ~ '^[A-Z0-9]{16}$'),
  part              text NOT NULL
                    CHECK (part IN ('surname', 'name', 'birth_date', 'sex', 'birthplace')),
  reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  accepted_at       timestamptz NOT NULL,
  request_id        text NOT NULL UNIQUE,
  accepted_by_kind  text NOT NULL,
  accepted_by       text NOT NULL,
  accepted_by_serial text,
  call_id           text,
  PRIMARY KEY (codice_fiscale, part)
);
CREATE TRIGGER accepted_code_mismatches_append_only BEFORE UPDATE OR DELETE
  ON accepted_code_mismatches FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER accepted_code_mismatches_no_truncate BEFORE TRUNCATE ON accepted_code_mismatches
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
