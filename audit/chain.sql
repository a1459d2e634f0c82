-- The audit chain of one service's schema (audit/chain.h explains the model). Included by each
-- service's migration that adds it ("--@include audit/chain.sql"), run with search_path set to
-- the service's schema: every object below lives there, and the chain is named after it.
--
-- Rows change in the service's tables; a trigger on each (audit_row, with the columns it
-- records) writes what changed into audit_pending inside the same transaction. At COMMIT a
-- deferred trigger moves the transaction's pending rows into audit_records: under audit_head's
-- row lock, each gets the next sequence number and the SHA-256 over the record and the hash
-- before it (the same encoding as audit::RecordHash). The lock is held only while the
-- transaction commits, and a rolled-back change leaves no record, since its pending rows go
-- with it.
--
-- Who: the transaction's tessera.actor / tessera.workstation / tessera.request_id settings
-- (the service sets them for the caller it acts for); without them, the database role and
-- the connection's application name, so an edit made by hand with psql is chained too.

CREATE TABLE audit_records (
  sequence       bigint PRIMARY KEY CHECK (sequence > 0),
  actor          text NOT NULL,
  workstation    text NOT NULL,
  action         text NOT NULL,   -- <table>.<insert|update|delete>
  ids_before     text NOT NULL,   -- the recorded columns of the row before ('' for an insert)
  ids_after      text NOT NULL,   -- ... and after ('' for a delete)
  request_id     text NOT NULL,
  recorded_at    timestamptz NOT NULL,
  previous_hash  text NOT NULL CHECK (previous_hash ~ '^[0-9a-f]{64}$'),
  hash           text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);

-- The chain's last record: one row, locked by each committing transaction in turn.
CREATE TABLE audit_head (
  chain     text PRIMARY KEY,
  sequence  bigint NOT NULL,
  hash      text NOT NULL
);
INSERT INTO audit_head VALUES (current_schema(), 0, repeat('0', 64));

-- What a transaction changed, until it commits; always empty between transactions.
CREATE TABLE audit_pending (
  id           bigserial PRIMARY KEY,
  actor        text NOT NULL,
  workstation  text NOT NULL,
  action       text NOT NULL,
  ids_before   text NOT NULL,
  ids_after    text NOT NULL,
  request_id   text NOT NULL,
  recorded_at  timestamptz NOT NULL
);

-- Signatures over the chain's head, made with a key on the service's HSM token (audit::Anchor).
CREATE TABLE audit_anchors (
  sequence   bigint PRIMARY KEY CHECK (sequence > 0),
  hash       text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  signed_at  timestamptz NOT NULL,
  signature  bytea NOT NULL
);

-- "<length in bytes>:<value>;": the field encoding of audit::RecordHash.
CREATE FUNCTION audit_field(value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT octet_length(convert_to(value, 'UTF8'))::text || ':' || value || ';'
$$;

-- The recorded columns of a row, "column=value" separated by spaces, in the order given.
CREATE FUNCTION audit_columns(item jsonb, columns text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(string_agg(c || '=' || coalesce(item ->> c, 'NULL'), ' ' ORDER BY n), '')
  FROM unnest(columns) WITH ORDINALITY AS t (c, n)
$$;

-- One change, pending until COMMIT, by whoever the transaction acts for.
CREATE FUNCTION audit_pend(action text, ids_before text, ids_after text) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
  INSERT INTO audit_pending (actor, workstation, action, ids_before, ids_after, request_id,
                             recorded_at)
  VALUES (
    coalesce(nullif(current_setting('tessera.actor', true), ''),
             'database:' || session_user || '/' ||
             coalesce(nullif(current_setting('application_name', true), ''), '-')),
    coalesce(current_setting('tessera.workstation', true), ''),
    action, ids_before, ids_after,
    coalesce(current_setting('tessera.request_id', true), ''),
    clock_timestamp())
$$;

-- A row trigger: its arguments name the columns recorded (never a secret, a hash of one, or
-- a large document).
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM audit_pend(
    TG_TABLE_NAME || '.' || lower(TG_OP),
    CASE WHEN TG_OP = 'INSERT' THEN '' ELSE audit_columns(to_jsonb(OLD), TG_ARGV) END,
    CASE WHEN TG_OP = 'DELETE' THEN '' ELSE audit_columns(to_jsonb(NEW), TG_ARGV) END);
  RETURN NULL;
END
$$;

-- A statement trigger for tables loaded in bulk from public lists (the ISTAT reference data):
-- one record per statement, with the number of rows (its transition table is "changed").
CREATE FUNCTION audit_statement() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
  rows bigint;
BEGIN
  SELECT count(*) INTO rows FROM changed;
  IF rows > 0 THEN
    PERFORM audit_pend(TG_TABLE_NAME || '.' || lower(TG_OP), '', rows || ' rows');
  END IF;
  RETURN NULL;
END
$$;

-- At COMMIT the transaction's first pending record chains them all: one lock of the head, each
-- record numbered and hashed in the order written, one update of the head. The other records'
-- firings find theirs moved already. (A transaction sees only its own pending rows: the others'
-- are uncommitted, and every transaction empties its own before it commits.)
CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  head audit_head;
  pending audit_pending;
  next_hash text;
BEGIN
  PERFORM 1 FROM audit_pending WHERE id = NEW.id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT * INTO STRICT head FROM audit_head FOR UPDATE;
  FOR pending IN SELECT * FROM audit_pending ORDER BY id LOOP
    head.sequence := head.sequence + 1;
    next_hash := encode(sha256(convert_to(
        audit_field(head.sequence::text) || audit_field(pending.actor) ||
        audit_field(pending.workstation) || audit_field(pending.action) ||
        audit_field(pending.ids_before) || audit_field(pending.ids_after) ||
        audit_field(pending.request_id) ||
        audit_field((extract(epoch FROM pending.recorded_at) * 1000000)::bigint::text) ||
        audit_field(head.hash), 'UTF8')), 'hex');
    INSERT INTO audit_records VALUES (head.sequence, pending.actor, pending.workstation,
      pending.action, pending.ids_before, pending.ids_after, pending.request_id,
      pending.recorded_at, head.hash, next_hash);
    head.hash := next_hash;
  END LOOP;
  UPDATE audit_head SET sequence = head.sequence, hash = head.hash;
  DELETE FROM audit_pending;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain();

-- Records and anchors are never changed nor removed (tessera audit verify catches one who
-- disables this first).
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: it is the audit chain', TG_TABLE_SCHEMA, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
