//! `PUT /api/v1/user-groups/{id}`: a partial update, where a field left out keeps its value and
//! `null` clears the description or the external id.

use actix_web::http::StatusCode;
use serde_json::json;

use usergroups::api::UpdateGroup;

use crate::helpers::{group_path, spawn_app, unknown_id};

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

    let renamed = app.put(&group_path(id), json!({"name": " Revenue "})).await;
    let cleared = app
        .put(
            &group_path(id),
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
    assert_eq!(app.get(&group_path(id)).await.body, cleared.body);
}

#[actix_web::test]
async fn an_update_to_a_taken_name_is_a_409_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_group("Sales").await;
    let other = app.create_group("Support").await;
    let id = other["id"].as_str().unwrap();

    let response = app
        .update_group(
            id,
            &UpdateGroup {
                name: Some("Sales".into()),
                description: Some(Some("x".into())),
                ..UpdateGroup::default()
            },
        )
        .await;

    response.assert_error(409);
    assert_eq!(app.get(&group_path(id)).await.body, other);
}

#[actix_web::test]
async fn updating_a_missing_group_is_a_404_and_bad_input_a_400() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let id = group["id"].as_str().unwrap();

    let missing = app
        .update_group(
            &unknown_id(),
            &UpdateGroup {
                name: Some("X".into()),
                ..UpdateGroup::default()
            },
        )
        .await;
    let null_name = app.put(&group_path(id), json!({"name": null})).await;
    let unknown = app.put(&group_path(id), json!({"id": "x"})).await;

    missing.assert_error(404);
    assert_eq!(missing.message(), "User group not found");
    null_name.assert_error(400);
    assert_eq!(null_name.error_fields(), ["name"]);
    unknown.assert_error(400);
    assert_eq!(unknown.error_fields(), ["id"]);
}
