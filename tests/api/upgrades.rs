//! Upgrades as operators make them: the first start of the release that brought the retention
//! purges nothing that was deleted before it (those rows get the whole retention from the
//! upgrade) and announces what its first purge will remove before it runs.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::json;
use usergroups::db::schema::{deployment, user_groups};
use usergroups::db::{self, PoolOptions};

use usergroups::auth::signer::Credentials;

use crate::live_server::{command, database_for, first_run_credentials, ScratchDir, Server};

/// A direct connection to the database at `url`, beside the server.
fn connect(url: &str) -> db::PooledConnection {
    let url: db::DatabaseUrl = url.parse().expect("a database URL");
    db::pool(&url, PoolOptions::for_url(&url))
        .get()
        .expect("a connection")
}

#[test]
fn the_first_start_after_the_upgrade_purges_no_row_deleted_before_it_and_says_when_it_will() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);
    let (_, file) = first_run_credentials(&dir.0);
    let key = command(
        &dir.0,
        &url,
        &[
            "key",
            "create",
            "--org",
            file["organizationId"].as_str().unwrap(),
            "--permissions",
            "user-groups:write,user-groups:delete,user-groups:read-deleted",
        ],
    );
    let credentials = Credentials::new(
        key["accessKeyId"].as_str().unwrap(),
        key["secretAccessKey"].as_str().unwrap(),
    );
    let (status, _, group) = server.signed(
        &credentials,
        "POST",
        "/api/v1/user-groups",
        Some(&json!({"name": "Deleted long ago"})),
    );
    assert_eq!(status, 201, "{group}");
    let id = group["id"].as_str().unwrap().to_owned();
    let (status, _, _) = server.signed(
        &credentials,
        "DELETE",
        &format!("/api/v1/user-groups/{id}"),
        None,
    );
    assert_eq!(status, 200);
    drop(server);
    // As the database of a release that kept deleted rows for good looks after the upgrade:
    // the row was deleted a year before, and the retention starts to count today.
    let upgraded_at = db::now();
    let mut conn = connect(&url);
    diesel::update(user_groups::table.find(&id))
        .set(user_groups::deleted_at.eq(upgraded_at - TimeDelta::days(365)))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(deployment::table)
        .set(deployment::retention_since.eq(upgraded_at))
        .execute(&mut *conn)
        .unwrap();

    let server = Server::start(&dir.0, &url);
    // Time for a purge at start, had there been one.
    std::thread::sleep(Duration::from_secs(2));
    let (status, _, listed) =
        server.signed(&credentials, "GET", "/api/v1/deleted-user-groups", None);

    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"][0]["id"], id.as_str(), "kept: {listed}");
    let due = upgraded_at + TimeDelta::days(30);
    let purge_at: NaiveDateTime = listed["items"][0]["purgeAt"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .naive_utc();
    assert_eq!(purge_at, due, "the retention counts from the upgrade");
    let log = server.log_text();
    let announcement = log
        .lines()
        .find(|line| line.contains("retention: "))
        .unwrap_or_else(|| panic!("no retention line in {log}"));
    assert!(
        announcement.contains(&format!(
            "removes nothing: nothing is purged before {due} UTC"
        )),
        "{announcement}"
    );
    assert!(!log.contains("retention purge:"), "{log}");
}
