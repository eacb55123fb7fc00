//! The nscale dialect end to end against a running service, through the SDK's
//! `usergroups::client::nscale`: fetch a token with the access key's id and secret (OAuth2 client
//! credentials), list the organization's groups, create one with a member, see its delete refused
//! with 403 while the member is in it, empty it with a PUT, delete it (the final groupRead carries
//! `deletionTime`), see the 404 after, and read the same group through the Onlive dialect on the
//! way. Each step prints the answer it got as JSON; the process exits non-zero as soon as an
//! answer is not the expected one.
//!
//! ```sh
//! cargo run --example nscale          # beside the first start's usergroups-credentials.json
//! USERGROUPS_URL=http://127.0.0.1:8080 USERGROUPS_ORGANIZATION_ID=... \
//! USERGROUPS_ACCESS_KEY_ID=... USERGROUPS_SECRET_ACCESS_KEY=... \
//! cargo run --example nscale          # any key and service
//! ```

use std::process::ExitCode;

use serde::Serialize;
use usergroups::api::nscale::{GroupWrite, GroupWriteMetadata, GroupWriteSpec, Tag};
use usergroups::api::CreateUser;
use usergroups::client::nscale::NscaleClient;
use usergroups::client::{Client, Error};

/// What went wrong: the step, and what was expected instead of what came back.
type Failure = String;

/// The credentials file a first start writes for the default database.
const CREDENTIALS_FILE: &str = "usergroups-credentials.json";

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

/// `name`, or else the first-run file's value, or a message saying how to set it.
fn setting(name: &str, from_file: Option<String>) -> Result<String, Failure> {
    match (
        std::env::var(name).ok().filter(|v| !v.is_empty()),
        from_file,
    ) {
        (Some(value), _) | (None, Some(value)) => Ok(value),
        (None, None) => Err(format!(
            "set {name} (see the README, \"The nscale dialect\")"
        )),
    }
}

/// Prints one step's title and its answer as JSON.
fn show(title: &str, answer: &impl Serialize) {
    let text = serde_json::to_string_pretty(answer).unwrap_or_else(|e| format!("<{e}>"));
    println!("== {title}\n{text}\n");
}

/// A groupWrite of `name` with these members.
fn group_write(name: &str, user_ids: Vec<String>) -> GroupWrite {
    GroupWrite {
        metadata: GroupWriteMetadata {
            name: name.to_owned(),
            description: Some("An elite commando unit.".to_owned()),
            tags: Some(vec![Tag {
                name: "team".to_owned(),
                value: "a".to_owned(),
            }]),
        },
        spec: GroupWriteSpec {
            role_ids: Vec::new(),
            service_account_ids: Vec::new(),
            user_ids: Some(user_ids),
        },
    }
}

fn run() -> Result<(), Failure> {
    let found = usergroups::credentials::from_env_or_file(std::path::Path::new(CREDENTIALS_FILE))?;
    let url = setting("USERGROUPS_URL", found.url)?;
    let organization_id = setting("USERGROUPS_ORGANIZATION_ID", found.organization_id)?;
    let credentials = found.credentials;
    let id = credentials.access_key_id.clone();
    let secret = credentials.secret_access_key().to_owned();
    let nscale = NscaleClient::new(&url, id.clone(), secret.clone(), organization_id)
        .map_err(|e| e.to_string())?;
    let onlive = Client::new(&url, id, secret).map_err(|e| e.to_string())?;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];

    let token = nscale
        .token()
        .map_err(|e| format!("1. fetching a token: {e}"))?;
    println!(
        "== 1. fetched a bearer token ({} characters; it is not printed)\n",
        token.len()
    );

    let groups = nscale
        .list_groups()
        .map_err(|e| format!("2. listing the groups: {e}"))?;
    println!(
        "== 2. listed the organization's {} live group(s)\n",
        groups.len()
    );

    let user = onlive
        .create_user(&CreateUser {
            first_name: "Hannibal".to_owned(),
            last_name: "Smith".to_owned(),
            email: format!("hannibal.{suffix}@example.com"),
            ..CreateUser::default()
        })
        .map_err(|e| format!("3. creating a user (Onlive dialect): {e}"))?;
    let name = format!("The-A-Team-{suffix}");
    let group = nscale
        .create_group(&group_write(&name, vec![user.id.clone()]))
        .map_err(|e| format!("3. creating the group: {e}"))?;
    show(
        "3. created a group with the user as its member (201)",
        &group,
    );
    if group.spec.user_ids != Some(vec![user.id.clone()]) {
        return Err(format!("3. the user is not the group's member: {group:?}"));
    }

    let seen = onlive
        .get_group(&group.metadata.id)
        .map_err(|e| format!("4. reading the group through the Onlive dialect: {e}"))?;
    show("4. the same group through the Onlive dialect (200)", &seen);
    if seen.name != name {
        return Err(format!("4. expected the name {name}, got {seen:?}"));
    }

    match nscale.delete_group(&group.metadata.id) {
        Err(Error::Nscale(e)) if e.status_code == 403 && e.error == "forbidden" => {
            show(
                "5. deleting it is refused while it has a member (403)",
                &e.error_description,
            );
        }
        Err(e) => return Err(format!("5. expected a 403 forbidden, got {e}")),
        Ok(deleted) => return Err(format!("5. a group with a member was deleted: {deleted:?}")),
    }

    let emptied = nscale
        .update_group(&group.metadata.id, &group_write(&name, Vec::new()))
        .map_err(|e| format!("6. emptying the group: {e}"))?;
    show(
        "6. emptied the group with a PUT of spec.userIDs [] (200)",
        &emptied,
    );
    if emptied.spec.user_ids != Some(Vec::new()) {
        return Err(format!("6. the group still has members: {emptied:?}"));
    }

    let deleted = nscale
        .delete_group(&group.metadata.id)
        .map_err(|e| format!("7. deleting the empty group: {e}"))?;
    show(
        "7. deleted the group: the final groupRead, with deletionTime (200)",
        &deleted,
    );
    if deleted.metadata.deletion_time.is_none() {
        return Err(format!("7. expected a deletionTime, got {deleted:?}"));
    }

    match nscale.get_group(&group.metadata.id) {
        Err(Error::Nscale(e)) if e.status_code == 404 => {
            show("8. the deleted group is gone (404)", &e.error_description);
        }
        Err(e) => return Err(format!("8. expected a 404, got {e}")),
        Ok(found) => return Err(format!("8. the deleted group is still found: {found:?}")),
    }

    onlive
        .delete_user(&user.id)
        .map_err(|e| format!("9. tidying up the user: {e}"))?;
    println!("== 9. tidied up: soft-deleted the user too (200)\n");
    Ok(())
}
