//! A group's members: once every member has left or been deleted, nothing keeps the group from
//! being deleted.

use actix_web::http::StatusCode;

use usergroups::api::UpdateUser;

use crate::helpers::{group_path, spawn_app, user_path};

#[actix_web::test]
async fn a_group_whose_members_left_or_were_deleted_can_be_deleted() {
    let app = spawn_app().await;
    let id = app.create_group("Sales").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = app.create_user("ada@example.com", Some(&id)).await;
    let deleted = app.create_user("grace@example.com", Some(&id)).await;
    app.update_user(
        moved["id"].as_str().unwrap(),
        &UpdateUser {
            user_group_id: Some(None),
            ..UpdateUser::default()
        },
    )
    .await;
    app.delete(&user_path(deleted["id"].as_str().unwrap()))
        .await;

    let response = app.delete(&group_path(&id)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}
