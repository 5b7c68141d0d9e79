-- Per-storm summary, kept current by statement-level triggers on hurricanes, so it is
-- right after any write (a load, a service edit, a curation) whoever made it. The
-- trigger functions are SECURITY DEFINER: a writer login owns nothing, yet its load
-- must refresh the summary; nobody else may write to it.
CREATE TABLE storms (
    btid          smallint     PRIMARY KEY,
    name          varchar      NOT NULL,
    basin         varchar(16)  NOT NULL,
    year          integer      NOT NULL,
    first_time    timestamptz  NOT NULL,
    last_time     timestamptz  NOT NULL,
    observations  integer      NOT NULL,
    peak_wind_kts smallint     NOT NULL,
    min_pressure  smallint     NULL,
    peak_cat      varchar(2)   NOT NULL
);

COMMENT ON TABLE storms IS 'one row per BTID, derived from hurricanes by triggers; do not edit';
COMMENT ON COLUMN storms.name IS 'name at the storm''s peak observation';
COMMENT ON COLUMN storms.peak_cat IS 'category at peak wind (earliest observation if tied)';

CREATE INDEX storms_peak_idx ON storms (peak_wind_kts DESC, min_pressure);
CREATE INDEX storms_year_basin_idx ON storms (year, basin);

-- Recomputes the given storms from hurricanes: one window pass over their rows.
-- Concurrent writers to one storm would each see only their own new rows (READ
-- COMMITTED) and the last to commit would win: a transaction-scoped advisory lock per
-- storm, taken in BTID order (no deadlock between two refreshes), serialises them, and
-- the statements after it see what the previous holder committed.
CREATE FUNCTION storms_refresh(btids smallint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b smallint;
BEGIN
    FOREACH b IN ARRAY (SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') FROM unnest(btids) x) LOOP
        -- 1752 namespaces these locks ('storms'); the second key is the BTID.
        PERFORM pg_advisory_xact_lock(1752, b);
    END LOOP;
    DELETE FROM public.storms WHERE btid = ANY (btids);
    INSERT INTO public.storms
    SELECT DISTINCT ON (btid)
           btid, name, basin, extract(year FROM first_time)::integer, first_time, last_time,
           observations, peak_wind_kts, min_pressure, cat
    FROM (
        SELECT h.btid, h.name, h.basin, h.cat, h.wind_kts, h."timestamp",
               min(h."timestamp") OVER w AS first_time,
               max(h."timestamp") OVER w AS last_time,
               count(*)           OVER w AS observations,
               max(h.wind_kts)    OVER w AS peak_wind_kts,
               min(h.pressure)    OVER w AS min_pressure
        FROM public.hurricanes h
        WHERE h.btid = ANY (btids)
        WINDOW w AS (PARTITION BY h.btid)
    ) s
    ORDER BY btid, wind_kts DESC, "timestamp";
END $$;

-- One trigger function for every write: the storms it touched are recomputed.
CREATE FUNCTION storms_after_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.storms_refresh(ARRAY(SELECT DISTINCT btid FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        -- Both the old and the new storm of a moved observation change.
        PERFORM public.storms_refresh(ARRAY(
            SELECT btid FROM old_rows UNION SELECT btid FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.storms_refresh(ARRAY(SELECT DISTINCT btid FROM old_rows));
    ELSIF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.storms;
    END IF;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION storms_refresh(smallint[]), storms_after_write() FROM PUBLIC;

CREATE TRIGGER storms_refresh_insert AFTER INSERT ON hurricanes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION storms_after_write();
CREATE TRIGGER storms_refresh_update AFTER UPDATE ON hurricanes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storms_after_write();
CREATE TRIGGER storms_refresh_delete AFTER DELETE ON hurricanes
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION storms_after_write();
CREATE TRIGGER storms_refresh_truncate AFTER TRUNCATE ON hurricanes
    FOR EACH STATEMENT EXECUTE FUNCTION storms_after_write();

-- A loaded database gets its summary now.
SELECT storms_refresh(ARRAY(SELECT DISTINCT btid FROM hurricanes));

REVOKE ALL ON storms FROM PUBLIC;
GRANT SELECT ON storms TO hurricane_writer, hurricane_reader;

-- "Which storms passed within R km of a place?": a GiST index on the position as a
-- built-in point (x = longitude, y = latitude) serves a bounding-box prefilter; the
-- exact great-circle distance is then computed on the few rows inside the box.
-- No extension needed, so it works on any managed PostgreSQL.
CREATE INDEX hurricanes_position_idx ON hurricanes
    USING gist (point(long::float8, lat::float8));
