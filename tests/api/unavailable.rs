//! A database that cannot be reached: every answer is a 503 in the contract's body, quickly,
//! never a 500 or a hang.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use futures_util::future::{join3, join_all};
use serde_json::json;
use usergroups::db::{self, DatabaseUrl, DbConnection, PoolOptions};
use usergroups::{AppState, Limits};

use crate::helpers::{app_on, count, spawn_app, TestApp, TestDatabase};

/// An app whose pool points at a port where no database listens.
async fn app_without_database() -> TestApp {
    let mut app = spawn_app().await;
    let url = "postgres://postgres@127.0.0.1:1/unreachable?connect_timeout=1"
        .parse()
        .unwrap();
    let options = PoolOptions {
        max_size: 2,
        connection_timeout: Duration::from_secs(1),
        statement_timeout: Duration::from_secs(1),
        sqlite_writer: true,
    };
    app.state = AppState {
        pool: db::pool(&url, options),
        limits: Limits::default(),
        master_keys: app.state.master_keys.clone(),
        key_cache: Default::default(),
    };
    app
}

#[actix_web::test]
async fn readyz_is_503_when_the_database_cannot_be_reached() {
    let app = app_without_database().await;

    let response = app.call("GET", "/readyz").unsigned().send().await;

    response.assert_error(503);
}

#[actix_web::test]
async fn healthz_needs_no_database() {
    let app = app_without_database().await;

    let response = app.call("GET", "/healthz").unsigned().send().await;

    assert_eq!(response.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_signed_request_is_a_503_within_the_connection_timeout() {
    let app = app_without_database().await;
    let started = Instant::now();

    let response = app.get("/api/v1/user-groups").await;

    response.assert_error(503);
    assert_eq!(response.message(), "Service temporarily unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

/// An app on a fresh database whose statements give up after one second.
fn app_with_short_statement_timeout() -> (TestApp, DatabaseUrl) {
    let (database, url) = TestDatabase::create();
    let options = PoolOptions {
        max_size: 4,
        connection_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(1),
        sqlite_writer: true,
    };
    let pool = db::init(&url, options).expect("the database initializes");
    (app_on(database, pool, Limits::default()), url)
}

#[actix_web::test]
async fn a_write_blocked_by_a_lock_past_the_statement_timeout_is_a_503_and_changes_nothing() {
    let (app, url) = app_with_short_statement_timeout();
    let group = app.create_group("Locked").await;
    let id = group["id"].as_str().unwrap().to_owned();

    // Another session holds the lock the delete needs: the whole database on SQLite, the
    // group's row on PostgreSQL.
    let mut holder = db::pool(&url, PoolOptions::for_url(&url)).get().unwrap();
    match &mut *holder {
        DbConnection::Sqlite(c) => c.batch_execute("BEGIN IMMEDIATE").unwrap(),
        DbConnection::Pg(c) => c
            .batch_execute(&format!(
                "BEGIN; SELECT id FROM user_groups WHERE id = '{id}' FOR UPDATE"
            ))
            .unwrap(),
    }
    let started = Instant::now();
    let blocked = app.delete(&format!("/api/v1/user-groups/{id}")).await;
    let waited = started.elapsed();
    holder.batch_execute("ROLLBACK").unwrap();

    blocked.assert_error(503);
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
    let after = app.get(&format!("/api/v1/user-groups/{id}")).await;
    assert_eq!(
        after.status.as_u16(),
        200,
        "the refused delete changed nothing: {}",
        after.body
    );
}

/// Names of the live groups, sorted.
fn live_group_names(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    use usergroups::db::schema::user_groups;
    let mut names: Vec<String> = user_groups::table
        .filter(user_groups::deleted_at.is_null())
        .select(user_groups::name)
        .load(&mut app.connection())
        .expect("the groups");
    names.sort();
    names
}

#[actix_web::test]
async fn a_write_answered_503_left_nothing_and_the_very_same_signed_request_succeeds_later() {
    let (app, url) = app_with_short_statement_timeout();
    let create = app
        .write("POST", "/api/v1/user-groups")
        .json(&json!({"name": "Sent twice"}));

    // Another session holds what the create needs: the write lock on SQLite, the table on
    // PostgreSQL; the create gives up after the statement timeout.
    let mut holder = db::pool(&url, PoolOptions::for_url(&url)).get().unwrap();
    match &mut *holder {
        DbConnection::Sqlite(c) => c.batch_execute("BEGIN IMMEDIATE").unwrap(),
        DbConnection::Pg(c) => c
            .batch_execute("BEGIN; LOCK TABLE user_groups IN SHARE MODE")
            .unwrap(),
    }
    let refused = create.send_copy().await;
    holder.batch_execute("ROLLBACK").unwrap();
    let resent = create.send_copy().await;

    refused.assert_error(503);
    assert_eq!(resent.status, StatusCode::CREATED, "{}", resent.body);
    assert_eq!(live_group_names(&app), vec!["Sent twice".to_owned()]);
}

/// A table whose foreign key is checked only at commit, and a trigger that breaks it whenever
/// a group named "Poison" is created: so that write's statements succeed and its commit fails.
fn poison_commits_of_groups_named_poison(conn: &mut DbConnection) {
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute(
            "CREATE TABLE poison_parent (id TEXT PRIMARY KEY);
             CREATE TABLE poison (ref TEXT REFERENCES poison_parent (id)
                 DEFERRABLE INITIALLY DEFERRED);
             CREATE TRIGGER poison_on_create AFTER INSERT ON user_groups
                 WHEN NEW.name = 'Poison'
                 BEGIN INSERT INTO poison VALUES ('nothing'); END;",
        ),
        DbConnection::Pg(c) => c.batch_execute(
            "CREATE TABLE poison_parent (id TEXT PRIMARY KEY);
             CREATE TABLE poison (ref TEXT REFERENCES poison_parent (id)
                 DEFERRABLE INITIALLY DEFERRED);
             CREATE FUNCTION poison_row() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN INSERT INTO poison VALUES ('nothing'); RETURN NEW; END $$;
             CREATE TRIGGER poison_on_create AFTER INSERT ON user_groups
                 FOR EACH ROW WHEN (NEW.name = 'Poison') EXECUTE FUNCTION poison_row();",
        ),
    }
    .expect("the poison is installed");
}

#[actix_web::test]
async fn every_write_of_a_batch_whose_commit_failed_is_a_503_and_left_nothing() {
    let (database, url) = TestDatabase::create();
    let pool = db::init(&url, PoolOptions::for_url(&url)).expect("the database initializes");
    let app = app_on(database, pool, Limits::default());
    let is_sqlite = matches!(url, DatabaseUrl::Sqlite(_));
    poison_commits_of_groups_named_poison(&mut app.connection());
    let create = |name: &str| {
        app.write("POST", "/api/v1/user-groups")
            .json(&json!({"name": name}))
    };
    let batch = ["Batch 1", "Batch 2", "Poison", "Batch 3"];

    // On SQLite, hold the write lock while the first create reaches the writer, so the writer
    // waits on it and the next four queue up behind it: they become one batch when it is
    // released. On PostgreSQL every write is a transaction of its own.
    let mut holder = db::pool(&url, PoolOptions::for_url(&url)).get().unwrap();
    if let DbConnection::Sqlite(c) = &mut *holder {
        c.batch_execute("BEGIN IMMEDIATE").unwrap();
    }
    let (first, batched, ()) = join3(
        create("Alone").send(),
        async {
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            join_all(batch.iter().map(|name| create(name).send())).await
        },
        async {
            actix_web::rt::time::sleep(Duration::from_millis(600)).await;
            if is_sqlite {
                holder.batch_execute("ROLLBACK").unwrap();
            }
        },
    )
    .await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let statuses: Vec<u16> = batched.iter().map(|r| r.status.as_u16()).collect();
    if is_sqlite {
        assert_eq!(statuses, vec![503; batch.len()], "{batched:#?}");
        assert!(batched
            .iter()
            .all(|r| r.message() == "Service temporarily unavailable"));
    } else {
        assert_eq!(statuses, vec![201, 201, 500, 201], "{batched:#?}");
    }
    let acknowledged: Vec<String> = std::iter::once("Alone")
        .chain(batch.iter().copied())
        .zip(std::iter::once(&first).chain(batched.iter()))
        .filter(|(_, answer)| answer.status == StatusCode::CREATED)
        .map(|(name, _)| name.to_owned())
        .collect();
    let mut acknowledged = acknowledged;
    acknowledged.sort();
    assert_eq!(live_group_names(&app), acknowledged);
    assert_eq!(
        count(&mut app.connection(), "SELECT COUNT(*) AS n FROM poison"),
        0
    );
}
