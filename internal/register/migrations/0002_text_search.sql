-- 0002: trigram indexes for the free-text filter of GET /petitions (ILIKE '%...%' on topic
-- and content). pg_trgm ships with PostgreSQL's contrib package and is a trusted extension,
-- but a server without contrib, or a role that may not create extensions, must still be able
-- to migrate: then the filter works unchanged, only by sequential scan.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE INDEX IF NOT EXISTS cases_topic_trgm_idx ON cases USING gin (topic gin_trgm_ops);
            CREATE INDEX IF NOT EXISTS cases_content_trgm_idx ON cases USING gin (content gin_trgm_ops);
        EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
            RAISE NOTICE 'pg_trgm unavailable (%): text search uses sequential ILIKE', SQLERRM;
        END;
    ELSE
        RAISE NOTICE 'pg_trgm not installed: text search uses sequential ILIKE';
    END IF;
END
$$;
