//! A database that cannot be reached: every answer is a 503 in the contract's body, quickly,
//! never a 500 or a hang.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use usergroups::db::{self, DatabaseUrl, DbConnection, PoolOptions};
use usergroups::{AppState, Limits};

use crate::helpers::{app_on, spawn_app, TestApp, TestDatabase};

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
