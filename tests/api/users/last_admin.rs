//! The organization keeps at least one live admin: deleting or demoting the last one is a 403,
//! on `DELETE` and `PUT` alike, and only live admins count.

use actix_web::http::StatusCode;
use usergroups::api::UpdateUser;
use usergroups::role::Role;

use crate::helpers::{id_of, spawn_app, user_path};

/// An update that changes the role and nothing else.
fn to_role(role: Role) -> UpdateUser {
    UpdateUser {
        role: Some(role),
        ..UpdateUser::default()
    }
}

#[actix_web::test]
async fn deleting_the_last_admin_is_refused() {
    let app = spawn_app().await;
    let admin = app
        .create_user_with_role("admin@example.com", None, "admin")
        .await;
    app.create_user_with_role("editor@example.com", None, "editor")
        .await;

    let response = app.delete(&user_path(&id_of(&admin))).await;

    response.assert_error(403);
    assert_eq!(
        response.message(),
        "Cannot delete the organization's last admin user"
    );
    assert_eq!(app.get(&user_path(&id_of(&admin))).await.body, admin);
}

#[actix_web::test]
async fn demoting_the_last_admin_is_refused() {
    let app = spawn_app().await;
    let admin = app
        .create_user_with_role("admin@example.com", None, "admin")
        .await;

    for role in [Role::Editor, Role::Creator] {
        let response = app
            .update_user(
                &id_of(&admin),
                &UpdateUser {
                    role: Some(role),
                    first_name: Some("Changed".into()),
                    ..UpdateUser::default()
                },
            )
            .await;

        response.assert_error(403);
        assert_eq!(
            response.message(),
            "Cannot demote the organization's last admin user",
            "{role}"
        );
    }
    assert_eq!(app.get(&user_path(&id_of(&admin))).await.body, admin);
}

#[actix_web::test]
async fn the_last_admin_can_still_be_updated_without_a_demotion() {
    let app = spawn_app().await;
    let id = id_of(
        &app.create_user_with_role("admin@example.com", None, "admin")
            .await,
    );

    let response = app
        .update_user(
            &id,
            &UpdateUser {
                role: Some(Role::Admin),
                first_name: Some("Grace".into()),
                ..UpdateUser::default()
            },
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

    let response = app.delete(&user_path(&first)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let last = app.delete(&user_path(&second)).await;
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

    let response = app.update_user(&first, &to_role(Role::Editor)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "editor");
    let last = app.update_user(&second, &to_role(Role::Creator)).await;
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
    assert_eq!(app.delete(&user_path(&gone)).await.status, StatusCode::OK);

    let deleted = app.delete(&user_path(&kept)).await;
    let demoted = app.update_user(&kept, &to_role(Role::Editor)).await;

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
    let promoted = app.update_user(&editor, &to_role(Role::Admin)).await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);

    let response = app.update_user(&admin, &to_role(Role::Creator)).await;

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

    let response = app.delete(&user_path(&id)).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}
