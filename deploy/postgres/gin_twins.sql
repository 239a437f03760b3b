-- FerretDB v1 on PostgreSQL pushes a top-level equality filter down as
--   _jsonb -> 'field' @> '<json value>'
-- which FerretDB's own btree expression indexes cannot serve. This event trigger
-- gives every btree index on (_jsonb -> 'field') a GIN (jsonb_path_ops) twin on the
-- same expression, which serves @> (also "array field contains this scalar"). A
-- generic plan uses it because FerretDB, as deploy/infra.sh builds it, writes the
-- field's name into the SQL (deploy/ferretdb/literal_keys.go); unpatched, it binds
-- the name as a parameter, and only a plan made for each execution could use the index.
--
-- The twins are built without GIN's pending list (fastupdate = off). FerretDB keeps a
-- document in one jsonb column and indexes expressions on it, so no update is HOT:
-- every write adds entries to every index. With the pending list, each lookup also
-- scans every entry added since the last vacuum, and the insert that overflows it
-- merges it in the foreground; written straight into the tree, a lookup costs the
-- same between vacuums.
--
-- Applied by deploy/infra.sh at every start, in FerretDB's database, as the
-- superuser. Idempotent; the DO blocks at the end bring a store from an older
-- checkout (indexes made before the trigger, or by an older one) to the same shape.

-- Every GIN index outside the catalogs, with the expression it indexes: what the
-- trigger and the upgrade blocks below look twins up in.
CREATE OR REPLACE VIEW indgang_gin_index AS
SELECT i.indrelid AS table_oid, c.oid::regclass AS ix, c.relname AS name,
       pg_get_indexdef(i.indexrelid, 1, true) AS expression, c.reloptions
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am am ON am.oid = c.relam
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE am.amname = 'gin'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');

CREATE OR REPLACE FUNCTION indgang_gin_twin(index_oid oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    ix record;
    expr text;
    k int;
    plain boolean := true;
    keys text[] := '{}';
BEGIN
    SELECT i.indexrelid, i.indrelid, i.indnkeyatts, i.indisunique,
           i.indpred IS NOT NULL AS partial, c.relname, am.amname, n.nspname
      INTO ix
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am am ON am.oid = c.relam
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE i.indexrelid = index_oid;
    IF ix.amname IS DISTINCT FROM 'btree' OR ix.partial THEN
        RETURN;
    END IF;
    FOR k IN 1 .. ix.indnkeyatts LOOP
        expr := pg_get_indexdef(ix.indexrelid, k, true);
        keys := keys || format('(%s)', expr);
        IF expr !~ '^\(?_jsonb -> ''[^'']+''::text\)?$' THEN
            plain := false;
            CONTINUE;
        END IF;
        -- One twin per expression: a field in several compound indexes needs one.
        CONTINUE WHEN EXISTS (
            SELECT FROM indgang_gin_index g
             WHERE g.table_oid = ix.indrelid AND g.expression = expr);
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((%s) jsonb_path_ops) '
                       'WITH (fastupdate = off)',
                       left(ix.relname, 50) || '_gin' || k, ix.indrelid::regclass, expr);
    END LOOP;
    -- FerretDB answers every filter on these fields through the twins (@>), never
    -- through a non-unique btree; but no update is HOT, so each such btree would take
    -- an entry on every write. It stays under its name (FerretDB's metadata and
    -- dropIndexes refer to it) as an empty partial index. `_id` and unique indexes
    -- (they enforce uniqueness) are kept whole.
    IF plain AND NOT ix.indisunique
       AND pg_get_indexdef(ix.indexrelid, 1, true) !~ '^\(?_jsonb -> ''_id''::text\)?$' THEN
        EXECUTE format('DROP INDEX %I.%I', ix.nspname, ix.relname);
        EXECUTE format('CREATE INDEX %I ON %s (%s) WHERE false', ix.relname,
                       ix.indrelid::regclass, array_to_string(keys, ', '));
    END IF;
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

-- Twins from before one twin per expression: keep the first of each table's
-- identical ones.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT g.ix
               FROM indgang_gin_index g
              WHERE EXISTS (
                    SELECT FROM indgang_gin_index o
                     WHERE o.table_oid = g.table_oid AND o.expression = g.expression
                       AND o.name < g.name)
    LOOP
        EXECUTE format('DROP INDEX %s', r.ix);
    END LOOP;
END
$$;

-- Twins made before they were built without the pending list.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT g.ix
               FROM indgang_gin_index g
              WHERE NOT coalesce(g.reloptions @> ARRAY['fastupdate=off'], false)
    LOOP
        EXECUTE format('ALTER INDEX %s SET (fastupdate = off)', r.ix);
    END LOOP;
END
$$;
