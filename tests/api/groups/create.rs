//! `POST /api/v1/user-groups`: what a created group looks like, `extraFields` kept as sent, the
//! 400 that names every bad field, and the name and external id that must be unique among live
//! groups.

use actix_web::http::StatusCode;
use serde_json::json;

use usergroups::api::CreateGroup;

use super::named;
use crate::helpers::{group_path, spawn_app};

#[actix_web::test]
async fn creating_a_group_returns_201_with_every_field() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "  Global Sales Team ", "description": "International sales team",
                   "externalId": "SALES_TEAM_01",
                   "extraFields": {"department": "Sales", "allowedFeatures": ["product_management"]}}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let group = &response.body;
    assert_eq!(group["name"], "Global Sales Team");
    assert_eq!(group["description"], "International sales team");
    assert_eq!(group["externalId"], "SALES_TEAM_01");
    assert_eq!(group["organizationId"], app.organization_id.as_str());
    assert_eq!(
        group["extraFields"],
        json!({"department": "Sales", "allowedFeatures": ["product_management"]})
    );
    assert_eq!(group["createdAt"], group["updatedAt"]);
    assert!(group.get("deletedAt").is_none());
    let id = group["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(id, id.to_lowercase());
    let created = group["createdAt"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{created}"
    );
    assert_eq!(
        response.headers.get("content-type").unwrap(),
        "application/json; charset=utf-8"
    );
}

#[actix_web::test]
async fn extra_fields_keep_their_key_order_and_exact_number_text() {
    let app = spawn_app().await;
    let body = r#"{"name":"Numbers","extraFields":{"z":1.50,"a":12345678901234567890123,"m":{"y":1e3,"b":-0.0}}}"#;

    let created = app
        .call("POST", "/api/v1/user-groups")
        .raw_body(body)
        .content_type(Some("application/json"))
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();

    // Parsed into serde_json::Value the order and the number text would be lost, so compare the
    // raw answer text of a fresh GET.
    let raw = {
        let request = actix_web::test::TestRequest::get().uri(&group_path(&id));
        let mut request = request;
        for (name, value) in app.call("GET", &group_path(&id)).headers() {
            request = request.append_header((name, value));
        }
        let service = actix_web::test::init_service(
            actix_web::App::new().configure(|cfg| usergroups::configure(cfg, app.state.clone())),
        )
        .await;
        let response = actix_web::test::call_service(&service, request.to_request()).await;
        String::from_utf8(actix_web::test::read_body(response).await.to_vec()).unwrap()
    };
    assert!(
        raw.contains(
            r#""extraFields":{"z":1.50,"a":12345678901234567890123,"m":{"y":1e3,"b":-0.0}}"#
        ),
        "{raw}"
    );
}

#[actix_web::test]
async fn extra_fields_default_to_an_empty_object_and_must_be_an_object() {
    let app = spawn_app().await;

    let group = app.create_group("Plain").await;
    assert_eq!(group["extraFields"], json!({}));
    assert_eq!(group["description"], json!(null));
    assert_eq!(group["externalId"], json!(null));

    for (value, why) in [
        (json!([1, 2]), "an array is not an object"),
        (json!("text"), "a string is not an object"),
        (json!(null), "null is not an object"),
    ] {
        let response = app
            .post(
                "/api/v1/user-groups",
                json!({"name": "X", "extraFields": value}),
            )
            .await;
        response.assert_error(400);
        assert_eq!(response.error_fields(), ["extraFields"], "{why}");
    }
}

#[actix_web::test]
async fn invalid_group_input_is_a_400_listing_every_bad_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), vec!["name"], "name is required"),
        (
            json!({"name": "   "}),
            vec!["name"],
            "a blank name is empty once trimmed",
        ),
        (
            json!({"name": "x".repeat(256)}),
            vec!["name"],
            "names are at most 255 characters",
        ),
        (json!({"name": 7}), vec!["name"], "a name must be a string"),
        (json!({"name": null}), vec!["name"], "a name cannot be null"),
        (
            json!({"name": "ok", "description": "d".repeat(2001)}),
            vec!["description"],
            "descriptions are at most 2000 characters",
        ),
        (
            json!({"name": "ok", "externalId": "e".repeat(256)}),
            vec!["externalId"],
            "externalIds are at most 255 characters",
        ),
        (
            json!({"name": "ok", "color": "red"}),
            vec!["color"],
            "unknown fields are refused",
        ),
        (
            json!({"name": "", "description": 5, "externalId": [], "extraFields": 1, "other": true}),
            vec!["name", "description", "externalId", "extraFields", "other"],
            "every bad field is listed at once",
        ),
    ];
    for (body, fields, why) in cases {
        let response = app.post("/api/v1/user-groups", body).await;
        response.assert_error(400);
        assert_eq!(response.message(), "Invalid input", "{why}");
        assert_eq!(response.error_fields(), fields, "{why}: {}", response.body);
    }
}

#[actix_web::test]
async fn lengths_are_counted_in_unicode_characters() {
    let app = spawn_app().await;
    let name = "é".repeat(255);

    let response = app.create_group_with(&named(&name)).await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["name"], name.as_str());
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_400_on_the_body() {
    let app = spawn_app().await;
    for (body, why) in [
        ("{\"name\": ", "truncated JSON"),
        ("", "an empty body"),
        ("[1]", "an array"),
        ("{\"name\":\"a\",\"name\":\"b\"}", "a repeated field"),
        ("{\"name\":\"a\"} x", "trailing characters"),
    ] {
        let response = app
            .call("POST", "/api/v1/user-groups")
            .raw_body(body)
            .content_type(Some("application/json"))
            .send()
            .await;
        response.assert_error(400);
        assert!(
            !response.error_fields().is_empty(),
            "{why}: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn a_live_name_or_external_id_cannot_be_taken_twice() {
    let app = spawn_app().await;
    app.create_group_with(&CreateGroup {
        external_id: Some("S1".into()),
        ..named("Sales")
    })
    .await;

    let same_name = app.create_group_with(&named("Sales")).await;
    let same_external_id = app
        .create_group_with(&CreateGroup {
            external_id: Some("S1".into()),
            ..named("Other")
        })
        .await;
    let other_case = app
        .create_group_with(&CreateGroup {
            external_id: Some("s1".into()),
            ..named("sales")
        })
        .await;

    same_name.assert_error(409);
    assert_eq!(same_name.error_fields(), ["name"]);
    same_external_id.assert_error(409);
    assert_eq!(same_external_id.error_fields(), ["externalId"]);
    assert_eq!(
        other_case.status,
        StatusCode::CREATED,
        "names compare exactly: {}",
        other_case.body
    );
}

#[actix_web::test]
async fn a_deleted_group_does_not_block_the_reuse_of_its_name_and_external_id() {
    let app = spawn_app().await;
    let sales = CreateGroup {
        external_id: Some("S1".into()),
        ..named("Sales")
    };
    let first = app.create_group_with(&sales).await;
    let id = first.body["id"].as_str().unwrap();
    app.delete(&group_path(id)).await;

    let again = app.create_group_with(&sales).await;

    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_ne!(again.body["id"], first.body["id"]);
}
