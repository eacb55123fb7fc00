//! The built-in roles listing.

use actix_web::http::StatusCode;
use serde_json::json;
use usergroups::group_roles::{ADMINISTRATOR_ID, READER_ID, USER_ID};

use super::groups::{assert_nscale_error, description};
use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_roles_listing_shows_the_three_built_in_roles_with_their_fixed_ids() {
    let app = spawn_app().await;

    let response = app
        .get(&format!(
            "/api/v1/organizations/{}/roles",
            app.organization_id
        ))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let roles = response.body.as_array().expect("a bare array");
    let pairs: Vec<(String, String)> = roles
        .iter()
        .map(|r| {
            (
                r["metadata"]["id"].as_str().unwrap().to_owned(),
                r["metadata"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            (ADMINISTRATOR_ID.to_owned(), "administrator".to_owned()),
            (USER_ID.to_owned(), "user".to_owned()),
            (READER_ID.to_owned(), "reader".to_owned()),
        ]
    );
    for role in roles {
        assert!(!role["metadata"]["description"].as_str().unwrap().is_empty());
        assert_eq!(role["metadata"]["provisioningStatus"], json!("provisioned"));
    }
}

#[actix_web::test]
async fn the_role_ids_are_the_same_on_every_installation() {
    let first = spawn_app().await;
    let second = spawn_app().await;

    let a = first
        .get(&format!(
            "/api/v1/organizations/{}/roles",
            first.organization_id
        ))
        .await;
    let b = second
        .get(&format!(
            "/api/v1/organizations/{}/roles",
            second.organization_id
        ))
        .await;

    assert_eq!(a.body, b.body);
}

#[actix_web::test]
async fn the_roles_listing_needs_read_permission_and_the_callers_organization() {
    let app = spawn_app().await;
    let writer = app.key_with("user-groups:write");
    let (other, _) = app.other_organization();

    let denied = app
        .call(
            "GET",
            &format!("/api/v1/organizations/{}/roles", app.organization_id),
        )
        .credentials(&writer)
        .send()
        .await;
    let foreign = app
        .get(&format!("/api/v1/organizations/{other}/roles"))
        .await;
    let post = app
        .write(
            "POST",
            &format!("/api/v1/organizations/{}/roles", app.organization_id),
        )
        .send()
        .await;

    assert_nscale_error(&denied, 403, "forbidden");
    assert_eq!(description(&denied), "operation is not allowed by rbac");
    assert_nscale_error(&foreign, 403, "forbidden");
    assert_nscale_error(&post, 405, "method_not_allowed");
    assert_eq!(post.headers.get("allow").unwrap(), "GET");
}
