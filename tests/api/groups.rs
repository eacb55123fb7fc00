//! User groups: create, list, get, update and the soft delete, row by row of the contract.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

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
        let request = actix_web::test::TestRequest::get().uri(&format!("/api/v1/user-groups/{id}"));
        let mut request = request;
        for (name, value) in app
            .call("GET", &format!("/api/v1/user-groups/{id}"))
            .headers()
        {
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

    let response = app.post("/api/v1/user-groups", json!({"name": name})).await;

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
    app.post(
        "/api/v1/user-groups",
        json!({"name": "Sales", "externalId": "S1"}),
    )
    .await;

    let same_name = app
        .post("/api/v1/user-groups", json!({"name": "Sales"}))
        .await;
    let same_external_id = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "Other", "externalId": "S1"}),
        )
        .await;
    let other_case = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "sales", "externalId": "s1"}),
        )
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
    let first = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "Sales", "externalId": "S1"}),
        )
        .await;
    let id = first.body["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/user-groups/{id}")).await;

    let again = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "Sales", "externalId": "S1"}),
        )
        .await;

    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_ne!(again.body["id"], first.body["id"]);
}

#[actix_web::test]
async fn listing_pages_newest_first_with_totals() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.create_group(&format!("Group {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids.reverse();

    let first = app.get("/api/v1/user-groups?limit=2").await;
    let last = app.get("/api/v1/user-groups?limit=2&page=3").await;
    let beyond = app.get("/api/v1/user-groups?limit=2&page=4").await;

    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["total"], 5);
    assert_eq!(first.body["totalPages"], 3);
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["limit"], 2);
    let listed: Vec<_> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids[..2]);
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["items"][0]["id"], ids[4].as_str());
    assert_eq!(beyond.body["items"], json!([]));
    assert_eq!(beyond.body["total"], 5);
}

#[actix_web::test]
async fn an_empty_list_has_zero_pages_and_defaults_to_page_1_of_20() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/user-groups").await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.body,
        json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0})
    );
}

#[actix_web::test]
async fn bad_paging_parameters_are_a_400_naming_each() {
    let app = spawn_app().await;
    for (query, fields, why) in [
        ("page=0", vec!["page"], "pages start at 1"),
        ("page=-1", vec!["page"], "negative pages"),
        ("page=abc", vec!["page"], "non-numeric page"),
        ("limit=0", vec!["limit"], "limit starts at 1"),
        ("limit=101", vec!["limit"], "limit stops at 100"),
        ("limit=1.5", vec!["limit"], "fractional limit"),
        ("page=0&limit=500", vec!["page", "limit"], "both listed"),
        (
            "organizationId=nope",
            vec!["organizationId"],
            "organizationId must be a UUID",
        ),
    ] {
        let response = app.get(&format!("/api/v1/user-groups?{query}")).await;
        response.assert_error(400);
        assert_eq!(response.error_fields(), fields, "{why}: {}", response.body);
    }
    let ok = app.get("/api/v1/user-groups?limit=100&page=99999999").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[actix_web::test]
async fn search_matches_name_or_description_case_insensitively_with_literal_wildcards() {
    let app = spawn_app().await;
    app.post("/api/v1/user-groups", json!({"name": "Global Sales"}))
        .await;
    app.post(
        "/api/v1/user-groups",
        json!({"name": "Support", "description": "Handles SALES escalations"}),
    )
    .await;
    app.post("/api/v1/user-groups", json!({"name": "Growth 100%"}))
        .await;
    app.post("/api/v1/user-groups", json!({"name": "Équipe"}))
        .await;
    app.post("/api/v1/user-groups", json!({"name": "a_b"}))
        .await;
    app.post("/api/v1/user-groups", json!({"name": "axb"}))
        .await;

    let names = |response: crate::helpers::TestResponse| -> Vec<String> {
        let mut names: Vec<String> = response.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };

    assert_eq!(
        names(app.get("/api/v1/user-groups?search=sales").await),
        ["Global Sales", "Support"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=100%25").await),
        ["Growth 100%"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=%25").await),
        ["Growth 100%"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=a_b").await),
        ["a_b"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=%C3%89QUIPE").await),
        ["Équipe"]
    );
    assert_eq!(
        names(app.get("/api/v1/user-groups?search=global+sales").await),
        ["Global Sales"]
    );
    assert_eq!(
        app.get("/api/v1/user-groups?search=nothing").await.body["total"],
        0
    );
}

#[actix_web::test]
async fn getting_a_group_returns_it_and_unknown_ids_are_404() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let id = group["id"].as_str().unwrap();

    let found = app.get(&format!("/api/v1/user-groups/{id}")).await;
    let missing = app
        .get(&format!("/api/v1/user-groups/{}", uuid::Uuid::now_v7()))
        .await;
    let malformed = app.get("/api/v1/user-groups/not-a-uuid").await;

    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body, group);
    missing.assert_error(404);
    assert_eq!(missing.message(), "User group not found");
    malformed.assert_error(400);
    assert_eq!(malformed.error_fields(), ["id"]);
}

#[actix_web::test]
async fn an_update_changes_only_the_fields_sent() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "Sales", "description": "d", "externalId": "E", "extraFields": {"a": 1}}),
        )
        .await
        .body;
    let id = created["id"].as_str().unwrap();

    let renamed = app
        .put(
            &format!("/api/v1/user-groups/{id}"),
            json!({"name": " Revenue "}),
        )
        .await;
    let cleared = app
        .put(
            &format!("/api/v1/user-groups/{id}"),
            json!({"description": null, "externalId": null, "extraFields": {"b": [true]}}),
        )
        .await;

    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["name"], "Revenue");
    assert_eq!(renamed.body["description"], "d");
    assert_eq!(renamed.body["extraFields"], json!({"a": 1}));
    assert_eq!(cleared.body["name"], "Revenue");
    assert_eq!(cleared.body["description"], json!(null));
    assert_eq!(cleared.body["externalId"], json!(null));
    assert_eq!(
        cleared.body["extraFields"],
        json!({"b": [true]}),
        "extraFields is replaced whole"
    );
    assert_eq!(cleared.body["createdAt"], created["createdAt"]);
    assert!(cleared.body["updatedAt"].as_str() >= created["updatedAt"].as_str());
    assert_eq!(
        app.get(&format!("/api/v1/user-groups/{id}")).await.body,
        cleared.body
    );
}

#[actix_web::test]
async fn an_update_to_a_taken_name_is_a_409_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_group("Sales").await;
    let other = app.create_group("Support").await;
    let id = other["id"].as_str().unwrap();

    let response = app
        .put(
            &format!("/api/v1/user-groups/{id}"),
            json!({"name": "Sales", "description": "x"}),
        )
        .await;

    response.assert_error(409);
    assert_eq!(
        app.get(&format!("/api/v1/user-groups/{id}")).await.body,
        other
    );
}

#[actix_web::test]
async fn updating_a_missing_group_is_a_404_and_bad_input_a_400() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let id = group["id"].as_str().unwrap();

    let missing = app
        .put(
            &format!("/api/v1/user-groups/{}", uuid::Uuid::now_v7()),
            json!({"name": "X"}),
        )
        .await;
    let null_name = app
        .put(&format!("/api/v1/user-groups/{id}"), json!({"name": null}))
        .await;
    let unknown = app
        .put(&format!("/api/v1/user-groups/{id}"), json!({"id": "x"}))
        .await;

    missing.assert_error(404);
    assert_eq!(missing.message(), "User group not found");
    null_name.assert_error(400);
    assert_eq!(null_name.error_fields(), ["name"]);
    unknown.assert_error(400);
    assert_eq!(unknown.error_fields(), ["id"]);
}

#[actix_web::test]
async fn deleting_an_empty_group_returns_the_final_group_with_deleted_at() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "Sales", "extraFields": {"department": "Sales"}}),
        )
        .await
        .body;
    let id = created["id"].as_str().unwrap();

    let response = app.delete(&format!("/api/v1/user-groups/{id}")).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let group = &response.body;
    assert_eq!(group["id"], created["id"]);
    assert_eq!(group["extraFields"], json!({"department": "Sales"}));
    assert_eq!(group["name"], "Sales");
    assert!(group["deletedAt"].is_string(), "{group}");
    assert_eq!(group["deletedAt"], group["updatedAt"]);
}

#[actix_web::test]
async fn a_deleted_group_is_invisible_to_every_route_but_stays_in_the_database() {
    let app = spawn_app().await;
    let id = app.create_group("Sales").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/api/v1/user-groups/{id}")).await;

    let get = app.get(&format!("/api/v1/user-groups/{id}")).await;
    let put = app
        .put(
            &format!("/api/v1/user-groups/{id}"),
            json!({"name": "Back"}),
        )
        .await;
    let delete_again = app.delete(&format!("/api/v1/user-groups/{id}")).await;
    let list = app.get("/api/v1/user-groups").await;

    get.assert_error(404);
    put.assert_error(404);
    delete_again.assert_error(404);
    assert_eq!(delete_again.message(), "User group not found");
    assert_eq!(list.body["total"], 0);
    let kept = crate::helpers::count(
        &mut app.connection(),
        &format!(
            "SELECT COUNT(*) AS n FROM user_groups WHERE id = '{id}' AND deleted_at IS NOT NULL"
        ),
    );
    assert_eq!(kept, 1, "the row is soft-deleted, not removed");
}

#[actix_web::test]
async fn deleting_a_group_with_an_active_member_is_refused_with_the_member_count() {
    let app = spawn_app().await;
    let id = app.create_group("Sales").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_user("ada@example.com", Some(&id)).await;
    app.create_user("grace@example.com", Some(&id)).await;

    let response = app.delete(&format!("/api/v1/user-groups/{id}")).await;

    response.assert_error(403);
    assert_eq!(
        response.message(),
        "Cannot delete user group with active members"
    );
    assert_eq!(response.reason(), "group_has_active_members");
    assert_eq!(response.body["activeMembers"], 2);
    assert_eq!(
        app.get(&format!("/api/v1/user-groups/{id}")).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_group_whose_members_left_or_were_deleted_can_be_deleted() {
    let app = spawn_app().await;
    let id = app.create_group("Sales").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = app.create_user("ada@example.com", Some(&id)).await;
    let deleted = app.create_user("grace@example.com", Some(&id)).await;
    app.put(
        &format!("/api/v1/users/{}", moved["id"].as_str().unwrap()),
        json!({"userGroupId": null}),
    )
    .await;
    app.delete(&format!(
        "/api/v1/users/{}",
        deleted["id"].as_str().unwrap()
    ))
    .await;

    let response = app.delete(&format!("/api/v1/user-groups/{id}")).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[actix_web::test]
async fn each_group_route_needs_its_permission() {
    let app = spawn_app().await;
    let id = app.create_group("Sales").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = app.key_with("user-groups:read,users:read,users:write,users:delete");
    let writer = app.key_with("user-groups:write");
    let target = format!("/api/v1/user-groups/{id}");

    let cases = [
        (
            app.call("POST", "/api/v1/user-groups")
                .json(&json!({"name": "X"}))
                .credentials(&reader)
                .send()
                .await,
            "Access key is not allowed to write user groups",
        ),
        (
            app.call("PUT", &target)
                .json(&json!({"name": "X"}))
                .credentials(&reader)
                .send()
                .await,
            "Access key is not allowed to write user groups",
        ),
        (
            app.call("DELETE", &target)
                .credentials(&reader)
                .send()
                .await,
            "Access key is not allowed to delete user groups",
        ),
        (
            app.call("GET", &target).credentials(&writer).send().await,
            "Access key is not allowed to read user groups",
        ),
        (
            app.call("GET", "/api/v1/user-groups")
                .credentials(&writer)
                .send()
                .await,
            "Access key is not allowed to read user groups",
        ),
    ];
    for (response, message) in cases {
        response.assert_error(403);
        assert_eq!(response.message(), message);
    }
    let allowed = app.call("GET", &target).credentials(&reader).send().await;
    assert_eq!(allowed.status, StatusCode::OK);
}
