-- Removes what 000010 added. Repaired statuses stay repaired (they agree with the
-- category, which every earlier migration allows).
COMMENT ON COLUMN public.hurricanes.status IS
    'HURDAT2 system status: HU, TS, TD, EX, SD, SS, LO, WV, DB (and ET, PT, ST found in the Pacific file)';
DROP TRIGGER hurricanes_status_follows_cat ON public.hurricanes;
DROP FUNCTION public.hurricanes_status_follows_cat();
ALTER TABLE public.hurricanes DROP CONSTRAINT hurricanes_status_matches_cat;
ALTER TABLE public.categories DROP CONSTRAINT categories_hurdat2_status_matches;
DROP FUNCTION public.status_of_category(varchar);
