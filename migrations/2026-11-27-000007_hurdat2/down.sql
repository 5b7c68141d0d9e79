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

ALTER TABLE storms DROP COLUMN atcf_id;

DROP INDEX hurricanes_record_id_idx;
DROP INDEX hurricanes_atcf_id_timestamp_key;
COMMENT ON COLUMN hurricanes."timestamp" IS NULL;

ALTER TABLE hurricanes
    DROP COLUMN atcf_id,
    DROP COLUMN record_id,
    DROP COLUMN status,
    DROP COLUMN r34_ne, DROP COLUMN r34_se, DROP COLUMN r34_sw, DROP COLUMN r34_nw,
    DROP COLUMN r50_ne, DROP COLUMN r50_se, DROP COLUMN r50_sw, DROP COLUMN r50_nw,
    DROP COLUMN r64_ne, DROP COLUMN r64_se, DROP COLUMN r64_sw, DROP COLUMN r64_nw,
    DROP COLUMN rmw;
