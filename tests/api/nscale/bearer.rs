//! Bearer authentication on `/api/v1`: a token acts as its key (organization, permissions, rate
//! limit) on the Onlive routes as on the nscale ones, until it expires or its key is revoked,
//! and is never subject to the replay guard.

use actix_web::http::StatusCode;
use actix_web::{test, App};
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use super::tokens::issue_token;
use crate::helpers::{
    app_on, ids_of, spawn_app, spawn_app_with, TestApp, TestDatabase, TestResponse,
};
use usergroups::auth::bearer;
use usergroups::db::{self, PoolOptions};
use usergroups::ids::AccessKeyId;
use usergroups::models::AccessKey;
use usergroups::rate_limit::RateLimits;
use usergroups::{configure, AppState, Limits};

const GROUPS: &str = "/api/v1/user-groups";

/// An unsigned request to `target` presenting `authorization`, with `body` as JSON if any.
async fn with_authorization(
    app: &TestApp,
    method: &str,
    target: &str,
    authorization: &str,
    body: Option<Value>,
) -> TestResponse {
    let mut call = app
        .call(method, target)
        .unsigned()
        .header("authorization", authorization);
    if let Some(body) = body {
        call = call.json(&body);
    }
    call.send().await
}

/// A request to `target` with the bearer `token`.
async fn with_token(
    app: &TestApp,
    method: &str,
    target: &str,
    token: &str,
    body: Option<Value>,
) -> TestResponse {
    with_authorization(
        app,
        method,
        target,
        &bearer::authorization_value(token),
        body,
    )
    .await
}

#[track_caller]
fn assert_unauthorized(response: &TestResponse, reason: &str) {
    response.assert_error(401);
    assert_eq!(response.reason(), reason, "{}", response.body);
}

#[actix_web::test]
async fn a_token_lists_the_groups_of_its_keys_organization_with_the_onlive_answer() {
    let app = spawn_app().await;
    let own = app.create_group("Ours").await;
    let (_, other_key) = app.other_organization();
    let other = app
        .call("POST", GROUPS)
        .credentials(&other_key)
        .json(&json!({"name": "Theirs"}))
        .send()
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    let token = issue_token(&app, &app.credentials).await;

    let response = with_token(&app, "GET", GROUPS, &token, None).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(ids_of(&response.body), vec![own["id"].as_str().unwrap()]);
    assert_eq!(response.body["total"], 1);
}

#[actix_web::test]
async fn a_read_only_keys_token_reads_but_cannot_create_a_group() {
    let app = spawn_app().await;
    let reader = app.key_with("user-groups:read");
    let token = issue_token(&app, &reader).await;

    let read = with_token(&app, "GET", GROUPS, &token, None).await;
    let write = with_token(&app, "POST", GROUPS, &token, Some(json!({"name": "No"}))).await;

    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    write.assert_error(403);
}

#[actix_web::test]
async fn an_expired_token_is_refused_as_invalid_token() {
    let app = spawn_app().await;
    let token = issue_token(&app, &app.credentials).await;
    assert_eq!(
        with_token(&app, "GET", GROUPS, &token, None).await.status,
        200
    );
    app.connection()
        .batch_execute("UPDATE access_tokens SET expires_at = '2000-01-01 00:00:00'")
        .expect("expire the token");

    let response = with_token(&app, "GET", GROUPS, &token, None).await;

    assert_unauthorized(&response, "invalid_token");
}

#[actix_web::test]
async fn revoking_the_key_ends_its_tokens_at_once_also_on_another_instance() {
    let (database, url) = TestDatabase::create();
    let options = PoolOptions::for_url(&url);
    let pool = db::init(&url, options).expect("the test database initializes");
    let app = app_on(database, pool, Limits::default());
    // A second instance: its own pool, key cache and limits over the same database.
    let second = AppState::new(
        db::pool(&url, options),
        Limits::default(),
        app.state.master_keys.clone(),
    );
    let token = issue_token(&app, &app.credentials).await;
    let on_second = |token: String| {
        let state = second.clone();
        async move {
            let service =
                test::init_service(App::new().configure(|cfg| configure(cfg, state))).await;
            let request = test::TestRequest::get()
                .uri(GROUPS)
                .insert_header(("authorization", bearer::authorization_value(&token)))
                .to_request();
            test::call_service(&service, request).await.status()
        }
    };
    assert_eq!(on_second(token.clone()).await, StatusCode::OK);
    assert_eq!(
        with_token(&app, "GET", GROUPS, &token, None).await.status,
        200
    );

    AccessKey::revoke(
        &mut app.connection(),
        &AccessKeyId::from(app.credentials.access_key_id.as_str()),
    )
    .expect("revoke")
    .expect("the key exists");
    let here = with_token(&app, "GET", GROUPS, &token, None).await;
    let there = on_second(token.clone()).await;

    assert_unauthorized(&here, "invalid_token");
    assert_eq!(there, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn an_empty_bearer_is_malformed_and_a_token_of_the_wrong_form_or_unknown_is_invalid() {
    let app = spawn_app().await;
    let unknown = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA";
    let cases = [
        ("Bearer", "malformed_authorization", "no token"),
        ("bearer    ", "malformed_authorization", "only spaces"),
        ("Bearer not-a-token", "invalid_token", "too short"),
        (
            "Bearer q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
            "invalid_token",
            "padded",
        ),
        (
            "Bearer q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",
            "invalid_token",
            "never issued",
        ),
        (
            "BEARER q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",
            "invalid_token",
            "scheme in capitals",
        ),
    ];

    for (authorization, reason, why) in cases {
        let response = with_authorization(&app, "GET", GROUPS, authorization, None).await;
        assert_eq!(response.reason(), reason, "{why}: {}", response.body);
        assert_unauthorized(&response, reason);
    }
    let nothing = app.call("GET", GROUPS).unsigned().send().await;
    assert_unauthorized(&nothing, "missing_authorization");
    assert!(bearer::is_well_formed(unknown));
}

#[actix_web::test]
async fn two_identical_bearer_writes_are_both_served_as_the_replay_guard_is_for_signatures() {
    let app = spawn_app().await;
    let token = issue_token(&app, &app.credentials).await;

    let first = with_token(&app, "POST", GROUPS, &token, Some(json!({"name": "A"}))).await;
    let deleted = with_token(
        &app,
        "DELETE",
        &format!("{GROUPS}/{}", first.body["id"].as_str().unwrap_or_default()),
        &token,
        None,
    )
    .await;
    let second = with_token(&app, "POST", GROUPS, &token, Some(json!({"name": "A"}))).await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_ne!(first.body["id"], second.body["id"]);
}

#[actix_web::test]
async fn bearer_requests_spend_their_keys_rate_limit() {
    let app = spawn_app_with(Limits {
        rate_limits: RateLimits::per_minute(1, 0),
        ..Limits::default()
    })
    .await;
    let token = issue_token(&app, &app.credentials).await;

    let first = with_token(&app, "GET", GROUPS, &token, None).await;
    let second = with_token(&app, "GET", GROUPS, &token, None).await;
    let signed = app.get(GROUPS).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.headers.get("x-ratelimit-limit").unwrap(), "1");
    second.assert_error(429);
    signed.assert_error(429);
}
