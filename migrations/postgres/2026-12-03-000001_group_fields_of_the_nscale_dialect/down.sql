ALTER TABLE user_groups
    DROP COLUMN modified_by,
    DROP COLUMN modified_at,
    DROP COLUMN created_by,
    DROP COLUMN service_account_ids,
    DROP COLUMN role_ids,
    DROP COLUMN tags;
