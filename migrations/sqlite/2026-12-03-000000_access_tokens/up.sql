-- Bearer tokens of the nscale dialect (POST /oauth2/v2/token). Only the SHA-256 hex of a token
-- is stored, so a copy of this table calls nothing. A token acts as its access key: every use
-- joins the key and checks its revocation, so revoking the key ends its tokens at once.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    access_key_id TEXT NOT NULL REFERENCES access_keys (id),
    expires_at TIMESTAMP NOT NULL
);
-- The pruning task deletes by expiry.
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);
