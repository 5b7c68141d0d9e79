-- HURDAT2 (NOAA's best-track text format) as a source: what it carries and the IHW CSV
-- drops. Additive: every existing row stays as it is, with NULL in the new columns
-- (a row loaded from the IHW CSV has no ATCF id, record identifier, status or radii).
-- hurricanes goes from 11 to 27 columns (the crate is built with 32-column tables).

ALTER TABLE hurricanes
    ADD COLUMN atcf_id   varchar(8) NULL
        CONSTRAINT hurricanes_atcf_id_format CHECK (atcf_id ~ '^[A-Z]{2}[0-9]{6}$'),
    ADD COLUMN record_id char(1)    NULL
        CONSTRAINT hurricanes_record_id_valid CHECK (record_id IN ('C', 'G', 'I', 'L', 'P', 'R', 'S', 'T', 'W')),
    ADD COLUMN status    varchar(2) NULL
        CONSTRAINT hurricanes_status_valid CHECK (status IN
            ('HU', 'TS', 'TD', 'EX', 'SD', 'SS', 'LO', 'WV', 'DB', 'ET', 'PT', 'ST')),
    ADD COLUMN r34_ne smallint NULL CONSTRAINT hurricanes_r34_ne_nonnegative CHECK (r34_ne >= 0),
    ADD COLUMN r34_se smallint NULL CONSTRAINT hurricanes_r34_se_nonnegative CHECK (r34_se >= 0),
    ADD COLUMN r34_sw smallint NULL CONSTRAINT hurricanes_r34_sw_nonnegative CHECK (r34_sw >= 0),
    ADD COLUMN r34_nw smallint NULL CONSTRAINT hurricanes_r34_nw_nonnegative CHECK (r34_nw >= 0),
    ADD COLUMN r50_ne smallint NULL CONSTRAINT hurricanes_r50_ne_nonnegative CHECK (r50_ne >= 0),
    ADD COLUMN r50_se smallint NULL CONSTRAINT hurricanes_r50_se_nonnegative CHECK (r50_se >= 0),
    ADD COLUMN r50_sw smallint NULL CONSTRAINT hurricanes_r50_sw_nonnegative CHECK (r50_sw >= 0),
    ADD COLUMN r50_nw smallint NULL CONSTRAINT hurricanes_r50_nw_nonnegative CHECK (r50_nw >= 0),
    ADD COLUMN r64_ne smallint NULL CONSTRAINT hurricanes_r64_ne_nonnegative CHECK (r64_ne >= 0),
    ADD COLUMN r64_se smallint NULL CONSTRAINT hurricanes_r64_se_nonnegative CHECK (r64_se >= 0),
    ADD COLUMN r64_sw smallint NULL CONSTRAINT hurricanes_r64_sw_nonnegative CHECK (r64_sw >= 0),
    ADD COLUMN r64_nw smallint NULL CONSTRAINT hurricanes_r64_nw_nonnegative CHECK (r64_nw >= 0),
    ADD COLUMN rmw    smallint NULL CONSTRAINT hurricanes_rmw_nonnegative CHECK (rmw >= 0);

COMMENT ON COLUMN hurricanes.atcf_id IS
    'HURDAT2 / ATCF storm id, e.g. AL122005 (basin, number in the season, year); NULL for rows loaded from the IHW CSV';
COMMENT ON COLUMN hurricanes.record_id IS
    'HURDAT2 record identifier: L landfall, W max wind, P min pressure, I intensity peak, C closest approach, S status change, G genesis, T extra track detail, R rapid-change detail; NULL when blank';
COMMENT ON COLUMN hurricanes.status IS
    'HURDAT2 system status: HU, TS, TD, EX, SD, SS, LO, WV, DB (and ET, PT, ST found in the Pacific file)';
COMMENT ON COLUMN hurricanes.r34_ne IS '34-kt wind radius, northeast quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r34_se IS '34-kt wind radius, southeast quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r34_sw IS '34-kt wind radius, southwest quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r34_nw IS '34-kt wind radius, northwest quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r50_ne IS '50-kt wind radius, northeast quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r50_se IS '50-kt wind radius, southeast quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r50_sw IS '50-kt wind radius, southwest quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r50_nw IS '50-kt wind radius, northwest quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r64_ne IS '64-kt wind radius, northeast quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r64_se IS '64-kt wind radius, southeast quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r64_sw IS '64-kt wind radius, southwest quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.r64_nw IS '64-kt wind radius, northwest quadrant, nautical miles; NULL when missing (-999)';
COMMENT ON COLUMN hurricanes.rmw IS
    'radius of maximum wind, nautical miles (21st field of the newer HURDAT2 format); NULL when missing (-999) or absent';
COMMENT ON COLUMN hurricanes."timestamp" IS 'time of the observation, UTC';

-- One observation per storm and time (the key a HURDAT2 load matches on). Rows without
-- an ATCF id (IHW CSV loads) are not constrained: NULLs are distinct.
CREATE UNIQUE INDEX hurricanes_atcf_id_timestamp_key ON hurricanes (atcf_id, "timestamp");
-- Landfalls and other record identifiers are rare: a small partial index finds them.
CREATE INDEX hurricanes_record_id_idx ON hurricanes (record_id, btid) WHERE record_id IS NOT NULL;

-- The storm summary gains the storm's ATCF id: the one its observations share (NULL if
-- they have none or disagree). Unique: a write that would give two storms (BTIDs) the
-- same ATCF id fails.
ALTER TABLE storms ADD COLUMN atcf_id varchar(8) NULL
    CONSTRAINT storms_atcf_id_key UNIQUE;
COMMENT ON COLUMN storms.atcf_id IS
    'HURDAT2 / ATCF storm id shared by the storm''s observations (NULL if none or they disagree)';

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

REVOKE ALL ON FUNCTION storms_refresh(smallint[]) FROM PUBLIC;

-- Existing storms get their (NULL) ATCF id column filled consistently.
SELECT storms_refresh(ARRAY(SELECT DISTINCT btid FROM hurricanes));
