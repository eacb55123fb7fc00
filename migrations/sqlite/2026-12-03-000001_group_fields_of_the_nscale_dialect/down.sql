ALTER TABLE user_groups DROP COLUMN modified_by;
ALTER TABLE user_groups DROP COLUMN modified_at;
ALTER TABLE user_groups DROP COLUMN created_by;
ALTER TABLE user_groups DROP COLUMN service_account_ids;
ALTER TABLE user_groups DROP COLUMN role_ids;
ALTER TABLE user_groups DROP COLUMN tags;
