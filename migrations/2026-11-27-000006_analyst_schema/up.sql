-- Issue 11 point 3: a schema that explains itself.
--
-- 1. CAT and BASIN become closed sets: reference tables `categories` and `basins`,
--    and foreign keys from hurricanes (and the derived storms) to them, so a code
--    nobody defined (a CAT of 'Q9') is refused by the database for every writer, not
--    only by the loader.
-- 2. COMMENT ON every table and column of hurricanes, storms, edits, categories and
--    basins: units, sign conventions, time zone, what NULL means, where a value comes
--    from. `\d+ hurricanes` in psql shows them.
--
-- On a loaded database no row is changed: the foreign keys are validated against the
-- rows already there, and a row with a code missing from the lists below makes the
-- migration fail, naming the codes and how many rows carry each.

-- ---------------------------------------------------------------------------------
-- categories: every CAT code of the IHW file.
-- ---------------------------------------------------------------------------------
CREATE TABLE public.categories (
    code           varchar(2)  PRIMARY KEY
        CONSTRAINT categories_code_upper CHECK (code ~ '^[A-Z][A-Z0-9]?$'),
    meaning        text        NOT NULL
        CONSTRAINT categories_meaning_nonempty CHECK (meaning <> ''),
    saffir_simpson smallint    NULL
        CONSTRAINT categories_saffir_simpson_range CHECK (saffir_simpson BETWEEN 1 AND 5),
    wind_min_kts   smallint    NULL
        CONSTRAINT categories_wind_min_nonnegative CHECK (wind_min_kts >= 0),
    wind_max_kts   smallint    NULL,
    hurdat2_status varchar(2)  NULL,
    CONSTRAINT categories_wind_range CHECK (wind_max_kts >= wind_min_kts),
    CONSTRAINT categories_saffir_simpson_unique UNIQUE (saffir_simpson)
);

-- Codes and counts as found in the IHW file (35,486 rows): TS 13426, TD 8325, H1 4875,
-- L 3071, H2 1647, H3 1196, E 1123, H4 935, DB 283, SS 172, ET 152, H5 116, W 90,
-- SD 63, PT 6, ST 6. The wind ranges are the definitions (Saffir-Simpson scale, NHC
-- glossary), not constraints on observations: the file has a few TS rows at 65-70 kt.
INSERT INTO public.categories (code, meaning, saffir_simpson, wind_min_kts, wind_max_kts, hurdat2_status) VALUES
    ('H1', 'hurricane, Saffir-Simpson category 1, 64-82 kt', 1, 64, 82, 'HU'),
    ('H2', 'hurricane, Saffir-Simpson category 2, 83-95 kt', 2, 83, 95, 'HU'),
    ('H3', 'major hurricane, Saffir-Simpson category 3, 96-112 kt', 3, 96, 112, 'HU'),
    ('H4', 'major hurricane, Saffir-Simpson category 4, 113-136 kt', 4, 113, 136, 'HU'),
    ('H5', 'major hurricane, Saffir-Simpson category 5, 137 kt or more', 5, 137, NULL, 'HU'),
    ('TS', 'tropical storm, 34-63 kt', NULL, 34, 63, 'TS'),
    ('TD', 'tropical depression, 33 kt or less', NULL, NULL, 33, 'TD'),
    ('SS', 'subtropical storm, 34 kt or more', NULL, 34, NULL, 'SS'),
    ('SD', 'subtropical depression, 33 kt or less', NULL, NULL, 33, 'SD'),
    ('E',  'extratropical cyclone (any intensity)', NULL, NULL, NULL, 'EX'),
    ('L',  'low: a low-pressure system with no tropical characteristics (any intensity)', NULL, NULL, NULL, 'LO'),
    ('W',  'tropical wave (any intensity)', NULL, NULL, NULL, 'WV'),
    ('DB', 'disturbance (any intensity)', NULL, NULL, NULL, 'DB'),
    ('ET', 'extratropical (legacy Eastern Pacific code, 1963-1986; any intensity)', NULL, NULL, NULL, 'ET'),
    ('PT', 'post-tropical cyclone (any intensity)', NULL, NULL, NULL, 'PT'),
    ('ST', 'super typhoon: west of the date line, 130 kt or more', NULL, 130, NULL, 'ST');

COMMENT ON TABLE public.categories IS
    'Closed set of category codes (the IHW file''s CAT): hurricanes.cat and storms.peak_cat '
    'must be one of these. H1-H5 are hurricanes by wind on the Saffir-Simpson scale; the '
    'other codes are the storm''s status (HURDAT2 statuses, with EX, LO and WV written E, L '
    'and W). Changed only by migrations: writers and readers may only read it.';
COMMENT ON COLUMN public.categories.code IS
    'the CAT code as written in the IHW file: one or two upper-case characters (H1, TS, E, ...)';
COMMENT ON COLUMN public.categories.meaning IS
    'what the code means, in words, with its wind range when it has one';
COMMENT ON COLUMN public.categories.saffir_simpson IS
    'Saffir-Simpson hurricane category 1..5 for H1..H5; NULL for codes that are not hurricanes';
COMMENT ON COLUMN public.categories.wind_min_kts IS
    'lowest sustained wind of the category by definition, knots; NULL when the category has '
    'no lower bound or is not defined by wind (a status such as E, L, W, DB, ET, PT). '
    'A definition, not a constraint: observations may stray a few knots';
COMMENT ON COLUMN public.categories.wind_max_kts IS
    'highest sustained wind of the category by definition, knots; NULL when there is no upper '
    'bound (H5, SS, ST) or the category is not defined by wind';
COMMENT ON COLUMN public.categories.hurdat2_status IS
    'the NOAA HURDAT2 status this code comes from (HU for H1-H5, EX for E, LO for L, WV for W, '
    'else the same code). ET, PT and ST are rare codes the HURDAT2 format description does '
    'not list; judged from the data: ET only in Eastern Pacific records of 1963-1986 (152 rows, '
    'mostly a storm''s last observations, 15-75 kt); PT only for OMEKA 2010 after it was '
    'subtropical (post-tropical, NHC''s term since 2010); ST only for GENEVIEVE 2014 west of '
    'the date line at 130-140 kt, a super typhoon (JTWC, 130 kt or more), not "subtropical"';

-- ---------------------------------------------------------------------------------
-- basins: every BASIN name of the IHW file.
-- ---------------------------------------------------------------------------------
CREATE TABLE public.basins (
    name        varchar(16)  PRIMARY KEY
        CONSTRAINT basins_name_nonempty CHECK (name <> ''),
    code        varchar(2)   NOT NULL
        CONSTRAINT basins_code_unique UNIQUE
        CONSTRAINT basins_code_upper CHECK (code ~ '^[A-Z]{2}$'),
    description text         NOT NULL
        CONSTRAINT basins_description_nonempty CHECK (description <> '')
);

INSERT INTO public.basins (name, code, description) VALUES
    ('North Atlantic', 'AL',
     'North Atlantic Ocean, Caribbean Sea and Gulf of Mexico (NHC area of responsibility; '
     'HURDAT2 storm ids ALnnyyyy). Years in the IHW file: 1851 and 2000-2016'),
    ('Eastern Pacific', 'EP',
     'Eastern and Central North Pacific, east of 180 degrees (NHC and CPHC; HURDAT2 storm ids '
     'EPnnyyyy and CPnnyyyy: the IHW file files Central Pacific storms here too). A storm '
     'may cross the date line and keep this basin. Years in the IHW file: 1949-2016');

COMMENT ON TABLE public.basins IS
    'Closed set of ocean basins (the IHW file''s BASIN): hurricanes.basin and storms.basin '
    'must be one of these names. Changed only by migrations: writers and readers may only '
    'read it.';
COMMENT ON COLUMN public.basins.name IS
    'the basin as written in the IHW file''s BASIN column (e.g. North Atlantic)';
COMMENT ON COLUMN public.basins.code IS
    'two-letter NOAA basin code, the prefix of HURDAT2 storm ids (AL, EP)';
COMMENT ON COLUMN public.basins.description IS
    'the waters the basin covers, who tracks them, and the years the IHW file has';

-- ---------------------------------------------------------------------------------
-- Existing rows must already use known codes: say which and how many, then stop.
-- (ADD FOREIGN KEY would fail too, but naming only one row.)
-- ---------------------------------------------------------------------------------
DO $$
DECLARE
    bad_cats   text;
    bad_basins text;
BEGIN
    SELECT string_agg(format('"%s" (%s row%s)', cat, n, CASE WHEN n = 1 THEN '' ELSE 's' END), ', ' ORDER BY cat)
    INTO bad_cats
    FROM (SELECT h.cat, count(*) AS n FROM public.hurricanes h
          WHERE NOT EXISTS (SELECT FROM public.categories c WHERE c.code = h.cat)
          GROUP BY h.cat) x;
    SELECT string_agg(format('"%s" (%s row%s)', basin, n, CASE WHEN n = 1 THEN '' ELSE 's' END), ', ' ORDER BY basin)
    INTO bad_basins
    FROM (SELECT h.basin, count(*) AS n FROM public.hurricanes h
          WHERE NOT EXISTS (SELECT FROM public.basins b WHERE b.name = h.basin)
          GROUP BY h.basin) x;
    IF bad_cats IS NOT NULL OR bad_basins IS NOT NULL THEN
        RAISE EXCEPTION 'analyst_schema migration: hurricanes has codes that are not in the new reference tables: %',
            concat_ws('; ',
                'CAT not in categories: ' || bad_cats,
                'BASIN not in basins: ' || bad_basins)
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Correct those rows (e.g. UPDATE hurricanes SET cat = ''TS'' WHERE cat = ''..''), '
                         'or, if the code is real, add it to the INSERT INTO categories/basins '
                         'of this migration; then migrate again. Nothing was changed.';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------
-- Foreign keys. The referenced side is covered by the primary keys. No index on the
-- referencing columns: it would only serve a DELETE or key change in categories or
-- basins (migrations only; a sequential scan of hurricanes then) and would slow every
-- load. The checks run as the reference tables' owner, so a writer login needs no
-- privilege on them to insert.
-- ---------------------------------------------------------------------------------
ALTER TABLE public.hurricanes
    ADD CONSTRAINT hurricanes_cat_fkey FOREIGN KEY (cat) REFERENCES public.categories (code),
    ADD CONSTRAINT hurricanes_basin_fkey FOREIGN KEY (basin) REFERENCES public.basins (name);
-- storms is derived from hurricanes by the SECURITY DEFINER refresh; the keys hold by
-- construction, and declaring them documents the join (and gives Diesel joinable!).
ALTER TABLE public.storms
    ADD CONSTRAINT storms_peak_cat_fkey FOREIGN KEY (peak_cat) REFERENCES public.categories (code),
    ADD CONSTRAINT storms_basin_fkey FOREIGN KEY (basin) REFERENCES public.basins (name);

-- ---------------------------------------------------------------------------------
-- Grants: read-only for both groups; nobody but the owner may add or change codes.
-- ---------------------------------------------------------------------------------
REVOKE ALL ON TABLE public.categories, public.basins FROM PUBLIC;
GRANT SELECT ON TABLE public.categories, public.basins TO hurricane_writer, hurricane_reader;

DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s %s %s on %s', r, CASE WHEN want THEN 'lacks' ELSE 'has' END, p, t), '; ')
    INTO bad
    FROM (VALUES ('hurricane_writer'), ('hurricane_reader')) AS roles(r)
    CROSS JOIN (VALUES ('public.categories'), ('public.basins')) AS tables(t)
    CROSS JOIN (VALUES ('SELECT', true), ('INSERT', false), ('UPDATE', false),
                       ('DELETE', false), ('TRUNCATE', false), ('REFERENCES', false),
                       ('TRIGGER', false)) AS privs(p, want)
    WHERE want IS DISTINCT FROM pg_catalog.has_table_privilege(r, t, p);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'analyst_schema migration: unexpected privileges: %', bad;
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------
-- hurricanes
-- ---------------------------------------------------------------------------------
COMMENT ON TABLE public.hurricanes IS
    'IHW hurricane track observations, one row per FID: a storm''s position, wind and '
    'pressure every six hours (sometimes off-hour). Loaded from the IHW CSV by `hurricane-db '
    'load` (FID,YEAR,MONTH,DAY,AD_TIME,BTID,NAME,LAT,LONG,WIND_KTS,PRESSURE,CAT,BASIN,'
    'Shape_Leng) or written by the services; every write is recorded in edits and refreshes '
    'storms. Writers may insert and update, never delete.';
COMMENT ON COLUMN public.hurricanes.fid IS
    'IHW feature id (FID): the observation''s identity; cannot be changed once stored '
    '(renumbering is a delete and an insert)';
COMMENT ON COLUMN public.hurricanes."timestamp" IS
    'time of the observation, UTC, from the file''s YEAR, MONTH, DAY and AD_TIME (HHMMZ, Z = UTC); '
    'shown in the session''s TimeZone, so SET TimeZone = ''UTC'' to see it as in the file';
COMMENT ON COLUMN public.hurricanes.btid IS
    'storm id (BTID): every observation of one storm shares it; storms.btid';
COMMENT ON COLUMN public.hurricanes.name IS
    'storm name (NAME), upper case, e.g. KATRINA; NOTNAMED when the storm had none';
COMMENT ON COLUMN public.hurricanes.lat IS
    'latitude (LAT), decimal degrees, positive north, negative south, -90..90';
COMMENT ON COLUMN public.hurricanes.long IS
    'longitude (LONG), decimal degrees, positive east, negative west, -180..180: most '
    'observations are negative (west); storms that cross the date line jump from -179.9 '
    'to 179.9, so a box across it needs lon >= 170 OR lon <= -170';
COMMENT ON COLUMN public.hurricanes.wind_kts IS
    'maximum sustained wind (WIND_KTS), knots (1 kt = 1.852 km/h), 0 or more';
COMMENT ON COLUMN public.hurricanes.pressure IS
    'minimum central pressure (PRESSURE), millibars (= hPa), 800..1100; NULL when not '
    'measured (the IHW file writes 0)';
COMMENT ON COLUMN public.hurricanes.cat IS
    'category code (CAT): H1-H5 for hurricanes by wind, else the status (TS, TD, E, L, ...); '
    'one of categories.code (foreign key hurricanes_cat_fkey)';
COMMENT ON COLUMN public.hurricanes.basin IS
    'ocean basin (BASIN), e.g. North Atlantic; one of basins.name (foreign key '
    'hurricanes_basin_fkey)';
COMMENT ON COLUMN public.hurricanes.shape_length IS
    'distance to the storm''s next observation (Shape_Leng), in degrees (planar, '
    'sqrt(dlat^2 + dlong^2), not km); 0 at the storm''s last observation';

-- ---------------------------------------------------------------------------------
-- storms
-- ---------------------------------------------------------------------------------
COMMENT ON TABLE public.storms IS
    'one row per storm (BTID), derived from hurricanes by triggers after every write, '
    'whoever wrote; do not edit (nobody but the owner can)';
COMMENT ON COLUMN public.storms.btid IS 'storm id, hurricanes.btid';
COMMENT ON COLUMN public.storms.name IS
    'name at the storm''s peak observation (hurricanes.name); NOTNAMED when it had none';
COMMENT ON COLUMN public.storms.basin IS
    'basin at the storm''s peak observation (hurricanes.basin); one of basins.name';
COMMENT ON COLUMN public.storms.year IS
    'year of the storm''s first observation: extract(year) in the writing session''s '
    'TimeZone (the UTC year when the server''s timezone is UTC, as on the private clusters)';
COMMENT ON COLUMN public.storms.first_time IS
    'time of the storm''s first observation, UTC (min hurricanes.timestamp)';
COMMENT ON COLUMN public.storms.last_time IS
    'time of the storm''s last observation, UTC (max hurricanes.timestamp)';
COMMENT ON COLUMN public.storms.observations IS
    'number of the storm''s rows in hurricanes';
COMMENT ON COLUMN public.storms.peak_wind_kts IS
    'highest maximum sustained wind of the storm, knots (max hurricanes.wind_kts)';
COMMENT ON COLUMN public.storms.min_pressure IS
    'lowest central pressure of the storm, millibars (min hurricanes.pressure); NULL when '
    'no observation of the storm had a measured pressure';
COMMENT ON COLUMN public.storms.peak_cat IS
    'category at peak wind (earliest observation if tied); one of categories.code';

-- ---------------------------------------------------------------------------------
-- edits
-- ---------------------------------------------------------------------------------
COMMENT ON TABLE public.edits IS
    'Audit trail of writes to hurricanes, filled by triggers only: one row per inserted, '
    'updated or deleted row (U only when a value changed) and one per TRUNCATE';
COMMENT ON COLUMN public.edits.id IS
    'sequence number, generated: order of recording (within one statement, arbitrary)';
COMMENT ON COLUMN public.edits.table_name IS
    'the audited table (hurricanes)';
COMMENT ON COLUMN public.edits.row_id IS
    'hurricanes.fid of the row; NULL only for a TRUNCATE (action T)';
COMMENT ON COLUMN public.edits.action IS
    'I insert, U update, D delete, T truncate';
COMMENT ON COLUMN public.edits.app_user IS
    'application user, from set_config(''hurricane_db.app_user'', name, true); NULL when unset. '
    'Set by the application per transaction; not authenticated';
COMMENT ON COLUMN public.edits.db_user IS
    'session_user of the writing connection (the authenticated login role)';
COMMENT ON COLUMN public.edits.old_row IS
    'the row before the change as jsonb (numbers exact, timestamp in UTC); NULL for I and T';
COMMENT ON COLUMN public.edits.new_row IS
    'the row after the change as jsonb (numbers exact, timestamp in UTC); NULL for D and T';
COMMENT ON COLUMN public.edits.query IS
    'current_query() of the writing statement, first 2000 characters';
COMMENT ON COLUMN public.edits.recorded_at IS
    'start time of the writing transaction (now()), UTC';
