//! `usergroups key …`: creating, listing and revoking access keys. Separate from the other
//! commands because only creation seals a secret, so only this group needs the master key
//! beside the database.

use std::error::Error;

use clap::Subcommand;
use serde_json::{json, Value};

use super::{open, print_json};
use crate::auth::PermissionSet;
use crate::config::{DatabaseArgs, MasterKeyArgs};
use crate::ids::{AccessKeyId, OrganizationId};
use crate::models::{AccessKey, Organization};
use crate::routes::rfc3339_text;
use crate::secrets;

#[derive(Debug, Subcommand)]
pub(super) enum KeyCommand {
    /// Create an access key; the secret is shown only here.
    Create {
        /// The organization the key acts for.
        #[arg(long = "org")]
        organization_id: OrganizationId,
        /// Comma-separated permissions [default: the six over live groups and users; the lifecycle ones (user-groups:read-deleted, user-groups:restore, users:read-deleted, users:restore, events:read) only by name].
        #[arg(long, value_parser = parse_permissions)]
        permissions: Option<PermissionSet>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        master_key: MasterKeyArgs,
    },
    /// List an organization's access keys (never their secrets).
    List {
        /// The organization.
        #[arg(long = "org")]
        organization_id: OrganizationId,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke an access key: every instance refuses it from the next request on.
    Revoke {
        /// The key's id.
        access_key_id: AccessKeyId,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn parse_permissions(list: &str) -> Result<PermissionSet, String> {
    let set: PermissionSet = list.parse()?;
    if set == PermissionSet::default() {
        return Err("at least one permission is needed".to_owned());
    }
    Ok(set)
}

/// Runs one `key` command.
pub(super) fn run(command: KeyCommand) -> Result<(), Box<dyn Error>> {
    match command {
        KeyCommand::Create {
            organization_id,
            permissions,
            database,
            master_key,
        } => {
            let source = master_key.source(&database.database_url)?;
            let pool = open(&database)?;
            let master_keys = secrets::prepare(&pool, &source)?;
            let mut conn = pool.get()?;
            let org = Organization::find(&mut conn, &organization_id)?
                .ok_or_else(|| format!("organization {organization_id} not found"))?;
            let (key, credentials) = AccessKey::create(
                &mut conn,
                &master_keys,
                &org.id,
                permissions.unwrap_or_else(PermissionSet::default_grant),
            )?;
            print_json(&json!({
                "accessKeyId": key.id,
                "secretAccessKey": credentials.secret_access_key(),
                "organizationId": key.organization_id,
                "permissions": key.permission_set().names(),
            }))
        }
        KeyCommand::List {
            organization_id,
            database,
        } => {
            let pool = open(&database)?;
            let mut conn = pool.get()?;
            Organization::find(&mut conn, &organization_id)?
                .ok_or_else(|| format!("organization {organization_id} not found"))?;
            let keys: Vec<Value> = AccessKey::list(&mut conn, &organization_id)?
                .iter()
                .map(key_summary)
                .collect();
            print_json(&json!({"organizationId": organization_id, "accessKeys": keys}))
        }
        KeyCommand::Revoke {
            access_key_id,
            database,
        } => {
            let key = AccessKey::revoke(&mut *open(&database)?.get()?, &access_key_id)?
                .ok_or_else(|| format!("access key {access_key_id} not found"))?;
            print_json(&key_summary(&key))
        }
    }
}

fn key_summary(key: &AccessKey) -> Value {
    json!({
        "accessKeyId": key.id,
        "organizationId": key.organization_id,
        "permissions": key.permission_set().names(),
        "createdAt": rfc3339_text(&key.created_at),
        "revokedAt": key.revoked_at.as_ref().map(rfc3339_text),
    })
}
