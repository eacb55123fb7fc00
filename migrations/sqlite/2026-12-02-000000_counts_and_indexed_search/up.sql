-- A million groups in one organization: the list routes must not read every row per request.
--
-- live_counts: how many live groups and users each organization has, kept by the domain writes
-- in the same transaction as each create and soft delete, so `total` is read, not counted.
CREATE TABLE live_counts (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
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

-- Search: trigram indexes over the case-folded columns of live rows only. The folding is done
-- in Rust (`domain::fold_case`) before the text is stored, so the index takes the folded text
-- as it is (`case_sensitive 1`: no second folding that could differ from the first). The
-- index is contentless (the rows are in user_groups / users; every match is checked there
-- again with the exact LIKE), with `contentless_delete` so a soft delete or a rename removes
-- the old entry. Its rowid is the base table's rowid. Triggers keep it in step with every
-- write, whoever makes it (the routes, the import, a manual fix in the sqlite3 shell).
CREATE VIRTUAL TABLE user_groups_search USING fts5(
    name_folded, description_folded,
    content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
);
INSERT INTO user_groups_search (rowid, name_folded, description_folded)
    SELECT rowid, name_folded, description_folded FROM user_groups WHERE deleted_at IS NULL;
CREATE TRIGGER user_groups_search_insert AFTER INSERT ON user_groups
    WHEN new.deleted_at IS NULL
BEGIN
    INSERT INTO user_groups_search (rowid, name_folded, description_folded)
        VALUES (new.rowid, new.name_folded, new.description_folded);
END;
CREATE TRIGGER user_groups_search_update AFTER UPDATE OF name_folded, description_folded, deleted_at
    ON user_groups
BEGIN
    DELETE FROM user_groups_search WHERE rowid = old.rowid AND old.deleted_at IS NULL;
    INSERT INTO user_groups_search (rowid, name_folded, description_folded)
        SELECT new.rowid, new.name_folded, new.description_folded WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER user_groups_search_delete AFTER DELETE ON user_groups
    WHEN old.deleted_at IS NULL
BEGIN
    DELETE FROM user_groups_search WHERE rowid = old.rowid;
END;

CREATE VIRTUAL TABLE users_search USING fts5(
    full_name_folded, email_folded,
    content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
);
INSERT INTO users_search (rowid, full_name_folded, email_folded)
    SELECT rowid, full_name_folded, email_folded FROM users WHERE deleted_at IS NULL;
CREATE TRIGGER users_search_insert AFTER INSERT ON users
    WHEN new.deleted_at IS NULL
BEGIN
    INSERT INTO users_search (rowid, full_name_folded, email_folded)
        VALUES (new.rowid, new.full_name_folded, new.email_folded);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF full_name_folded, email_folded, deleted_at
    ON users
BEGIN
    DELETE FROM users_search WHERE rowid = old.rowid AND old.deleted_at IS NULL;
    INSERT INTO users_search (rowid, full_name_folded, email_folded)
        SELECT new.rowid, new.full_name_folded, new.email_folded WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users
    WHEN old.deleted_at IS NULL
BEGIN
    DELETE FROM users_search WHERE rowid = old.rowid;
END;
