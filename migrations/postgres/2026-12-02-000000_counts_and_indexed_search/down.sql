DROP INDEX users_live_email_trgm;
DROP INDEX users_live_full_name_trgm;
DROP INDEX user_groups_live_description_trgm;
DROP INDEX user_groups_live_name_trgm;
DROP TABLE live_counts;
