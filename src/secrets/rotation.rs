//! The database side of the master key: counting and re-sealing stored secrets, [`prepare`]
//! (which every process runs before it touches a secret, and which finishes an interrupted
//! rotation), and [`rotate`], the crash-safe `usergroups master-key rotate` whose steps the
//! [`crate::secrets`] docs lay out. Apart from the keyring because only this part writes rows,
//! under [`SECRETS_LOCK`] on PostgreSQL. It reads and writes the secret column of the access keys
//! table directly, so the secrets layer needs nothing of the records built on it.

use std::collections::BTreeMap;
use std::path::Path;

use diesel::connection::SimpleConnection;
use zeroize::Zeroizing;

use super::key_file::{create_key_file, shown};
use super::{
    associated_data, commit_pending_key_file, pending_key_file, read_key_file, sealed_fingerprint,
    write_pending_key_file, KeySource, Keyring, MasterKey, MASTER_KEY_VAR, NEW_MASTER_KEY_VAR,
};
use diesel::prelude::*;

use crate::db::schema::access_keys;
use crate::db::{self, DbConnection, DbPool, StoreError};
use crate::ids::AccessKeyId;

/// The advisory lock under which PostgreSQL sessions re-seal secrets (exclusive) or add a sealed
/// secret (shared), so a key created during a rotation is never sealed under the retired key.
pub const SECRETS_LOCK: i64 = 0x7567_7365_6372_6574; // "ugsecret"

/// How many stored secrets are under each master key fingerprint, and how many are plaintext.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SealedSummary {
    /// Sealed secrets by fingerprint.
    pub by_fingerprint: BTreeMap<String, usize>,
    /// Secrets stored in plaintext (from before sealing existed).
    pub plaintext: usize,
}

impl SealedSummary {
    /// Counts the stored forms of every access key.
    pub fn of(conn: &mut DbConnection) -> Result<SealedSummary, StoreError> {
        let mut summary = SealedSummary::default();
        for stored in stored_secrets(conn)? {
            match sealed_fingerprint(&stored) {
                Some(fp) => *summary.by_fingerprint.entry(fp.to_owned()).or_default() += 1,
                None => summary.plaintext += 1,
            }
        }
        Ok(summary)
    }

    /// The fingerprints of sealed secrets that `keyring` holds no key for.
    pub fn unknown_to(&self, keyring: &Keyring) -> Vec<String> {
        let held = keyring.fingerprints();
        self.by_fingerprint
            .keys()
            .filter(|fp| !held.contains(fp))
            .cloned()
            .collect()
    }
}

/// The stored form of every access key's secret (for counting them by master key).
pub fn stored_secrets(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(access_keys::table.select(access_keys::secret).load(conn)?)
}

/// Every access key's id and stored secret, revoked keys included, in id order (for re-sealing).
fn stored_secrets_by_key(
    conn: &mut DbConnection,
) -> Result<Vec<(AccessKeyId, String)>, StoreError> {
    Ok(access_keys::table
        .order(access_keys::id.asc())
        .select((access_keys::id, access_keys::secret))
        .load(conn)?)
}

/// Replaces access key `id`'s stored secret with `sealed` (a re-seal; the secret itself is
/// unchanged).
pub fn store_sealed_secret(
    conn: &mut DbConnection,
    id: &AccessKeyId,
    sealed: &str,
) -> Result<(), StoreError> {
    diesel::update(access_keys::table.find(id))
        .set(access_keys::secret.eq(sealed))
        .execute(conn)?;
    Ok(())
}

/// Which stored secrets [`reseal`] rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reseal {
    /// Only plaintext ones (the start of a new version on an older database).
    Plaintext,
    /// Every one not already under the target key (a rotation).
    All,
}

/// Re-seals stored secrets under `target` in one transaction, opening them with `keyring`; a
/// secret no key opens aborts the whole transaction. Returns how many were rewritten.
pub fn reseal(
    conn: &mut DbConnection,
    keyring: &Keyring,
    target: &MasterKey,
    scope: Reseal,
) -> Result<usize, StoreError> {
    db::write_transaction(conn, |conn| {
        if let DbConnection::Pg(c) = conn {
            c.batch_execute(&format!("SELECT pg_advisory_xact_lock({SECRETS_LOCK})"))?;
        }
        let mut count = 0;
        for (id, stored) in stored_secrets_by_key(conn)? {
            let rewrite = match sealed_fingerprint(&stored) {
                None => true,
                Some(fp) => scope == Reseal::All && fp != target.fingerprint,
            };
            if !rewrite {
                continue;
            }
            let secret = match sealed_fingerprint(&stored) {
                None => Zeroizing::new(stored.clone()),
                Some(_) => Zeroizing::new(
                    keyring
                        .open(&stored, &associated_data(&id))
                        .map_err(|e| StoreError::internal(format!("access key {id}: {e}")))?,
                ),
            };
            let sealed = target.seal(&secret, &associated_data(&id))?;
            store_sealed_secret(conn, &id, &sealed)?;
            count += 1;
        }
        Ok(count)
    })
}

/// The refusal when a database holds secrets under keys this process lacks.
fn wrong_key_error(unknown: &[String], keyring: &Keyring, source: &KeySource) -> String {
    let from = match source {
        KeySource::Environment { .. } => format!("from {MASTER_KEY_VAR}"),
        KeySource::File(path) => format!("from {}", shown(path)),
    };
    format!(
        "this database's secrets were sealed with master key {}, the configured key is {} ({from}); \
         configure the master key this database was sealed with (its fingerprint is printed by \
         `usergroups master-key rotate` and logged at start)",
        unknown.join(", "),
        keyring.fingerprints().join(", ")
    )
}

/// Resolves the master keys and brings the database's secrets under them, before anything reads
/// a secret: adopts a pending key file left by an interrupted rotation (re-sealing what is not yet
/// under it, then renaming it into place), creates the key file on a database with no sealed
/// secret, seals plaintext secrets in one transaction, and refuses a database whose secrets are
/// under a key it does not hold.
pub fn prepare(pool: &DbPool, source: &KeySource) -> Result<Keyring, Box<dyn std::error::Error>> {
    let mut conn = pool.get()?;
    let summary = SealedSummary::of(&mut conn)?;
    let keyring = match source {
        KeySource::Environment { current, next } => {
            log::info!(
                "master key {} from {MASTER_KEY_VAR}{}",
                current.fingerprint,
                next.as_ref()
                    .map(|k| format!(", and {} from {NEW_MASTER_KEY_VAR}", k.fingerprint))
                    .unwrap_or_default()
            );
            Keyring::new(current.clone(), next.iter().cloned().collect(), None)
        }
        KeySource::File(path) => file_keyring(&mut conn, path, &summary)?,
    };
    let unknown = summary.unknown_to(&keyring);
    if !unknown.is_empty() {
        return Err(wrong_key_error(&unknown, &keyring, source).into());
    }
    if summary.plaintext > 0 {
        let sealed = reseal(
            &mut conn,
            &keyring,
            &keyring.sealing_key(),
            Reseal::Plaintext,
        )?;
        // An interrupted rotation finished above may have sealed them already.
        if sealed > 0 {
            log::info!(
                "sealed {sealed} plaintext access-key secrets under master key {}",
                keyring.sealing_key().fingerprint
            );
        }
    }
    Ok(keyring)
}

fn file_keyring(
    conn: &mut DbConnection,
    path: &Path,
    summary: &SealedSummary,
) -> Result<Keyring, Box<dyn std::error::Error>> {
    let current = read_key_file(path)?;
    let pending = read_key_file(&pending_key_file(path))?;
    match (current, pending) {
        (current, Some(pending)) => {
            // An interrupted rotation: finish it, whichever step it reached.
            let keyring = Keyring::new(
                pending.clone(),
                current.iter().cloned().collect(),
                Some(path.to_owned()),
            );
            let unknown = summary.unknown_to(&keyring);
            if !unknown.is_empty() {
                return Err(
                    wrong_key_error(&unknown, &keyring, &KeySource::File(path.into())).into(),
                );
            }
            let resealed = reseal(conn, &keyring, &pending, Reseal::All)?;
            commit_pending_key_file(path, &pending)?;
            log::warn!(
                "finished an interrupted master-key rotation: {} -> {}, {resealed} secrets re-sealed; master key file {}",
                current.map(|k| k.fingerprint).unwrap_or_else(|| "none".to_owned()),
                pending.fingerprint,
                shown(path)
            );
            Ok(keyring)
        }
        (Some(current), None) => {
            log::info!("master key {} from {}", current.fingerprint, shown(path));
            Ok(Keyring::new(current, Vec::new(), Some(path.to_owned())))
        }
        (None, None) => {
            if !summary.by_fingerprint.is_empty() {
                return Err(format!(
                    "no master key: this database's secrets were sealed with master key {}, and \
                     neither {MASTER_KEY_VAR} is set nor {} exists; set {MASTER_KEY_VAR} or restore that file",
                    summary.by_fingerprint.keys().cloned().collect::<Vec<_>>().join(", "),
                    shown(path)
                )
                .into());
            }
            let (key, created) = create_key_file(path)?;
            if created {
                log::info!(
                    "created master key {} in {} (mode 0600): back it up, and keep it apart from database backups",
                    key.fingerprint,
                    shown(path)
                );
            } else {
                log::info!("master key {} from {}", key.fingerprint, shown(path));
            }
            Ok(Keyring::new(key, Vec::new(), Some(path.to_owned())))
        }
    }
}

/// Logs loudly when, after the first-run setup, the database holds secrets under a key this
/// instance lacks: instances started together with different master keys (each made its own key
/// file). Requests with those keys are refused (401) until the instance gets the right key.
pub fn warn_about_foreign_keys(pool: &DbPool, keyring: &Keyring) {
    let unknown = pool
        .get()
        .map_err(StoreError::unavailable)
        .and_then(|mut conn| SealedSummary::of(&mut conn))
        .map(|summary| summary.unknown_to(keyring));
    match unknown {
        Ok(unknown) if !unknown.is_empty() => log::error!(
            "this database holds secrets sealed with master key {}, which this instance does not \
             have (it holds {}): every instance must share one master key",
            unknown.join(", "),
            keyring.fingerprints().join(", ")
        ),
        Ok(_) => {}
        Err(e) => log::warn!("checking the master keys of stored secrets: {e}"),
    }
}

/// What `usergroups master-key rotate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key secrets were under.
    pub old_fingerprint: String,
    /// The key they are under now.
    pub new_fingerprint: String,
    /// How many secrets were re-sealed.
    pub resealed: usize,
}

/// Rotates the master key: every secret is re-sealed under `new` in one transaction. In key-file
/// mode `new` is written to the pending file first and renamed over the key file after the
/// commit (see the [`crate::secrets`] docs for why a kill at any point is recoverable).
pub fn rotate(
    pool: &DbPool,
    source: &KeySource,
    new: &MasterKey,
) -> Result<Rotation, Box<dyn std::error::Error>> {
    let keyring = prepare(pool, source)?;
    let old = keyring.sealing_key();
    if old == *new {
        return Err(format!(
            "the new master key is the current one ({})",
            new.fingerprint
        )
        .into());
    }
    let mut conn = pool.get()?;
    let resealed = match source {
        KeySource::Environment { .. } => reseal(&mut conn, &keyring, new, Reseal::All)?,
        KeySource::File(path) => {
            write_pending_key_file(path, new)?;
            let resealed = reseal(&mut conn, &keyring, new, Reseal::All)?;
            commit_pending_key_file(path, new)?;
            resealed
        }
    };
    log::info!(
        "rotated the master key {} -> {}: {resealed} secrets re-sealed",
        old.fingerprint,
        new.fingerprint
    );
    Ok(Rotation {
        old_fingerprint: old.fingerprint,
        new_fingerprint: new.fingerprint.clone(),
        resealed,
    })
}
