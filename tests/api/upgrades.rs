//! Upgrades as operators make them: an instance older than the database's schema stops writing
//! (the fence), `usergroups recount` repairs the totals an older writer left wrong, and the first
//! start of the release that brought the retention purges nothing that was deleted before it
//! (those rows get the whole retention from the upgrade) and announces what its first purge will
//! remove before it runs.

use std::time::Duration;

use actix_web::http::StatusCode;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;
use usergroups::db::schema::{deployment, user_groups, users};
use usergroups::db::{self, PoolOptions};

use crate::helpers::{count, group_path, id_of, spawn_app};
use crate::live_server::{
    command, command_key, database_for, first_run_credentials, ScratchDir, Server,
};

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
    let (_, credentials) = command_key(
        &dir.0,
        &url,
        file["organizationId"].as_str().unwrap(),
        Some("user-groups:write,user-groups:delete,user-groups:read-deleted"),
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
    let sentence = &announcement[announcement.find("retention: ").unwrap_or(0)..];
    assert!(
        !sentence.contains("  "),
        "the line reads as one sentence: {announcement}"
    );
    assert!(!log.contains("retention purge:"), "{log}");
}

#[actix_web::test]
async fn an_instance_older_than_the_schema_refuses_every_write_saying_to_upgrade_and_is_not_ready()
{
    let app = spawn_app().await;
    let kept = id_of(&app.create_group("Before the upgrade").await);
    let events_before = count(&mut app.connection(), "SELECT COUNT(*) AS n FROM events");
    // A newer release migrates the database while this instance still serves.
    diesel::update(deployment::table)
        .set(deployment::schema_generation.eq(db::SCHEMA_GENERATION + 1))
        .execute(&mut *app.connection())
        .unwrap();

    let created = app
        .post("/api/v1/user-groups", json!({"name": "After the upgrade"}))
        .await;
    let deleted = app.delete(&group_path(&kept)).await;
    let read = app.get(&group_path(&kept)).await;
    let ready = app.call("GET", "/readyz").unsigned().send().await;

    for refused in [&created, &deleted, &ready] {
        refused.assert_error(503);
        assert_eq!(refused.reason(), "upgrade_required", "{}", refused.body);
        assert!(
            refused.message().contains("upgraded"),
            "{}",
            refused.message()
        );
    }
    assert_eq!(read.status, StatusCode::OK, "reads go on: {}", read.body);
    let mut conn = app.connection();
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM user_groups WHERE deleted_at IS NULL"
        ),
        1
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM events"),
        events_before
    );
}

#[test]
fn the_recount_repairs_the_totals_that_an_older_writer_left_wrong_while_the_server_serves() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);
    let (credentials, _) = first_run_credentials(&dir.0);
    let mut groups = Vec::new();
    let mut people = Vec::new();
    for i in 0..3 {
        let (status, _, group) = server.signed(
            &credentials,
            "POST",
            "/api/v1/user-groups",
            Some(&json!({"name": format!("Group {i}")})),
        );
        assert_eq!(status, 201, "{group}");
        groups.push(group["id"].as_str().unwrap().to_owned());
        let (status, _, user) = server.signed(
            &credentials,
            "POST",
            "/api/v1/users",
            Some(&json!({"firstName": "A", "lastName": "B", "email": format!("u{i}@example.com")})),
        );
        assert_eq!(status, 201, "{user}");
        people.push(user["id"].as_str().unwrap().to_owned());
    }
    // A release before the counts, serving beside the upgrade, soft-deletes as it always did:
    // the row only.
    let mut conn = connect(&url);
    let now = db::now();
    diesel::update(user_groups::table.find(&groups[0]))
        .set(user_groups::deleted_at.eq(now))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(users::table.filter(users::id.eq_any(&people[..2])))
        .set(users::deleted_at.eq(now))
        .execute(&mut *conn)
        .unwrap();
    let total = |path: &str| {
        let (status, _, page) = server.signed(&credentials, "GET", path, None);
        assert_eq!(status, 200, "{page}");
        page["total"].clone()
    };
    assert_eq!(total("/api/v1/user-groups"), 3, "the totals are wrong now");

    let repaired = command(&dir.0, &url, &["recount"]);
    let again = command(&dir.0, &url, &["recount"]);

    assert_eq!(repaired["organizations"], 1, "{repaired}");
    assert_eq!(repaired["corrected"], 1, "{repaired}");
    assert_eq!(again["corrected"], 0, "{again}");
    assert_eq!(total("/api/v1/user-groups"), 2);
    assert_eq!(total("/api/v1/users"), 1);
}

#[actix_web::test]
async fn a_write_waiting_while_a_newer_release_migrates_is_refused_once_the_migration_commits() {
    let app = spawn_app().await;
    let mut migration = app.connection();
    // A newer release's start: the fence's lock (PostgreSQL) or the write lock (SQLite), then a
    // migration that steps the generation, not yet committed.
    let begin = match &*migration {
        db::DbConnection::Pg(_) => {
            format!("BEGIN; SELECT pg_advisory_xact_lock({});", db::FENCE_LOCK)
        }
        db::DbConnection::Sqlite(_) => "BEGIN IMMEDIATE;".to_owned(),
    };
    migration.batch_execute(&begin).unwrap();
    migration
        .batch_execute(&format!(
            "UPDATE deployment SET schema_generation = {}",
            db::SCHEMA_GENERATION + 1
        ))
        .unwrap();

    let (written, ()) = futures_util::future::join(
        app.post(
            "/api/v1/user-groups",
            json!({"name": "During the migration"}),
        ),
        async {
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            migration.batch_execute("COMMIT").unwrap();
        },
    )
    .await;

    written.assert_error(503);
    assert_eq!(written.reason(), "upgrade_required", "{}", written.body);
    assert_eq!(
        count(
            &mut app.connection(),
            "SELECT COUNT(*) AS n FROM user_groups"
        ),
        0
    );
}
