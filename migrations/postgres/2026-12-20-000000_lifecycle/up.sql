-- The lifecycle of groups and users (docs/lifecycle.md): who deleted a row and a version that
-- every write increments (the ETag), the change feed, and the answers of idempotent creates.

ALTER TABLE user_groups ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE user_groups ADD COLUMN deleted_by TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN deleted_by TEXT COLLATE "C";

-- The deleted listings (newest deletion first) and the purge (oldest deletion first).
CREATE INDEX user_groups_deleted_by_deletion
    ON user_groups (organization_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX user_groups_deleted_by_expiry
    ON user_groups (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX users_deleted_by_deletion
    ON users (organization_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX users_deleted_by_expiry
    ON users (deleted_at) WHERE deleted_at IS NOT NULL;
-- A purged group's deleted members lose their reference to it: found through this index.
CREATE INDEX users_deleted_by_group
    ON users (user_group_id) WHERE deleted_at IS NOT NULL;

-- The last sequence number given to an event of each organization: the row's lock orders the
-- organization's events as their transactions commit.
CREATE TABLE event_sequences (
    organization_id TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES organizations (id),
    last BIGINT NOT NULL
);

-- The change feed: one row per create, update, delete, restore and purge, written in the
-- transaction of the change; `resource` is the API's JSON of the row after the change.
CREATE TABLE events (
    organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    resource TEXT NOT NULL,
    PRIMARY KEY (organization_id, seq)
);
CREATE INDEX events_by_time ON events (occurred_at);

-- The first answer of a create sent with an Idempotency-Key, per access key, for 24 hours.
CREATE TABLE idempotency_keys (
    access_key_id TEXT COLLATE "C" NOT NULL REFERENCES access_keys (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (access_key_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
