-- Back to 000011: autovacuum asked to summarise each filled range.
ALTER INDEX public.edits_load_id_idx SET (autosummarize = on);
