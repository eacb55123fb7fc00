//! The organization keeps at least one live admin: deleting or demoting the last one is a 403,
//! on `DELETE` and `PUT` alike, and only live admins count.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{id_of, spawn_app};

#[actix_web::test]
async fn deleting_the_last_admin_is_refused() {
    let app = spawn_app().await;
    let admin = app
        .create_user_with_role("admin@example.com", None, "admin")
        .await;
    app.create_user_with_role("editor@example.com", None, "editor")
        .await;

    let response = app
        .delete(&format!("/api/v1/users/{}", id_of(&admin)))
        .await;

    response.assert_error(403);
    assert_eq!(
        response.message(),
        "Cannot delete the organization's last admin user"
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{}", id_of(&admin)))
            .await
            .body,
        admin
    );
}

#[actix_web::test]
async fn demoting_the_last_admin_is_refused() {
    let app = spawn_app().await;
    let admin = app
        .create_user_with_role("admin@example.com", None, "admin")
        .await;

    for role in ["editor", "creator"] {
        let response = app
            .put(
                &format!("/api/v1/users/{}", id_of(&admin)),
                json!({"role": role, "firstName": "Changed"}),
            )
            .await;

        response.assert_error(403);
        assert_eq!(
            response.message(),
            "Cannot demote the organization's last admin user",
            "{role}"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/users/{}", id_of(&admin)))
            .await
            .body,
        admin
    );
}

#[actix_web::test]
async fn the_last_admin_can_still_be_updated_without_a_demotion() {
    let app = spawn_app().await;
    let id = id_of(
        &app.create_user_with_role("admin@example.com", None, "admin")
            .await,
    );

    let response = app
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"role": "admin", "firstName": "Grace"}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "admin");
    assert_eq!(response.body["firstName"], "Grace");
}

#[actix_web::test]
async fn an_admin_can_be_deleted_while_another_live_admin_remains() {
    let app = spawn_app().await;
    let first = id_of(
        &app.create_user_with_role("first@example.com", None, "admin")
            .await,
    );
    let second = id_of(
        &app.create_user_with_role("second@example.com", None, "admin")
            .await,
    );

    let response = app.delete(&format!("/api/v1/users/{first}")).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let last = app.delete(&format!("/api/v1/users/{second}")).await;
    last.assert_error(403);
    assert_eq!(
        last.message(),
        "Cannot delete the organization's last admin user"
    );
}

#[actix_web::test]
async fn an_admin_can_be_demoted_while_another_live_admin_remains() {
    let app = spawn_app().await;
    let first = id_of(
        &app.create_user_with_role("first@example.com", None, "admin")
            .await,
    );
    let second = id_of(
        &app.create_user_with_role("second@example.com", None, "admin")
            .await,
    );

    let response = app
        .put(&format!("/api/v1/users/{first}"), json!({"role": "editor"}))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "editor");
    let last = app
        .put(
            &format!("/api/v1/users/{second}"),
            json!({"role": "creator"}),
        )
        .await;
    last.assert_error(403);
    assert_eq!(
        last.message(),
        "Cannot demote the organization's last admin user"
    );
}

#[actix_web::test]
async fn a_deleted_admin_does_not_count_as_another_admin() {
    let app = spawn_app().await;
    let kept = id_of(
        &app.create_user_with_role("kept@example.com", None, "admin")
            .await,
    );
    let gone = id_of(
        &app.create_user_with_role("gone@example.com", None, "admin")
            .await,
    );
    assert_eq!(
        app.delete(&format!("/api/v1/users/{gone}")).await.status,
        StatusCode::OK
    );

    let deleted = app.delete(&format!("/api/v1/users/{kept}")).await;
    let demoted = app
        .put(&format!("/api/v1/users/{kept}"), json!({"role": "editor"}))
        .await;

    deleted.assert_error(403);
    demoted.assert_error(403);
}

#[actix_web::test]
async fn promoting_a_user_lets_the_former_last_admin_be_demoted() {
    let app = spawn_app().await;
    let admin = id_of(
        &app.create_user_with_role("admin@example.com", None, "admin")
            .await,
    );
    let editor = id_of(
        &app.create_user_with_role("editor@example.com", None, "editor")
            .await,
    );
    let promoted = app
        .put(&format!("/api/v1/users/{editor}"), json!({"role": "admin"}))
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);

    let response = app
        .put(
            &format!("/api/v1/users/{admin}"),
            json!({"role": "creator"}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "creator");
}

#[actix_web::test]
async fn users_who_are_not_admins_can_be_deleted_when_there_is_no_admin_at_all() {
    let app = spawn_app().await;
    let id = id_of(
        &app.create_user_with_role("editor@example.com", None, "editor")
            .await,
    );

    let response = app.delete(&format!("/api/v1/users/{id}")).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}
