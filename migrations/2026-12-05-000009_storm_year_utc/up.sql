-- Issue 19 point 1: a storm's year is the UTC year of its first observation, whatever
-- the writing session's TimeZone.
--
-- storms_refresh computed extract(year FROM first_time) in the TimeZone of the session
-- whose write fired it: through a login whose TimeZone is Pacific/Kiritimati (UTC+14)
-- a storm first seen 2004-12-31 18:00Z was filed under 2005, through America/Adak
-- (UTC-10) one first seen 2005-01-01 03:00Z under 2004. Every other time in the
-- project is UTC. As the audit trigger does (000003), the function now pins its
-- TimeZone; the body is 000007's, unchanged. (Connections made by this crate start
-- in UTC, Diesel sets it; psql, pandas, pgAdmin or a session that runs SET TimeZone
-- do not.)
CREATE OR REPLACE FUNCTION storms_refresh(btids smallint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
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
           observations, peak_wind_kts, min_pressure, cat,
           CASE WHEN atcf_min = atcf_max AND atcf_rows = observations THEN atcf_min END
    FROM (
        SELECT h.btid, h.name, h.basin, h.cat, h.wind_kts, h."timestamp",
               min(h."timestamp") OVER w AS first_time,
               max(h."timestamp") OVER w AS last_time,
               count(*)           OVER w AS observations,
               max(h.wind_kts)    OVER w AS peak_wind_kts,
               min(h.pressure)    OVER w AS min_pressure,
               min(h.atcf_id)     OVER w AS atcf_min,
               max(h.atcf_id)     OVER w AS atcf_max,
               count(h.atcf_id)   OVER w AS atcf_rows
        FROM public.hurricanes h
        WHERE h.btid = ANY (btids)
        WINDOW w AS (PARTITION BY h.btid)
    ) s
    ORDER BY btid, wind_kts DESC, "timestamp";
END $$;

REVOKE ALL ON FUNCTION storms_refresh(smallint[]) FROM PUBLIC;

COMMENT ON COLUMN public.storms.year IS
    'year of the storm''s first observation in UTC (first_time''s year at UTC, whatever the '
    'writing session''s TimeZone)';

-- Storms filed under a local year are recomputed (only their year can differ: nothing
-- else the refresh derives depends on the TimeZone). The count is reported.
DO $$
DECLARE
    wrong smallint[];
BEGIN
    SELECT coalesce(array_agg(btid ORDER BY btid), '{}') INTO wrong
    FROM public.storms
    WHERE year <> extract(year FROM first_time AT TIME ZONE 'UTC');
    PERFORM public.storms_refresh(wrong);
    RAISE NOTICE 'storm_year_utc: % storms refiled under their UTC year', cardinality(wrong);
END
$$;
