//! The permission each user route needs (`users:read`, `users:write`, `users:delete`), and that
//! a missing one is refused before the body or the id are looked at.

use actix_web::http::StatusCode;
use serde_json::json;

use super::new_user;
use crate::helpers::{count, id_of, ids_of, spawn_app, unknown_id, user_path};

/// Every permission but `missing`.
fn all_but(missing: &str) -> String {
    [
        "user-groups:read",
        "user-groups:write",
        "user-groups:delete",
        "users:read",
        "users:write",
        "users:delete",
    ]
    .into_iter()
    .filter(|p| *p != missing)
    .collect::<Vec<_>>()
    .join(",")
}

#[actix_web::test]
async fn a_key_without_the_routes_permission_is_refused_with_the_contracts_message() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);
    let user_path = user_path(&id);
    let read = "Access key is not allowed to read users";
    let write = "Access key is not allowed to write users";
    let delete = "Access key is not allowed to delete users";
    let cases = [
        (
            "listing needs users:read",
            "users:read",
            "GET",
            "/api/v1/users".to_owned(),
            None,
            read,
        ),
        (
            "getting needs users:read",
            "users:read",
            "GET",
            user_path.clone(),
            None,
            read,
        ),
        (
            "creating needs users:write",
            "users:write",
            "POST",
            "/api/v1/users".to_owned(),
            Some(new_user("new@example.com")),
            write,
        ),
        (
            "updating needs users:write",
            "users:write",
            "PUT",
            user_path.clone(),
            Some(json!({"firstName": "Eve"})),
            write,
        ),
        (
            "deleting needs users:delete",
            "users:delete",
            "DELETE",
            user_path.clone(),
            None,
            delete,
        ),
    ];

    for (what, missing, method, target, body, message) in cases {
        let key = app.key_with(&all_but(missing));
        let mut call = app.call(method, &target).credentials(&key);
        if let Some(body) = &body {
            call = call.json(body);
        }

        let response = call.send().await;

        response.assert_error(403);
        assert_eq!(response.message(), message, "{what}");
    }
    let unchanged = app.get(&user_path).await;
    assert_eq!(unchanged.body["firstName"], "Ada");
    assert_eq!(
        count(&mut app.connection(), "SELECT COUNT(*) AS n FROM users"),
        1
    );
}

#[actix_web::test]
async fn a_missing_permission_wins_over_a_bad_body_and_a_missing_user() {
    let app = spawn_app().await;
    let key = app.key_with("users:read");
    let missing = user_path(&unknown_id());

    let bad_create = app
        .call("POST", "/api/v1/users")
        .json(&json!({"firstName": ""}))
        .credentials(&key)
        .send()
        .await;
    let bad_update = app
        .call("PUT", &missing)
        .json(&json!({"email": 1}))
        .credentials(&key)
        .send()
        .await;
    let missing_delete = app.call("DELETE", &missing).credentials(&key).send().await;
    let not_json = app
        .call("POST", "/api/v1/users")
        .raw_body("x")
        .content_type(Some("text/plain"))
        .credentials(&key)
        .send()
        .await;

    bad_create.assert_error(403);
    bad_update.assert_error(403);
    missing_delete.assert_error(403);
    not_json.assert_error(403);
    assert_eq!(
        missing_delete.message(),
        "Access key is not allowed to delete users"
    );
}

#[actix_web::test]
async fn a_key_with_only_users_read_can_list_and_get_users() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com", None).await;
    let key = app.key_with("users:read");

    let listed = app
        .call("GET", "/api/v1/users")
        .credentials(&key)
        .send()
        .await;
    let got = app
        .call("GET", &user_path(&id_of(&user)))
        .credentials(&key)
        .send()
        .await;

    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(ids_of(&listed.body), [id_of(&user)]);
    assert_eq!(got.body, user);
}

#[actix_web::test]
async fn a_key_with_only_users_write_and_delete_can_create_update_and_delete_users() {
    let app = spawn_app().await;
    let key = app.key_with("users:write,users:delete");

    let created = app
        .call("POST", "/api/v1/users")
        .json(&new_user("ada@example.com"))
        .credentials(&key)
        .send()
        .await;
    let path = user_path(&id_of(&created.body));
    let updated = app
        .call("PUT", &path)
        .json(&json!({"role": "editor"}))
        .credentials(&key)
        .send()
        .await;
    let deleted = app.call("DELETE", &path).credentials(&key).send().await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
}
