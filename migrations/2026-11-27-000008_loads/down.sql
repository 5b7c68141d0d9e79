-- Back to migration 000003's audit trigger (no load_id), then drop what 000008 added.
CREATE OR REPLACE FUNCTION public.hurricanes_audit() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC'
AS $$
DECLARE
    -- Transaction-local, set by the app with set_config(..., true). Once set in a
    -- session the placeholder reads '' (not NULL) in later transactions: nullif.
    v_app_user text := nullif(current_setting('hurricane_db.app_user', true), '');
    -- session_user, not current_user: inside SECURITY DEFINER current_user is the owner.
    v_db_user  text := session_user;
    -- Capped: a multi-row INSERT ... VALUES would otherwise store its whole text
    -- (hundreds of KB) in every one of its edit rows.
    v_query    text := left(current_query(), 2000);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, new_row, query)
        SELECT TG_TABLE_NAME, n.fid, 'I', v_app_user, v_db_user, to_jsonb(n), v_query
        FROM new_rows AS n;
    ELSIF TG_OP = 'UPDATE' THEN
        -- fid cannot change (hurricanes_fid_immutable), so old and new pair up on it.
        -- Rows the UPDATE matched but left unchanged are not edits.
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, old_row, new_row, query)
        SELECT TG_TABLE_NAME, n.fid, 'U', v_app_user, v_db_user, to_jsonb(o), to_jsonb(n), v_query
        FROM old_rows AS o
        JOIN new_rows AS n ON n.fid = o.fid
        WHERE o IS DISTINCT FROM n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, old_row, query)
        SELECT TG_TABLE_NAME, o.fid, 'D', v_app_user, v_db_user, to_jsonb(o), v_query
        FROM old_rows AS o;
    ELSIF TG_OP = 'TRUNCATE' THEN
        -- TRUNCATE has no transition tables: one edit for the whole table.
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, query)
        VALUES (TG_TABLE_NAME, NULL, 'T', v_app_user, v_db_user, v_query);
    END IF;
    RETURN NULL;
END
$$;

DROP FUNCTION public.loads_finish(bigint, bigint, bigint, bigint, bigint, bigint,
    bigint, bigint, bigint, bigint, bigint, bigint);
DROP FUNCTION public.loads_begin(text, text, bigint);
DROP INDEX public.edits_load_id_idx;
ALTER TABLE public.edits DROP COLUMN load_id;
DROP TABLE public.loads;
