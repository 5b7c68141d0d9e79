-- Audit trail: one row in `edits` per inserted, updated or deleted hurricanes row, and
-- one per TRUNCATE. Written by statement-level triggers with transition tables, so a
-- set-based load (COPY, INSERT ... SELECT) is audited by one set-based INSERT.

CREATE TABLE public.edits (
    id          bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  text         NOT NULL,
    -- hurricanes.fid; NULL only for TRUNCATE.
    row_id      integer      NULL,
    action      char(1)      NOT NULL
        CONSTRAINT edits_action_valid CHECK (action IN ('I', 'U', 'D', 'T')),
    -- Set by the application per transaction (see below); not authenticated.
    app_user    text         NULL,
    -- The authenticated login (session_user), never the trigger function's owner.
    db_user     text         NOT NULL,
    old_row     jsonb        NULL,
    new_row     jsonb        NULL,
    query       text         NULL,
    recorded_at timestamptz  NOT NULL DEFAULT now(),
    -- Which images each action carries; keeps hand-written or future writers honest.
    CONSTRAINT edits_images_match_action CHECK (CASE action
        WHEN 'I' THEN old_row IS NULL AND new_row IS NOT NULL AND row_id IS NOT NULL
        WHEN 'U' THEN old_row IS NOT NULL AND new_row IS NOT NULL AND row_id IS NOT NULL
        WHEN 'D' THEN old_row IS NOT NULL AND new_row IS NULL AND row_id IS NOT NULL
        WHEN 'T' THEN old_row IS NULL AND new_row IS NULL AND row_id IS NULL
        ELSE false
    END)
);

COMMENT ON TABLE public.edits IS 'Audit trail of writes to hurricanes, filled by triggers only';
COMMENT ON COLUMN public.edits.app_user IS
    'application user, from set_config(''hurricane_db.app_user'', name, true); NULL when unset';
COMMENT ON COLUMN public.edits.db_user IS 'session_user of the writing connection';
COMMENT ON COLUMN public.edits.query IS 'current_query() of the writing statement';

-- A row's history in order: WHERE table_name = $1 AND row_id = $2 ORDER BY id.
CREATE INDEX edits_table_name_row_id_id_idx ON public.edits (table_name, row_id, id);

-- Only the triggers (running as the owner) write edits: writers and readers may read it.
REVOKE ALL ON TABLE public.edits FROM PUBLIC;
GRANT SELECT ON TABLE public.edits TO hurricane_writer, hurricane_reader;

-- SECURITY DEFINER: writers have no INSERT on edits, the owner does. Hence the pinned
-- search_path (everything is schema-qualified anyway; pg_temp last so temporary
-- objects cannot shadow anything) and TimeZone: to_jsonb() renders timestamptz in the
-- session's time zone, and the trail should not depend on the client's setting.
CREATE FUNCTION public.hurricanes_audit() RETURNS trigger
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

-- Transition tables cannot pair an old row with its new row when the key changes
-- (there is no ctid in them), and pairing on fid would misattribute history. An
-- observation's FID is its identity: renumbering is DELETE + INSERT, which the trail
-- records faithfully. The WHEN clause keeps the cost to a comparison for UPDATEs that
-- list fid (e.g. an upsert's SET fid = excluded.fid) and zero for all others.
CREATE FUNCTION public.hurricanes_fid_immutable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- check_violation with a constraint name: the crate maps it to CheckViolation.
    RAISE EXCEPTION 'hurricanes.fid cannot be changed (% to %)', OLD.fid, NEW.fid
        USING ERRCODE = 'check_violation',
              CONSTRAINT = 'hurricanes_fid_immutable',
              HINT = 'Delete the row and insert it with the new fid.';
END
$$;

REVOKE EXECUTE ON FUNCTION public.hurricanes_audit() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.hurricanes_fid_immutable() FROM PUBLIC;

CREATE TRIGGER hurricanes_fid_immutable
    BEFORE UPDATE OF fid ON public.hurricanes
    FOR EACH ROW
    WHEN (OLD.fid IS DISTINCT FROM NEW.fid)
    EXECUTE FUNCTION public.hurricanes_fid_immutable();

CREATE TRIGGER hurricanes_audit_insert
    AFTER INSERT ON public.hurricanes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.hurricanes_audit();

CREATE TRIGGER hurricanes_audit_update
    AFTER UPDATE ON public.hurricanes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.hurricanes_audit();

CREATE TRIGGER hurricanes_audit_delete
    AFTER DELETE ON public.hurricanes
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.hurricanes_audit();

CREATE TRIGGER hurricanes_audit_truncate
    AFTER TRUNCATE ON public.hurricanes
    FOR EACH STATEMENT EXECUTE FUNCTION public.hurricanes_audit();
