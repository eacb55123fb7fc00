//! The dialect's error body on every error path: the status, the body's two keys, the JSON
//! content type and `Cache-Control: no-cache`, whichever layer refused the request.

use actix_web::http::StatusCode;
use serde_json::json;
use usergroups::rate_limit::RateLimits;
use usergroups::Limits;

use super::groups::{assert_nscale_error, description, group_write, groups_path};
use crate::helpers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_request_without_authorization_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;

    let response = app.call("GET", &groups_path(&app)).unsigned().send().await;

    assert_nscale_error(&response, 401, "access_denied");
    assert_eq!(description(&response), "authorization header missing");
    assert_eq!(response.headers.get("www-authenticate").unwrap(), "Bearer");
}

#[actix_web::test]
async fn a_malformed_authorization_header_is_401_invalid_request() {
    let app = spawn_app().await;

    for value in ["Basic", "ONLIVESITE nonsense", "Bearer"] {
        let response = app
            .call("GET", &groups_path(&app))
            .unsigned()
            .header("authorization", value)
            .send()
            .await;
        assert_nscale_error(&response, 401, "access_denied");
        assert_eq!(
            response.headers.get("www-authenticate").unwrap(),
            "Bearer error=\"invalid_request\"",
            "{value}"
        );
    }
}

#[actix_web::test]
async fn a_refused_signature_is_401_naming_the_signing_schemes_reason_and_a_bad_token_is_token_validation_failed(
) {
    let app = spawn_app().await;
    let stranger = usergroups::credentials::Credentials::new("AKIAUNKNOWNKEY000000", "secret");
    let forged = usergroups::credentials::Credentials::new(
        app.credentials.access_key_id.clone(),
        "not the secret",
    );

    let unknown = app
        .call("GET", &groups_path(&app))
        .credentials(&stranger)
        .send()
        .await;
    let mismatch = app
        .call("GET", &groups_path(&app))
        .credentials(&forged)
        .send()
        .await;
    let token = app
        .call("GET", &groups_path(&app))
        .unsigned()
        .header("authorization", &format!("Bearer {}", "A".repeat(43)))
        .send()
        .await;

    for (response, text) in [
        (&unknown, "signature validation failed: unknown_access_key"),
        (&mismatch, "signature validation failed: signature_mismatch"),
        (&token, "token validation failed"),
    ] {
        assert_nscale_error(response, 401, "access_denied");
        assert_eq!(description(response), text);
        assert_eq!(
            response.headers.get("www-authenticate").unwrap(),
            "Bearer error=\"invalid_token\""
        );
    }
}

#[actix_web::test]
async fn an_unknown_route_under_the_prefix_is_404_signed_and_401_unsigned() {
    let app = spawn_app().await;
    let target = format!("/api/v1/organizations/{}/nothing-here", app.organization_id);

    let signed = app.get(&target).await;
    let unsigned = app.call("GET", &target).unsigned().send().await;
    let bare_prefix = app.get("/api/v1/organizations").await;

    assert_nscale_error(&signed, 404, "not_found");
    assert_nscale_error(&unsigned, 401, "access_denied");
    assert_nscale_error(&bare_prefix, 404, "not_found");
    assert!(signed.headers.get("x-request-id").is_some());
}

#[actix_web::test]
async fn another_method_on_a_known_route_is_405_with_allow() {
    let app = spawn_app().await;
    let group_target = format!("{}/{}", groups_path(&app), crate::helpers::unknown_id());

    let collection = app.write("PATCH", &groups_path(&app)).send().await;
    let one = app.write("POST", &group_target).send().await;

    assert_nscale_error(&collection, 405, "method_not_allowed");
    assert_eq!(collection.headers.get("allow").unwrap(), "GET, POST");
    assert_nscale_error(&one, 405, "method_not_allowed");
    assert_eq!(one.headers.get("allow").unwrap(), "GET, PUT, DELETE");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app().await;
    let big = "x".repeat(1024 * 1024 + 1);

    let response = app
        .write("POST", &groups_path(&app))
        .raw_body(big)
        .content_type(Some("application/json"))
        .send()
        .await;

    assert_nscale_error(&response, 413, "request_entity_too_large");
}

#[actix_web::test]
async fn a_body_that_is_not_declared_json_is_415() {
    let app = spawn_app().await;

    let response = app
        .write("POST", &groups_path(&app))
        .raw_body(serde_json::to_vec(&group_write("a")).unwrap())
        .content_type(Some("text/plain"))
        .send()
        .await;

    assert_nscale_error(&response, 415, "unsupported_media_type");
}

#[actix_web::test]
async fn over_the_rate_limit_is_429_with_retry_after() {
    let app = spawn_app_with(Limits {
        rate_limits: RateLimits::per_minute(1, 1),
        ..Limits::default()
    })
    .await;
    app.get(&groups_path(&app)).await;

    let response = app.get(&groups_path(&app)).await;

    assert_nscale_error(&response, 429, "rate_limited");
    assert!(response.headers.get("retry-after").is_some());
    assert!(response.headers.get("x-ratelimit-limit").is_some());
}

#[actix_web::test]
async fn the_onlive_routes_keep_their_own_error_body() {
    let app = spawn_app().await;

    let missing = app
        .get(&format!(
            "/api/v1/user-groups/{}",
            crate::helpers::unknown_id()
        ))
        .await;
    let unsigned = app
        .call("GET", "/api/v1/user-groups")
        .unsigned()
        .send()
        .await;
    let unknown_route = app.get("/api/v1/organizationsx").await;

    missing.assert_error(404);
    assert_eq!(missing.message(), "User group not found");
    unsigned.assert_error(401);
    assert_eq!(
        unsigned.headers.get("www-authenticate").unwrap(),
        "ONLIVESITE"
    );
    unknown_route.assert_error(404);
    assert!(missing.headers.get("cache-control").is_none());
    assert_eq!(unsigned.body["reason"], json!("missing_authorization"));
}

#[actix_web::test]
async fn a_successful_answer_is_not_rewritten() {
    let app = spawn_app().await;

    let response = app.get(&groups_path(&app)).await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, json!([]));
    assert!(response.headers.get("cache-control").is_none());
}

#[actix_web::test]
async fn the_document_gives_every_nscale_operation_the_shared_answers_in_the_nscale_body() {
    let text = usergroups::openapi::document_json().expect("the document serializes");
    let document: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut checked = 0;

    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/organizations/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            for (status, name) in [
                ("401", "NscaleUnauthorized"),
                ("429", "NscaleTooManyRequests"),
            ] {
                assert_eq!(
                    operation["responses"][status]["$ref"],
                    format!("#/components/responses/{name}"),
                    "{method} {path} {status}"
                );
            }
            checked += 1;
        }
    }
    let unauthorized = &document["components"]["responses"]["NscaleUnauthorized"];
    assert_eq!(
        unauthorized["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NscaleErrorBody"
    );
    assert!(document["components"]["securitySchemes"]["oauth2"].is_object());
    assert_eq!(checked, 7);
}
