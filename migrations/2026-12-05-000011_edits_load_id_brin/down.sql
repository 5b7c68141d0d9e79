-- Back to 000008's partial b-tree.
DROP INDEX public.edits_load_id_idx;
CREATE INDEX edits_load_id_idx ON public.edits (load_id) WHERE load_id IS NOT NULL;
