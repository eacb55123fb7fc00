//! The first start: against an empty database, `serve` creates an organization and an
//! all-permissions access key and writes them to a credentials file named after the database
//! (`usergroups-credentials.json` for `usergroups.db`; on PostgreSQL, in the working directory),
//! so a newcomer can sign a call at once. The key's secret is stored sealed like every other
//! ([`crate::secrets`]); this file is the one place it exists in plaintext, for the operator to
//! move into a secret store and delete.
//!
//! The file is never overwritten: a secret is shown only once, so a second first start (another
//! database in the same folder, or the same database emptied) that finds the file in place is
//! refused, naming the file, and creates nothing. The file is written inside the transaction
//! that creates the key, so either both exist or neither does.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::auth::PermissionSet;
use crate::db::{self, DatabaseUrl, DbConnection, DbPool, StoreError, TransactionError};
use crate::models::{AccessKey, Organization};
use crate::secrets::Keyring;

/// The credentials file of the default database (`sqlite://usergroups.db`) and of PostgreSQL.
pub const CREDENTIALS_FILE: &str = "usergroups-credentials.json";

/// Where the first-run credentials go for this database: `<name>-credentials.json` beside the
/// SQLite file `<name>.db`, so two databases in one folder never share (and overwrite) one
/// file; [`CREDENTIALS_FILE`] in the working directory on PostgreSQL.
pub fn credentials_path(url: &DatabaseUrl) -> PathBuf {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let dir = path
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let stem = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .filter(|stem| !stem.is_empty())
                .unwrap_or_else(|| "usergroups".to_owned());
            dir.join(format!("{stem}-credentials.json"))
        }
        DatabaseUrl::Postgres(_) => PathBuf::from(CREDENTIALS_FILE),
    }
}

/// Why the first-run setup failed.
#[derive(Debug)]
pub enum FirstRunError {
    /// The database refused.
    Store(StoreError),
    /// The credentials file could not be created: it exists already (a secret shown once must
    /// not be overwritten), or its folder is not writable.
    CredentialsFile {
        /// The file.
        path: PathBuf,
        /// Why it could not be created.
        source: std::io::Error,
    },
}

impl fmt::Display for FirstRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirstRunError::Store(e) => write!(f, "first start: {e}"),
            FirstRunError::CredentialsFile { path, source }
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                write!(
                    f,
                    "first start on an empty database, but {} is in the way: it holds the first-run \
                     secret of another database (or of this one before it was emptied) and is never \
                     overwritten. Move it somewhere safe (or delete it if that secret is no longer \
                     needed) and start again; nothing was created",
                    shown(path)
                )
            }
            FirstRunError::CredentialsFile { path, source } => write!(
                f,
                "first start: cannot create the credentials file {} ({source}); make its folder \
                 writable and start again; nothing was created",
                shown(path)
            ),
        }
    }
}

impl std::error::Error for FirstRunError {}

impl From<StoreError> for FirstRunError {
    fn from(e: StoreError) -> Self {
        FirstRunError::Store(e)
    }
}

impl From<diesel::result::Error> for FirstRunError {
    fn from(e: diesel::result::Error) -> Self {
        FirstRunError::Store(e.into())
    }
}

impl TransactionError for FirstRunError {
    fn is_retryable(&self) -> bool {
        matches!(self, FirstRunError::Store(e) if e.is_retryable())
    }
}

/// A path as logged: absolute, so the operator finds the file whatever the working directory.
fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

/// Creates the first organization and key when the database has no organization yet, and
/// writes them, with `url` (where this instance answers), to [`credentials_path`]. Returns
/// the file written, or `None` when the database already had an organization.
pub fn ensure_first_run_credentials(
    pool: &DbPool,
    database_url: &DatabaseUrl,
    url: &str,
    master_keys: &Keyring,
) -> Result<Option<PathBuf>, Box<dyn std::error::Error>> {
    let path = credentials_path(database_url);
    // Whether the file now on disk is this start's: only then may a failure remove it.
    let written = std::cell::Cell::new(false);
    let mut conn = pool.get()?;
    let created = db::write_transaction(&mut conn, |conn: &mut DbConnection| {
        if let DbConnection::Pg(c) = conn {
            // Several instances may start together on an empty database: one creates.
            c.batch_execute(&format!(
                "SELECT pg_advisory_xact_lock({})",
                db::MIGRATION_LOCK
            ))?;
        }
        if !Organization::none_exist(conn)? {
            return Ok(None);
        }
        let organization = Organization::create(conn, "Default organization")?;
        let (key, credentials) = AccessKey::create_in_transaction(
            conn,
            master_keys,
            &organization.id,
            PermissionSet::default_grant(),
        )?;
        let contents = json!({
            "url": url,
            "organizationId": organization.id,
            "accessKeyId": key.id,
            "secretAccessKey": credentials.secret_access_key(),
            "permissions": key.permission_set().names(),
        });
        let bytes = serde_json::to_vec_pretty(&contents).map_err(StoreError::internal)?;
        if written.replace(false) {
            // A retried transaction (PostgreSQL): the last attempt's file names a key that
            // was rolled back.
            let _ = std::fs::remove_file(&path);
        }
        // Before the commit: a file in the way rolls the organization and the key back.
        write_new_private_file(&path, &bytes).map_err(|source| FirstRunError::CredentialsFile {
            path: path.clone(),
            source,
        })?;
        written.set(true);
        Ok::<_, FirstRunError>(Some((organization, key)))
    });
    let (organization, key) = match created {
        Ok(Some(created)) => created,
        Ok(None) => return Ok(None),
        Err(e) => {
            if written.get() {
                // The commit failed after the file was written: its key does not exist.
                let _ = std::fs::remove_file(&path);
            }
            return Err(e.into());
        }
    };
    log::info!(
        "first start: created organization {} and access key {}; its secret is shown only in {} \
         (mode 0600): move it to a secret store, then delete the file",
        organization.id,
        key.id,
        shown(&path)
    );
    Ok(Some(path))
}

/// Writes `contents` to a new file only its owner can read; an existing file is an error
/// (`AlreadyExists`) and is left untouched.
fn write_new_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        // The umask may have narrowed the mode further, never widened it; set it exactly.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(contents)?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(path)?;
        file.write_all(contents)?;
        file.sync_all()
    }
}
