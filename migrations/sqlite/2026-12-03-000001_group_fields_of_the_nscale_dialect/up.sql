-- The fields of a group that the nscale dialect shows (tags, roleIDs, serviceAccountIDs) and the
-- audit fields both dialects set from now on (createdBy, modifiedAt, modifiedBy).
--
-- ADD COLUMN, not a rebuilt table: the rowids stay, so the FTS5 index of
-- 2026-12-02-000000_counts_and_indexed_search (keyed by rowid) and its triggers (which name only
-- the folded columns and deleted_at) keep working unchanged.
ALTER TABLE user_groups ADD COLUMN tags TEXT;
ALTER TABLE user_groups ADD COLUMN role_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE user_groups ADD COLUMN service_account_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE user_groups ADD COLUMN created_by TEXT;
ALTER TABLE user_groups ADD COLUMN modified_at TIMESTAMP;
ALTER TABLE user_groups ADD COLUMN modified_by TEXT;
