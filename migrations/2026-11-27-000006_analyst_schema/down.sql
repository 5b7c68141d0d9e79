-- Back to 000005 exactly: the comments as they were (2 of 11 hurricanes columns, 3 of
-- 10 edits columns, 2 of 10 storms columns, and the three table comments), no foreign
-- keys, no reference tables. Rows are not touched.

COMMENT ON TABLE public.hurricanes IS 'IHW hurricane track observations, one row per FID';
COMMENT ON COLUMN public.hurricanes.fid IS NULL;
COMMENT ON COLUMN public.hurricanes."timestamp" IS NULL;
COMMENT ON COLUMN public.hurricanes.btid IS NULL;
COMMENT ON COLUMN public.hurricanes.name IS NULL;
COMMENT ON COLUMN public.hurricanes.lat IS NULL;
COMMENT ON COLUMN public.hurricanes.long IS NULL;
COMMENT ON COLUMN public.hurricanes.wind_kts IS NULL;
COMMENT ON COLUMN public.hurricanes.pressure IS 'millibars; NULL when not measured';
COMMENT ON COLUMN public.hurricanes.cat IS NULL;
COMMENT ON COLUMN public.hurricanes.basin IS NULL;
COMMENT ON COLUMN public.hurricanes.shape_length IS 'degrees to the storm''s next observation (0 at its last)';

COMMENT ON TABLE public.storms IS 'one row per BTID, derived from hurricanes by triggers; do not edit';
COMMENT ON COLUMN public.storms.btid IS NULL;
COMMENT ON COLUMN public.storms.name IS 'name at the storm''s peak observation';
COMMENT ON COLUMN public.storms.basin IS NULL;
COMMENT ON COLUMN public.storms.year IS NULL;
COMMENT ON COLUMN public.storms.first_time IS NULL;
COMMENT ON COLUMN public.storms.last_time IS NULL;
COMMENT ON COLUMN public.storms.observations IS NULL;
COMMENT ON COLUMN public.storms.peak_wind_kts IS NULL;
COMMENT ON COLUMN public.storms.min_pressure IS NULL;
COMMENT ON COLUMN public.storms.peak_cat IS 'category at peak wind (earliest observation if tied)';

COMMENT ON TABLE public.edits IS 'Audit trail of writes to hurricanes, filled by triggers only';
COMMENT ON COLUMN public.edits.id IS NULL;
COMMENT ON COLUMN public.edits.table_name IS NULL;
COMMENT ON COLUMN public.edits.row_id IS NULL;
COMMENT ON COLUMN public.edits.action IS NULL;
COMMENT ON COLUMN public.edits.app_user IS
    'application user, from set_config(''hurricane_db.app_user'', name, true); NULL when unset';
COMMENT ON COLUMN public.edits.db_user IS 'session_user of the writing connection';
COMMENT ON COLUMN public.edits.old_row IS NULL;
COMMENT ON COLUMN public.edits.new_row IS NULL;
COMMENT ON COLUMN public.edits.query IS 'current_query() of the writing statement';
COMMENT ON COLUMN public.edits.recorded_at IS NULL;

ALTER TABLE public.storms
    DROP CONSTRAINT storms_basin_fkey,
    DROP CONSTRAINT storms_peak_cat_fkey;
ALTER TABLE public.hurricanes
    DROP CONSTRAINT hurricanes_basin_fkey,
    DROP CONSTRAINT hurricanes_cat_fkey;

-- DROP TABLE takes the grants with it.
DROP TABLE public.basins;
DROP TABLE public.categories;
