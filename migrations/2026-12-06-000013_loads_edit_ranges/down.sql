-- Back to 000012: the BRIN on edits.load_id (summarised by VACUUM), functions without
-- the edit range, and loads without its columns.
CREATE INDEX edits_load_id_idx ON public.edits USING brin (load_id)
    WITH (autosummarize = off)
    WHERE load_id IS NOT NULL;

CREATE OR REPLACE FUNCTION public.loads_begin(p_file_name text, p_format text, p_size_bytes bigint)
    RETURNS bigint
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO public.loads (file_name, format, size_bytes, db_user, app_user, txid)
    VALUES (p_file_name, p_format, nullif(p_size_bytes, 0), session_user,
            nullif(current_setting('hurricane_db.app_user', true), ''), txid_current())
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
        storms_not_in_file = p_storms_not_in_file
    WHERE id = p_id AND txid = txid_current() AND finished_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'load % is not running in this transaction', p_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'loads_finish_own_load';
    END IF;
END
$$;

ALTER TABLE public.loads
    DROP COLUMN edits_upto,
    DROP COLUMN edits_after;
