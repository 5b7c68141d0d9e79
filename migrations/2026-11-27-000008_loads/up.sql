-- Loads (issue 12 point 3): every `hurricane-db load` that commits leaves one row in
-- `loads` (file, format, size, who, when, and what it did to observations and storms),
-- and every edit it made names it in `edits.load_id`, so `hurricane-db changes --load N`
-- can list what one release changed. Additive: no existing row changes; edits recorded
-- before this migration have load_id NULL.

CREATE TABLE public.loads (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name          text        NOT NULL,
    format             text        NOT NULL CONSTRAINT loads_format_valid CHECK (format IN ('ihw', 'hurdat2')),
    size_bytes         bigint      NULL,
    started_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at        timestamptz NULL,
    db_user            text        NOT NULL DEFAULT session_user,
    app_user           text        NULL,
    txid               bigint      NOT NULL DEFAULT txid_current(),
    rows_in_file       bigint      NULL,
    inserted           bigint      NULL,
    updated            bigint      NULL,
    unchanged          bigint      NULL,
    rejected           bigint      NULL,
    not_in_file        bigint      NULL,
    storms_in_file     bigint      NULL,
    storms_added       bigint      NULL,
    storms_revised     bigint      NULL,
    storms_unchanged   bigint      NULL,
    storms_not_in_file bigint      NULL
);

-- The audit trigger finds the running load of its transaction by txid.
CREATE INDEX loads_txid_idx ON public.loads (txid);

COMMENT ON TABLE public.loads IS
    'one row per committed load of an IHW CSV or HURDAT2 file (hurricane-db load), written '
    'by the loader through loads_begin()/loads_finish() in the load''s own transaction; '
    'edits.load_id names the load that made an edit';
COMMENT ON COLUMN public.loads.id IS 'load number, generated, increasing: `hurricane-db changes --load ID`';
COMMENT ON COLUMN public.loads.file_name IS 'the loaded file''s name (no directory), e.g. hurdat2-1851-2016-041117-SHORT.txt';
COMMENT ON COLUMN public.loads.format IS 'ihw (the IHW CSV) or hurdat2 (NOAA best-track text)';
COMMENT ON COLUMN public.loads.size_bytes IS 'size of the file in bytes; NULL when unknown (a stream)';
COMMENT ON COLUMN public.loads.started_at IS 'when the load started writing (after its table lock), UTC';
COMMENT ON COLUMN public.loads.finished_at IS 'when the load finished, UTC; NULL only inside the running load''s own transaction';
COMMENT ON COLUMN public.loads.db_user IS 'session_user of the loading connection (the authenticated login role)';
COMMENT ON COLUMN public.loads.app_user IS
    'application user of the load (hurricane_db.app_user; the CLI''s default is load:FILE_NAME); NULL when unset';
COMMENT ON COLUMN public.loads.txid IS
    'txid_current() of the loading transaction: how the audit trigger attributes edits to the running load';
COMMENT ON COLUMN public.loads.rows_in_file IS 'good observations (data rows) in the file';
COMMENT ON COLUMN public.loads.inserted IS 'observations inserted (new FID, or new storm and time)';
COMMENT ON COLUMN public.loads.updated IS 'stored observations updated because some value differed';
COMMENT ON COLUMN public.loads.unchanged IS 'observations identical to the stored ones, not written';
COMMENT ON COLUMN public.loads.rejected IS 'bad rows left out (only with --quarantine; otherwise a bad row aborts the load)';
COMMENT ON COLUMN public.loads.not_in_file IS 'stored observations the file does not have, left as they are (writers never delete)';
COMMENT ON COLUMN public.loads.storms_in_file IS 'storms (BTIDs after matching) in the file';
COMMENT ON COLUMN public.loads.storms_added IS 'storms of the file that were not stored before (new BTID)';
COMMENT ON COLUMN public.loads.storms_revised IS 'stored storms of the file with at least one observation inserted or updated';
COMMENT ON COLUMN public.loads.storms_unchanged IS 'stored storms of the file with every observation unchanged';
COMMENT ON COLUMN public.loads.storms_not_in_file IS 'stored storms the file does not have, left as they are';

-- Edits name the load that made them; NULL for writes outside a load. No foreign key:
-- checked row by row it would cost every load a lookup per observation written.
ALTER TABLE public.edits ADD COLUMN load_id bigint NULL;
COMMENT ON COLUMN public.edits.load_id IS
    'loads.id of the load whose transaction made the edit; NULL for writes outside a load';
CREATE INDEX edits_load_id_idx ON public.edits (load_id) WHERE load_id IS NOT NULL;

-- Only these functions write loads: a writer login can record its own load (in its
-- own transaction) but never change or remove a recorded one.
CREATE FUNCTION public.loads_begin(p_file_name text, p_format text, p_size_bytes bigint)
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

CREATE FUNCTION public.loads_finish(
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

REVOKE ALL ON FUNCTION public.loads_begin(text, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.loads_finish(bigint, bigint, bigint, bigint, bigint, bigint,
    bigint, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.loads_begin(text, text, bigint) TO hurricane_writer;
GRANT EXECUTE ON FUNCTION public.loads_finish(bigint, bigint, bigint, bigint, bigint, bigint,
    bigint, bigint, bigint, bigint, bigint, bigint) TO hurricane_writer;

REVOKE ALL ON TABLE public.loads FROM PUBLIC;
GRANT SELECT ON TABLE public.loads TO hurricane_writer, hurricane_reader;

-- The audit trigger of migration 000003, plus load_id: the running load of this
-- transaction (loads_begin), if any. Still SECURITY DEFINER with the pinned
-- search_path and TimeZone.
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
    -- The load running in this transaction (one index probe per statement, not per row).
    v_load_id  bigint := (SELECT max(l.id) FROM public.loads l
                          WHERE l.txid = txid_current() AND l.finished_at IS NULL);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, new_row, query, load_id)
        SELECT TG_TABLE_NAME, n.fid, 'I', v_app_user, v_db_user, to_jsonb(n), v_query, v_load_id
        FROM new_rows AS n;
    ELSIF TG_OP = 'UPDATE' THEN
        -- fid cannot change (hurricanes_fid_immutable), so old and new pair up on it.
        -- Rows the UPDATE matched but left unchanged are not edits.
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, old_row, new_row, query, load_id)
        SELECT TG_TABLE_NAME, n.fid, 'U', v_app_user, v_db_user, to_jsonb(o), to_jsonb(n), v_query, v_load_id
        FROM old_rows AS o
        JOIN new_rows AS n ON n.fid = o.fid
        WHERE o IS DISTINCT FROM n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, old_row, query, load_id)
        SELECT TG_TABLE_NAME, o.fid, 'D', v_app_user, v_db_user, to_jsonb(o), v_query, v_load_id
        FROM old_rows AS o;
    ELSIF TG_OP = 'TRUNCATE' THEN
        -- TRUNCATE has no transition tables: one edit for the whole table.
        INSERT INTO public.edits (table_name, row_id, action, app_user, db_user, query, load_id)
        VALUES (TG_TABLE_NAME, NULL, 'T', v_app_user, v_db_user, v_query, v_load_id);
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s %s %s on loads', r, CASE WHEN want THEN 'lacks' ELSE 'has' END, p), '; ')
    INTO bad
    FROM (VALUES ('hurricane_writer'), ('hurricane_reader')) AS roles(r)
    CROSS JOIN (VALUES ('SELECT', true), ('INSERT', false), ('UPDATE', false),
                       ('DELETE', false), ('TRUNCATE', false), ('REFERENCES', false),
                       ('TRIGGER', false)) AS privs(p, want)
    WHERE want IS DISTINCT FROM pg_catalog.has_table_privilege(r, 'public.loads', p);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'loads migration: unexpected privileges: %', bad;
    END IF;
END
$$;
