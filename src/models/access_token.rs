//! Bearer tokens (the nscale dialect's OAuth2 client credentials): each row is the SHA-256 hex
//! of one token, the key it acts as and when it expires. The token itself is never stored, so
//! the table alone calls nothing.
//!
//! Both queries that matter are one statement each, and both check the key's revocation in that
//! statement: a token is never issued for a revoked key (even one revoked while the request was
//! being served), and a revoked key's tokens stop working at once, on every instance, because
//! every use reads the key again (nothing here is cached).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::permission::PermissionSet;
use crate::db::schema::{access_keys, access_tokens};
use crate::db::{DbConnection, StoreError};
use crate::ids::{AccessKeyId, OrganizationId};

/// A stored token.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_tokens)]
pub struct AccessToken {
    /// The SHA-256 hex of the token.
    pub token_hash: String,
    /// The key the token acts as.
    pub access_key_id: AccessKeyId,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
}

/// What a live token acts as: its key, that key's organization and permissions.
#[derive(Debug, Clone)]
pub struct TokenHolder {
    /// The key the token was issued to.
    pub access_key_id: AccessKeyId,
    /// The organization the key acts for.
    pub organization_id: OrganizationId,
    /// What the key may do.
    pub permissions: PermissionSet,
}

impl AccessToken {
    /// Stores the token whose hash is `token_hash` for `access_key_id`, until `expires_at`, in
    /// one `INSERT … SELECT … FROM access_keys WHERE id = ? AND revoked_at IS NULL`: `Ok(false)`
    /// when the key is revoked or gone, and then nothing was stored. No read-then-write, so a
    /// revocation racing the issue either comes first (no token) or after (the token ends with
    /// it).
    pub fn issue_for_live_key(
        conn: &mut DbConnection,
        token_hash: &str,
        access_key_id: &AccessKeyId,
        expires_at: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        use diesel::sql_types::{Text, Timestamp};

        let from_live_key = access_keys::table
            .filter(access_keys::id.eq(access_key_id))
            .filter(access_keys::revoked_at.is_null())
            .select((
                token_hash.into_sql::<Text>(),
                access_keys::id,
                expires_at.into_sql::<Timestamp>(),
            ));
        let inserted = diesel::insert_into(access_tokens::table)
            .values(from_live_key)
            .into_columns((
                access_tokens::token_hash,
                access_tokens::access_key_id,
                access_tokens::expires_at,
            ))
            .execute(conn)?;
        Ok(inserted == 1)
    }

    /// What the token whose hash is `token_hash` acts as, if it is live at `now`: known, not
    /// expired, and of a key that is not revoked. One statement joining the token to its key.
    pub fn find_live(
        conn: &mut DbConnection,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> Result<Option<TokenHolder>, StoreError> {
        let found: Option<(AccessKeyId, OrganizationId, String)> = access_tokens::table
            .inner_join(access_keys::table)
            .filter(access_tokens::token_hash.eq(token_hash))
            .filter(access_tokens::expires_at.gt(now))
            .filter(access_keys::revoked_at.is_null())
            .select((
                access_keys::id,
                access_keys::organization_id,
                access_keys::permissions,
            ))
            .get_result(conn)
            .optional()?;
        Ok(found.map(
            |(access_key_id, organization_id, permissions)| TokenHolder {
                access_key_id,
                organization_id,
                permissions: PermissionSet::from_stored(&permissions),
            },
        ))
    }

    /// Forgets tokens that expired before `now`; returns how many.
    pub fn prune_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
        Ok(
            diesel::delete(access_tokens::table.filter(access_tokens::expires_at.lt(now)))
                .execute(conn)?,
        )
    }
}
