REVOKE SELECT ON __diesel_schema_migrations FROM hurricane_writer, hurricane_reader;
