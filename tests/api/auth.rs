//! Signed requests: every `reason` of `signing.md` §4, in the order the server checks them, the
//! replay guard, and the freedoms a client has (extra signed headers, folded values, query
//! order). Requests a client could never build with the signer are made by hand from the
//! signer's headers, so each test breaks exactly one thing.

use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use usergroups::auth::header::{format_date, parse_date};
use usergroups::auth::key_cache::FRESHNESS;
use usergroups::auth::signer::{self, Credentials};
use usergroups::auth::MAX_SIGNATURE_SKEW_SECONDS;
use usergroups::db::schema::used_signatures;
use usergroups::ids::AccessKeyId;
use usergroups::models::used_signature::{FirstUse, RETENTION_SECONDS};
use usergroups::models::{AccessKey, UsedSignature};
use usergroups::Limits;

use crate::helpers::{count, spawn_app, spawn_app_with, unknown_id, TestApp, TestResponse, HOST};

const GROUPS: &str = "/api/v1/user-groups";
const USERS: &str = "/api/v1/users";
const UNAUTHORIZED_MESSAGE: &str = "Invalid or missing authorization credentials";

/// Request headers, in order, as `(name, value)`.
type Headers = Vec<(String, String)>;

/// A row of the replay table: what the write is, method, target, JSON body, key, first answer.
type ReplayRow<'a> = (&'a str, &'a str, String, Option<Value>, Credentials, u16);

/// Asserts the contract's 401: exactly `{statusCode, message, reason}` and an `x-request-id`.
#[track_caller]
fn assert_unauthorized(response: &TestResponse, reason: &str) {
    assert_eq!(
        response.body,
        json!({"statusCode": 401, "message": UNAUTHORIZED_MESSAGE, "reason": reason}),
        "status {}",
        response.status
    );
    assert_eq!(response.status.as_u16(), 401);
    let request_id = response
        .headers
        .get("x-request-id")
        .map(|v| v.to_str().unwrap_or_default());
    assert!(
        request_id.is_some_and(|id| !id.is_empty()),
        "no x-request-id on a 401"
    );
}

/// A request carrying exactly `headers`, in order, and `body`: for what the signer never makes.
fn raw_request(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> TestRequest {
    let mut request = TestRequest::default()
        .method(Method::from_bytes(method.as_bytes()).expect("a method"))
        .uri(target)
        .set_payload(body.to_vec());
    for (name, value) in headers {
        request = request.append_header((name.as_str(), value.as_str()));
    }
    request
}

/// `headers` with every value of `name` replaced by `value`.
fn replaced(headers: &[(String, String)], name: &str, value: &str) -> Headers {
    assert!(
        headers.iter().any(|(n, _)| n == name),
        "no {name} header to replace"
    );
    headers
        .iter()
        .map(|(n, v)| {
            if n == name {
                (n.clone(), value.to_owned())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect()
}

/// `headers` without `name`.
fn without(headers: &[(String, String)], name: &str) -> Headers {
    assert!(
        headers.iter().any(|(n, _)| n == name),
        "no {name} header to remove"
    );
    headers.iter().filter(|(n, _)| n != name).cloned().collect()
}

/// The value of `name` among `headers`.
fn value_of<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header"))
}

/// The signature (lowercase hex) an `Authorization` header carries.
fn signature_in(headers: &[(String, String)]) -> String {
    let authorization = value_of(headers, "authorization");
    let (_, signature) = authorization
        .rsplit_once("Signature=")
        .expect("a signature");
    signature.to_owned()
}

/// The time now, in whole seconds as a request's date carries it.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Sends the very same signed request twice; returns both answers. Each goes through a freshly
/// built route table (`call_raw`), so what refuses a replay is shared through the database only.
async fn send_twice(
    app: &TestApp,
    method: &str,
    target: &str,
    body: Option<Value>,
) -> (TestResponse, TestResponse) {
    send_twice_as(app, &app.credentials, method, target, body).await
}

/// Like [`send_twice`], signed with `credentials`.
async fn send_twice_as(
    app: &TestApp,
    credentials: &Credentials,
    method: &str,
    target: &str,
    body: Option<Value>,
) -> (TestResponse, TestResponse) {
    let mut call = app.call(method, target).credentials(credentials);
    if let Some(body) = &body {
        call = call.json(body);
    }
    let headers = call.headers();
    let bytes = body
        .map(|b| serde_json::to_vec(&b).expect("serializable"))
        .unwrap_or_default();
    let first = app
        .call_raw(raw_request(method, target, &headers, &bytes))
        .await;
    let second = app
        .call_raw(raw_request(method, target, &headers, &bytes))
        .await;
    (first, second)
}

// --- missing_authorization and malformed_authorization -------------------------------------

#[actix_web::test]
async fn a_request_without_authorization_is_refused_as_missing_authorization() {
    let app = spawn_app().await;

    let response = app
        .call("GET", GROUPS)
        .unsigned()
        .header("x-onlive-site-date", &format_date(now()))
        .send()
        .await;

    assert_unauthorized(&response, "missing_authorization");
}

#[actix_web::test]
async fn authorization_headers_outside_the_grammar_are_refused_as_malformed() {
    let app = spawn_app().await;
    let headers = app.call("GET", GROUPS).headers();
    let valid = value_of(&headers, "authorization").to_owned();
    let key_id = app.credentials.access_key_id.clone();
    let signature = signature_in(&headers);
    // Each row is the valid header bent one way; a lenient parser would let most of them verify.
    let cases: Vec<(&str, String)> = vec![
        ("an empty value", String::new()),
        ("another scheme", valid.replacen("ONLIVESITE", "AWS4-HMAC-SHA256", 1)),
        ("the scheme in lowercase", valid.replacen("ONLIVESITE", "onlivesite", 1)),
        // `Bearer` is a scheme of its own now (tests/api/nscale/bearer.rs): a signature sent as
        // one is an `invalid_token`; only a scheme word glued to the signature stays malformed.
        ("a bearer scheme without its space", format!("Bearer{signature}")),
        ("Credential= instead of Credential:", valid.replacen("Credential:", "Credential=", 1)),
        ("a lowercase parameter name", valid.replacen("Signature=", "signature=", 1)),
        ("no signature", format!("ONLIVESITE Credential:{key_id}")),
        ("a signature of 63 digits", valid[..valid.len() - 1].to_owned()),
        ("a signature of 65 digits", format!("{valid}0")),
        ("the signature in uppercase hex", valid.replace(&signature, &signature.to_uppercase())),
        ("the signature before the credential", format!("ONLIVESITE Signature={signature}, Credential:{key_id}")),
        ("two spaces after the comma", valid.replacen(", ", ",  ", 1)),
        ("a trailing space", format!("{valid} ")),
        ("a key id with a dot", valid.replacen(&key_id, &format!("{key_id}.x"), 1)),
        ("an empty key id", valid.replacen(&key_id, "", 1)),
        (
            "SignedHeaders not sorted",
            format!("ONLIVESITE Credential:{key_id}, SignedHeaders=x-onlive-site-date;host, Signature={signature}"),
        ),
        (
            "SignedHeaders without the date",
            format!("ONLIVESITE Credential:{key_id}, SignedHeaders=host, Signature={signature}"),
        ),
        (
            "SignedHeaders naming host twice",
            format!("ONLIVESITE Credential:{key_id}, SignedHeaders=host;host;x-onlive-site-date, Signature={signature}"),
        ),
        (
            "SignedHeaders in uppercase",
            format!("ONLIVESITE Credential:{key_id}, SignedHeaders=Host;X-Onlive-Site-Date, Signature={signature}"),
        ),
    ];

    for (why, authorization) in cases {
        let request = raw_request(
            "GET",
            GROUPS,
            &replaced(&headers, "authorization", &authorization),
            b"",
        );
        let response = app.call_raw(request).await;
        assert_eq!(
            response.reason(),
            "malformed_authorization",
            "{why}: {authorization:?}"
        );
        assert_unauthorized(&response, "malformed_authorization");
    }
}

#[actix_web::test]
async fn a_repeated_authorization_header_is_refused_as_malformed_even_when_both_are_valid() {
    let app = spawn_app().await;
    let mut headers = app.call("GET", GROUPS).headers();
    let authorization = value_of(&headers, "authorization").to_owned();
    headers.push(("authorization".to_owned(), authorization));

    let response = app
        .call_raw(raw_request("GET", GROUPS, &headers, b""))
        .await;

    assert_unauthorized(&response, "malformed_authorization");
}

#[actix_web::test]
async fn signed_headers_naming_a_header_the_request_lacks_is_refused_as_malformed() {
    let app = spawn_app().await;
    let headers = app
        .call("GET", GROUPS)
        .signed_header("x-onlive-site-nonce", "n-1")
        .headers();

    let response = app
        .call_raw(raw_request(
            "GET",
            GROUPS,
            &without(&headers, "x-onlive-site-nonce"),
            b"",
        ))
        .await;

    assert_unauthorized(&response, "malformed_authorization");
}

// --- missing_date and malformed_date -------------------------------------------------------

#[actix_web::test]
async fn a_request_without_a_date_is_refused_as_missing_date() {
    let app = spawn_app().await;
    let headers = app.call("GET", GROUPS).headers();

    let response = app
        .call_raw(raw_request(
            "GET",
            GROUPS,
            &without(&headers, "x-onlive-site-date"),
            b"",
        ))
        .await;

    assert_unauthorized(&response, "missing_date");
}

#[actix_web::test]
async fn dates_that_are_not_one_real_utc_instant_are_refused_as_malformed() {
    let app = spawn_app().await;
    let headers = app.call("GET", GROUPS).headers();
    let date = value_of(&headers, "x-onlive-site-date").to_owned();
    let current = now();
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "RFC 3339 instead of the compact form",
            replaced(
                &headers,
                "x-onlive-site-date",
                &current.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
        ),
        (
            "an HTTP date",
            replaced(
                &headers,
                "x-onlive-site-date",
                &current.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            ),
        ),
        (
            "a lowercase z",
            replaced(&headers, "x-onlive-site-date", &date.replace('Z', "z")),
        ),
        (
            "without the Z",
            replaced(&headers, "x-onlive-site-date", date.trim_end_matches('Z')),
        ),
        (
            "a Unix timestamp",
            replaced(
                &headers,
                "x-onlive-site-date",
                &current.timestamp().to_string(),
            ),
        ),
        (
            "an empty value",
            replaced(&headers, "x-onlive-site-date", ""),
        ),
        (
            "February 30th",
            replaced(
                &headers,
                "x-onlive-site-date",
                &current.format("%Y0230T%H%M%SZ").to_string(),
            ),
        ),
        (
            "hour 25",
            replaced(
                &headers,
                "x-onlive-site-date",
                &current.format("%Y%m%dT25%M%SZ").to_string(),
            ),
        ),
        (
            "second 60",
            replaced(
                &headers,
                "x-onlive-site-date",
                &current.format("%Y%m%dT%H%M60Z").to_string(),
            ),
        ),
        ("the header twice, same value", {
            let mut twice = headers.clone();
            twice.push(("x-onlive-site-date".to_owned(), date.clone()));
            twice
        }),
    ];

    for (why, headers) in cases {
        let response = app
            .call_raw(raw_request("GET", GROUPS, &headers, b""))
            .await;
        assert_eq!(response.reason(), "malformed_date", "{why}");
        assert_unauthorized(&response, "malformed_date");
    }
}

// --- request_expired and request_from_future -----------------------------------------------

#[actix_web::test]
async fn a_request_dated_just_over_15_minutes_ago_is_refused_as_expired() {
    let app = spawn_app().await;

    let response = app
        .call("GET", GROUPS)
        .dated(now() - TimeDelta::seconds(15 * 60 + 5))
        .send()
        .await;

    assert_unauthorized(&response, "request_expired");
}

#[actix_web::test]
async fn a_request_dated_just_over_15_minutes_ahead_is_refused_as_from_the_future() {
    let app = spawn_app().await;

    let response = app
        .call("GET", GROUPS)
        .dated(now() + TimeDelta::seconds(15 * 60 + 5))
        .send()
        .await;

    assert_unauthorized(&response, "request_from_future");
}

#[actix_web::test]
async fn requests_dated_just_inside_15_minutes_either_way_are_accepted() {
    let app = spawn_app().await;
    let cases = [
        ("14 min 50 s ago", now() - TimeDelta::seconds(14 * 60 + 50)),
        (
            "14 min 50 s ahead",
            now() + TimeDelta::seconds(14 * 60 + 50),
        ),
    ];

    for (why, date) in cases {
        let response = app.call("GET", GROUPS).dated(date).send().await;
        assert_eq!(response.status.as_u16(), 200, "{why}: {}", response.body);
    }
}

#[actix_web::test]
async fn the_date_window_follows_the_configured_skew() {
    let app = spawn_app_with(Limits {
        signature_skew: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let cases = [
        (
            "50 s ago, inside a 60 s window",
            TimeDelta::seconds(-50),
            None,
        ),
        (
            "50 s ahead, inside a 60 s window",
            TimeDelta::seconds(50),
            None,
        ),
        (
            "70 s ago, outside a 60 s window",
            TimeDelta::seconds(-70),
            Some("request_expired"),
        ),
        (
            "70 s ahead, outside a 60 s window",
            TimeDelta::seconds(70),
            Some("request_from_future"),
        ),
        (
            "5 min ago, fine by default but not here",
            TimeDelta::minutes(-5),
            Some("request_expired"),
        ),
    ];

    for (why, offset, refused) in cases {
        let response = app.call("GET", GROUPS).dated(now() + offset).send().await;
        match refused {
            None => assert_eq!(response.status.as_u16(), 200, "{why}: {}", response.body),
            Some(reason) => {
                assert_eq!(response.reason(), reason, "{why}");
                assert_unauthorized(&response, reason);
            }
        }
    }
}

#[actix_web::test]
async fn a_skew_above_the_maximum_set_in_code_acts_as_the_maximum() {
    let app = spawn_app_with(Limits {
        signature_skew: Duration::from_secs(2 * 60 * 60),
        ..Limits::default()
    })
    .await;
    let max = TimeDelta::seconds(MAX_SIGNATURE_SKEW_SECONDS as i64);
    let cases = [
        (
            "a minute inside the largest window",
            -(max - TimeDelta::minutes(1)),
            None,
        ),
        (
            "a minute past the largest window",
            -(max + TimeDelta::minutes(1)),
            Some("request_expired"),
        ),
        (
            "a minute ahead of the largest window",
            max + TimeDelta::minutes(1),
            Some("request_from_future"),
        ),
    ];

    for (why, offset, refused) in cases {
        let response = app.call("GET", GROUPS).dated(now() + offset).send().await;
        match refused {
            None => assert_eq!(response.status.as_u16(), 200, "{why}: {}", response.body),
            Some(reason) => {
                assert_eq!(response.reason(), reason, "{why}");
                assert_unauthorized(&response, reason);
            }
        }
    }
}

// --- unknown_access_key and revoked_access_key ---------------------------------------------

#[actix_web::test]
async fn a_key_id_the_server_never_issued_is_refused_as_unknown() {
    let app = spawn_app().await;
    let stranger = Credentials::new("OLAKNOSUCHKEY0000000", "some secret");

    let response = app.call("GET", GROUPS).credentials(&stranger).send().await;

    assert_unauthorized(&response, "unknown_access_key");
}

#[actix_web::test]
async fn a_revoked_key_is_refused_at_once_for_writes_and_within_a_second_for_reads() {
    let app = spawn_app().await;
    assert_eq!(app.get(GROUPS).await.status.as_u16(), 200);
    AccessKey::revoke(
        &mut app.connection(),
        &AccessKeyId::from(app.credentials.access_key_id.as_str()),
    )
    .expect("revoke")
    .expect("the key exists");

    let write = app.post(GROUPS, json!({"name": "After revocation"})).await;
    std::thread::sleep(FRESHNESS);
    let read = app.get(GROUPS).await;

    assert_unauthorized(&write, "revoked_access_key");
    assert_unauthorized(&read, "revoked_access_key");
    assert_eq!(
        count(
            &mut app.connection(),
            "SELECT COUNT(*) AS n FROM user_groups"
        ),
        0,
        "the refused write left nothing"
    );
}

// --- signature_mismatch --------------------------------------------------------------------

#[actix_web::test]
async fn a_request_changed_after_signing_is_refused_as_signature_mismatch() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let group_path = format!("{GROUPS}/{}", group["id"].as_str().unwrap());
    let put_headers = app
        .call("PUT", &group_path)
        .json(&json!({"name": "Marketing"}))
        .headers();
    let listing = app.call("GET", &format!("{GROUPS}?page=1")).headers();
    let with_nonce = app
        .call("GET", GROUPS)
        .signed_header("x-onlive-site-nonce", "n-1")
        .headers();
    let wrong_secret = Credentials::new(app.credentials.access_key_id.clone(), "not the secret");
    // Every row would be answered 2xx if the server did not check what the signature covers.
    let cases: Vec<(&str, TestRequest)> = vec![
        (
            "another body",
            raw_request(
                "PUT",
                &group_path,
                &put_headers,
                br#"{"name":"Engineering"}"#,
            ),
        ),
        (
            "the body with one extra space",
            raw_request(
                "PUT",
                &group_path,
                &put_headers,
                br#"{"name": "Marketing"}"#,
            ),
        ),
        (
            "another query value",
            raw_request("GET", &format!("{GROUPS}?page=2"), &listing, b""),
        ),
        (
            "a query parameter added",
            raw_request("GET", &format!("{GROUPS}?page=1&limit=5"), &listing, b""),
        ),
        (
            "another value of a signed header",
            raw_request(
                "GET",
                GROUPS,
                &replaced(&with_nonce, "x-onlive-site-nonce", "n-2"),
                b"",
            ),
        ),
        (
            "another host",
            raw_request(
                "GET",
                &format!("{GROUPS}?page=1"),
                &replaced(&listing, "host", "evil.example"),
                b"",
            ),
        ),
        (
            "another path",
            raw_request("GET", &format!("{USERS}?page=1"), &listing, b""),
        ),
        (
            "the path with a trailing slash",
            raw_request("GET", &format!("{GROUPS}/?page=1"), &listing, b""),
        ),
        (
            "another method",
            raw_request("GET", &group_path, &put_headers, br#"{"name":"Marketing"}"#),
        ),
        (
            "signed with a wrong secret",
            raw_request(
                "GET",
                GROUPS,
                &app.call("GET", GROUPS).credentials(&wrong_secret).headers(),
                b"",
            ),
        ),
    ];

    for (why, request) in cases {
        let response = app.call_raw(request).await;
        assert_eq!(
            response.reason(),
            "signature_mismatch",
            "{why}: {} {}",
            response.status,
            response.body
        );
        assert_unauthorized(&response, "signature_mismatch");
    }
    assert_eq!(
        app.get(&group_path).await.body["name"],
        "Sales",
        "no tampered request changed the group"
    );
}

#[actix_web::test]
async fn a_signature_mismatch_answer_shows_neither_the_secret_nor_the_expected_signature() {
    let app = spawn_app().await;
    let headers = app.call("GET", GROUPS).headers();
    let date = parse_date(value_of(&headers, "x-onlive-site-date")).expect("the signer's date");
    let tampered_target = format!("{GROUPS}?page=2");
    let expected = signer::sign(
        &app.credentials,
        "GET",
        HOST,
        &tampered_target,
        &[],
        b"",
        date,
    );

    let response = app
        .call_raw(raw_request("GET", &tampered_target, &headers, b""))
        .await;

    assert_unauthorized(&response, "signature_mismatch");
    let text = format!("{:?} {}", response.headers, response.body);
    assert!(
        !text.contains(app.credentials.secret_access_key()),
        "{text}"
    );
    assert!(!text.contains(&signature_in(&expected.headers)), "{text}");
}

// --- replayed_request ----------------------------------------------------------------------

#[actix_web::test]
async fn an_unsafe_request_sent_twice_is_refused_as_a_replay_whatever_its_first_answer() {
    let app = spawn_app().await;
    let taken = app.create_group("Taken").await;
    let deletable = app.create_group("Deletable").await;
    let reader = app.key_with("user-groups:read");
    let missing = format!("{GROUPS}/{}", unknown_id());
    let cases: Vec<ReplayRow> = vec![
        (
            "a create that succeeded",
            "POST",
            GROUPS.to_owned(),
            Some(json!({"name": "Fresh"})),
            app.credentials.clone(),
            201,
        ),
        (
            "a create refused as a duplicate",
            "POST",
            GROUPS.to_owned(),
            Some(json!({"name": taken["name"]})),
            app.credentials.clone(),
            409,
        ),
        (
            "a create with a bad field",
            "POST",
            GROUPS.to_owned(),
            Some(json!({"name": 7})),
            app.credentials.clone(),
            400,
        ),
        (
            "an update of a missing group",
            "PUT",
            missing.clone(),
            Some(json!({"name": "X"})),
            app.credentials.clone(),
            404,
        ),
        (
            "a delete of a missing group",
            "DELETE",
            missing.clone(),
            None,
            app.credentials.clone(),
            404,
        ),
        (
            "a delete that succeeded",
            "DELETE",
            format!("{GROUPS}/{}", deletable["id"].as_str().unwrap()),
            None,
            app.credentials.clone(),
            200,
        ),
        (
            "a create by a key without the permission",
            "POST",
            GROUPS.to_owned(),
            Some(json!({"name": "Nope"})),
            reader,
            403,
        ),
        (
            "a POST to an unknown route",
            "POST",
            "/api/v1/nothing-here".to_owned(),
            None,
            app.credentials.clone(),
            404,
        ),
    ];

    for (why, method, target, body, credentials, first_status) in cases {
        let (first, second) = send_twice_as(&app, &credentials, method, &target, body).await;
        assert_eq!(
            first.status.as_u16(),
            first_status,
            "{why}, first answer: {}",
            first.body
        );
        assert_eq!(
            second.reason(),
            "replayed_request",
            "{why}, second answer: {} {}",
            second.status,
            second.body
        );
        assert_unauthorized(&second, "replayed_request");
    }
}

#[actix_web::test]
async fn a_replayed_create_does_not_create_a_second_group() {
    let app = spawn_app().await;

    let (first, second) = send_twice(&app, "POST", GROUPS, Some(json!({"name": "Once"}))).await;

    assert_eq!(first.status.as_u16(), 201, "{}", first.body);
    assert_unauthorized(&second, "replayed_request");
    assert_eq!(app.get(GROUPS).await.body["total"], 1);
}

#[actix_web::test]
async fn a_get_sent_twice_is_answered_both_times() {
    let app = spawn_app().await;
    app.create_group("Sales").await;

    let (first, second) = send_twice(&app, "GET", GROUPS, None).await;

    assert_eq!(first.status.as_u16(), 200, "{}", first.body);
    assert_eq!(second.status.as_u16(), 200, "{}", second.body);
    assert_eq!(first.body, second.body);
}

#[actix_web::test]
async fn copies_of_one_write_sent_at_once_are_accepted_exactly_once() {
    let app = spawn_app().await;
    let body = br#"{"name":"Raced"}"#;
    let headers = app
        .call("POST", GROUPS)
        .json(&json!({"name": "Raced"}))
        .headers();

    let answers = futures_util::future::join_all(
        (0..8).map(|_| app.call_raw(raw_request("POST", GROUPS, &headers, body))),
    )
    .await;

    let accepted = answers.iter().filter(|r| r.status.as_u16() == 201).count();
    assert_eq!(
        accepted,
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for refused in answers.iter().filter(|r| r.status.as_u16() != 201) {
        assert_unauthorized(refused, "replayed_request");
    }
    assert_eq!(app.get(GROUPS).await.body["total"], 1);
}

#[actix_web::test]
async fn identical_writes_in_one_second_are_both_accepted_with_different_signed_nonces() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let path = format!("{GROUPS}/{}", group["id"].as_str().unwrap());
    let date = now();
    let write = |nonce: &'static str| {
        app.call("PUT", &path)
            .json(&json!({"description": "Same change"}))
            .dated(date)
            .signed_header("x-onlive-site-nonce", nonce)
    };

    let first = write("nonce-1").send().await;
    let second = write("nonce-2").send().await;

    assert_eq!(first.status.as_u16(), 200, "{}", first.body);
    assert_eq!(second.status.as_u16(), 200, "{}", second.body);
}

#[actix_web::test]
async fn identical_writes_in_one_second_without_a_nonce_are_refused_the_second_time() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let path = format!("{GROUPS}/{}", group["id"].as_str().unwrap());
    let date = now();
    let write = || {
        app.call("PUT", &path)
            .json(&json!({"description": "Same change"}))
            .dated(date)
    };

    let first = write().send().await;
    let second = write().send().await;

    assert_eq!(first.status.as_u16(), 200, "{}", first.body);
    assert_unauthorized(&second, "replayed_request");
}

/// Every recorded signature, as (signature, expiry).
fn used_signatures(app: &TestApp) -> Vec<(String, chrono::NaiveDateTime)> {
    used_signatures::table
        .select(UsedSignature::as_select())
        .load(&mut *app.connection())
        .expect("read the replay guard")
        .into_iter()
        .map(|used| (used.signature, used.expires_at))
        .collect()
}

#[actix_web::test]
async fn a_used_signature_is_kept_until_its_date_plus_the_largest_skew_and_the_margin_whatever_the_instance_allows(
) {
    let retention = TimeDelta::seconds(RETENTION_SECONDS as i64);
    for skew in [60, 10 * 60, MAX_SIGNATURE_SKEW_SECONDS] {
        let app = spawn_app_with(Limits {
            signature_skew: Duration::from_secs(skew),
            ..Limits::default()
        })
        .await;
        let cases = [
            ("dated 50 s ago", now() - TimeDelta::seconds(50), "Past"),
            ("dated 40 s ahead", now() + TimeDelta::seconds(40), "Future"),
        ];

        for (why, date, name) in cases {
            let call = app
                .call("POST", GROUPS)
                .json(&json!({ "name": name }))
                .dated(date);
            let signature = signature_in(&call.headers());
            let response = call.send().await;
            assert_eq!(
                response.status.as_u16(),
                201,
                "{why}, skew {skew} s: {}",
                response.body
            );
            let stored: Vec<_> = used_signatures(&app)
                .into_iter()
                .filter(|(s, _)| *s == signature)
                .collect();
            assert_eq!(
                stored,
                [(signature, (date + retention).naive_utc())],
                "{why}, skew {skew} s"
            );
        }
    }
    assert_eq!(RETENTION_SECONDS, MAX_SIGNATURE_SKEW_SECONDS + 60);
}

#[actix_web::test]
async fn a_request_dated_ahead_cannot_be_replayed_once_a_now_based_expiry_would_have_passed() {
    let app = spawn_app().await;
    let date = now() + TimeDelta::minutes(10);
    let headers = app
        .call("POST", GROUPS)
        .json(&json!({"name": "Ahead"}))
        .dated(date)
        .headers();
    let body = br#"{"name":"Ahead"}"#;
    let first = app
        .call_raw(raw_request("POST", GROUPS, &headers, body))
        .await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.body);
    // A prune run 16 minutes from now: past "first use + skew", before "date + skew".
    UsedSignature::prune_expired(
        &mut app.connection(),
        (Utc::now() + TimeDelta::minutes(16)).naive_utc(),
    )
    .expect("prune");

    let second = app
        .call_raw(raw_request("POST", GROUPS, &headers, body))
        .await;

    assert_unauthorized(&second, "replayed_request");
}

#[actix_web::test]
async fn pruning_forgets_only_signatures_whose_expiry_has_passed() {
    let app = spawn_app().await;
    let at = now().naive_utc();
    let entries = [
        (
            "expired an hour ago",
            "a".repeat(64),
            at - TimeDelta::hours(1),
            false,
        ),
        (
            "expired a second ago",
            "b".repeat(64),
            at - TimeDelta::seconds(1),
            false,
        ),
        (
            "expires in a second",
            "c".repeat(64),
            at + TimeDelta::seconds(1),
            true,
        ),
        (
            "expires in 15 minutes",
            "d".repeat(64),
            at + TimeDelta::minutes(15),
            true,
        ),
    ];
    let key_id = AccessKeyId::from(app.credentials.access_key_id.as_str());
    for (_, signature, expires_at, _) in &entries {
        let used = UsedSignature {
            signature: signature.clone(),
            expires_at: *expires_at,
        };
        assert_eq!(
            used.record_for_live_key(&mut app.connection(), &key_id)
                .expect("record"),
            FirstUse::Recorded
        );
    }

    let pruned = UsedSignature::prune_expired(&mut app.connection(), at).expect("prune");

    assert_eq!(pruned, 2);
    let left: Vec<String> = used_signatures(&app).into_iter().map(|(s, _)| s).collect();
    for (why, signature, _, kept) in entries {
        assert_eq!(left.contains(&signature), kept, "{why}");
    }
}

// --- the order of the checks ---------------------------------------------------------------

#[actix_web::test]
async fn when_several_checks_fail_the_earliest_in_the_contract_order_is_reported() {
    let app = spawn_app().await;
    let stranger = Credentials::new("OLAKNOSUCHKEY0000000", "some secret");
    let wrong_secret = Credentials::new(app.credentials.access_key_id.clone(), "not the secret");
    let revoked = app.key_with("user-groups:read");
    AccessKey::revoke(
        &mut app.connection(),
        &AccessKeyId::from(revoked.access_key_id.as_str()),
    )
    .expect("revoke");
    let old = now() - TimeDelta::hours(1);
    let valid = app.call("GET", GROUPS).headers();
    let cases: Vec<(&str, Headers, &str)> = vec![
        (
            "no authorization and no date",
            without(&without(&valid, "authorization"), "x-onlive-site-date"),
            "missing_authorization",
        ),
        (
            "a malformed authorization and a malformed date",
            replaced(
                &replaced(&valid, "authorization", "ONLIVESITE nope"),
                "x-onlive-site-date",
                "yesterday",
            ),
            "malformed_authorization",
        ),
        (
            "a malformed date from an unknown key",
            replaced(
                &app.call("GET", GROUPS).credentials(&stranger).headers(),
                "x-onlive-site-date",
                "yesterday",
            ),
            "malformed_date",
        ),
        (
            "an expired request from an unknown key",
            app.call("GET", GROUPS)
                .credentials(&stranger)
                .dated(old)
                .headers(),
            "request_expired",
        ),
        (
            "a revoked key signing with a wrong secret",
            app.call("GET", GROUPS)
                .credentials(&Credentials::new(
                    revoked.access_key_id.clone(),
                    "not the secret",
                ))
                .headers(),
            "revoked_access_key",
        ),
        (
            "a wrong secret",
            app.call("GET", GROUPS).credentials(&wrong_secret).headers(),
            "signature_mismatch",
        ),
    ];

    for (why, headers, reason) in cases {
        let response = app
            .call_raw(raw_request("GET", GROUPS, &headers, b""))
            .await;
        assert_eq!(response.reason(), reason, "{why}");
        assert_unauthorized(&response, reason);
    }
}

#[actix_web::test]
async fn a_replay_with_a_tampered_body_is_a_signature_mismatch_and_does_not_use_up_the_signature() {
    let app = spawn_app().await;
    let headers = app
        .call("POST", GROUPS)
        .json(&json!({"name": "Original"}))
        .headers();

    let tampered = app
        .call_raw(raw_request(
            "POST",
            GROUPS,
            &headers,
            br#"{"name":"Forged"}"#,
        ))
        .await;
    let genuine = app
        .call_raw(raw_request(
            "POST",
            GROUPS,
            &headers,
            br#"{"name":"Original"}"#,
        ))
        .await;

    assert_unauthorized(&tampered, "signature_mismatch");
    assert_eq!(genuine.status.as_u16(), 201, "{}", genuine.body);
}

// --- what a client may vary ----------------------------------------------------------------

#[actix_web::test]
async fn a_request_signing_extra_headers_is_accepted() {
    let app = spawn_app().await;

    let response = app
        .call("POST", GROUPS)
        .raw_body(r#"{"name":"Sales"}"#)
        .signed_header("content-type", "application/json")
        .signed_header("x-onlive-site-nonce", "4f1c")
        .send()
        .await;

    assert_eq!(response.status.as_u16(), 201, "{}", response.body);
    assert_eq!(response.body["name"], "Sales");
}

#[actix_web::test]
async fn a_signed_header_sent_with_extra_blanks_still_verifies() {
    let app = spawn_app().await;
    // Signed as the canonical request carries it, sent with blanks a proxy might add.
    let headers = app
        .call("GET", GROUPS)
        .signed_header("x-onlive-site-nonce", "one two three")
        .headers();
    let blanks = replaced(&headers, "x-onlive-site-nonce", "  one \t  two   three\t ");

    let response = app.call_raw(raw_request("GET", GROUPS, &blanks, b"")).await;

    assert_eq!(response.status.as_u16(), 200, "{}", response.body);
}

#[actix_web::test]
async fn a_repeated_signed_header_is_signed_as_its_values_in_the_order_sent() {
    let app = spawn_app().await;
    let headers = app
        .call("GET", GROUPS)
        .signed_header("x-onlive-site-nonce", "first")
        .signed_header("x-onlive-site-nonce", "second")
        .headers();
    let swapped: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| match v.as_str() {
            "first" => (n.clone(), "second".to_owned()),
            "second" => (n.clone(), "first".to_owned()),
            _ => (n.clone(), v.clone()),
        })
        .collect();

    let in_order = app
        .call_raw(raw_request("GET", GROUPS, &headers, b""))
        .await;
    let out_of_order = app
        .call_raw(raw_request("GET", GROUPS, &swapped, b""))
        .await;

    assert_eq!(in_order.status.as_u16(), 200, "{}", in_order.body);
    assert_unauthorized(&out_of_order, "signature_mismatch");
}

#[actix_web::test]
async fn the_order_of_query_parameters_does_not_change_the_signature() {
    let app = spawn_app().await;
    let headers = app
        .call("GET", &format!("{GROUPS}?page=1&limit=5&search=a+b"))
        .headers();

    let response = app
        .call_raw(raw_request(
            "GET",
            &format!("{GROUPS}?search=a%20b&limit=5&page=1"),
            &headers,
            b"",
        ))
        .await;

    assert_eq!(response.status.as_u16(), 200, "{}", response.body);
    assert_eq!(response.body["limit"], 5);
}

#[actix_web::test]
async fn a_client_request_id_is_echoed_on_a_401() {
    let app = spawn_app().await;

    let response = app
        .call("GET", GROUPS)
        .unsigned()
        .header("x-request-id", "client-id-42")
        .send()
        .await;

    assert_unauthorized(&response, "missing_authorization");
    assert_eq!(
        response.headers.get("x-request-id").unwrap(),
        "client-id-42"
    );
}

// --- routes with and without a signature ---------------------------------------------------

#[actix_web::test]
async fn the_health_probe_answers_without_a_signature() {
    let app = spawn_app().await;

    let response = app.call("GET", "/healthz").unsigned().send().await;

    assert_eq!(response.status.as_u16(), 200, "{}", response.body);
    assert_eq!(response.body["status"], "ok");
}

#[actix_web::test]
async fn an_unknown_api_route_is_401_unsigned_and_404_route_not_found_signed() {
    let app = spawn_app().await;
    let cases = [
        ("an unknown resource", "GET", "/api/v1/nothing-here"),
        ("the API root", "GET", "/api/v1"),
        ("the API root with a slash", "GET", "/api/v1/"),
        ("too deep under a group", "GET", "/api/v1/user-groups/a/b"),
        ("an unknown resource, written to", "POST", "/api/v1/roles"),
    ];

    for (why, method, target) in cases {
        let unsigned = app.call(method, target).unsigned().send().await;
        assert_eq!(
            unsigned.reason(),
            "missing_authorization",
            "{why}, unsigned: {}",
            unsigned.body
        );
        assert_unauthorized(&unsigned, "missing_authorization");

        let signed = app.call(method, target).send().await;
        signed.assert_error(404);
        assert_eq!(signed.message(), "Route not found", "{why}, signed");
        assert!(signed.headers.contains_key("x-request-id"), "{why}");
    }
}
