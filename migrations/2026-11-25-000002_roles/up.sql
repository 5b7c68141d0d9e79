-- Group roles for applications: hurricane_writer (SELECT, INSERT, UPDATE on
-- hurricanes) and hurricane_reader (SELECT). Both are NOLOGIN; people and services
-- log in as their own LOGIN roles that are members (`user add NAME --role writer`).
--
-- Roles are cluster-wide and several databases of one cluster run this migration
-- (e.g. the test harness's databases, or prod + staging), so creating them must not
-- fail when they exist. Grants are per database.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['hurricane_writer', 'hurricane_reader'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                               'NOREPLICATION NOBYPASSRLS', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                -- Another database's migration created it between our check and
                -- CREATE ROLE (a concurrent CREATE ROLE fails with unique_violation).
                NULL;
            END;
        END IF;

        -- A pre-existing role must be the plain group we would have created: a LOGIN,
        -- SUPERUSER or BYPASSRLS role, or one that is a member of another role
        -- (pg_write_all_data, ...), would make "writers never DELETE" a lie.
        IF EXISTS (SELECT FROM pg_catalog.pg_roles
                   WHERE rolname = r
                     AND (rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
                          OR rolreplication OR rolbypassrls))
           OR EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                      JOIN pg_catalog.pg_roles g ON g.oid = m.member
                      WHERE g.rolname = r) THEN
            RAISE EXCEPTION 'role % already exists but is not a plain NOLOGIN group role', r
                USING HINT = 'It must have no LOGIN, SUPERUSER, CREATEDB, CREATEROLE, '
                             'REPLICATION or BYPASSRLS attribute and be a member of no role.';
        END IF;
    END LOOP;
END
$$;

-- Schema public: USAGE only. PUBLIC already has USAGE on PG15, but granting it
-- explicitly keeps the roles working if a DBA revokes it from PUBLIC.
GRANT USAGE ON SCHEMA public TO hurricane_writer, hurricane_reader;
REVOKE CREATE ON SCHEMA public FROM hurricane_writer, hurricane_reader;
-- A privilege held by PUBLIC cannot be taken away from one role, so "the roles cannot
-- CREATE in public" needs PUBLIC not to have CREATE either. That is the PG15 default
-- for new databases (this is then a no-op); databases upgraded from PG14 or older with
-- pg_upgrade keep the old, unsafe grant (CVE-2018-1058), which this removes. It only
-- touches this database's public schema. down.sql does not put it back.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- hurricanes: no DELETE, TRUNCATE, REFERENCES or TRIGGER for anyone but the owner;
-- DDL (ALTER, DROP) needs ownership, which the roles never get. PUBLIC has nothing by
-- default; revoking says so.
REVOKE ALL ON TABLE public.hurricanes FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON TABLE public.hurricanes TO hurricane_writer;
GRANT SELECT ON TABLE public.hurricanes TO hurricane_reader;

-- GRANT/REVOKE without the needed grant option only WARN, and a role pre-existing with
-- other grants would go unnoticed: check the effective privileges and fail loudly.
DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s %s %s on %s', r, CASE WHEN want THEN 'lacks' ELSE 'has' END, p, o), '; ')
    INTO bad
    FROM (VALUES
        ('hurricane_writer', 'hurricanes', 'SELECT', true),
        ('hurricane_writer', 'hurricanes', 'INSERT', true),
        ('hurricane_writer', 'hurricanes', 'UPDATE', true),
        ('hurricane_writer', 'hurricanes', 'DELETE', false),
        ('hurricane_writer', 'hurricanes', 'TRUNCATE', false),
        ('hurricane_writer', 'hurricanes', 'REFERENCES', false),
        ('hurricane_writer', 'hurricanes', 'TRIGGER', false),
        ('hurricane_reader', 'hurricanes', 'SELECT', true),
        ('hurricane_reader', 'hurricanes', 'INSERT', false),
        ('hurricane_reader', 'hurricanes', 'UPDATE', false),
        ('hurricane_reader', 'hurricanes', 'DELETE', false),
        ('hurricane_reader', 'hurricanes', 'TRUNCATE', false),
        ('hurricane_reader', 'hurricanes', 'REFERENCES', false),
        ('hurricane_reader', 'hurricanes', 'TRIGGER', false),
        ('hurricane_writer', 'schema public', 'USAGE', true),
        ('hurricane_writer', 'schema public', 'CREATE', false),
        ('hurricane_reader', 'schema public', 'USAGE', true),
        ('hurricane_reader', 'schema public', 'CREATE', false)
    ) AS t(r, o, p, want)
    WHERE want IS DISTINCT FROM CASE o
        WHEN 'hurricanes' THEN pg_catalog.has_table_privilege(r, 'public.hurricanes', p)
        ELSE pg_catalog.has_schema_privilege(r, 'public', p)
    END;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'roles migration: unexpected privileges: %', bad;
    END IF;
END
$$;
