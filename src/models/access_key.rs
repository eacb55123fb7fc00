//! Access keys: the credentials requests are signed with. The secret is returned once, when the
//! key is created, and never printed afterwards. The row holds it sealed under the master key
//! (see [`crate::secrets`]), bound to the key's id, so neither a copy of the table nor a sealed
//! value moved to another row signs anything.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use zeroize::Zeroizing;

use super::permission::PermissionSet;
use crate::credentials::Credentials;
use crate::db::schema::access_keys;
use crate::db::{self, DbConnection, StoreError};
use crate::ids::{AccessKeyId, OrganizationId};
use crate::secrets::{self, Keyring, SecretsError, SECRETS_LOCK};

/// An access key row.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys)]
pub struct AccessKey {
    /// The public key id (`OLAK…`), sent in every request's `Credential`.
    pub id: AccessKeyId,
    /// The organization the key acts for.
    pub organization_id: OrganizationId,
    /// The shared secret the signature is made with, as stored: sealed under the master key
    /// (`v1:<fingerprint>:…`, see [`AccessKey::open_secret`]), or plaintext in a database from
    /// before sealing until the next start seals it.
    #[diesel(column_name = secret)]
    pub sealed_secret: String,
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
            .field("sealed_secret", &"<redacted>")
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
fn random_text(alphabet: &[u8], len: usize) -> Result<String, StoreError> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(StoreError::internal)?;
    Ok(bytes
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect())
}

impl AccessKey {
    /// Creates a key for `organization_id` with a fresh id (100 random bits) and secret (240),
    /// in its own write transaction; the secret is returned once, in the [`Credentials`].
    pub fn create(
        conn: &mut DbConnection,
        keyring: &Keyring,
        organization_id: &OrganizationId,
        permissions: PermissionSet,
    ) -> Result<(AccessKey, Credentials), StoreError> {
        db::write_transaction(conn, |conn| {
            AccessKey::create_in_transaction(conn, keyring, organization_id, permissions)
        })
    }

    /// [`AccessKey::create`] inside a write transaction the caller holds.
    ///
    /// The secret is sealed under the key the database's secrets are already under when the
    /// keyring holds it (during a rotation window an instance may hold both), else under the
    /// keyring's sealing key; on PostgreSQL under a shared advisory lock that a re-seal takes
    /// exclusively, so a key added during a rotation is never left under the retired key. A
    /// database whose secrets are under a key the keyring lacks is refused.
    pub fn create_in_transaction(
        conn: &mut DbConnection,
        keyring: &Keyring,
        organization_id: &OrganizationId,
        permissions: PermissionSet,
    ) -> Result<(AccessKey, Credentials), StoreError> {
        if let DbConnection::Pg(c) = conn {
            c.batch_execute(&format!(
                "SELECT pg_advisory_xact_lock_shared({SECRETS_LOCK})"
            ))?;
        }
        let in_use: Option<String> = access_keys::table
            .filter(access_keys::secret.like("v1:%"))
            .select(access_keys::secret)
            .first(conn)
            .optional()?;
        let master_key = match in_use.as_deref().and_then(secrets::sealed_fingerprint) {
            None => keyring.sealing_key(),
            Some(fingerprint) => keyring.key(fingerprint).ok_or_else(|| {
                StoreError::internal(SecretsError::UnknownMasterKey {
                    sealed_with: fingerprint.to_owned(),
                    configured: keyring.fingerprints().join(", "),
                })
            })?,
        };
        let id = AccessKeyId::from(format!(
            "{KEY_ID_PREFIX}{}",
            random_text(KEY_ID_ALPHABET, 20)?
        ));
        let secret = Zeroizing::new(random_text(SECRET_ALPHABET, 40)?);
        let key = AccessKey {
            sealed_secret: master_key.seal(&secret, &secrets::associated_data(&id))?,
            id,
            organization_id: organization_id.clone(),
            permissions: permissions.to_string(),
            created_at: db::now(),
            revoked_at: None,
        };
        diesel::insert_into(access_keys::table)
            .values(&key)
            .execute(conn)?;
        let credentials = Credentials::new(key.id.as_str(), secret.as_str());
        Ok((key, credentials))
    }

    /// The plaintext secret, opened with the master key its stored form names. A plaintext
    /// stored form is refused: sealing it is the start's job, and accepting it would let anyone
    /// who can write one row add a working key without the master key.
    pub fn open_secret(&self, keyring: &Keyring) -> Result<Zeroizing<String>, SecretsError> {
        keyring
            .open(&self.sealed_secret, &secrets::associated_data(&self.id))
            .map(Zeroizing::new)
    }

    /// Finds a key by its id, revoked or not.
    pub fn find(
        conn: &mut DbConnection,
        id: &AccessKeyId,
    ) -> Result<Option<AccessKey>, StoreError> {
        Ok(access_keys::table
            .find(id)
            .select(AccessKey::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The organization's keys, oldest first.
    pub fn list(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
    ) -> Result<Vec<AccessKey>, StoreError> {
        Ok(access_keys::table
            .filter(access_keys::organization_id.eq(organization_id))
            .order((access_keys::created_at.asc(), access_keys::id.asc()))
            .select(AccessKey::as_select())
            .load(conn)?)
    }

    /// Revokes a key; revoking it again keeps the first revocation time. `None` when no such key.
    pub fn revoke(
        conn: &mut DbConnection,
        id: &AccessKeyId,
    ) -> Result<Option<AccessKey>, StoreError> {
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
        PermissionSet::from_stored(&self.permissions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_an_access_key_shows_no_secret_sealed_or_not() {
        let key = AccessKey {
            id: AccessKeyId::from("OLAKTEST"),
            organization_id: OrganizationId::from("org"),
            sealed_secret: "v1:0011223344556677:deadbeef".to_owned(),
            permissions: "users:read".to_owned(),
            created_at: db::now(),
            revoked_at: None,
        };

        let shown = format!("{key:?}");

        assert!(shown.contains("OLAKTEST"), "{shown}");
        assert!(!shown.contains("deadbeef"), "{shown}");
    }
}
