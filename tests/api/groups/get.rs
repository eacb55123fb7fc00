//! `GET /api/v1/user-groups/{id}`: one group by id, and the 404 and 400 of an unknown or malformed
//! id.

use actix_web::http::StatusCode;

use crate::helpers::{group_path, spawn_app, unknown_id};

#[actix_web::test]
async fn getting_a_group_returns_it_and_unknown_ids_are_404() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let id = group["id"].as_str().unwrap();

    let found = app.get(&group_path(id)).await;
    let missing = app.get(&group_path(&unknown_id())).await;
    let malformed = app.get("/api/v1/user-groups/not-a-uuid").await;

    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body, group);
    missing.assert_error(404);
    assert_eq!(missing.message(), "User group not found");
    malformed.assert_error(400);
    assert_eq!(malformed.error_fields(), ["id"]);
}
