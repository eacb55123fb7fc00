//! `usergroups master-key rotate`: the command around [`secrets::rotate`]. Separate because it is
//! the one command whose steps depend on where the master key comes from (the key file, or the
//! environment with or without the next key), and whose output tells the operator what to do next.

use std::error::Error;

use clap::Subcommand;
use serde_json::json;

use super::{open, print_json};
use crate::config::{DatabaseArgs, MasterKeyArgs};
use crate::secrets::{self, KeySource, MasterKey, NEW_MASTER_KEY_VAR};

#[derive(Debug, Subcommand)]
pub(super) enum MasterKeyCommand {
    /// Re-seal every access-key secret under a new master key, in one transaction; prints
    /// {"oldFingerprint", "newFingerprint", "resealed", …}. With the key file, the new key
    /// replaces it; with USERGROUPS_MASTER_KEY, the new key comes from USERGROUPS_NEW_MASTER_KEY
    /// (when that is unset, one is generated and printed once, and nothing else changes).
    Rotate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        master_key: MasterKeyArgs,
    },
}

/// Runs one `master-key` command.
pub(super) fn run(command: MasterKeyCommand) -> Result<(), Box<dyn Error>> {
    match command {
        MasterKeyCommand::Rotate {
            database,
            master_key,
        } => rotate_master_key(&database, &master_key),
    }
}

/// `usergroups master-key rotate`: see [`MasterKeyCommand::Rotate`] and [`secrets::rotate`].
fn rotate_master_key(
    database: &DatabaseArgs,
    master_key: &MasterKeyArgs,
) -> Result<(), Box<dyn Error>> {
    let source = master_key.source(&database.database_url)?;
    match &source {
        KeySource::Environment {
            current,
            next: None,
        } => {
            // Refuses a configured key that does not open this database, before suggesting a
            // successor to it.
            secrets::prepare(&open(database)?, &source)?;
            // Printed before anything changes and used by nothing yet: a crash here loses
            // nothing, and the operator distributes the key before the database depends on it.
            let new = MasterKey::generate()?;
            print_json(&json!({
                "oldFingerprint": current.fingerprint(),
                "newFingerprint": new.fingerprint(),
                "newMasterKey": new.to_hex().as_str(),
                "resealed": 0,
                "next": format!(
                    "nothing was re-sealed yet. Store newMasterKey in your secret store, give it to every \
                     instance as {NEW_MASTER_KEY_VAR} (they then accept both keys), and run \
                     `usergroups master-key rotate` again with {NEW_MASTER_KEY_VAR} set"
                ),
            }))
        }
        KeySource::Environment {
            next: Some(new), ..
        } => {
            let pool = open(database)?;
            let rotation = secrets::rotate(&pool, &source, new)?;
            print_json(&json!({
                "oldFingerprint": rotation.old_fingerprint,
                "newFingerprint": rotation.new_fingerprint,
                "resealed": rotation.resealed,
                "next": format!(
                    "every secret is now sealed with the key in {NEW_MASTER_KEY_VAR}. On every instance and \
                     for every command, set USERGROUPS_MASTER_KEY to that key and unset \
                     {NEW_MASTER_KEY_VAR}, then restart; instances holding only the old key refuse \
                     requests (401) until then"
                ),
            }))
        }
        KeySource::File(path) => {
            let pool = open(database)?;
            let rotation = secrets::rotate(&pool, &source, &MasterKey::generate()?)?;
            print_json(&json!({
                "oldFingerprint": rotation.old_fingerprint,
                "newFingerprint": rotation.new_fingerprint,
                "resealed": rotation.resealed,
                "keyFile": path.display().to_string(),
                "next": format!(
                    "{} holds the new key: update its backup, and copy it to any instance that does \
                     not share this file; instances sharing it pick the new key up by themselves",
                    path.display()
                ),
            }))
        }
    }
}
