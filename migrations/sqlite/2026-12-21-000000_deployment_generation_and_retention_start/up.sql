-- What the database knows about its own deployment (docs/deployment.md#upgrading), one row:
--
-- schema_generation: the generation of the schema, stepped by a migration that an older release
--   cannot write correctly beside. An instance whose release knows a lower generation stops
--   writing (503 `upgrade_required`, `/readyz` not ready) instead of writing what the new schema
--   would get wrong. Each write transaction reads it under the database's write lock.
-- retention_since: when this database first ran a release whose purge honours it (the upgrade
--   time). A row deleted before it, which the release that kept deleted rows for good promised
--   to keep, is kept until the retention has run from this time, not from its deletion.
CREATE TABLE deployment (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    schema_generation BIGINT NOT NULL,
    retention_since TIMESTAMP NOT NULL
);
INSERT INTO deployment (id, schema_generation, retention_since)
    VALUES (1, 2, strftime('%Y-%m-%d %H:%M:%S', 'now'));
