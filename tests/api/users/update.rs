//! `PUT /api/v1/users/{id}`: a partial update, where a field left out keeps its value, `null`
//! clears the avatar or the membership, and the email can never change.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use usergroups::api::{CreateUser, UpdateUser};
use usergroups::role::Role;

use super::{accented, avatar_of_length, deleted_group, new_user_with};
use crate::helpers::{id_of, spawn_app, unknown_id, user_path};

#[actix_web::test]
async fn an_update_changes_only_the_fields_it_sends() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);
    let created = app
        .create_user_with(&CreateUser {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            role: Some(Role::Editor),
            avatar: Some("https://cdn.example.com/ada.png".into()),
            user_group_id: Some(group_id),
        })
        .await
        .body;
    let id = id_of(&created);

    let response = app
        .update_user(
            &id,
            &UpdateUser {
                first_name: Some(" Augusta ".into()),
                ..UpdateUser::default()
            },
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let mut expected = created.clone();
    expected["firstName"] = json!("Augusta");
    expected["fullName"] = json!("Augusta Lovelace");
    expected["updatedAt"] = response.body["updatedAt"].clone();
    assert_eq!(response.body, expected);
    assert!(response.body["updatedAt"].as_str() >= created["updatedAt"].as_str());
    let read = app.get(&user_path(&id)).await;
    assert_eq!(read.body, response.body);
}

#[actix_web::test]
async fn an_update_can_change_every_changeable_field_at_once() {
    let app = spawn_app().await;
    let sales = id_of(&app.create_group("Sales").await);
    let support = id_of(&app.create_group("Support").await);
    let id = id_of(&app.create_user("ada@example.com", Some(&sales)).await);

    let response = app
        .update_user(
            &id,
            &UpdateUser {
                first_name: Some("Grace".into()),
                last_name: Some("Hopper".into()),
                role: Some(Role::Admin),
                avatar: Some(Some("https://cdn.example.com/grace.png".into())),
                user_group_id: Some(Some(support.clone())),
            },
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let user = &response.body;
    assert_eq!(user["fullName"], "Grace Hopper");
    assert_eq!(user["role"], "admin");
    assert_eq!(user["avatar"], "https://cdn.example.com/grace.png");
    assert_eq!(user["userGroupId"], support.as_str());
    assert_eq!(user["email"], "ada@example.com");
}

#[actix_web::test]
async fn an_empty_update_changes_nothing_but_the_update_time() {
    let app = spawn_app().await;
    let created = app.create_user("ada@example.com", None).await;

    let response = app
        .update_user(&id_of(&created), &UpdateUser::default())
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let mut expected = created.clone();
    expected["updatedAt"] = response.body["updatedAt"].clone();
    assert_eq!(response.body, expected);
}

#[actix_web::test]
async fn a_null_avatar_removes_the_avatar() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/users",
            new_user_with("avatar", json!("https://cdn.example.com/a.png")),
        )
        .await
        .body;

    let response = app
        .update_user(
            &id_of(&created),
            &UpdateUser {
                avatar: Some(None),
                ..UpdateUser::default()
            },
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["avatar"], Value::Null);
}

#[actix_web::test]
async fn an_update_can_change_the_role() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);

    let response = app
        .update_user(
            &id,
            &UpdateUser {
                role: Some(Role::Editor),
                ..UpdateUser::default()
            },
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "editor");
    assert_eq!(app.get(&user_path(&id)).await.body["role"], "editor");
}

#[actix_web::test]
async fn an_update_that_sends_an_email_is_a_400_even_when_it_is_unchanged() {
    let app = spawn_app().await;
    let created = app.create_user("ada@example.com", None).await;
    let id = id_of(&created);

    for email in [
        json!("other@example.com"),
        json!("ada@example.com"),
        Value::Null,
    ] {
        let response = app
            .put(
                &user_path(&id),
                json!({"email": email, "firstName": "Augusta"}),
            )
            .await;

        response.assert_error(400);
        assert_eq!(
            response.error_fields(),
            ["email"],
            "{email}: {}",
            response.body
        );
    }
    assert_eq!(app.get(&user_path(&id)).await.body, created);
}

#[actix_web::test]
async fn moving_a_user_into_a_group_that_does_not_exist_or_was_deleted_is_a_400() {
    let app = spawn_app().await;
    let created = app.create_user("ada@example.com", None).await;
    let id = id_of(&created);
    let former = deleted_group(&app, "Former").await;

    for (what, group_id) in [
        ("an unknown group", unknown_id()),
        ("a deleted group", former),
    ] {
        let response = app
            .update_user(
                &id,
                &UpdateUser {
                    user_group_id: Some(Some(group_id)),
                    ..UpdateUser::default()
                },
            )
            .await;

        response.assert_error(400);
        assert_eq!(
            response.error_fields(),
            ["userGroupId"],
            "{what}: {}",
            response.body
        );
    }
    assert_eq!(app.get(&user_path(&id)).await.body, created);
}

#[actix_web::test]
async fn each_bad_field_of_an_update_is_a_400_naming_that_field_once() {
    let app = spawn_app().await;
    let created = app.create_user("ada@example.com", None).await;
    let id = id_of(&created);
    let cases = [
        (
            "firstName may not be empty",
            json!({"firstName": ""}),
            "firstName",
        ),
        (
            "firstName may not be blank",
            json!({"firstName": "  "}),
            "firstName",
        ),
        (
            "firstName may not be null",
            json!({"firstName": null}),
            "firstName",
        ),
        (
            "firstName of 101 characters is too long",
            json!({"firstName": accented(101)}),
            "firstName",
        ),
        (
            "lastName may not be null",
            json!({"lastName": null}),
            "lastName",
        ),
        (
            "lastName of 101 characters is too long",
            json!({"lastName": "x".repeat(101)}),
            "lastName",
        ),
        (
            "lastName must be a string",
            json!({"lastName": 3}),
            "lastName",
        ),
        ("role must be a known role", json!({"role": "root"}), "role"),
        ("role may not be null", json!({"role": null}), "role"),
        (
            "avatar must be https",
            json!({"avatar": "http://cdn.example.com/a.png"}),
            "avatar",
        ),
        (
            "avatar of 2049 characters is too long",
            json!({"avatar": avatar_of_length(2_049)}),
            "avatar",
        ),
        (
            "userGroupId must be a UUID",
            json!({"userGroupId": "sales"}),
            "userGroupId",
        ),
        (
            "userGroupId must be a string",
            json!({"userGroupId": false}),
            "userGroupId",
        ),
        (
            "an unknown field is refused",
            json!({"nickname": "Ada"}),
            "nickname",
        ),
        ("the id is not a field", json!({"id": id}), "id"),
    ];

    for (what, body, field) in cases {
        let response = app.put(&user_path(&id), body).await;

        response.assert_error(400);
        assert_eq!(
            response.error_fields(),
            [field],
            "{what}: {}",
            response.body
        );
    }
    assert_eq!(app.get(&user_path(&id)).await.body, created);
}

#[actix_web::test]
async fn an_update_with_several_bad_fields_lists_every_one_of_them() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);

    let response = app
        .put(
            &user_path(&id),
            json!({"firstName": "", "email": "x@example.com", "role": "root", "avatar": 1, "extra": true}),
        )
        .await;

    response.assert_error(400);
    let mut fields = response.error_fields();
    fields.sort();
    assert_eq!(fields, ["avatar", "email", "extra", "firstName", "role"]);
}

#[actix_web::test]
async fn a_100_character_name_is_accepted_by_an_update() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);

    let response = app
        .update_user(
            &id,
            &UpdateUser {
                last_name: Some(accented(100)),
                ..UpdateUser::default()
            },
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["lastName"], accented(100));
}

#[actix_web::test]
async fn updating_a_user_that_does_not_exist_is_a_404() {
    let app = spawn_app().await;

    let response = app
        .update_user(
            &unknown_id(),
            &UpdateUser {
                first_name: Some("Ada".into()),
                ..UpdateUser::default()
            },
        )
        .await;

    response.assert_error(404);
    assert_eq!(response.message(), "User not found");
}

#[actix_web::test]
async fn a_bad_body_is_a_400_even_for_a_user_that_does_not_exist() {
    let app = spawn_app().await;

    let response = app
        .put(&user_path(&unknown_id()), json!({"firstName": ""}))
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["firstName"]);
}

#[actix_web::test]
async fn an_update_to_a_malformed_id_is_a_400_on_id() {
    let app = spawn_app().await;

    let response = app
        .put("/api/v1/users/12345", json!({"firstName": "Ada"}))
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["id"]);
}

#[actix_web::test]
async fn an_update_without_a_json_content_type_is_a_415() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);

    let response = app
        .call("PUT", &user_path(&id))
        .raw_body(r#"{"firstName":"Augusta"}"#)
        .content_type(None)
        .send()
        .await;

    response.assert_error(415);
}
