-- Issue 17 point 6: a load writes no more per row than psql's \copy of the same rows.
--
-- Migration 000011's BRIN on edits.load_id (partial: load_id IS NOT NULL) still gave
-- every edit a load writes an index insertion (a revmap lookup per row, about 1% of a
-- 35,486-row load by hand), which a plain \copy or INSERT (load_id NULL) never pays.
-- Instead, each load records the range of edit ids its transaction can have written:
-- edits_after, the largest edit id before it began, and edits_upto, the largest at its
-- finish (edit ids only grow, and a load holds hurricanes in SHARE ROW EXCLUSIVE mode,
-- so the next load's edits come after its edits_upto). `hurricane-db changes --load N`
-- reads edits by primary key in (edits_after, edits_upto] and keeps load_id = N;
-- `--since-load N` reads those after N's edits_upto and keeps load_id > N. Both read
-- two index probes' worth of loads and only the edits in range, as the BRIN did.
-- edits.load_id stays: it says which load made an edit, exactly.

ALTER TABLE public.loads
    ADD COLUMN edits_after bigint NULL,
    ADD COLUMN edits_upto bigint NULL;

COMMENT ON COLUMN public.loads.edits_after IS
    'largest edits.id when the load began (0 for none): its edits have larger ids';
COMMENT ON COLUMN public.loads.edits_upto IS
    'largest edits.id when the load finished: its edits have ids up to this; NULL while it '
    'runs, and for a load recorded before migration 000013 that made no edit';

-- Loads recorded before: the range of the edits they made.
UPDATE public.loads AS l
SET edits_after = e.first_id - 1, edits_upto = e.last_id
FROM (SELECT load_id, min(id) AS first_id, max(id) AS last_id
      FROM public.edits WHERE load_id IS NOT NULL GROUP BY load_id) AS e
WHERE e.load_id = l.id;

DROP INDEX public.edits_load_id_idx;

CREATE OR REPLACE FUNCTION public.loads_begin(p_file_name text, p_format text, p_size_bytes bigint)
    RETURNS bigint
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO public.loads (file_name, format, size_bytes, db_user, app_user, txid, edits_after)
    VALUES (p_file_name, p_format, nullif(p_size_bytes, 0), session_user,
            nullif(current_setting('hurricane_db.app_user', true), ''), txid_current(),
            (SELECT coalesce(max(id), 0) FROM public.edits))
    RETURNING id
$$;

CREATE OR REPLACE FUNCTION public.loads_finish(
    p_id bigint, p_rows bigint, p_inserted bigint, p_updated bigint, p_unchanged bigint,
    p_rejected bigint, p_not_in_file bigint, p_storms bigint, p_storms_added bigint,
    p_storms_revised bigint, p_storms_unchanged bigint, p_storms_not_in_file bigint)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE public.loads SET
        finished_at = clock_timestamp(), rows_in_file = p_rows, inserted = p_inserted,
        updated = p_updated, unchanged = p_unchanged, rejected = p_rejected,
        not_in_file = p_not_in_file, storms_in_file = p_storms, storms_added = p_storms_added,
        storms_revised = p_storms_revised, storms_unchanged = p_storms_unchanged,
        storms_not_in_file = p_storms_not_in_file,
        edits_upto = (SELECT coalesce(max(e.id), 0) FROM public.edits e)
    WHERE id = p_id AND txid = txid_current() AND finished_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'load % is not running in this transaction', p_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'loads_finish_own_load';
    END IF;
END
$$;
