//! Where the master key comes from: `USERGROUPS_MASTER_KEY` (with `USERGROUPS_NEW_MASTER_KEY`
//! during a rotation), or else the key file beside the SQLite file, created with mode 0600 and
//! replaced through its `.new` companion. Apart from the keyring and the rotation because this
//! is the only part that touches the filesystem, where every write must leave a whole file or
//! none.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{MasterKey, SecretsError};
use crate::db::DatabaseUrl;

/// The variable holding the master key (64 hex digits, or base64 of 32 bytes).
pub const MASTER_KEY_VAR: &str = "USERGROUPS_MASTER_KEY";
/// The variable holding the key `master-key rotate` moves to when the master key comes from the
/// environment; `serve` also opens with it, so instances can accept both keys during a rotation.
pub const NEW_MASTER_KEY_VAR: &str = "USERGROUPS_NEW_MASTER_KEY";
/// The master key file's name, when no key is given in the environment.
pub const MASTER_KEY_FILE: &str = "usergroups-master.key";

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
pub(super) fn shown(path: &Path) -> String {
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
pub(super) fn create_key_file(path: &Path) -> Result<(MasterKey, bool), SecretsError> {
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
