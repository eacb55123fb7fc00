//! `GET /api/v1/users/{id}`: one user by id, the 404 and 400 of an unknown or malformed id, and
//! what the route answers to a query, a trailing slash or another method.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{id_of, ids_of, spawn_app, unknown_id, user_path};

#[actix_web::test]
async fn getting_a_user_that_does_not_exist_is_a_404() {
    let app = spawn_app().await;

    let response = app.get(&user_path(&unknown_id())).await;

    response.assert_error(404);
    assert_eq!(
        response.body,
        json!({"statusCode": 404, "message": "User not found"})
    );
}

#[actix_web::test]
async fn getting_a_user_by_an_uppercase_id_finds_it() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com", None).await;

    let response = app.get(&user_path(&id_of(&user).to_uppercase())).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body, user);
}

#[actix_web::test]
async fn getting_a_user_by_a_malformed_id_is_a_400_on_id() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/users/not-a-uuid").await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["id"]);
}

#[actix_web::test]
async fn getting_a_user_with_a_query_parameter_is_a_400() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com", None).await;

    let response = app
        .get(&format!("/api/v1/users/{}?expand=group", id_of(&user)))
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["expand"]);
}

#[actix_web::test]
async fn the_trailing_slash_forms_of_the_user_routes_answer_too() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com", None).await;

    let listed = app.get("/api/v1/users/").await;
    let got = app.get(&format!("/api/v1/users/{}/", id_of(&user))).await;

    assert_eq!(ids_of(&listed.body), [id_of(&user)]);
    assert_eq!(got.body, user);
}

#[actix_web::test]
async fn another_method_on_a_user_is_a_405_naming_the_allowed_ones() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com", None).await;

    let response = app
        .call("PATCH", &user_path(&id_of(&user)))
        .json(&json!({"firstName": "Augusta"}))
        .send()
        .await;

    response.assert_error(405);
    assert_eq!(response.message(), "Method not allowed");
    assert_eq!(response.headers.get("allow").unwrap(), "GET, PUT, DELETE");
}
