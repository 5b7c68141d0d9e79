-- Undo this database's grants, then drop the group roles only if nothing else needs
-- them. Roles are cluster-wide: another database of the cluster may still use them,
-- and LOGIN members may exist. This must never fail on those grounds.
--
-- REVOKE CREATE ON SCHEMA public FROM PUBLIC (up.sql) is deliberately not undone: it is
-- the PG15 default and the safe setting.

DO $$
DECLARE
    r text;
    detail text;
BEGIN
    FOREACH r IN ARRAY ARRAY['hurricane_writer', 'hurricane_reader'] LOOP
        -- The role may already be gone (dropped by hand): nothing to revoke then.
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r);

        -- This database's grants, including any a DBA added by hand in this database
        -- on the table or schema (GRANT ... TO the group, not to its members).
        EXECUTE format('REVOKE ALL ON TABLE public.hurricanes FROM %I', r);
        EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I', r);

        IF EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                   JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                   WHERE g.rolname = r) THEN
            -- DROP ROLE would succeed and silently remove the memberships, leaving
            -- LOGIN users (perhaps working in another database) without privileges.
            RAISE NOTICE 'keeping role %: it still has members (%)', r,
                (SELECT string_agg(u.rolname, ', ' ORDER BY u.rolname)
                 FROM pg_catalog.pg_auth_members m
                 JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                 JOIN pg_catalog.pg_roles u ON u.oid = m.member
                 WHERE g.rolname = r);
            CONTINUE;
        END IF;

        BEGIN
            EXECUTE format('DROP ROLE IF EXISTS %I', r);
        EXCEPTION
            -- Typically 2BP01: privileges in another database of the cluster (or
            -- objects it owns). Also no CREATEROLE for whoever runs migrations. The
            -- grants above are gone either way; a leftover role grants nothing here.
            WHEN dependent_objects_still_exist OR others THEN
                GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
                RAISE NOTICE 'keeping role %: % (SQLSTATE %)', r, SQLERRM, SQLSTATE
                    USING DETAIL = coalesce(detail, '');
        END;
    END LOOP;
END
$$;
