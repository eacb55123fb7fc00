//! A group's members: once every member has left or been deleted, nothing keeps the group from
//! being deleted.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

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
