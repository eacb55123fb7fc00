//! The first start: against an empty database, `serve` creates an organization and an
//! all-permissions access key and writes them to `usergroups-credentials.json` (mode 0600),
//! beside the SQLite file or in the working directory, so a newcomer can sign a call at once.
//! The key's secret is stored sealed like every other ([`crate::secrets`]); this file is the one
//! place it exists in plaintext, for the operator to move into a secret store and delete.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::auth::PermissionSet;
use crate::config::Config;
use crate::db::{self, DatabaseUrl, DbConnection, DbPool, StoreError};
use crate::models::{AccessKey, Organization};
use crate::secrets::Keyring;

/// The file the first-run credentials are written to.
pub const CREDENTIALS_FILE: &str = "usergroups-credentials.json";

/// Where the first-run credentials go for this database.
pub fn credentials_path(url: &DatabaseUrl) -> PathBuf {
    match url {
        DatabaseUrl::Sqlite(path) => path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(CREDENTIALS_FILE),
        DatabaseUrl::Postgres(_) => PathBuf::from(CREDENTIALS_FILE),
    }
}

/// Creates the first organization and key when the database has no organization yet.
pub fn ensure_first_run_credentials(
    pool: &DbPool,
    config: &Config,
    master_keys: &Keyring,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = pool.get()?;
    let created = db::write_transaction(&mut conn, |conn| {
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
        let key = AccessKey::create_in_transaction(
            conn,
            master_keys,
            &organization.id,
            PermissionSet::all(),
        )?;
        Ok::<_, StoreError>(Some((organization, key)))
    })?;
    let Some((organization, (key, credentials))) = created else {
        return Ok(());
    };
    let path = credentials_path(config.database_url());
    let credentials = json!({
        "url": format!("http://{}", config.bind),
        "organizationId": organization.id,
        "accessKeyId": key.id,
        "secretAccessKey": credentials.secret_access_key(),
        "permissions": key.permission_set().names(),
    });
    write_private_file(&path, &serde_json::to_vec_pretty(&credentials)?)?;
    log::info!(
        "first start: created organization {} and access key {}; credentials written to {}",
        organization.id,
        key.id,
        path.display()
    );
    Ok(())
}

/// Writes `contents` to a file only its owner can read.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // An existing file keeps its old mode on open: tighten it explicitly.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        let mut file = file;
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
