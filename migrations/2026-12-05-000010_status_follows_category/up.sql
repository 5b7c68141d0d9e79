-- Issue 19 point 3: an observation's HURDAT2 status agrees with its category after
-- any write.
--
-- The rule lives in one function, status_of_category: the status a category code
-- comes from when the HURDAT2 loader derives it (H1-H5 from HU; E, L, W from EX, LO,
-- WV; TS, TD, SS, SD, DB, ET, PT, ST as themselves), NULL for a code no status
-- corresponds to. It is used by
--   - the CHECK hurricanes_status_matches_cat: a status is NULL (no HURDAT2 status:
--     rows of the IHW CSV) or the one of the category, so no writer can store
--     cat = 'TS' with status = 'HU';
--   - the trigger hurricanes_status_follows_cat: an UPDATE that changes a row's
--     category and leaves its (non-NULL) status as it was (a CSV load, a service edit,
--     a plain UPDATE ... SET cat) moves the status along; a NULL status stays NULL;
--   - the CHECK categories_hurdat2_status_matches on categories.hurdat2_status
--     (000006), which documents the same pairs and can no longer drift from it;
--   - the repair below.
-- The crate's ingest::hurdat2::status_of_category is the same table in Rust (its
-- tests compare the two for every code).

CREATE FUNCTION public.status_of_category(cat varchar) RETURNS varchar
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE cat
    WHEN 'H1' THEN 'HU' WHEN 'H2' THEN 'HU' WHEN 'H3' THEN 'HU' WHEN 'H4' THEN 'HU' WHEN 'H5' THEN 'HU'
    WHEN 'E' THEN 'EX' WHEN 'L' THEN 'LO' WHEN 'W' THEN 'WV'
    WHEN 'TS' THEN 'TS' WHEN 'TD' THEN 'TD' WHEN 'SS' THEN 'SS' WHEN 'SD' THEN 'SD'
    WHEN 'DB' THEN 'DB' WHEN 'ET' THEN 'ET' WHEN 'PT' THEN 'PT' WHEN 'ST' THEN 'ST'
END;

COMMENT ON FUNCTION public.status_of_category(varchar) IS
    'the HURDAT2 status a category code corresponds to (HU for H1-H5, EX for E, LO for L, '
    'WV for W, else the code itself); NULL when none does. hurricanes.status is NULL or this';

-- categories.hurdat2_status (000006) says the same, and now must.
ALTER TABLE public.categories
    ADD CONSTRAINT categories_hurdat2_status_matches
    CHECK (hurdat2_status IS NOT DISTINCT FROM public.status_of_category(code));

-- Repair: rows whose status disagrees with their category (a CSV load or an edit
-- changed the category before this migration) get the category's status, NULL where
-- none corresponds. Audited like any write, under the app user below, so the count
-- stays visible after the NOTICE: SELECT count(*) FROM edits WHERE app_user = ...
DO $$
DECLARE
    n bigint;
BEGIN
    PERFORM set_config('hurricane_db.app_user', 'migration:2026-12-05-000010_status_follows_category', true);
    UPDATE public.hurricanes
    SET status = public.status_of_category(cat)
    WHERE status IS NOT NULL AND status IS DISTINCT FROM public.status_of_category(cat);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('hurricane_db.app_user', '', true);
    RAISE NOTICE 'status_follows_category: % observations repaired (status set to their category''s)', n;
END
$$;

ALTER TABLE public.hurricanes
    ADD CONSTRAINT hurricanes_status_matches_cat
    CHECK (status IS NULL OR status IS NOT DISTINCT FROM public.status_of_category(cat));

-- Not SECURITY DEFINER: it only changes the row being written.
CREATE FUNCTION public.hurricanes_status_follows_cat() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.status := public.status_of_category(NEW.cat);
    RETURN NEW;
END
$$;

REVOKE EXECUTE ON FUNCTION public.hurricanes_status_follows_cat() FROM PUBLIC;

-- Only rows whose category changes and whose status the statement left as it was
-- (and not NULL) call the function; the WHEN clause costs a comparison for the rest.
-- A statement that sets a different status itself is checked, not corrected.
CREATE TRIGGER hurricanes_status_follows_cat
    BEFORE UPDATE ON public.hurricanes
    FOR EACH ROW
    WHEN (OLD.cat IS DISTINCT FROM NEW.cat
          AND OLD.status IS NOT NULL
          AND NEW.status IS NOT DISTINCT FROM OLD.status)
    EXECUTE FUNCTION public.hurricanes_status_follows_cat();

COMMENT ON COLUMN public.hurricanes.status IS
    'HURDAT2 system status: HU, TS, TD, EX, SD, SS, LO, WV, DB (and ET, PT, ST found in the '
    'Pacific file); NULL for rows of the IHW CSV. Agrees with cat: NULL or '
    'status_of_category(cat) (CHECK hurricanes_status_matches_cat); an update that changes '
    'cat moves a non-NULL status along (trigger hurricanes_status_follows_cat)';
