-- FerretDB v1 on PostgreSQL pushes a top-level equality filter down as
--   _jsonb -> 'field' @> '<json value>'
-- which FerretDB's own btree expression indexes cannot serve. This event trigger
-- gives every btree index on (_jsonb -> 'field') a GIN (jsonb_path_ops) twin on the
-- same expression, which serves @> (also "array field contains this scalar"). It
-- needs plan_cache_mode = force_custom_plan (FerretDB binds the field name as a
-- parameter; PostgreSQL's generic plan cannot use an expression index), which
-- deploy/infra.sh sets on the server's command line.
--
-- The twins are built without GIN's pending list (fastupdate = off). FerretDB keeps a
-- document in one jsonb column and indexes expressions on it, so no update is HOT:
-- every write adds entries to every index. With the pending list, each lookup also
-- scans every entry added since the last vacuum, and the insert that overflows it
-- merges it in the foreground; written straight into the tree, a lookup costs the
-- same between vacuums.
--
-- Applied by deploy/infra.sh at every start, in FerretDB's database, as the
-- superuser. Idempotent; the DO block at the end twins indexes created before
-- the trigger existed (a store from an older checkout).
CREATE OR REPLACE FUNCTION indgang_gin_twin(index_oid oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    ix record;
    expr text;
    k int;
BEGIN
    SELECT i.indexrelid, i.indrelid, i.indnkeyatts, c.relname, am.amname, n.nspname
      INTO ix
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am am ON am.oid = c.relam
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE i.indexrelid = index_oid;
    IF ix.amname IS DISTINCT FROM 'btree' THEN
        RETURN;
    END IF;
    FOR k IN 1 .. ix.indnkeyatts LOOP
        expr := pg_get_indexdef(ix.indexrelid, k, true);
        CONTINUE WHEN expr !~ '^\(?_jsonb -> ''[^'']+''::text\)?$';
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((%s) jsonb_path_ops) '
                       'WITH (fastupdate = off)',
                       left(ix.relname, 50) || '_gin' || k, ix.indrelid::regclass, expr);
    END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION indgang_gin_twin_trigger() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands()
             WHERE command_tag = 'CREATE INDEX' AND object_type = 'index'
    LOOP
        PERFORM indgang_gin_twin(r.objid);
    END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS indgang_gin_twin;
CREATE EVENT TRIGGER indgang_gin_twin ON ddl_command_end
    WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION indgang_gin_twin_trigger();

-- Twins for btree indexes that were created before the trigger.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT i.indexrelid
               FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_am am ON am.oid = c.relam
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE am.amname = 'btree'
                AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    LOOP
        PERFORM indgang_gin_twin(r.indexrelid);
    END LOOP;
END
$$;

-- Twins made before they were built without the pending list.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS ix
               FROM pg_class c
               JOIN pg_am am ON am.oid = c.relam
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE am.amname = 'gin'
                AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                AND NOT coalesce(c.reloptions @> ARRAY['fastupdate=off'], false)
    LOOP
        EXECUTE format('ALTER INDEX %s SET (fastupdate = off)', r.ix);
    END LOOP;
END
$$;
