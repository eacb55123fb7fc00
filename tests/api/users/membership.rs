//! A user's group: joining it makes the user an active member that keeps the group from being
//! deleted, and leaving it (a `null` `userGroupId` or the user's deletion) lets the group go.

use actix_web::http::StatusCode;
use serde_json::Value;

use usergroups::api::UpdateUser;

use crate::helpers::{group_path, id_of, spawn_app, user_path};

#[actix_web::test]
async fn a_user_created_in_a_group_is_an_active_member_that_blocks_its_deletion() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);

    app.create_user("ada@example.com", Some(&group_id)).await;

    app.delete(&group_path(&group_id)).await.assert_error(403);
}

#[actix_web::test]
async fn a_null_user_group_id_removes_the_user_from_its_group() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);
    let id = id_of(&app.create_user("ada@example.com", Some(&group_id)).await);

    let response = app
        .update_user(
            &id,
            &UpdateUser {
                user_group_id: Some(None),
                ..UpdateUser::default()
            },
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["userGroupId"], Value::Null);
    let members = app
        .get(&format!("/api/v1/users?userGroupId={group_id}"))
        .await;
    assert_eq!(members.body["total"], 0);
    let deleted = app.delete(&group_path(&group_id)).await;
    assert_eq!(
        deleted.status,
        StatusCode::OK,
        "the group has no member left: {}",
        deleted.body
    );
}

#[actix_web::test]
async fn deleting_a_groups_only_member_lets_the_group_be_deleted() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);
    let id = id_of(&app.create_user("ada@example.com", Some(&group_id)).await);

    app.delete(&user_path(&id)).await;
    let response = app.delete(&group_path(&group_id)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}
