//! Secrets at rest: access-key secrets are stored sealed (AES-256-GCM) under a master key that
//! never reaches the database, so a copy of the database alone cannot sign a request.
//!
//! - [`MasterKey`]: 32 bytes, shown only as its fingerprint, wiped from memory when dropped.
//!   [`MasterKey::seal`] and [`MasterKey::open`] bind each ciphertext to associated data (the
//!   access key id), so a sealed secret moved to another key's row does not open.
//! - The stored form is `v1:<fingerprint>:<hex of nonce ‖ ciphertext ‖ tag>`: a wrong master key
//!   is named at start ("sealed with <fp>, the configured key is <fp>"), not discovered later as
//!   signature mismatches. A value without the `v1:` prefix is a plaintext secret from before
//!   this module existed (a secret's alphabet has no `:`), sealed at the next start.
//! - [`KeySource`]: `USERGROUPS_MASTER_KEY` (64 hex digits or base64 of 32 bytes), or else the key
//!   file `usergroups-master.key` (beside the SQLite file, or in the working directory on
//!   PostgreSQL), created at first start with mode 0600.
//! - [`Keyring`]: the keys an instance can open with, shared by its workers. In key-file mode it
//!   rereads the key files when it meets a fingerprint it does not hold, so instances sharing the
//!   file keep verifying through a rotation made by another process.
//! - [`prepare`] runs before anything touches a secret: it finishes an interrupted rotation,
//!   seals plaintext secrets (once, in one transaction), and refuses a database sealed with a
//!   key it does not have. [`rotate`] is `usergroups master-key rotate`.
//!
//! Rotation in key-file mode is crash-safe by construction: (1) the new key is written to
//! `usergroups-master.key.new` (through a temporary file and a rename, so it is whole or absent);
//! (2) every secret is re-sealed under it in one transaction; (3) the `.new` file is renamed over
//! the key file. A kill at any point leaves either no `.new` file (nothing changed) or a `.new`
//! file that [`prepare`] adopts at the next start, re-sealing whatever is not yet under it
//! (nothing, after step 2) before doing step 3 itself.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use diesel::connection::SimpleConnection;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::db::{self, DatabaseUrl, DbConnection, DbPool};
use crate::error::ApiError;
use crate::models::AccessKey;

/// The variable holding the master key (64 hex digits, or base64 of 32 bytes).
pub const MASTER_KEY_VAR: &str = "USERGROUPS_MASTER_KEY";
/// The variable holding the key `master-key rotate` moves to when the master key comes from the
/// environment; `serve` also opens with it, so instances can accept both keys during a rotation.
pub const NEW_MASTER_KEY_VAR: &str = "USERGROUPS_NEW_MASTER_KEY";
/// The master key file's name, when no key is given in the environment.
pub const MASTER_KEY_FILE: &str = "usergroups-master.key";

/// The advisory lock under which PostgreSQL sessions re-seal secrets (exclusive) or add a sealed
/// secret (shared), so a key created during a rotation is never sealed under the retired key.
pub const SECRETS_LOCK: i64 = 0x7567_7365_6372_6574; // "ugsecret"

const VERSION_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Why a secret could not be sealed or opened, or a master key not loaded. No variant carries a
/// secret or key material: the texts are safe to log and to show.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The sealed value names a master key this process does not hold.
    #[error("sealed with master key {sealed_with}, but the configured master key is {configured}")]
    UnknownMasterKey {
        /// The fingerprint in the stored value.
        sealed_with: String,
        /// The fingerprints this process holds.
        configured: String,
    },
    /// A stored value that is not a sealed secret.
    #[error("not a sealed secret (stored as plaintext or damaged); restart an instance to seal plaintext secrets")]
    NotSealed,
    /// The ciphertext did not authenticate: altered, or moved from another access key's row.
    #[error("the sealed secret does not authenticate under master key {0} (altered, or copied from another access key)")]
    Forged(String),
    /// A master key value of the wrong form.
    #[error("{source_name} is not a master key: {why} (64 hex digits, or base64 of 32 bytes)")]
    BadMasterKey {
        /// The variable or file it came from.
        source_name: String,
        /// What is wrong with it (never the value).
        why: &'static str,
    },
    /// The operating system's random source failed.
    #[error("no random bytes: {0}")]
    Random(String),
    /// A key file could not be read or written.
    #[error("master key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl From<SecretsError> for ApiError {
    fn from(e: SecretsError) -> Self {
        ApiError::internal(e)
    }
}

/// A 256-bit master key. `Debug` shows only its fingerprint; the bytes are wiped on drop.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    fingerprint: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl PartialEq for MasterKey {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl MasterKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        let digest = Sha256::new()
            .chain_update(b"usergroups master key fingerprint\n")
            .chain_update(bytes)
            .finalize();
        MasterKey {
            fingerprint: hex(&digest[..8]),
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<MasterKey, SecretsError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *bytes).map_err(|e| SecretsError::Random(e.to_string()))?;
        Ok(MasterKey::from_bytes(*bytes))
    }

    /// Reads a key written as 64 hex digits or as base64 (standard or URL-safe alphabet,
    /// padded or not) of 32 bytes; surrounding whitespace is ignored. `source_name` names the
    /// variable or file in the error, which never repeats the value.
    pub fn parse(text: &str, source_name: &str) -> Result<MasterKey, SecretsError> {
        let text = text.trim();
        let bad = |why| SecretsError::BadMasterKey {
            source_name: source_name.to_owned(),
            why,
        };
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            unhex(text).ok_or_else(|| bad("it is not hex"))?
        } else {
            base64_decode(text).ok_or_else(|| bad("it is neither hex nor base64"))?
        };
        let bytes = Zeroizing::new(bytes);
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| bad("it is not 32 bytes long"))?;
        Ok(MasterKey::from_bytes(array))
    }

    /// The key's fingerprint: 16 hex digits of a SHA-256 of it, safe to log and print.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The key as 64 lowercase hex digits: what the key file holds, and what `master-key rotate`
    /// prints once when it generates a key for the environment. Never log it.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex(&*self.bytes))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.bytes).into())
    }

    /// Seals `plaintext` for storage, bound to `associated_data`: the result is
    /// `v1:<fingerprint>:<hex of nonce ‖ ciphertext ‖ tag>`, with a fresh random nonce.
    pub fn seal(&self, plaintext: &str, associated_data: &[u8]) -> Result<String, SecretsError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| SecretsError::Random(e.to_string()))?;
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: associated_data,
                },
            )
            // Only an absurdly long message fails; a secret is 40 characters.
            .map_err(|_| SecretsError::Forged(self.fingerprint.clone()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(format!(
            "{VERSION_PREFIX}{}:{}",
            self.fingerprint,
            hex(&sealed)
        ))
    }

    /// Opens a value made by [`MasterKey::seal`] with the same `associated_data`.
    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<String, SecretsError> {
        let (fingerprint, body) = split_sealed(sealed).ok_or(SecretsError::NotSealed)?;
        if fingerprint != self.fingerprint {
            return Err(SecretsError::UnknownMasterKey {
                sealed_with: fingerprint.to_owned(),
                configured: self.fingerprint.clone(),
            });
        }
        let body = unhex(body).ok_or(SecretsError::NotSealed)?;
        if body.len() < NONCE_LEN + 16 {
            return Err(SecretsError::NotSealed);
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        let plaintext = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretsError::Forged(self.fingerprint.clone()))?;
        String::from_utf8(plaintext).map_err(|_| SecretsError::Forged(self.fingerprint.clone()))
    }
}

/// The master key fingerprint of a stored secret, or `None` for a plaintext (unsealed) one.
pub fn sealed_fingerprint(stored: &str) -> Option<&str> {
    split_sealed(stored).map(|(fingerprint, _)| fingerprint)
}

fn split_sealed(stored: &str) -> Option<(&str, &str)> {
    stored.strip_prefix(VERSION_PREFIX)?.split_once(':')
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    text
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Decodes base64 in the standard or URL-safe alphabet, with or without `=` padding. Only the
/// master key goes through it (32 bytes), which is why it is a dozen lines here rather than a
/// dependency.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be padding zeros of a valid length (2 or 4 bits).
    (bits < 6 && buffer == 0).then_some(bytes)
}

/// Where an instance's master key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// `USERGROUPS_MASTER_KEY`, and `USERGROUPS_NEW_MASTER_KEY` when a rotation is under way.
    Environment {
        /// The key secrets are sealed with.
        current: MasterKey,
        /// The key a rotation moves to, accepted for opening meanwhile.
        next: Option<MasterKey>,
    },
    /// The key file (created at first start), and its `.new` companion during a rotation.
    File(PathBuf),
}

impl KeySource {
    /// `USERGROUPS_MASTER_KEY` (and `USERGROUPS_NEW_MASTER_KEY`) when set; otherwise `file`, or
    /// the default key file for `url`. A bad value is refused naming the variable.
    pub fn from_env(file: Option<&Path>, url: &DatabaseUrl) -> Result<KeySource, SecretsError> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(Zeroizing::new)
        };
        match var(MASTER_KEY_VAR) {
            Some(text) => {
                let current = MasterKey::parse(&text, MASTER_KEY_VAR)?;
                let next = var(NEW_MASTER_KEY_VAR)
                    .map(|text| MasterKey::parse(&text, NEW_MASTER_KEY_VAR))
                    .transpose()?;
                Ok(KeySource::Environment { current, next })
            }
            None => Ok(KeySource::File(
                file.map(Path::to_path_buf)
                    .unwrap_or_else(|| default_key_file(url)),
            )),
        }
    }
}

/// The default key file: beside the SQLite file, or in the working directory on PostgreSQL (the
/// same rule as the first-run credentials).
pub fn default_key_file(url: &DatabaseUrl) -> PathBuf {
    match url {
        DatabaseUrl::Sqlite(path) => path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(MASTER_KEY_FILE),
        DatabaseUrl::Postgres(_) => PathBuf::from(MASTER_KEY_FILE),
    }
}

/// A path as logged and shown: absolute, so an operator finds the file whatever the working
/// directory was.
fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

/// The `.new` file a rotation writes before it re-seals anything.
pub fn pending_key_file(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Reads a key file; `None` when it does not exist.
pub fn read_key_file(path: &Path) -> Result<Option<MasterKey>, SecretsError> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            MasterKey::parse(&text, &path.display().to_string()).map(Some)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SecretsError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SecretsError + '_ {
    move |source| SecretsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `key` to a new private (0600) temporary file beside `path`, synced, and returns its
/// name: the caller renames or links it into place, so `path` is never seen half-written.
fn write_temporary_key_file(path: &Path, key: &MasterKey) -> Result<PathBuf, SecretsError> {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let temporary = PathBuf::from(name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(format!("{}\n", key.to_hex().as_str()).as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&temporary);
        return Err(io_error(&temporary)(e));
    }
    Ok(temporary)
}

/// Makes a rename or link durable.
fn sync_directory(path: &Path) -> Result<(), SecretsError> {
    #[cfg(unix)]
    {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates the key file with a fresh key unless one exists, and returns the key it holds.
/// Processes starting together agree on one key: the file appears whole through a hard link,
/// which fails when another process linked first, and then that one's key is read.
fn create_key_file(path: &Path) -> Result<(MasterKey, bool), SecretsError> {
    let key = MasterKey::generate()?;
    let temporary = write_temporary_key_file(path, &key)?;
    let linked = fs::hard_link(&temporary, path);
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            sync_directory(path)?;
            Ok((key, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = read_key_file(path)?.ok_or_else(|| SecretsError::Io {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "vanished"),
            })?;
            Ok((existing, false))
        }
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Rotation step 1: writes `key` as the pending key file (`<file>.new`), whole or not at all.
pub fn write_pending_key_file(file: &Path, key: &MasterKey) -> Result<(), SecretsError> {
    let pending = pending_key_file(file);
    let temporary = write_temporary_key_file(&pending, key)?;
    if let Err(e) = fs::rename(&temporary, &pending) {
        let _ = fs::remove_file(&temporary);
        return Err(io_error(&pending)(e));
    }
    sync_directory(&pending)
}

/// Rotation step 3: the pending key file replaces the key file. Done already (by another
/// process) when there is no pending file and the key file holds `key`.
pub fn commit_pending_key_file(file: &Path, key: &MasterKey) -> Result<(), SecretsError> {
    let pending = pending_key_file(file);
    match fs::rename(&pending, file) {
        Ok(()) => sync_directory(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if read_key_file(file)?.as_ref() == Some(key) {
                Ok(())
            } else {
                Err(io_error(&pending)(e))
            }
        }
        Err(e) => Err(io_error(&pending)(e)),
    }
}

/// The master keys an instance holds, shared by all its workers (clones share the keys).
///
/// Secrets are sealed with [`Keyring::sealing_key`] unless the database's secrets are already
/// under another key held here (see [`AccessKey::create`]). Opening picks the key by the
/// fingerprint in the stored value; in key-file mode a fingerprint not held sends the keyring
/// back to the key files once, to pick up a rotation another process made.
#[derive(Clone)]
pub struct Keyring {
    inner: Arc<RwLock<KeyringInner>>,
}

struct KeyringInner {
    sealing: MasterKey,
    keys: Vec<MasterKey>,
    file: Option<PathBuf>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("fingerprints", &self.fingerprints())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring of one key, not tied to any file (tests, examples, embedding applications).
    pub fn single(key: MasterKey) -> Keyring {
        Keyring::new(key, Vec::new(), None)
    }

    /// A keyring of one fresh random key: what tests and benchmarks use.
    pub fn ephemeral() -> Result<Keyring, SecretsError> {
        Ok(Keyring::single(MasterKey::generate()?))
    }

    /// A keyring that seals with `sealing`, also opens with `others`, and rereads `file` (and its
    /// pending companion) when it meets an unknown fingerprint.
    pub fn new(sealing: MasterKey, others: Vec<MasterKey>, file: Option<PathBuf>) -> Keyring {
        let mut keys = vec![sealing.clone()];
        for key in others {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Keyring {
            inner: Arc::new(RwLock::new(KeyringInner {
                sealing,
                keys,
                file,
            })),
        }
    }

    /// The key new secrets are sealed with by default.
    pub fn sealing_key(&self) -> MasterKey {
        self.read(|inner| inner.sealing.clone())
    }

    /// The fingerprints of every key held, the sealing key first.
    pub fn fingerprints(&self) -> Vec<String> {
        self.read(|inner| inner.keys.iter().map(|k| k.fingerprint.clone()).collect())
    }

    fn read<T>(&self, f: impl FnOnce(&KeyringInner) -> T) -> T {
        f(&self.inner.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The held key with `fingerprint`, rereading the key files once if it is not held.
    pub fn key(&self, fingerprint: &str) -> Option<MasterKey> {
        let find = |inner: &KeyringInner| {
            inner
                .keys
                .iter()
                .find(|k| k.fingerprint == fingerprint)
                .cloned()
        };
        if let Some(key) = self.read(find) {
            return Some(key);
        }
        let file = self.read(|inner| inner.file.clone())?;
        for path in [pending_key_file(&file), file] {
            match read_key_file(&path) {
                Ok(Some(key)) if key.fingerprint == fingerprint => {
                    log::info!(
                        "master key {fingerprint} picked up from {} (a rotation by another process)",
                        shown(&path)
                    );
                    let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
                    if !inner.keys.contains(&key) {
                        inner.keys.push(key.clone());
                    }
                    return Some(key);
                }
                Ok(_) => {}
                Err(e) => log::warn!("rereading the master key: {e}"),
            }
        }
        None
    }

    /// Opens a stored secret with the key its fingerprint names.
    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<String, SecretsError> {
        let fingerprint = sealed_fingerprint(sealed).ok_or(SecretsError::NotSealed)?;
        match self.key(fingerprint) {
            Some(key) => key.open(sealed, associated_data),
            None => Err(SecretsError::UnknownMasterKey {
                sealed_with: fingerprint.to_owned(),
                configured: self.fingerprints().join(", "),
            }),
        }
    }
}

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
    pub fn of(conn: &mut DbConnection) -> Result<SealedSummary, ApiError> {
        let mut summary = SealedSummary::default();
        for stored in AccessKey::stored_secrets(conn)? {
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
) -> Result<usize, ApiError> {
    db::write_transaction(conn, |conn| {
        if let DbConnection::Pg(c) = conn {
            c.batch_execute(&format!("SELECT pg_advisory_xact_lock({SECRETS_LOCK})"))?;
        }
        let mut count = 0;
        for key in AccessKey::all(conn)? {
            let rewrite = match sealed_fingerprint(&key.sealed_secret) {
                None => true,
                Some(fp) => scope == Reseal::All && fp != target.fingerprint,
            };
            if !rewrite {
                continue;
            }
            let secret = match sealed_fingerprint(&key.sealed_secret) {
                None => Zeroizing::new(key.sealed_secret.clone()),
                Some(_) => Zeroizing::new(
                    keyring
                        .open(&key.sealed_secret, &AccessKey::associated_data(&key.id))
                        .map_err(|e| ApiError::internal(format!("access key {}: {e}", key.id)))?,
                ),
            };
            let sealed = target.seal(&secret, &AccessKey::associated_data(&key.id))?;
            AccessKey::store_sealed_secret(conn, &key.id, &sealed)?;
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
        .map_err(ApiError::unavailable)
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
/// commit (see the module docs for why a kill at any point is recoverable).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_associated_data_only() {
        let sealed = key(1).seal("s3cret", b"OLAKA").unwrap();

        assert!(sealed.starts_with(&format!("v1:{}:", key(1).fingerprint())));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(key(1).open(&sealed, b"OLAKA").unwrap(), "s3cret");
        assert!(matches!(
            key(1).open(&sealed, b"OLAKB"),
            Err(SecretsError::Forged(_))
        ));
        assert!(matches!(
            key(2).open(&sealed, b"OLAKA"),
            Err(SecretsError::UnknownMasterKey { .. })
        ));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        assert_ne!(
            key(1).seal("same", b"id").unwrap(),
            key(1).seal("same", b"id").unwrap()
        );
    }

    #[test]
    fn a_tampered_ciphertext_does_not_open() {
        let sealed = key(1).seal("s3cret", b"id").unwrap();
        let last = sealed.chars().last().unwrap();
        let flipped = format!(
            "{}{}",
            &sealed[..sealed.len() - 1],
            if last == '0' { '1' } else { '0' }
        );

        assert!(matches!(
            key(1).open(&flipped, b"id"),
            Err(SecretsError::Forged(_))
        ));
    }

    #[test]
    fn a_plaintext_secret_has_no_fingerprint() {
        assert_eq!(sealed_fingerprint("ABCdef012-_xyz"), None);
        assert_eq!(sealed_fingerprint("v1:0011:aabb"), Some("0011"));
    }

    #[test]
    fn master_keys_parse_from_hex_and_both_base64_alphabets() {
        let bytes: Vec<u8> = (0..32).map(|i| i * 7 + 250).map(|b: u32| b as u8).collect();
        let expected = MasterKey::from_bytes(bytes.clone().try_into().unwrap());
        let cases = [
            (hex(&bytes), "hex"),
            (hex(&bytes).to_uppercase(), "uppercase hex"),
            (format!("  {}\n", hex(&bytes)), "whitespace around"),
            (
                "+gEIDxYdJCsyOUBHTlVcY2pxeH+GjZSboqmwt77FzNM=".to_owned(),
                "standard base64, padded",
            ),
            (
                "-gEIDxYdJCsyOUBHTlVcY2pxeH-GjZSboqmwt77FzNM".to_owned(),
                "URL-safe base64, unpadded",
            ),
        ];
        for (text, why) in cases {
            assert_eq!(MasterKey::parse(&text, "X").unwrap(), expected, "{why}");
        }
    }

    #[test]
    fn a_bad_master_key_is_refused_naming_its_source_and_not_its_value() {
        let cases = [
            ("", "empty"),
            ("abcd", "too short"),
            (
                &"g".repeat(64),
                "64 characters that are not hex nor base64 of 32 bytes",
            ),
            ("AAAA", "base64 of 3 bytes"),
            ("not base64 at all!", "other characters"),
        ];
        for (text, why) in cases {
            let error = MasterKey::parse(text, MASTER_KEY_VAR)
                .unwrap_err()
                .to_string();
            assert!(error.contains(MASTER_KEY_VAR), "{why}: {error}");
            if !text.is_empty() {
                assert!(!error.contains(text), "{why}: {error}");
            }
        }
    }

    #[test]
    fn debug_output_of_a_master_key_and_a_keyring_shows_only_fingerprints() {
        let master = key(0xab);
        let shown = format!("{master:?} {:?}", Keyring::single(master.clone()));

        assert!(shown.contains(master.fingerprint()), "{shown}");
        assert!(!shown.contains(master.to_hex().as_str()), "{shown}");
        assert!(!shown.contains("171"), "no raw bytes: {shown}");
    }

    #[test]
    fn base64_with_stray_bits_is_refused() {
        assert_eq!(base64_decode("QQ"), Some(b"A".to_vec()));
        assert_eq!(base64_decode("QR"), None, "non-zero leftover bits");
        assert_eq!(base64_decode("Q"), None, "six bits make no byte");
    }
}
