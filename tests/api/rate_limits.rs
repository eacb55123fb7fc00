//! Rate limits per access key: a budget of reads (GET, HEAD) and one of writes (every other
//! method) per minute, counted after the signature is verified and before routing. Every
//! answer to a verified request carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`; over
//! the budget it is 429 in the contract's body with `Retry-After`. Which answer wins against
//! 429 is in `precedence.rs`.
//!
//! The buckets refill by a fake clock that stands still unless a test moves it: no test waits
//! for a request to come back, and a slow machine cannot hand one back in the middle of a test.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use governor::clock::FakeRelativeClock;
use serde_json::json;

use usergroups::auth::signer::Credentials;
use usergroups::rate_limit::RateLimits;
use usergroups::Limits;

use crate::helpers::{spawn_app_with, TestApp, TestResponse};

const GROUPS: &str = "/api/v1/user-groups";

/// An app whose keys may each make `reads` reads and `writes` writes a minute.
async fn app_with_rate_limits(reads: u32, writes: u32) -> TestApp {
    app_with_rate_limits_and_clock(reads, writes).await.0
}

/// [`app_with_rate_limits`], and the clock its buckets refill by.
async fn app_with_rate_limits_and_clock(reads: u32, writes: u32) -> (TestApp, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    let app = spawn_app_with(Limits {
        rate_limits: RateLimits::per_minute_with_clock(reads, writes, clock.clone()),
        ..Limits::default()
    })
    .await;
    (app, clock)
}

/// A header's value as a number, `None` when absent.
fn number(response: &TestResponse, name: &str) -> Option<u64> {
    response.headers.get(name).map(|value| {
        value
            .to_str()
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("{name} is not a number: {value:?}"))
    })
}

/// `(X-RateLimit-Limit, X-RateLimit-Remaining)`.
fn budget(response: &TestResponse) -> (Option<u64>, Option<u64>) {
    (
        number(response, "x-ratelimit-limit"),
        number(response, "x-ratelimit-remaining"),
    )
}

/// Asserts a 429 in the contract's body, with no budget left, and returns its `Retry-After`.
#[track_caller]
fn assert_rate_limited(response: &TestResponse, limit: u64) -> u64 {
    response.assert_error(429);
    assert_eq!(
        response.body,
        json!({"statusCode": 429, "message": "Too many requests", "reason": "rate_limited"})
    );
    assert_eq!(budget(response), (Some(limit), Some(0)));
    let retry_after = number(response, "retry-after").expect("a Retry-After header");
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    retry_after
}

#[actix_web::test]
async fn every_answer_to_a_signed_request_carries_its_limit_and_what_remains() {
    let app = app_with_rate_limits(5, 3).await;
    let reads = [
        ("a list", GROUPS.to_owned(), 200),
        ("an unknown route", "/api/v1/nothing-here".to_owned(), 404),
        ("a bad query", format!("{GROUPS}?color=red"), 400),
        (
            "a missing group",
            format!("{GROUPS}/{}", uuid::Uuid::now_v7()),
            404,
        ),
    ];

    for (i, (why, target, status)) in reads.iter().enumerate() {
        let response = app.get(target).await;
        assert_eq!(
            response.status.as_u16(),
            *status,
            "{why}: {}",
            response.body
        );
        assert_eq!(budget(&response), (Some(5), Some(4 - i as u64)), "{why}");
    }
    let created = app.post(GROUPS, json!({"name": "Counted"})).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert_eq!(budget(&created), (Some(3), Some(2)));
}

#[actix_web::test]
async fn over_the_write_limit_a_write_is_429_with_retry_after_and_changes_nothing() {
    let app = app_with_rate_limits(100, 2).await;
    for name in ["One", "Two"] {
        let response = app.post(GROUPS, json!({ "name": name })).await;
        assert_eq!(response.status.as_u16(), 201, "{}", response.body);
    }

    let refused = app.post(GROUPS, json!({"name": "Three"})).await;

    let retry_after = assert_rate_limited(&refused, 2);
    // Two writes a minute: one comes back every 30 seconds.
    assert!(
        (29..=30).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_eq!(app.get(GROUPS).await.body["total"], 2);
}

#[actix_web::test]
async fn reads_and_writes_are_counted_apart() {
    let app = app_with_rate_limits(3, 1).await;
    let group = app.create_group("Only write").await;
    let target = format!("{GROUPS}/{}", group["id"].as_str().unwrap());
    assert_rate_limited(&app.delete(&target).await, 1);

    let read = app.get(&target).await;

    assert_eq!(read.status.as_u16(), 200, "{}", read.body);
    assert_eq!(budget(&read), (Some(3), Some(2)));
}

#[actix_web::test]
async fn each_access_key_has_a_budget_of_its_own() {
    let app = app_with_rate_limits(1, 1).await;
    let second_key = app.key_with("user-groups:read");
    let (_, other_organization) = app.other_organization();
    assert_eq!(app.get(GROUPS).await.status.as_u16(), 200);
    assert_rate_limited(&app.get(GROUPS).await, 1);

    for (why, credentials) in [
        ("another key of the organization", &second_key),
        ("another organization's key", &other_organization),
    ] {
        let response = app
            .call("GET", GROUPS)
            .credentials(credentials)
            .send()
            .await;
        assert_eq!(response.status.as_u16(), 200, "{why}: {}", response.body);
        assert_eq!(budget(&response), (Some(1), Some(0)), "{why}");
    }
}

#[actix_web::test]
async fn a_flood_of_unsigned_or_badly_signed_requests_leaves_the_keys_budget_whole() {
    let app = app_with_rate_limits(3, 3).await;
    let forged = Credentials::new(app.credentials.access_key_id.clone(), "not the secret");
    let stale = Utc::now() - TimeDelta::hours(1);

    for _ in 0..10 {
        let attempts = [
            ("unsigned", app.call("GET", GROUPS).unsigned().send().await),
            (
                "signed with a wrong secret for the real key id",
                app.call("GET", GROUPS).credentials(&forged).send().await,
            ),
            (
                "a forged write",
                app.write("POST", GROUPS)
                    .credentials(&forged)
                    .json(&json!({"name": "Forged"}))
                    .send()
                    .await,
            ),
            (
                "dated an hour ago",
                app.call("GET", GROUPS).dated(stale).send().await,
            ),
        ];
        for (why, response) in attempts {
            response.assert_error(401);
            assert_eq!(budget(&response), (None, None), "{why}");
        }
    }

    let read = app.get(GROUPS).await;
    let write = app.post(GROUPS, json!({"name": "Real"})).await;
    assert_eq!(budget(&read), (Some(3), Some(2)), "{}", read.body);
    assert_eq!(budget(&write), (Some(3), Some(2)), "{}", write.body);
}

#[actix_web::test]
async fn a_limit_of_zero_turns_that_kind_of_request_off_and_its_headers_with_it() {
    let app = app_with_rate_limits(0, 1).await;

    for _ in 0..20 {
        let response = app.get(GROUPS).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.body);
        assert_eq!(budget(&response), (None, None));
    }
    let write = app.post(GROUPS, json!({"name": "Limited"})).await;
    assert_eq!(budget(&write), (Some(1), Some(0)), "{}", write.body);
}

#[actix_web::test]
async fn a_refused_key_is_served_again_once_retry_after_has_passed() {
    // 60 reads a minute: one comes back every second.
    let (app, clock) = app_with_rate_limits_and_clock(60, 1).await;
    for _ in 0..60 {
        let response = app.get(GROUPS).await;
        assert_eq!(response.status.as_u16(), 200, "{}", response.body);
    }
    let refused = app.get(GROUPS).await;
    let retry_after = assert_rate_limited(&refused, 60);
    assert_eq!(retry_after, 1);

    clock.advance(Duration::from_secs(retry_after) - Duration::from_millis(1));
    let early = app.get(GROUPS).await;
    clock.advance(Duration::from_millis(1));
    let again = app.get(GROUPS).await;

    assert_rate_limited(&early, 60);
    assert_eq!(again.status.as_u16(), 200, "{}", again.body);
    assert_eq!(budget(&again), (Some(60), Some(0)));
}

#[actix_web::test]
async fn unsigned_routes_are_not_counted_and_carry_no_rate_limit_headers() {
    let app = app_with_rate_limits(1, 1).await;

    for target in ["/healthz", "/readyz", "/openapi.json"] {
        for _ in 0..3 {
            let response = app.call("GET", target).unsigned().send().await;
            assert_eq!(response.status.as_u16(), 200, "{target}");
            assert_eq!(budget(&response), (None, None), "{target}");
        }
    }
    let signed = app.get(GROUPS).await;
    assert_eq!(signed.status.as_u16(), 200, "{}", signed.body);
    assert_eq!(budget(&signed), (Some(1), Some(0)));
}

#[actix_web::test]
async fn a_head_request_spends_the_read_budget() {
    let app = app_with_rate_limits(2, 5).await;

    let head = app.call("HEAD", GROUPS).send().await;
    let get = app.get(GROUPS).await;

    assert_eq!(budget(&head), (Some(2), Some(1)), "{:?}", head.status);
    assert_eq!(budget(&get), (Some(2), Some(0)), "{}", get.body);
}
