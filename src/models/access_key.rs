//! Access keys: the credentials requests are signed with. The secret is returned once, when the
//! key is created, and never printed afterwards (`Debug` hides it).

use std::fmt;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::permission::PermissionSet;
use crate::db::schema::access_keys;
use crate::db::{self, DbConnection};
use crate::error::ApiError;

/// An access key row.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys)]
pub struct AccessKey {
    /// The public key id (`OLAK…`), sent in every request's `Credential`.
    pub id: String,
    /// The organization the key acts for.
    pub organization_id: String,
    /// The shared secret the signature is made with.
    pub secret: String,
    /// Comma-separated permission names (see [`AccessKey::permission_set`]).
    pub permissions: String,
    /// When it was created.
    pub created_at: NaiveDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<NaiveDateTime>,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("organization_id", &self.organization_id)
            .field("secret", &"<redacted>")
            .field("permissions", &self.permissions)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

const KEY_ID_PREFIX: &str = "OLAK";
const KEY_ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `len` characters drawn uniformly from `alphabet` (whose size divides 256) by the OS's
/// random source.
fn random_text(alphabet: &[u8], len: usize) -> Result<String, ApiError> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(bytes
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect())
}

impl AccessKey {
    /// Creates a key for `organization_id` with a fresh id (100 random bits) and secret (240).
    pub fn create(
        conn: &mut DbConnection,
        organization_id: &str,
        permissions: PermissionSet,
    ) -> Result<AccessKey, ApiError> {
        let key = AccessKey {
            id: format!("{KEY_ID_PREFIX}{}", random_text(KEY_ID_ALPHABET, 20)?),
            organization_id: organization_id.to_owned(),
            secret: random_text(SECRET_ALPHABET, 40)?,
            permissions: permissions.to_string(),
            created_at: db::now(),
            revoked_at: None,
        };
        diesel::insert_into(access_keys::table)
            .values(&key)
            .execute(conn)?;
        Ok(key)
    }

    /// Finds a key by its id, revoked or not.
    pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<AccessKey>, ApiError> {
        Ok(access_keys::table
            .find(id)
            .select(AccessKey::as_select())
            .first(conn)
            .optional()?)
    }

    /// The organization's keys, oldest first.
    pub fn list(
        conn: &mut DbConnection,
        organization_id: &str,
    ) -> Result<Vec<AccessKey>, ApiError> {
        Ok(access_keys::table
            .filter(access_keys::organization_id.eq(organization_id))
            .order((access_keys::created_at.asc(), access_keys::id.asc()))
            .select(AccessKey::as_select())
            .load(conn)?)
    }

    /// Revokes a key; revoking it again keeps the first revocation time. `None` when no such key.
    pub fn revoke(conn: &mut DbConnection, id: &str) -> Result<Option<AccessKey>, ApiError> {
        db::write_transaction(conn, |conn| {
            let Some(mut key) = AccessKey::find(conn, id)? else {
                return Ok(None);
            };
            if key.revoked_at.is_none() {
                let now = db::now();
                diesel::update(access_keys::table.find(id))
                    .set(access_keys::revoked_at.eq(now))
                    .execute(conn)?;
                key.revoked_at = Some(now);
            }
            Ok(Some(key))
        })
    }

    /// The permissions the key holds; a stored name this version does not know grants nothing.
    pub fn permission_set(&self) -> PermissionSet {
        self.permissions
            .split(',')
            .filter_map(|name| name.trim().parse().ok())
            .collect()
    }
}
