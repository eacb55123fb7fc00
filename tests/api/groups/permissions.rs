//! The permission each group route needs (`user-groups:read`, `user-groups:write`,
//! `user-groups:delete`).

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{group_path, spawn_app};

#[actix_web::test]
async fn each_group_route_needs_its_permission() {
    let app = spawn_app().await;
    let id = app.create_group("Sales").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = app.key_with("user-groups:read,users:read,users:write,users:delete");
    let writer = app.key_with("user-groups:write");
    let target = group_path(&id);

    let cases = [
        (
            app.call("POST", "/api/v1/user-groups")
                .json(&json!({"name": "X"}))
                .credentials(&reader)
                .send()
                .await,
            "Access key is not allowed to write user groups",
        ),
        (
            app.call("PUT", &target)
                .json(&json!({"name": "X"}))
                .credentials(&reader)
                .send()
                .await,
            "Access key is not allowed to write user groups",
        ),
        (
            app.call("DELETE", &target)
                .credentials(&reader)
                .send()
                .await,
            "Access key is not allowed to delete user groups",
        ),
        (
            app.call("GET", &target).credentials(&writer).send().await,
            "Access key is not allowed to read user groups",
        ),
        (
            app.call("GET", "/api/v1/user-groups")
                .credentials(&writer)
                .send()
                .await,
            "Access key is not allowed to read user groups",
        ),
    ];
    for (response, message) in cases {
        response.assert_error(403);
        assert_eq!(response.message(), message);
    }
    let allowed = app.call("GET", &target).credentials(&reader).send().await;
    assert_eq!(allowed.status, StatusCode::OK);
}
