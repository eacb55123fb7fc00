DROP TABLE used_signatures;
DROP TABLE users;
DROP TABLE user_groups;
DROP TABLE access_keys;
DROP TABLE organizations;
