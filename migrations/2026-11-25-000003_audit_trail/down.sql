-- Triggers first (they depend on the functions), then the functions, then the trail.
DROP TRIGGER hurricanes_audit_truncate ON public.hurricanes;
DROP TRIGGER hurricanes_audit_delete ON public.hurricanes;
DROP TRIGGER hurricanes_audit_update ON public.hurricanes;
DROP TRIGGER hurricanes_audit_insert ON public.hurricanes;
DROP TRIGGER hurricanes_fid_immutable ON public.hurricanes;
DROP FUNCTION public.hurricanes_fid_immutable();
DROP FUNCTION public.hurricanes_audit();
DROP TABLE public.edits;
