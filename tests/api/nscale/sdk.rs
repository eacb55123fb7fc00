//! The SDK's nscale client (`usergroups::client::nscale`) and `examples/nscale.rs`, against a
//! real `usergroups serve` on a port with its first-run key: the token flow, the five routes, the
//! dialect's errors, and a revoked key.

use std::path::{Path, PathBuf};
use std::process::Command;

use usergroups::api::nscale::{GroupWrite, GroupWriteMetadata, GroupWriteSpec};
use usergroups::client::nscale::NscaleClient;
use usergroups::client::Error;

use crate::helpers::TestDatabase;
use crate::live_server::{command, database_for, first_run_credentials, ScratchDir, Server};

/// A live server on the test backend and an nscale client with its first-run key.
struct Live {
    client: NscaleClient,
    database_url: String,
    // Dropped in this order: the server stops before its database and directory go.
    server: Server,
    _database: Option<TestDatabase>,
    dir: ScratchDir,
}

impl Live {
    fn start() -> Live {
        let dir = ScratchDir::new();
        let (database, database_url) = database_for(&dir.0);
        let server = Server::start(&dir.0, &database_url);
        let (credentials, file) = first_run_credentials(&dir.0);
        let client = NscaleClient::new(
            &format!("http://{}", server.address),
            credentials.access_key_id.clone(),
            credentials.secret_access_key(),
            file["organizationId"].as_str().unwrap(),
        )
        .expect("a valid base URL");
        Live {
            client,
            database_url,
            server,
            _database: database,
            dir,
        }
    }
}

fn named(name: &str) -> GroupWrite {
    GroupWrite {
        metadata: GroupWriteMetadata {
            name: name.to_owned(),
            description: None,
            tags: None,
        },
        spec: GroupWriteSpec {
            role_ids: Vec::new(),
            service_account_ids: Vec::new(),
            user_ids: None,
        },
    }
}

/// The dialect's error answer of a call that must have failed with one.
fn nscale_error(
    result: Result<impl std::fmt::Debug, Error>,
) -> usergroups::client::nscale::NscaleError {
    match result {
        Err(Error::Nscale(e)) => *e,
        other => panic!("expected the dialect's error answer, got {other:?}"),
    }
}

/// Where cargo puts the examples it builds for `cargo test`: beside the test binary's `deps/`.
fn example(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    test_binary
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("examples")
        .join(name)
}

#[test]
fn the_nscale_example_beside_the_first_run_file_walks_the_whole_story() {
    let live = Live::start();

    let output = Command::new(example("nscale"))
        .env_remove("USERGROUPS_URL")
        .env_remove("USERGROUPS_ORGANIZATION_ID")
        .env_remove("USERGROUPS_ACCESS_KEY_ID")
        .env_remove("USERGROUPS_SECRET_ACCESS_KEY")
        .current_dir(&live.dir.0)
        .output()
        .expect("the example runs");

    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for step in [
        "== 1.",
        "== 3.",
        "== 5.",
        "== 7.",
        "== 8.",
        "OK: the whole story",
    ] {
        assert!(printed.contains(step), "{step} missing from:\n{printed}");
    }
    assert!(printed.contains("\"deletionTime\""), "{printed}");
    assert!(
        live.client.list_groups().unwrap().is_empty(),
        "the story's group is soft-deleted"
    );
}

#[test]
fn the_client_creates_reads_replaces_lists_and_deletes_with_one_token() {
    let live = Live::start();
    let client = &live.client;

    let created = client.create_group(&named("alpha")).expect("created");
    let read = client.get_group(&created.metadata.id).expect("read");
    let mut write = named("alpha");
    write.metadata.description = Some("the first".to_owned());
    let replaced = client
        .update_group(&created.metadata.id, &write)
        .expect("replaced");
    let listed = client.list_groups().expect("listed");
    let roles = client.list_roles().expect("roles");
    let deleted = client.delete_group(&created.metadata.id).expect("deleted");
    let token = client.token().expect("the kept token");

    assert_eq!(read, created);
    assert_eq!(replaced.metadata.description.as_deref(), Some("the first"));
    assert_eq!(listed, vec![replaced.clone()]);
    let role_names: Vec<_> = roles.iter().map(|r| r.metadata.name.as_str()).collect();
    assert_eq!(role_names.len(), 3, "{role_names:?}");
    assert!(deleted.metadata.deletion_time.is_some());
    assert!(token.len() >= 43, "at least 256 bits as base64url");
    assert_eq!(
        token,
        client.token().unwrap(),
        "the token is kept, not fetched for every call"
    );
}

#[test]
fn the_dialects_refusals_come_back_as_its_error_codes() {
    let live = Live::start();
    live.client.create_group(&named("taken")).expect("created");

    let conflict = nscale_error(live.client.create_group(&named("taken")));
    let invalid = nscale_error(live.client.create_group(&named("not a label!")));
    let missing = nscale_error(live.client.get_group(&uuid::Uuid::new_v4().to_string()));

    assert_eq!(
        (conflict.status_code, conflict.error.as_str()),
        (409, "conflict")
    );
    assert_eq!(
        (invalid.status_code, invalid.error.as_str()),
        (400, "invalid_request")
    );
    assert_eq!(
        (missing.status_code, missing.error.as_str()),
        (404, "not_found")
    );
    assert!(missing.request_id.is_some(), "the request id is kept");
}

#[test]
fn the_client_lists_deleted_groups_and_undeletes_one() {
    let live = Live::start();
    let (_, file) = first_run_credentials(&live.dir.0);
    let organization_id = file["organizationId"].as_str().unwrap();
    let key = command(
        &live.dir.0,
        &live.database_url,
        &[
            "key",
            "create",
            "--org",
            organization_id,
            "--permissions",
            "user-groups:read,user-groups:write,user-groups:delete,user-groups:read-deleted,\
             user-groups:restore",
        ],
    );
    let client = NscaleClient::new(
        &format!("http://{}", live.server.address),
        key["accessKeyId"].as_str().unwrap(),
        key["secretAccessKey"].as_str().unwrap(),
        organization_id,
    )
    .unwrap();
    let created = client.create_group(&named("alpha")).expect("created");
    client.delete_group(&created.metadata.id).expect("deleted");

    let listed = client.list_groups_with_deleted().expect("listed");
    let undeleted = client
        .undelete_group(&created.metadata.id)
        .expect("undeleted");
    let again = nscale_error(client.undelete_group(&created.metadata.id));
    let refused = nscale_error(live.client.list_groups_with_deleted());

    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0].metadata.deleted_by.as_deref(),
        key["accessKeyId"].as_str()
    );
    assert!(listed[0].metadata.purge_time.is_some());
    assert_eq!(undeleted.metadata.id, created.metadata.id);
    assert!(undeleted.metadata.deletion_time.is_none());
    assert_eq!(client.list_groups().expect("live").len(), 1);
    assert_eq!(
        (again.status_code, again.error.as_str()),
        (404, "not_found")
    );
    assert_eq!(
        (refused.status_code, refused.error.as_str()),
        (403, "forbidden"),
        "the first-run key has the default grant"
    );
}

#[test]
fn once_its_key_is_revoked_the_client_refetches_and_gets_invalid_client() {
    let live = Live::start();
    live.client
        .list_groups()
        .expect("a first call fetches a token");
    let key = live.client.token().unwrap();
    assert!(!key.is_empty());
    let (credentials, _) = first_run_credentials(&live.dir.0);
    command(
        &live.dir.0,
        &live.database_url,
        &["key", "revoke", &credentials.access_key_id],
    );

    let refused = nscale_error(live.client.list_groups());

    assert_eq!(
        (refused.status_code, refused.error.as_str()),
        (401, "invalid_client"),
        "the kept token is refused at once, and so is a new one: {refused:?}"
    );
    let _ = &live.server;
}

#[test]
fn no_secret_and_no_token_reaches_the_log_even_at_debug() {
    let dir = ScratchDir::new();
    let (_database, database_url) = database_for(&dir.0);
    let server = Server::start_with_env(&dir.0, &database_url, &[("RUST_LOG", "debug")]);
    let (credentials, file) = first_run_credentials(&dir.0);
    let base_url = format!("http://{}", server.address);
    let organization_id = file["organizationId"].as_str().unwrap();
    let client = NscaleClient::new(
        &base_url,
        credentials.access_key_id.clone(),
        credentials.secret_access_key(),
        organization_id,
    )
    .unwrap();
    let wrong_secret = "wrong-secret-that-must-not-be-logged-0000";
    let impostor = NscaleClient::new(
        &base_url,
        credentials.access_key_id.clone(),
        wrong_secret,
        organization_id,
    )
    .unwrap();

    client
        .create_group(&named("logged"))
        .expect("a bearer write");
    let token = client.token().unwrap();
    let refused = nscale_error(impostor.list_groups());
    // Wait for the answers' access-log lines (they are written after the answer).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.log_text().matches("/oauth2/v2/token").count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            server.log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    assert_eq!(refused.error, "invalid_client");
    let log = server.log_text();
    for (what, text) in [
        ("the token", token.as_str()),
        ("the secret", credentials.secret_access_key()),
        ("a wrong secret", wrong_secret),
    ] {
        assert!(!log.contains(text), "{what} is in the log:\n{log}");
    }
}
