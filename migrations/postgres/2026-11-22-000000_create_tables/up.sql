-- The same tables as migrations/sqlite, in PostgreSQL's words: ids use the "C" collation so
-- that "createdAt, then id" orders byte-wise exactly as on SQLite, whatever the database's locale.
-- Portable types only (TEXT ids and JSON, TIMESTAMP in UTC whole seconds) so one schema.rs
-- serves SQLite and PostgreSQL. Soft-deleted rows keep their data; every uniqueness rule
-- is a partial index over live rows, so a deleted row never blocks the reuse of a value.

CREATE TABLE organizations (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE access_keys (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    secret TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX access_keys_by_organization ON access_keys (organization_id);

CREATE TABLE user_groups (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    description TEXT,
    description_folded TEXT,
    external_id TEXT,
    extra_fields TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX user_groups_live_name
    ON user_groups (organization_id, name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX user_groups_live_external_id
    ON user_groups (organization_id, external_id) WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX user_groups_live_by_creation
    ON user_groups (organization_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE users (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    full_name_folded TEXT NOT NULL,
    email TEXT NOT NULL,
    email_folded TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('creator', 'editor', 'admin')),
    avatar TEXT,
    user_group_id TEXT COLLATE "C" REFERENCES user_groups (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX users_live_email
    ON users (organization_id, email_folded) WHERE deleted_at IS NULL;
CREATE INDEX users_live_by_creation
    ON users (organization_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX users_live_by_group
    ON users (user_group_id) WHERE deleted_at IS NULL;

-- The replay guard: a signature of an unsafe request, kept until its date plus the allowed skew.
CREATE TABLE used_signatures (
    signature TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX used_signatures_by_expiry ON used_signatures (expires_at);
