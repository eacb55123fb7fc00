//! The token endpoint: client credentials, expiry, revocation, rate limits.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test;
use base64::Engine;
use diesel::prelude::*;
use governor::clock::FakeRelativeClock;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, TestResponse};
use usergroups::auth::bearer;
use usergroups::auth::signer::Credentials;
use usergroups::ids::AccessKeyId;
use usergroups::models::AccessKey;
use usergroups::rate_limit::RateLimits;
use usergroups::Limits;

/// The token endpoint.
pub const TOKEN_PATH: &str = "/oauth2/v2/token";

/// The form media type.
const FORM: &str = "application/x-www-form-urlencoded";

/// The client-credentials form for `credentials` (key ids and secrets need no escaping).
pub fn form_for(credentials: &Credentials) -> String {
    format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        credentials.access_key_id,
        credentials.secret_access_key()
    )
}

/// `Authorization: Basic` for `id` and `secret`, each form-urlencoded first by the caller.
fn basic(id: &str, secret: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    format!("Basic {encoded}")
}

/// An unsigned POST to the token endpoint with `body` as a form, and `headers`.
pub async fn token_request(app: &TestApp, body: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = test::TestRequest::post()
        .uri(TOKEN_PATH)
        .insert_header(("content-type", FORM))
        .set_payload(body.to_owned());
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    app.call_raw(request).await
}

/// A token for `credentials`, asserting it was issued.
pub async fn issue_token(app: &TestApp, credentials: &Credentials) -> String {
    let response = token_request(app, &form_for(credentials), &[]).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["access_token"]
        .as_str()
        .expect("an access_token")
        .to_owned()
}

/// Asserts an nscale error answer of the token endpoint.
#[track_caller]
fn assert_token_error(response: &TestResponse, status: u16, code: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.body);
    assert_eq!(response.body["error"], code, "{}", response.body);
    assert!(
        response.body["error_description"].is_string(),
        "{}",
        response.body
    );
    assert_no_store(response);
}

#[track_caller]
fn assert_no_store(response: &TestResponse) {
    assert_eq!(
        response
            .headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{} {}",
        response.status,
        response.body
    );
    assert_eq!(
        response.headers.get("pragma").map(|v| v.to_str().unwrap()),
        Some("no-cache"),
        "{} {}",
        response.status,
        response.body
    );
}

/// A token from `response` works on `GET /api/v1/user-groups`.
async fn assert_token_works(app: &TestApp, response: &TestResponse) {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let token = response.body["access_token"].as_str().expect("a token");
    let listed = app
        .call("GET", "/api/v1/user-groups")
        .unsigned()
        .header("authorization", &bearer::authorization_value(token))
        .send()
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
}

#[actix_web::test]
async fn a_client_gets_a_bearer_token_for_its_key_with_the_credentials_in_the_form() {
    let app = spawn_app().await;

    let response = token_request(&app, &form_for(&app.credentials), &[]).await;

    assert_eq!(response.body["token_type"], "Bearer", "{}", response.body);
    assert_eq!(response.body["expires_in"], 3600, "{}", response.body);
    assert!(response.body.get("scope").is_none(), "{}", response.body);
    assert_no_store(&response);
    assert_token_works(&app, &response).await;
}

#[actix_web::test]
async fn a_client_gets_a_bearer_token_with_http_basic_whose_parts_are_form_urlencoded() {
    let app = spawn_app().await;
    // The first character escaped, as a client that encodes every byte would send it.
    let id = &app.credentials.access_key_id;
    let escaped_id = format!("%{:02X}{}", id.as_bytes()[0], &id[1..]);
    let authorization = basic(&escaped_id, app.credentials.secret_access_key());

    let response = token_request(
        &app,
        "grant_type=client_credentials",
        &[("authorization", &authorization)],
    )
    .await;

    assert_no_store(&response);
    assert_token_works(&app, &response).await;
}

#[actix_web::test]
async fn credentials_sent_both_as_http_basic_and_in_the_form_are_an_invalid_request() {
    let app = spawn_app().await;
    let authorization = basic(
        &app.credentials.access_key_id,
        app.credentials.secret_access_key(),
    );

    let response = token_request(
        &app,
        &form_for(&app.credentials),
        &[("authorization", &authorization)],
    )
    .await;

    assert_token_error(&response, 400, "invalid_request");
}

#[actix_web::test]
async fn a_grant_other_than_client_credentials_is_an_unsupported_grant_type() {
    let app = spawn_app().await;
    let body = form_for(&app.credentials).replace("client_credentials", "password");

    let response = token_request(&app, &body, &[]).await;

    assert_token_error(&response, 400, "unsupported_grant_type");
}

#[actix_web::test]
async fn a_token_request_that_is_not_form_encoded_is_an_invalid_request() {
    let app = spawn_app().await;
    let cases = [
        (Some("application/json"), "a JSON content type"),
        (Some("text/plain"), "plain text"),
        (None, "no content type"),
    ];

    for (content_type, why) in cases {
        let body = json!({"grant_type": "client_credentials",
            "client_id": app.credentials.access_key_id,
            "client_secret": app.credentials.secret_access_key()});
        let mut request = test::TestRequest::post()
            .uri(TOKEN_PATH)
            .set_payload(body.to_string());
        if let Some(content_type) = content_type {
            request = request.insert_header(("content-type", content_type));
        }

        let response = app.call_raw(request).await;

        assert_eq!(response.status.as_u16(), 400, "{why}: {}", response.body);
        assert_token_error(&response, 400, "invalid_request");
    }
}

#[actix_web::test]
async fn a_token_request_missing_a_field_or_repeating_one_is_an_invalid_request() {
    let app = spawn_app().await;
    let id = app.credentials.access_key_id.clone();
    let secret = app.credentials.secret_access_key().to_owned();
    let cases = [
        (
            format!("client_id={id}&client_secret={secret}"),
            "no grant_type",
        ),
        (
            format!("grant_type=client_credentials&client_secret={secret}"),
            "no client_id",
        ),
        (
            format!("grant_type=client_credentials&client_id={id}"),
            "no client_secret",
        ),
        (
            format!("grant_type=client_credentials&client_id=&client_secret={secret}"),
            "an empty client_id",
        ),
        (
            format!("{}&client_id={id}", form_for(&app.credentials)),
            "client_id twice",
        ),
        (String::new(), "an empty body"),
    ];

    for (body, why) in cases {
        let response = token_request(&app, &body, &[]).await;

        assert_eq!(response.status.as_u16(), 400, "{why}: {}", response.body);
        assert_token_error(&response, 400, "invalid_request");
    }
}

#[actix_web::test]
async fn an_unknown_id_a_wrong_secret_and_a_revoked_key_get_one_and_the_same_invalid_client_answer()
{
    let app = spawn_app().await;
    let revoked = app.key_with("user-groups:read");
    AccessKey::revoke(
        &mut app.connection(),
        &AccessKeyId::from(revoked.access_key_id.as_str()),
    )
    .expect("revoke")
    .expect("the key exists");
    let cases = [
        (
            Credentials::new("OLAKNOSUCHKEY0000000", "some secret"),
            "an unknown id",
        ),
        (
            Credentials::new(app.credentials.access_key_id.as_str(), "not the secret"),
            "a wrong secret",
        ),
        (revoked, "a revoked key with its right secret"),
    ];

    let mut bodies = Vec::new();
    for (credentials, why) in &cases {
        let in_form = token_request(&app, &form_for(credentials), &[]).await;
        let as_basic = token_request(
            &app,
            "grant_type=client_credentials",
            &[(
                "authorization",
                &basic(&credentials.access_key_id, credentials.secret_access_key()),
            )],
        )
        .await;

        for response in [&in_form, &as_basic] {
            assert_token_error(response, 401, "invalid_client");
            let challenge = response.headers.get("www-authenticate").expect(why);
            assert!(
                challenge.to_str().unwrap().starts_with("Basic"),
                "{why}: {challenge:?}"
            );
            bodies.push(response.body.clone());
        }
    }

    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "the answers differ: {bodies:#?}"
    );
}

#[actix_web::test]
async fn every_answer_of_the_token_endpoint_is_no_store_and_no_cache() {
    let app = spawn_app_with(Limits {
        body_limit: 200,
        ..Limits::default()
    })
    .await;
    let good = token_request(&app, &form_for(&app.credentials), &[]).await;
    let bad_request = token_request(&app, "grant_type=client_credentials", &[]).await;
    let wrong = Credentials::new(app.credentials.access_key_id.as_str(), "wrong");
    let invalid_client = token_request(&app, &form_for(&wrong), &[]).await;
    let too_large = token_request(&app, &"a".repeat(201), &[]).await;
    let get = app.call_raw(test::TestRequest::get().uri(TOKEN_PATH)).await;

    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert_no_store(&good);
    assert_token_error(&bad_request, 400, "invalid_request");
    assert_token_error(&invalid_client, 401, "invalid_client");
    assert_token_error(&too_large, 413, "request_entity_too_large");
    assert_token_error(&get, 405, "method_not_allowed");
    assert_eq!(get.headers.get("allow").unwrap(), "POST");
}

#[actix_web::test]
async fn expires_in_is_the_configured_token_lifetime() {
    let app = spawn_app_with(Limits {
        token_ttl: Duration::from_secs(120),
        ..Limits::default()
    })
    .await;

    let response = token_request(&app, &form_for(&app.credentials), &[]).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["expires_in"], 120, "{}", response.body);
}

#[actix_web::test]
async fn the_scope_a_client_asks_for_is_echoed() {
    let app = spawn_app().await;
    let body = format!(
        "{}&scope=identity%3Agroups+read",
        form_for(&app.credentials)
    );

    let response = token_request(&app, &body, &[]).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.body["scope"], "identity:groups read",
        "{}",
        response.body
    );
}

#[actix_web::test]
async fn a_token_carries_at_least_256_random_bits_and_the_database_holds_only_its_hash() {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        token_hash: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        access_key_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        expires_at: String,
    }
    let app = spawn_app().await;

    let token = issue_token(&app, &app.credentials).await;
    let other = issue_token(&app, &app.credentials).await;

    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&token)
        .expect("base64url without padding");
    assert!(raw.len() * 8 >= 256, "{} bits", raw.len() * 8);
    assert_ne!(token, other);
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT token_hash, access_key_id, CAST(expires_at AS TEXT) AS expires_at \
         FROM access_tokens",
    )
    .load(&mut *app.connection())
    .expect("the tokens");
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let stored = format!(
            "{} {} {}",
            row.token_hash, row.access_key_id, row.expires_at
        );
        assert!(
            !stored.contains(&token) && !stored.contains(&other),
            "{stored}"
        );
        assert_eq!(row.access_key_id, app.credentials.access_key_id);
    }
    assert!(rows
        .iter()
        .any(|row| row.token_hash == bearer::token_hash(&token)));
}

#[actix_web::test]
async fn the_eleventh_failure_in_a_minute_is_refused_yet_the_right_secret_still_gets_its_token() {
    let app = spawn_app().await;
    let wrong = Credentials::new(app.credentials.access_key_id.as_str(), "wrong");

    for attempt in 1..=10 {
        let response = token_request(&app, &form_for(&wrong), &[]).await;
        assert_eq!(response.status.as_u16(), 401, "attempt {attempt}");
    }
    let eleventh = token_request(&app, &form_for(&wrong), &[]).await;
    let right = token_request(&app, &form_for(&app.credentials), &[]).await;
    let another_id = token_request(
        &app,
        &form_for(&Credentials::new("OLAKSOMEONEELSE00000", "wrong")),
        &[],
    )
    .await;

    assert_token_error(&eleventh, 429, "rate_limited");
    let retry_after: u64 = eleventh
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_token_works(&app, &right).await;
    assert_token_error(&another_id, 401, "invalid_client");
}

#[actix_web::test]
async fn a_flood_of_failures_for_random_client_ids_locks_no_key_out_of_its_token() {
    let app = spawn_app().await;
    // More ids than the failed-attempt table holds, so the flood fills it. The dot keeps them
    // out of the key id grammar, so each failure is counted without a database lookup and the
    // flood stays quick.
    let flood = usergroups::rate_limit::FAILED_ATTEMPTS_CAPACITY + 20;

    for i in 0..flood {
        let forged = Credentials::new(format!("flood.{i}"), "wrong");
        let response = token_request(&app, &form_for(&forged), &[]).await;
        assert_eq!(response.status.as_u16(), 401, "flood request {i}");
    }
    let never_failed = token_request(&app, &form_for(&app.credentials), &[]).await;
    let created_after = app.key_with("user-groups:read");
    let new_key = token_request(&app, &form_for(&created_after), &[]).await;

    assert_token_works(&app, &never_failed).await;
    assert_token_works(&app, &new_key).await;
}

#[actix_web::test]
async fn a_token_request_over_four_kib_is_refused_before_it_is_parsed() {
    let app = spawn_app().await;
    let padding: String = (0..1_000).map(|i| format!("&p{i}=x")).collect();
    let body = format!("{}{padding}", form_for(&app.credentials));
    assert!(body.len() > 4 * 1024);

    let response = token_request(&app, &body, &[]).await;

    assert_token_error(&response, 413, "request_entity_too_large");
}

/// The time parsing a form of `names` distinct unknown parameters takes per parameter: the
/// fastest of five samples, each parsing the form `repeats` times (so a sample is long enough to
/// time on a busy machine).
fn form_parse_time_per_name(names: usize, repeats: u32) -> f64 {
    use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
    let body: String = (0..names).map(|i| format!("n{i}=v&")).collect();
    let body = format!("{body}grant_type=client_credentials");
    let fastest = (0..5)
        .map(|_| {
            let started = std::time::Instant::now();
            for _ in 0..repeats {
                let form = usergroups::routes::nscale::token::parse_form(&headers, body.as_bytes())
                    .expect("a valid form");
                assert_eq!(form.grant_type.as_deref(), Some("client_credentials"));
            }
            started.elapsed()
        })
        .min()
        .expect("five samples");
    fastest.as_secs_f64() / f64::from(repeats) / names as f64
}

#[actix_web::test]
async fn a_form_with_ten_times_the_parameters_costs_the_same_per_parameter() {
    // Parsed directly: the endpoint reads at most 4 KiB, but the parser's cost must not depend on
    // that limit.
    let small = form_parse_time_per_name(6_400, 10);
    let large = form_parse_time_per_name(64_000, 1);

    let ratio = large / small;
    // Linear work gives about 1; the scan of the names seen so far that this replaces gave
    // about 10 (a form of 64,000 names took seconds).
    assert!(
        ratio < 3.0,
        "a parameter of a 10x larger form cost {ratio:.1}x as much \
         ({:.0} ns -> {:.0} ns)",
        small * 1e9,
        large * 1e9
    );
}

#[actix_web::test]
async fn issuing_a_token_spends_one_write_of_the_keys_rate_limit() {
    let clock = FakeRelativeClock::default();
    let app = spawn_app_with(Limits {
        rate_limits: RateLimits::per_minute_with_clock(0, 2, clock.clone()),
        ..Limits::default()
    })
    .await;

    issue_token(&app, &app.credentials).await;
    let write = app
        .post("/api/v1/user-groups", json!({"name": "One"}))
        .await;
    let refused = token_request(&app, &form_for(&app.credentials), &[]).await;
    clock.advance(Duration::from_secs(30));
    let later = token_request(&app, &form_for(&app.credentials), &[]).await;

    assert_eq!(write.status, StatusCode::CREATED, "{}", write.body);
    assert_token_error(&refused, 429, "rate_limited");
    assert_eq!(refused.headers.get("retry-after").unwrap(), "30");
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
}

#[actix_web::test]
async fn no_token_is_stored_for_a_key_revoked_while_the_cache_still_holds_it_live() {
    let mut app = spawn_app().await;
    // A cache that trusts its entries long enough for the revocation below to race it.
    app.state.key_cache =
        usergroups::auth::key_cache::KeyCache::with_freshness(Duration::from_secs(600));
    issue_token(&app, &app.credentials).await;
    AccessKey::revoke(
        &mut app.connection(),
        &AccessKeyId::from(app.credentials.access_key_id.as_str()),
    )
    .expect("revoke")
    .expect("the key exists");

    let response = token_request(&app, &form_for(&app.credentials), &[]).await;

    assert_token_error(&response, 401, "invalid_client");
    assert_eq!(
        crate::helpers::count(
            &mut app.connection(),
            "SELECT COUNT(*) AS n FROM access_tokens"
        ),
        1,
        "only the token issued before the revocation"
    );
}
