//! `DELETE /api/v1/users/{id}`: the soft delete, which answers the final user, keeps the row
//! with its deletion time, and hides it from every route after.

use actix_web::http::StatusCode;

use usergroups::api::UpdateUser;

use crate::helpers::{count, id_of, spawn_app, unknown_id, user_path};

#[actix_web::test]
async fn deleting_a_user_returns_it_with_deleted_at_equal_to_updated_at() {
    let app = spawn_app().await;
    let created = app.create_user("ada@example.com", None).await;

    let response = app.delete(&user_path(&id_of(&created))).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let user = &response.body;
    assert!(user["deletedAt"].is_string(), "{user}");
    assert_eq!(user["deletedAt"], user["updatedAt"]);
    let mut expected = created.clone();
    expected["updatedAt"] = user["updatedAt"].clone();
    expected["deletedAt"] = user["deletedAt"].clone();
    assert_eq!(*user, expected);
}

#[actix_web::test]
async fn a_deleted_user_is_gone_from_get_update_and_delete() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);
    let path = user_path(&id);
    app.delete(&path).await;

    let got = app.get(&path).await;
    let updated = app
        .update_user(
            &id,
            &UpdateUser {
                first_name: Some("Back".into()),
                ..UpdateUser::default()
            },
        )
        .await;
    let deleted_again = app.delete(&path).await;

    for (what, response) in [
        ("get", got),
        ("update", updated),
        ("second delete", deleted_again),
    ] {
        response.assert_error(404);
        assert_eq!(response.message(), "User not found", "{what}");
    }
}

#[actix_web::test]
async fn a_deleted_user_stays_in_the_database_with_its_deletion_time() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);

    app.delete(&user_path(&id)).await;

    let mut conn = app.connection();
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) AS n FROM users WHERE id = '{id}' AND deleted_at IS NOT NULL"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) AS n FROM users WHERE id = '{id}' AND email = 'ada@example.com'"
            )
        ),
        1
    );
}

#[actix_web::test]
async fn a_failed_update_does_not_bring_a_deleted_user_back() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);
    let deleted = app.delete(&user_path(&id)).await.body;

    app.update_user(
        &id,
        &UpdateUser {
            first_name: Some("Back".into()),
            ..UpdateUser::default()
        },
    )
    .await;

    let mut conn = app.connection();
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT COUNT(*) AS n FROM users WHERE id = '{id}' AND deleted_at IS NOT NULL AND first_name = 'Ada'")
        ),
        1,
        "deleted as {deleted}"
    );
}

#[actix_web::test]
async fn deleting_a_user_that_does_not_exist_is_a_404() {
    let app = spawn_app().await;

    let response = app.delete(&user_path(&unknown_id())).await;

    response.assert_error(404);
    assert_eq!(response.message(), "User not found");
}

#[actix_web::test]
async fn deleting_a_user_by_a_malformed_id_is_a_400_on_id() {
    let app = spawn_app().await;

    let response = app.delete("/api/v1/users/nobody").await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["id"]);
}
