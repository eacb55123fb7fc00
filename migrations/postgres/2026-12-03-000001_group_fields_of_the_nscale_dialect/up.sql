-- The fields of a group that the nscale dialect shows (tags, roleIDs, serviceAccountIDs) and the
-- audit fields both dialects set from now on (createdBy, modifiedAt, modifiedBy). JSON arrays
-- are TEXT, as extra_fields is, so one schema.rs describes both backends.
ALTER TABLE user_groups
    ADD COLUMN tags TEXT,
    ADD COLUMN role_ids TEXT NOT NULL DEFAULT '[]',
    ADD COLUMN service_account_ids TEXT NOT NULL DEFAULT '[]',
    ADD COLUMN created_by TEXT,
    ADD COLUMN modified_at TIMESTAMP,
    ADD COLUMN modified_by TEXT;
