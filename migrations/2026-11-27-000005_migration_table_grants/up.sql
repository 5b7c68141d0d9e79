-- Services run as writer or reader logins and must check, before they serve, that the
-- schema is the one they were built for (`Db::migration_status`,
-- `hurricane-db migrate --check`). That needs only to read the migration table.
GRANT SELECT ON __diesel_schema_migrations TO hurricane_writer, hurricane_reader;
