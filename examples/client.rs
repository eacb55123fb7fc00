//! The soft-delete story against a running service, through the Rust SDK
//! (`usergroups::client`): create a group with `extraFields`, create a user in it, see the
//! group's delete refused with 403, move the user out, delete the group (the final JSON carries
//! `deletedAt`), and see the 404 after. Each step prints the answer it got as JSON; the
//! process exits non-zero as soon as an answer is not the expected one.
//!
//! ```sh
//! cargo run --example client          # beside the first start's usergroups-credentials.json
//! USERGROUPS_URL=http://127.0.0.1:8080 \
//! USERGROUPS_ACCESS_KEY_ID=... USERGROUPS_SECRET_ACCESS_KEY=... \
//! cargo run --example client          # any key and service
//! ```
//!
//! Names and the email carry a random suffix, so the story can run again and again against the
//! same organization.

use std::process::ExitCode;

use serde::Serialize;
use serde_json::value::RawValue;
use usergroups::api::{CreateGroup, CreateUser, UpdateUser};
use usergroups::client::{Client, Error};

/// The group's `extraFields`, as sent: compact, so it comes back as the very same text.
const EXTRA_FIELDS: &str = r#"{"department":"Sales","allowedFeatures":["product_management"]}"#;

/// What went wrong: the step, and what was expected instead of what came back.
type Failure = String;

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("OK: the whole story went as expected");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Result<String, Failure> {
    std::env::var(name).map_err(|_| format!("set {name} (see the README, \"Calling the service\")"))
}

/// Prints one step's title and its answer as JSON.
fn show(title: &str, answer: &impl Serialize) {
    let text = serde_json::to_string_pretty(answer).unwrap_or_else(|e| format!("<{e}>"));
    println!("== {title}\n{text}\n");
}

/// Prints a refusal as the service sent it.
fn show_error(title: &str, error: &Error) {
    match error.service() {
        Some(e) => show(title, &e.to_body()),
        None => println!("== {title}\n{error}\n"),
    }
}

/// The credentials file a first start writes for the default database.
const CREDENTIALS_FILE: &str = "usergroups-credentials.json";

fn run() -> Result<(), Failure> {
    // Both key variables or neither (then the first-run file); the URL from USERGROUPS_URL, or
    // else the file's `url`, where the service that wrote it listens.
    let found = usergroups::credentials::from_env_or_file(std::path::Path::new(CREDENTIALS_FILE))?;
    let url = match (env("USERGROUPS_URL"), found.url) {
        (Ok(url), _) | (Err(_), Some(url)) => url,
        (Err(e), None) => return Err(e),
    };
    let credentials = found.credentials;
    let client = Client::new(
        &url,
        credentials.access_key_id.clone(),
        credentials.secret_access_key().to_owned(),
    )
    .map_err(|e| e.to_string())?;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];

    let group = client
        .create_group(&CreateGroup {
            name: format!("Global Sales Team {suffix}"),
            description: Some("International sales team".to_owned()),
            external_id: Some(format!("SALES_TEAM_{suffix}")),
            extra_fields: Some(
                RawValue::from_string(EXTRA_FIELDS.to_owned()).map_err(|e| e.to_string())?,
            ),
        })
        .map_err(|e| format!("1. creating the group: {e}"))?;
    show("1. created a group with extraFields (201)", &group);

    let user = client
        .create_user(&CreateUser {
            first_name: "Ada".to_owned(),
            last_name: "Lovelace".to_owned(),
            email: format!("ada.{suffix}@example.com"),
            user_group_id: Some(group.id.clone()),
            ..CreateUser::default()
        })
        .map_err(|e| format!("2. creating the user: {e}"))?;
    show("2. created a user in it (201)", &user);
    if user.user_group_id.as_deref() != Some(group.id.as_str()) {
        return Err(format!("2. the user is not in the group: {user:?}"));
    }

    match client.delete_group(&group.id) {
        Err(error)
            if error
                .service()
                .is_some_and(|e| e.status_code == 403 && e.active_members == Some(1)) =>
        {
            show_error(
                "3. deleting the group is refused while it has an active member (403)",
                &error,
            );
        }
        Err(error) => {
            return Err(format!(
                "3. expected a 403 with activeMembers 1, got {error}"
            ))
        }
        Ok(deleted) => return Err(format!("3. a group with a member was deleted: {deleted:?}")),
    }

    let moved = client
        .update_user(
            &user.id,
            &UpdateUser {
                user_group_id: Some(None),
                ..UpdateUser::default()
            },
        )
        .map_err(|e| format!("4. moving the user out: {e}"))?;
    show("4. moved the user out of the group (200)", &moved);
    if moved.user_group_id.is_some() {
        return Err(format!("4. the user is still in a group: {moved:?}"));
    }

    let deleted = client
        .delete_group(&group.id)
        .map_err(|e| format!("5. deleting the empty group: {e}"))?;
    show(
        "5. deleted the group: the final group, with deletedAt (200)",
        &deleted,
    );
    // The service keeps the object's text (key order, number text), not just its value.
    if deleted.deleted_at.is_none() || deleted.extra_fields.get() != EXTRA_FIELDS {
        return Err(format!(
            "5. expected deletedAt and the same extraFields, got {deleted:?}"
        ));
    }

    match client.get_group(&group.id) {
        Err(error) if error.status_code() == Some(404) => {
            show_error("6. the deleted group is gone (404)", &error);
        }
        Err(error) => return Err(format!("6. expected a 404, got {error}")),
        Ok(found) => return Err(format!("6. the deleted group is still found: {found:?}")),
    }

    let removed = client
        .delete_user(&user.id)
        .map_err(|e| format!("7. tidying up the user: {e}"))?;
    show("7. tidied up: soft-deleted the user too (200)", &removed);
    Ok(())
}
