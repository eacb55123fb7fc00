//! Database faults for real: a TCP proxy between the service and PostgreSQL is cut and restored
//! while requests flow. During the outage every answer is a quick 503 in the contract's body,
//! after it the service recovers by itself, and nothing it acknowledged is lost. (SQLite has no
//! network to cut; its locked-database case is in `unavailable.rs`.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use serde_json::json;
use usergroups::db::{self, DatabaseUrl, PoolOptions};
use usergroups::Limits;

use crate::helpers::{app_on, count, TestApp, TestDatabase};
use crate::proxy::Proxy;

const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest any answer may take during the outage: the request's database budget plus slack
/// for a loaded machine.
const LONGEST_ANSWER: Duration = Duration::from_secs(10);

/// `url` with its `host:port` replaced by `address`.
fn through(url: &str, address: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, rest) = rest
        .rsplit_once('@')
        .map_or(("", rest), |(user, rest)| (user, rest));
    let path = rest.find(['/', '?']).map_or("", |i| &rest[i..]);
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("{scheme}://{user}{address}{path}")
}

fn target_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").expect("a URL").1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:5432")
    };
    let authority = authority.replace("localhost", "127.0.0.1");
    authority
        .parse()
        .expect("TEST_DATABASE_URL names host:port")
}

/// An app whose every database connection goes through `proxy`, and the direct URL of its
/// database. These tests are `#[ignore]`d, so a run without PostgreSQL counts them as not run
/// instead of passing them; asked for (`--include-ignored`) without `TEST_DATABASE_URL`, they
/// fail saying so.
fn app_behind_proxy() -> (TestApp, Proxy, DatabaseUrl) {
    let (database, url) = TestDatabase::create();
    let DatabaseUrl::Postgres(direct) = &url else {
        panic!(
            "the outage tests need PostgreSQL: set TEST_DATABASE_URL (SQLite has no network to cut)"
        );
    };
    let proxy = Proxy::start(target_of(direct));
    let proxied: DatabaseUrl = through(direct, proxy.address())
        .parse()
        .expect("a postgres URL");
    let options = PoolOptions {
        max_size: 4,
        connection_timeout: CONNECTION_TIMEOUT,
        statement_timeout: STATEMENT_TIMEOUT,
        sqlite_writer: true,
    };
    let pool = db::init(&proxied, options).expect("the database initializes through the proxy");
    (app_on(database, pool, Limits::default()), proxy, url)
}

#[actix_web::test]
#[ignore = "needs TEST_DATABASE_URL (PostgreSQL)"]
async fn a_postgres_outage_is_a_quick_503_and_the_service_recovers_without_losing_acknowledged_writes(
) {
    let (app, proxy, direct) = app_behind_proxy();
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        acknowledged.push(
            app.create_group(&format!("Before {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    proxy.cut();
    let outage_started = Instant::now();
    let mut during = Vec::new();
    for i in 0..4 {
        let started = Instant::now();
        let response = app
            .post(
                "/api/v1/user-groups",
                json!({"name": format!("During {i}")}),
            )
            .await;
        during.push((response.status, started.elapsed()));
        if response.status == StatusCode::CREATED {
            acknowledged.push(response.body["id"].as_str().unwrap().to_owned());
        } else {
            response.assert_error(503);
        }
    }
    let started = Instant::now();
    let ready_during = app.call("GET", "/readyz").unsigned().send().await;
    during.push((ready_during.status, started.elapsed()));
    let outage_lasted = outage_started.elapsed();
    proxy.restore();

    let recovered = Instant::now();
    let ready_after = loop {
        let response = app.call("GET", "/readyz").unsigned().send().await;
        if response.status == StatusCode::OK || recovered.elapsed() > Duration::from_secs(30) {
            break response;
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    };
    let after = app
        .post("/api/v1/user-groups", json!({"name": "After"}))
        .await;

    assert!(
        during
            .iter()
            .all(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE),
        "every answer during the outage is a 503: {during:?}"
    );
    assert!(
        during.iter().all(|(_, took)| *took < LONGEST_ANSWER),
        "{during:?}"
    );
    ready_during.assert_error(503);
    assert!(outage_lasted < LONGEST_ANSWER * 5);
    assert_eq!(
        ready_after.status,
        StatusCode::OK,
        "recovered without a restart"
    );
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.body);
    acknowledged.push(after.body["id"].as_str().unwrap().to_owned());
    drop(proxy);
    let direct = db::pool(&direct, PoolOptions::for_url(&direct));
    let ids = acknowledged
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let kept = count(
        &mut direct.get().unwrap(),
        &format!("SELECT COUNT(*) AS n FROM user_groups WHERE id IN ({ids})"),
    );
    assert_eq!(
        kept as usize,
        acknowledged.len(),
        "every acknowledged write is stored"
    );
}

#[actix_web::test]
#[ignore = "needs TEST_DATABASE_URL (PostgreSQL)"]
async fn a_hanging_postgres_is_a_503_within_the_budget_and_a_refused_write_never_appears() {
    let (app, proxy, _direct) = app_behind_proxy();
    app.create_group("Before").await;

    proxy.stall();
    let started = Instant::now();
    let stalled = app
        .post("/api/v1/user-groups", json!({"name": "Stalled"}))
        .await;
    let took = started.elapsed();
    let ready_during = app.call("GET", "/readyz").unsigned().send().await;
    proxy.restore();

    stalled.assert_error(503);
    ready_during.assert_error(503);
    assert!(
        took < LONGEST_ANSWER,
        "a hanging database held the client {took:?}"
    );
    let recovered = Instant::now();
    while app.call("GET", "/readyz").unsigned().send().await.status != StatusCode::OK {
        assert!(recovered.elapsed() < Duration::from_secs(30), "no recovery");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    // Give the held-back statements time to reach the database, then look.
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let listed = app.get("/api/v1/user-groups?search=stalled").await;
    assert_eq!(
        listed.body["total"], 0,
        "the write answered 503 must not happen later: {}",
        listed.body
    );
    let after = app
        .post("/api/v1/user-groups", json!({"name": "After"}))
        .await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.body);
}
