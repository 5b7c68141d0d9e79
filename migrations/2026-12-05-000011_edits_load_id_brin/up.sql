-- Issue 17 point 6: a load pays no more per row than psql's \copy of the same rows.
--
-- Migration 000008 indexed edits.load_id with a partial b-tree: every edit a load
-- writes (one per inserted or updated row) added a b-tree entry, work that a plain
-- \copy or INSERT (load_id NULL, outside the partial index) never does. A load's
-- edits are written together, in one transaction that holds hurricanes in SHARE ROW
-- EXCLUSIVE mode, and load ids only grow: the edits of a load sit in a run of
-- consecutive heap pages, which is what a BRIN index summarises. Its entries are per
-- range of pages, not per row, so a load's inserts cost next to nothing, and
-- `hurricane-db changes --load ID` (load_id = ID) or `--since-load ID`
-- (load_id > ID) still read only the page ranges that can hold those edits.
-- autosummarize: autovacuum summarises each filled range, so ranges written since
-- the last VACUUM are not all read as "may match".
DROP INDEX public.edits_load_id_idx;
CREATE INDEX edits_load_id_idx ON public.edits USING brin (load_id)
    WITH (autosummarize = on)
    WHERE load_id IS NOT NULL;
