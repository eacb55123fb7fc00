//! Every lifecycle permission is withheld from a key made without naming it: a default key is
//! refused each lifecycle route with the contract's 403.

use usergroups::auth::PermissionSet;

use crate::helpers::{spawn_app, unknown_id};

#[actix_web::test]
async fn a_default_key_is_refused_every_lifecycle_route() {
    let app = spawn_app().await;
    let default_key = app.key_with(&PermissionSet::default_grant().to_string());
    let id = unknown_id();
    let cases = [
        (
            "GET",
            "/api/v1/deleted-user-groups".to_owned(),
            "Access key is not allowed to read deleted user groups",
        ),
        (
            "GET",
            "/api/v1/deleted-users".to_owned(),
            "Access key is not allowed to read deleted users",
        ),
        (
            "POST",
            format!("/api/v1/deleted-user-groups/{id}/restore"),
            "Access key is not allowed to restore user groups",
        ),
        (
            "POST",
            format!("/api/v1/deleted-users/{id}/restore"),
            "Access key is not allowed to restore users",
        ),
        (
            "GET",
            "/api/v1/events".to_owned(),
            "Access key is not allowed to read events",
        ),
    ];

    for (method, path, message) in cases {
        let answer = app
            .write(method, &path)
            .credentials(&default_key)
            .send()
            .await;
        answer.assert_error(403);
        assert_eq!(answer.message(), message, "{method} {path}");
    }
}

#[actix_web::test]
async fn a_key_holding_only_one_lifecycle_permission_gets_that_route_only() {
    let app = spawn_app().await;
    let reader = app.key_with("events:read");

    let events = app
        .call("GET", "/api/v1/events")
        .credentials(&reader)
        .send()
        .await;
    let deleted = app
        .call("GET", "/api/v1/deleted-user-groups")
        .credentials(&reader)
        .send()
        .await;

    assert_eq!(events.status.as_u16(), 200, "{}", events.body);
    deleted.assert_error(403);
}
