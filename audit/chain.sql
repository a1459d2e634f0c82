-- The audit chain of one service's schema (audit/chain.h explains the model). Included by each
-- service's migration that adds it ("--@include audit/chain.sql"), run with search_path set to
-- the service's schema: every object below lives there, and the chain is named after it.
--
-- Rows change in the service's tables; a trigger on each (audit_track, with the columns it
-- records) writes what changed into audit_pending inside the same transaction, so a change
-- never commits without its record and a rolled-back change leaves none. The service then
-- chains what committed, a few times a second (audit_chain_pending, as a Certificate
-- Transparency log sequences its queued entries): under audit_head's row lock each record gets
-- the next sequence number and the SHA-256 over itself and the hash before it (the encoding of
-- audit::RecordHash), moving to audit_records. Chaining in the change's own COMMIT would hold
-- that lock across every commit's WAL flush and serialize all of a service's writers.
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

-- The chain's last record: one row, locked while records are chained.
CREATE TABLE audit_head (
  chain     text PRIMARY KEY,
  sequence  bigint NOT NULL,
  hash      text NOT NULL
);
INSERT INTO audit_head VALUES (current_schema(), 0, repeat('0', 64));

-- What changed, written with the change; chained (and removed from here) soon after it commits.
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

-- One change, pending until chained, by whoever the transaction acts for.
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

-- Tracks a table: every row it inserts, updates or deletes becomes a record naming `columns`
-- ("column=value", in the order given; never a secret, a hash of one, a sealed value or a
-- whole document). The trigger function is written here, at migration time, with the columns
-- spelled out: a row is never converted whole (a certificate's DER, say) on the hot path.
CREATE FUNCTION audit_track(target text, columns text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  old_values text;
  new_values text;
BEGIN
  SELECT string_agg(format('%L || coalesce(OLD.%I::text, %L)', c || '=', c, 'NULL'), ', '
                    ORDER BY n),
         string_agg(format('%L || coalesce(NEW.%I::text, %L)', c || '=', c, 'NULL'), ', '
                    ORDER BY n)
    INTO old_values, new_values FROM unnest(columns) WITH ORDINALITY AS t (c, n);
  EXECUTE format($create$
    CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
    AS $body$
    BEGIN
      PERFORM audit_pend(%L || lower(TG_OP),
        CASE WHEN TG_OP = 'INSERT' THEN '' ELSE concat_ws(' ', %s) END,
        CASE WHEN TG_OP = 'DELETE' THEN '' ELSE concat_ws(' ', %s) END);
      RETURN NULL;
    END
    $body$ $create$, target || '_audit_row', target || '.', old_values, new_values);
  IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = target || '_audit'
             AND tgrelid = target::regclass) THEN
    EXECUTE format('DROP TRIGGER %I ON %I', target || '_audit', target);
  END IF;
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW '
                 'EXECUTE FUNCTION %I()', target || '_audit', target, target || '_audit_row');
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

-- Tracks a table loaded in bulk by statement: its inserts, updates and deletes, one record each.
CREATE FUNCTION audit_track_statements(target text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  operation text;
BEGIN
  FOREACH operation IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s TABLE AS changed FOR EACH '
                   'STATEMENT EXECUTE FUNCTION audit_statement()',
                   target || '_audit_' || operation, upper(operation), target,
                   CASE operation WHEN 'delete' THEN 'OLD' ELSE 'NEW' END);
  END LOOP;
END
$$;

-- Chains up to `max_records` committed pending records, oldest first, under one lock of the
-- head; returns how many. Several replicas may call it at once: they take turns on the lock.
CREATE FUNCTION audit_chain_pending(max_records integer) RETURNS integer LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
  head audit_head;
  pending audit_pending;
  next_hash text;
  chained bigint[] := '{}';
  sequence_text text;
  at_text text;
BEGIN
  SELECT * INTO STRICT head FROM audit_head FOR UPDATE;
  FOR pending IN SELECT * FROM audit_pending ORDER BY id LIMIT max_records LOOP
    head.sequence := head.sequence + 1;
    sequence_text := head.sequence::text;
    at_text := ((extract(epoch FROM pending.recorded_at) * 1000000)::bigint)::text;
    -- audit::RecordHash: "<length in bytes>:<value>;" for each field, then SHA-256.
    next_hash := encode(sha256(convert_to(
        octet_length(sequence_text) || ':' || sequence_text || ';' ||
        octet_length(convert_to(pending.actor, 'UTF8')) || ':' || pending.actor || ';' ||
        octet_length(convert_to(pending.workstation, 'UTF8')) || ':' || pending.workstation ||
        ';' || octet_length(convert_to(pending.action, 'UTF8')) || ':' || pending.action || ';' ||
        octet_length(convert_to(pending.ids_before, 'UTF8')) || ':' || pending.ids_before ||
        ';' || octet_length(convert_to(pending.ids_after, 'UTF8')) || ':' || pending.ids_after ||
        ';' || octet_length(convert_to(pending.request_id, 'UTF8')) || ':' ||
        pending.request_id || ';' || octet_length(at_text) || ':' || at_text || ';' ||
        octet_length(head.hash) || ':' || head.hash || ';', 'UTF8')), 'hex');
    INSERT INTO audit_records VALUES (head.sequence, pending.actor, pending.workstation,
      pending.action, pending.ids_before, pending.ids_after, pending.request_id,
      pending.recorded_at, head.hash, next_hash);
    chained := chained || pending.id;
    head.hash := next_hash;
  END LOOP;
  IF cardinality(chained) > 0 THEN
    DELETE FROM audit_pending WHERE id = ANY (chained);
    UPDATE audit_head SET sequence = head.sequence, hash = head.hash;
  END IF;
  RETURN cardinality(chained);
END
$$;

-- Records and anchors are never changed nor removed (tessera audit verify catches one who
-- disables this first).
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: it is the audit chain', TG_TABLE_SCHEMA, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_pending_unchanged BEFORE UPDATE ON audit_pending
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
