//! `usergroups org …`: creating and listing organizations. Apart from the other commands because it needs
//! nothing but the database: no master key, no access keys.

use std::error::Error;

use clap::Subcommand;
use serde_json::json;

use super::{open, print_json};
use crate::config::DatabaseArgs;
use crate::models::Organization;
use crate::routes::rfc3339_text;

#[derive(Debug, Subcommand)]
pub(super) enum OrgCommand {
    /// Create an organization: prints {"id", "name"}.
    Create {
        /// The organization's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the organizations: prints {"organizations": [{"id", "name", "createdAt"}…]}, oldest
    /// first.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Runs one `org` command.
pub(super) fn run(command: OrgCommand) -> Result<(), Box<dyn Error>> {
    match command {
        OrgCommand::Create { name, database } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 255 {
                return Err("--name must be 1 to 255 characters".into());
            }
            let org = Organization::create(&mut *open(&database)?.get()?, name)?;
            print_json(&json!({"id": org.id, "name": org.name}))
        }
        OrgCommand::List { database } => {
            let organizations: Vec<_> = Organization::list(&mut *open(&database)?.get()?)?
                .iter()
                .map(|org| {
                    json!({"id": org.id, "name": org.name, "createdAt": rfc3339_text(&org.created_at)})
                })
                .collect();
            print_json(&json!({ "organizations": organizations }))
        }
    }
}
