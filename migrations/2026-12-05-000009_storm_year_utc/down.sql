-- Back to 000007's storms_refresh (no pinned TimeZone) and 000006's comment. Years
-- stay as computed (UTC): what the old function computes in a UTC session.
CREATE OR REPLACE FUNCTION storms_refresh(btids smallint[]) RETURNS void
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

COMMENT ON COLUMN public.storms.year IS
    'year of the storm''s first observation: extract(year) in the writing session''s '
    'TimeZone (the UTC year when the server''s timezone is UTC, as on the private clusters)';
