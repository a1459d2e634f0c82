-- Who asked for a card's mail halves (the dispatch service: at the holder's registration, or a
-- resend to a corrected mailbox), for which card, when and under which request id. One row per
-- request id; a retry adds none. Append-only: an UPDATE, DELETE or TRUNCATE fails.
CREATE TABLE mail_half_requests (
  request_id  text PRIMARY KEY,
  card_number text NOT NULL,
  asked_by    text NOT NULL,              -- "<kind>:<name>" of the caller
  asked_at    timestamptz NOT NULL
);
CREATE INDEX mail_half_requests_by_card ON mail_half_requests (card_number);

CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: its rows record who did what', TG_TABLE_SCHEMA,
    TG_TABLE_NAME;
END
$$;
CREATE TRIGGER mail_half_requests_append_only BEFORE UPDATE OR DELETE
  ON mail_half_requests FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER mail_half_requests_no_truncate BEFORE TRUNCATE ON mail_half_requests
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
