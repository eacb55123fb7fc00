-- A million groups in one organization: the list routes must not read every row per request.
--
-- live_counts: how many live groups and users each organization has, kept by the domain writes
-- in the same transaction as each create and soft delete (`n = n + 1` under the row's lock,
-- so concurrent writers never lose an update), so `total` is read, not counted.
CREATE TABLE live_counts (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL CHECK (kind IN ('group', 'user')),
    n BIGINT NOT NULL,
    PRIMARY KEY (organization_id, kind)
);
INSERT INTO live_counts (organization_id, kind, n)
    SELECT organization_id, 'group', COUNT(*) FROM user_groups
    WHERE deleted_at IS NULL GROUP BY organization_id;
INSERT INTO live_counts (organization_id, kind, n)
    SELECT organization_id, 'user', COUNT(*) FROM users
    WHERE deleted_at IS NULL GROUP BY organization_id;

-- Search: trigram GIN indexes over the case-folded columns of live rows, which the planner
-- uses for the existing `LIKE '%…%'` filters as they are (the index yields candidates, the
-- LIKE is rechecked on each), so the answers do not change.
--
-- pg_trgm is created if the database does not have it yet: in `public` when that schema exists
-- and may be written (so an extension shared by several schemas of one database, as the test
-- suite uses them, does not live in, and vanish with, one of them), else in the current schema.
-- Its operator class is then named with its schema, wherever the extension was installed.
DO $$
DECLARE
    trgm_schema name;
BEGIN
    SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NULL THEN
        IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')
                AND has_schema_privilege('public', 'CREATE') THEN
            CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
        ELSE
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        END IF;
        SELECT n.nspname INTO trgm_schema
            FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'pg_trgm';
    END IF;
    EXECUTE format('CREATE INDEX user_groups_live_name_trgm ON user_groups '
        'USING gin (name_folded %I.gin_trgm_ops) WHERE deleted_at IS NULL', trgm_schema);
    EXECUTE format('CREATE INDEX user_groups_live_description_trgm ON user_groups '
        'USING gin (description_folded %I.gin_trgm_ops) WHERE deleted_at IS NULL', trgm_schema);
    EXECUTE format('CREATE INDEX users_live_full_name_trgm ON users '
        'USING gin (full_name_folded %I.gin_trgm_ops) WHERE deleted_at IS NULL', trgm_schema);
    EXECUTE format('CREATE INDEX users_live_email_trgm ON users '
        'USING gin (email_folded %I.gin_trgm_ops) WHERE deleted_at IS NULL', trgm_schema);
END
$$;
