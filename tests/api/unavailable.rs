//! A database that cannot be reached: every answer is a 503 in the contract's body, quickly,
//! never a 500 or a hang.

use std::time::{Duration, Instant};

use usergroups::db::{self, PoolOptions};
use usergroups::{AppState, Limits};

use crate::helpers::{spawn_app, TestApp};

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
