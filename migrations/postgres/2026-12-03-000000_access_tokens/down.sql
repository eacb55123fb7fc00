DROP INDEX access_tokens_by_expiry;
DROP TABLE access_tokens;
