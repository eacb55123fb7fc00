//! `DELETE /api/v1/user-groups/{id}`: the soft delete, which answers the final group and keeps the
//! row, and the 403 while the group has active members.

use actix_web::http::StatusCode;
use serde_json::json;

use usergroups::api::UpdateGroup;

use crate::helpers::{group_path, spawn_app};

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

    let response = app.delete(&group_path(id)).await;

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
    app.delete(&group_path(&id)).await;

    let get = app.get(&group_path(&id)).await;
    let put = app
        .update_group(
            &id,
            &UpdateGroup {
                name: Some("Back".into()),
                ..UpdateGroup::default()
            },
        )
        .await;
    let delete_again = app.delete(&group_path(&id)).await;
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

    let response = app.delete(&group_path(&id)).await;

    response.assert_error(403);
    assert_eq!(
        response.message(),
        "Cannot delete user group with active members"
    );
    assert_eq!(response.reason(), "group_has_active_members");
    assert_eq!(response.body["activeMembers"], 2);
    assert_eq!(app.get(&group_path(&id)).await.status, StatusCode::OK);
}
