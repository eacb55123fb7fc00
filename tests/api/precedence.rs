//! Which answer wins when several apply (the "Which answer wins" paragraph of `api.md`), one
//! test per adjacent pair of the list, first to last: 413, 401, 429, 404/405 for the route,
//! 403 for a permission, 415, 400, 404 for a missing resource, 403/409 for the state of the
//! data. Also the accepted JSON content types, the trailing-slash paths and the query checks.

use std::collections::BTreeSet;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use usergroups::auth::signer::Credentials;
use usergroups::ids::AccessKeyId;
use usergroups::models::AccessKey;
use usergroups::rate_limit::RateLimits;
use usergroups::Limits;

use crate::helpers::{spawn_app, spawn_app_with, unknown_id, TestApp, TestResponse};

const GROUPS: &str = "/api/v1/user-groups";
const USERS: &str = "/api/v1/users";
/// A body that is not JSON at all.
const BAD_JSON: &str = r#"{"name": "#;

/// The methods a 405's `Allow` header lists.
fn allowed(response: &TestResponse) -> BTreeSet<String> {
    let allow = response
        .headers
        .get("allow")
        .unwrap_or_else(|| panic!("no Allow header on {}", response.body))
        .to_str()
        .expect("ASCII");
    allow
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

fn methods(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|m| (*m).to_owned()).collect()
}

/// A small app: bodies over 64 bytes are refused.
async fn app_with_a_64_byte_limit() -> TestApp {
    spawn_app_with(Limits {
        body_limit: 64,
        ..Limits::default()
    })
    .await
}

// --- 413 beats 401 -------------------------------------------------------------------------

#[actix_web::test]
async fn an_oversized_body_is_413_even_without_a_signature() {
    let app = app_with_a_64_byte_limit().await;
    let cases = [
        ("a create", "POST", GROUPS),
        ("an update", "PUT", "/api/v1/user-groups/not-even-an-id"),
        ("an unknown route", "POST", "/api/v1/nothing-here"),
    ];

    for (why, method, target) in cases {
        let response = app
            .call(method, target)
            .unsigned()
            .content_type(Some("application/json"))
            .raw_body(vec![b' '; 65])
            .send()
            .await;
        response.assert_error(413);
        assert!(
            response.body.get("reason").is_none(),
            "{why}: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn a_body_exactly_at_the_limit_goes_on_to_the_signature_check() {
    let app = app_with_a_64_byte_limit().await;

    let response = app
        .call("POST", GROUPS)
        .unsigned()
        .content_type(Some("application/json"))
        .raw_body(vec![b' '; 64])
        .send()
        .await;

    response.assert_error(401);
    assert_eq!(response.reason(), "missing_authorization");
}

#[actix_web::test]
async fn a_declared_content_length_over_the_limit_is_413_before_the_body_is_read() {
    let app = app_with_a_64_byte_limit().await;
    let request = TestRequest::default()
        .method(Method::POST)
        .uri(GROUPS)
        .insert_header(("content-type", "application/json"))
        .set_payload(r#"{"name":"x"}"#)
        .insert_header((CONTENT_LENGTH, "1048576"));

    let response = app.call_raw(request).await;

    response.assert_error(413);
}

#[actix_web::test]
async fn an_oversized_body_with_a_valid_signature_is_still_413() {
    let app = app_with_a_64_byte_limit().await;
    let name = "n".repeat(80);

    let response = app.post(GROUPS, json!({ "name": name })).await;

    response.assert_error(413);
    assert_eq!(app.get(GROUPS).await.body["total"], 0);
}

// --- 401 beats 404 and 405 -----------------------------------------------------------------

#[actix_web::test]
async fn an_unsigned_request_is_401_whether_or_not_the_route_or_method_exists() {
    let app = spawn_app().await;
    let cases = [
        ("an unknown route", "GET", "/api/v1/nothing-here"),
        ("a known route with another method", "PATCH", GROUPS),
        (
            "an item route with another method",
            "POST",
            "/api/v1/user-groups/0197a0b4-0000-7000-8000-000000000000",
        ),
        ("a bad id", "GET", "/api/v1/user-groups/not-an-id"),
        (
            "an unknown query parameter",
            "GET",
            "/api/v1/users?color=red",
        ),
    ];

    for (why, method, target) in cases {
        let response = app.call(method, target).unsigned().send().await;
        assert_eq!(response.status.as_u16(), 401, "{why}: {}", response.body);
        response.assert_error(401);
        assert_eq!(response.reason(), "missing_authorization", "{why}");
        assert!(
            response.headers.get("allow").is_none(),
            "{why}: a 401 reveals the route's methods"
        );
    }
}

#[actix_web::test]
async fn an_unsigned_request_with_a_bad_body_is_401_not_415_or_400() {
    let app = spawn_app().await;

    let response = app
        .call("POST", GROUPS)
        .unsigned()
        .content_type(Some("text/plain"))
        .raw_body(BAD_JSON)
        .send()
        .await;

    response.assert_error(401);
    assert_eq!(response.reason(), "missing_authorization");
}

// --- 413 and 401 beat 429; 429 beats everything after it ----------------------------------

/// A small app: one read and one write a minute per key, bodies up to 64 bytes.
async fn app_with_one_read_and_one_write_a_minute() -> TestApp {
    spawn_app_with(Limits {
        body_limit: 64,
        rate_limits: RateLimits::per_minute(1, 1),
        ..Limits::default()
    })
    .await
}

/// Spends the read and the write budget of `credentials`.
async fn spend_the_budget_of(app: &TestApp, credentials: &Credentials) {
    let read = app.call("GET", USERS).credentials(credentials).send().await;
    let write = app
        .write("DELETE", &format!("{USERS}/{}", unknown_id()))
        .credentials(credentials)
        .send()
        .await;
    assert_eq!(read.status.as_u16(), 200, "{}", read.body);
    assert_eq!(write.status.as_u16(), 404, "{}", write.body);
    assert_eq!(read.headers.get("x-ratelimit-remaining").unwrap(), "0");
    assert_eq!(write.headers.get("x-ratelimit-remaining").unwrap(), "0");
}

#[actix_web::test]
async fn an_oversized_body_from_a_key_over_its_rate_limit_is_413_not_429() {
    let app = app_with_one_read_and_one_write_a_minute().await;
    spend_the_budget_of(&app, &app.credentials).await;
    let name = "n".repeat(80);

    let response = app.post(GROUPS, json!({ "name": name })).await;

    response.assert_error(413);
    assert!(response.headers.get("x-ratelimit-limit").is_none());
}

#[actix_web::test]
async fn a_bad_signature_with_the_id_of_a_key_over_its_rate_limit_is_401_not_429() {
    let app = app_with_one_read_and_one_write_a_minute().await;
    spend_the_budget_of(&app, &app.credentials).await;
    let forged = Credentials::new(app.credentials.access_key_id.clone(), "not the secret");
    let cases = [
        (
            "unsigned",
            app.call("GET", GROUPS).unsigned(),
            "missing_authorization",
        ),
        (
            "a forged read",
            app.call("GET", GROUPS).credentials(&forged),
            "signature_mismatch",
        ),
        (
            "a forged write",
            app.write("DELETE", &format!("{GROUPS}/{}", unknown_id()))
                .credentials(&forged),
            "signature_mismatch",
        ),
    ];

    for (why, call, reason) in cases {
        let response = call.send().await;
        response.assert_error(401);
        assert_eq!(response.reason(), reason, "{why}");
    }
}

#[actix_web::test]
async fn a_key_over_its_rate_limit_is_429_before_its_route_permission_content_type_or_input() {
    let app = app_with_one_read_and_one_write_a_minute().await;
    let all = "user-groups:read,user-groups:write,users:read";
    let json = Some("application/json");
    // (what the request is, the answer it gets with budget left, the key's permissions,
    // method, target, content type, body)
    let cases = [
        (
            "an unknown route",
            404,
            all,
            "GET",
            "/api/v1/nothing-here".to_owned(),
            None,
            "",
        ),
        (
            "another method on a known route",
            405,
            all,
            "PATCH",
            GROUPS.to_owned(),
            None,
            "",
        ),
        (
            "a write without the permission",
            403,
            "users:read",
            "POST",
            GROUPS.to_owned(),
            json,
            "{}",
        ),
        (
            "a body that is not declared JSON",
            415,
            all,
            "POST",
            GROUPS.to_owned(),
            Some("text/plain"),
            "{}",
        ),
        (
            "a body that is not JSON",
            400,
            all,
            "POST",
            GROUPS.to_owned(),
            json,
            BAD_JSON,
        ),
        (
            "an unknown query parameter",
            400,
            all,
            "GET",
            format!("{USERS}?color=red"),
            None,
            "",
        ),
        (
            "a malformed id",
            400,
            all,
            "GET",
            format!("{GROUPS}/not-an-id"),
            None,
            "",
        ),
        (
            "a missing group",
            404,
            all,
            "GET",
            format!("{GROUPS}/{}", unknown_id()),
            None,
            "",
        ),
    ];

    for (why, status, permissions, method, target, content_type, body) in cases {
        // A fresh key per case: its first request spends the budget and gets the answer that
        // 429 must then beat.
        let key = app.key_with(permissions);
        let send = || {
            app.write(method, &target)
                .credentials(&key)
                .content_type(content_type)
                .raw_body(body)
                .send()
        };
        let first = send().await;
        let second = send().await;

        assert_eq!(first.status.as_u16(), status, "{why}: {}", first.body);
        assert_eq!(second.status.as_u16(), 429, "{why}: {}", second.body);
        second.assert_error(429);
        assert!(second.headers.get("allow").is_none(), "{why}");
    }
}

#[actix_web::test]
async fn a_replayed_write_from_a_key_over_its_rate_limit_is_401_replayed_request_not_429() {
    let app = app_with_one_read_and_one_write_a_minute().await;
    let write = app.write("DELETE", &format!("{GROUPS}/{}", unknown_id()));
    let first = write.send_copy().await;

    let replay = write.send_copy().await;

    first.assert_error(404);
    assert_eq!(first.headers.get("x-ratelimit-remaining").unwrap(), "0");
    replay.assert_error(401);
    assert_eq!(replay.reason(), "replayed_request", "{}", replay.body);
}

// --- 401 for a revoked key beats 404/405 for the route --------------------------------------

#[actix_web::test]
async fn a_write_by_a_key_revoked_a_moment_ago_to_an_unknown_route_or_method_is_401_not_404_or_405()
{
    let app = spawn_app().await;
    // A read puts the key in the instance's cache: the signature check then trusts it for up
    // to a second, and only the write's own record of its signature sees the revocation.
    assert_eq!(app.get(GROUPS).await.status.as_u16(), 200);
    AccessKey::revoke(
        &mut app.connection(),
        &AccessKeyId::from(app.credentials.access_key_id.as_str()),
    )
    .expect("revoke")
    .expect("the key exists");
    let cases = [
        ("an unknown route", "POST", "/api/v1/nothing-here"),
        ("a method the route does not have", "PUT", GROUPS),
    ];

    for (why, method, target) in cases {
        let response = app.write(method, target).json(&json!({})).send().await;

        response.assert_error(401);
        assert_eq!(response.reason(), "revoked_access_key", "{why}");
    }
}

// --- 404 and 405 for the route, signed -----------------------------------------------------

#[actix_web::test]
async fn a_signed_request_to_an_unknown_route_is_404_route_not_found() {
    let app = spawn_app().await;
    let cases = [
        ("an unknown resource", "GET", "/api/v1/nothing-here"),
        (
            "an unknown resource with another method",
            "PATCH",
            "/api/v1/nothing-here",
        ),
        ("an older API version's path", "GET", "/api/v1/groups"),
        (
            "a path below an item",
            "GET",
            "/api/v1/users/0197a0b4-0000-7000-8000-000000000000/groups",
        ),
    ];

    for (why, method, target) in cases {
        let response = app.call(method, target).send().await;
        assert_eq!(response.status.as_u16(), 404, "{why}: {}", response.body);
        response.assert_error(404);
        assert_eq!(response.message(), "Route not found", "{why}");
    }
}

#[actix_web::test]
async fn a_signed_request_with_another_method_is_405_with_the_allowed_methods() {
    let app = spawn_app().await;
    let item = format!("{GROUPS}/{}", unknown_id());
    let user = format!("{USERS}/{}", unknown_id());
    let cases = [
        (
            "PATCH on the group collection",
            "PATCH",
            GROUPS.to_owned(),
            methods(&["GET", "POST"]),
        ),
        (
            "DELETE on the group collection",
            "DELETE",
            GROUPS.to_owned(),
            methods(&["GET", "POST"]),
        ),
        (
            "PUT on the user collection",
            "PUT",
            USERS.to_owned(),
            methods(&["GET", "POST"]),
        ),
        (
            "POST on a group",
            "POST",
            item.clone(),
            methods(&["GET", "PUT", "DELETE"]),
        ),
        (
            "PATCH on a user",
            "PATCH",
            user,
            methods(&["GET", "PUT", "DELETE"]),
        ),
    ];

    for (why, method, target, allow) in cases {
        let response = app.call(method, &target).send().await;
        assert_eq!(response.status.as_u16(), 405, "{why}: {}", response.body);
        response.assert_error(405);
        assert_eq!(response.message(), "Method not allowed", "{why}");
        assert_eq!(allowed(&response), allow, "{why}");
    }
}

// --- 405 beats 403 -------------------------------------------------------------------------

#[actix_web::test]
async fn a_wrong_method_is_405_even_for_a_key_without_the_permission() {
    let app = spawn_app().await;
    let users_only = app.key_with("users:read");
    let group = format!("{GROUPS}/{}", unknown_id());
    let cases = [
        ("PATCH on a group", "PATCH", group.as_str()),
        ("DELETE on the group collection", "DELETE", GROUPS),
        ("POST on a group", "POST", group.as_str()),
    ];

    for (why, method, target) in cases {
        let response = app
            .call(method, target)
            .credentials(&users_only)
            .send()
            .await;
        assert_eq!(response.status.as_u16(), 405, "{why}: {}", response.body);
        assert_eq!(response.message(), "Method not allowed", "{why}");
    }
}

// --- 403 for a permission beats 415 and 400 ------------------------------------------------

#[actix_web::test]
async fn a_key_without_the_permission_is_403_before_its_content_type_or_input_is_looked_at() {
    let app = spawn_app().await;
    let reader = app.key_with("user-groups:read");
    let group = app.create_group("Sales").await;
    let group_path = format!("{GROUPS}/{}", group["id"].as_str().unwrap());
    let cases = [
        (
            "a create with no content type and bad JSON",
            "POST",
            GROUPS.to_owned(),
            None,
            BAD_JSON,
            "Access key is not allowed to write user groups",
        ),
        (
            "a create sent as text/plain",
            "POST",
            GROUPS.to_owned(),
            Some("text/plain"),
            r#"{"name":"x"}"#,
            "Access key is not allowed to write user groups",
        ),
        (
            "an update with bad JSON and a bad id",
            "PUT",
            format!("{GROUPS}/not-an-id"),
            Some("application/json"),
            BAD_JSON,
            "Access key is not allowed to write user groups",
        ),
        (
            "a delete with an unknown query parameter",
            "DELETE",
            format!("{group_path}?force=true"),
            None,
            "",
            "Access key is not allowed to delete user groups",
        ),
        (
            "a user listing with a bad limit",
            "GET",
            format!("{USERS}?limit=0"),
            None,
            "",
            "Access key is not allowed to read users",
        ),
    ];

    for (why, method, target, content_type, body, message) in cases {
        let response = app
            .call(method, &target)
            .credentials(&reader)
            .content_type(content_type)
            .raw_body(body)
            .send()
            .await;
        assert_eq!(response.status.as_u16(), 403, "{why}: {}", response.body);
        response.assert_error(403);
        assert_eq!(response.message(), message, "{why}");
    }
    assert_eq!(
        app.get(&group_path).await.status.as_u16(),
        200,
        "the delete did not happen"
    );
}

// --- 415 beats 400, and which content types are JSON ---------------------------------------

#[actix_web::test]
async fn a_body_without_a_json_content_type_is_415_even_when_it_is_not_json() {
    let app = spawn_app().await;
    let missing = format!("{GROUPS}/{}", unknown_id());
    let cases = [
        ("no content type", "POST", GROUPS, None),
        ("text/plain", "POST", GROUPS, Some("text/plain")),
        (
            "a form",
            "POST",
            GROUPS,
            Some("application/x-www-form-urlencoded"),
        ),
        (
            "JSON in Latin-1",
            "POST",
            GROUPS,
            Some("application/json; charset=latin1"),
        ),
        (
            "an unknown parameter",
            "POST",
            GROUPS,
            Some("application/json; version=2"),
        ),
        ("XML", "POST", USERS, Some("application/xml")),
        (
            "an update with no content type",
            "PUT",
            missing.as_str(),
            None,
        ),
        (
            "an update of a user as text",
            "PUT",
            "/api/v1/users/not-an-id",
            Some("text/plain"),
        ),
    ];

    for (why, method, target, content_type) in cases {
        // Content-Type is not signed by default: a nonce keeps two rows from being one request.
        let response = app
            .call(method, target)
            .content_type(content_type)
            .raw_body(BAD_JSON)
            .signed_header("x-onlive-site-nonce", why)
            .send()
            .await;
        assert_eq!(response.status.as_u16(), 415, "{why}: {}", response.body);
        response.assert_error(415);
    }
}

#[actix_web::test]
async fn json_content_types_with_a_utf8_charset_or_a_json_suffix_are_accepted() {
    let app = spawn_app().await;
    let cases = [
        ("plain JSON", "application/json"),
        (
            "JSON in UTF-8, uppercase",
            "application/json; charset=UTF-8",
        ),
        ("JSON in utf-8, no space", "application/json;charset=utf-8"),
        ("merge patch", "application/merge-patch+json"),
        ("a vendor type", "application/vnd.onlive+json"),
        ("uppercase type", "Application/JSON"),
    ];

    for (index, (why, content_type)) in cases.into_iter().enumerate() {
        let body = json!({ "name": format!("Group {index}") }).to_string();
        let response = app
            .call("POST", GROUPS)
            .content_type(Some(content_type))
            .raw_body(body)
            .send()
            .await;
        assert_eq!(response.status.as_u16(), 201, "{why}: {}", response.body);
    }
}

// --- 400 beats 404 for a missing resource --------------------------------------------------

#[actix_web::test]
async fn bad_input_about_a_missing_resource_is_400_not_404() {
    let app = spawn_app().await;
    let group = format!("{GROUPS}/{}", unknown_id());
    let user = format!("{USERS}/{}", unknown_id());
    let cases = [
        (
            "bad JSON to update an unknown group",
            "PUT",
            group.clone(),
            Some(BAD_JSON.to_owned()),
            "body",
        ),
        (
            "an unknown field to update an unknown group",
            "PUT",
            group.clone(),
            Some(r#"{"color":"red"}"#.to_owned()),
            "color",
        ),
        (
            "an empty name for an unknown group",
            "PUT",
            group.clone(),
            Some(r#"{"name":"  "}"#.to_owned()),
            "name",
        ),
        (
            "a query parameter on an unknown group",
            "GET",
            format!("{group}?expand=users"),
            None,
            "expand",
        ),
        (
            "email on an unknown user",
            "PUT",
            user.clone(),
            Some(r#"{"email":"a@example.com"}"#.to_owned()),
            "email",
        ),
        (
            "a query parameter to delete an unknown user",
            "DELETE",
            format!("{user}?force=true"),
            None,
            "force",
        ),
    ];

    for (why, method, target, body, field) in cases {
        let mut call = app.call(method, &target);
        if let Some(body) = body {
            call = call.content_type(Some("application/json")).raw_body(body);
        }
        let response = call.send().await;
        assert_eq!(response.status.as_u16(), 400, "{why}: {}", response.body);
        response.assert_error(400);
        assert!(
            response.error_fields().contains(&field.to_owned()),
            "{why}: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn a_malformed_id_in_the_path_is_400_not_404() {
    let app = spawn_app().await;
    let cases = [
        ("get a group", "GET", "/api/v1/user-groups/not-an-id"),
        ("delete a group", "DELETE", "/api/v1/user-groups/12345"),
        (
            "get a user",
            "GET",
            "/api/v1/users/0197a0b4000070008000000000000000",
        ),
    ];

    for (why, method, target) in cases {
        let response = app.call(method, target).send().await;
        assert_eq!(response.status.as_u16(), 400, "{why}: {}", response.body);
        assert_eq!(response.error_fields(), ["id"], "{why}");
    }
}

// --- 404 for a missing resource beats 409 and 403 for the state of the data ----------------

#[actix_web::test]
async fn renaming_a_missing_group_to_a_taken_name_is_404_not_409() {
    let app = spawn_app().await;
    app.create_group("Taken").await;
    let deleted = app.create_group("Deleted").await;
    let deleted_path = format!("{GROUPS}/{}", deleted["id"].as_str().unwrap());
    assert_eq!(app.delete(&deleted_path).await.status.as_u16(), 200);
    let cases = [
        ("an unknown group", format!("{GROUPS}/{}", unknown_id())),
        ("a deleted group", deleted_path),
    ];

    for (why, target) in cases {
        let response = app.put(&target, json!({"name": "Taken"})).await;
        assert_eq!(response.status.as_u16(), 404, "{why}: {}", response.body);
        assert_eq!(response.message(), "User group not found", "{why}");
    }
}

#[actix_web::test]
async fn deleting_another_organizations_group_with_members_is_404_not_403() {
    let app = spawn_app().await;
    let (_, other) = app.other_organization();
    let theirs = app
        .call("POST", GROUPS)
        .credentials(&other)
        .json(&json!({"name": "Theirs"}))
        .send()
        .await;
    assert_eq!(theirs.status.as_u16(), 201, "{}", theirs.body);
    let group_id = theirs.body["id"].as_str().unwrap().to_owned();
    let member = app
        .call("POST", USERS)
        .credentials(&other)
        .json(&json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "userGroupId": group_id}))
        .send()
        .await;
    assert_eq!(member.status.as_u16(), 201, "{}", member.body);
    let path = format!("{GROUPS}/{group_id}");

    let ours = app.delete(&path).await;
    let owner = app.call("DELETE", &path).credentials(&other).send().await;

    assert_eq!(ours.status.as_u16(), 404, "{}", ours.body);
    assert_eq!(ours.message(), "User group not found");
    assert!(ours.body.get("activeMembers").is_none(), "{}", ours.body);
    owner.assert_error(403);
    assert_eq!(
        owner.message(),
        "Cannot delete user group with active members"
    );
}

#[actix_web::test]
async fn deleting_or_demoting_another_organizations_last_admin_is_404_not_403() {
    let app = spawn_app().await;
    let (_, other) = app.other_organization();
    let admin = app
        .call("POST", USERS)
        .credentials(&other)
        .json(&json!({"firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com", "role": "admin"}))
        .send()
        .await;
    assert_eq!(admin.status.as_u16(), 201, "{}", admin.body);
    let path = format!("{USERS}/{}", admin.body["id"].as_str().unwrap());

    let delete = app.delete(&path).await;
    let demote = app.put(&path, json!({"role": "creator"})).await;
    let owner = app.call("DELETE", &path).credentials(&other).send().await;

    assert_eq!(delete.status.as_u16(), 404, "{}", delete.body);
    assert_eq!(delete.message(), "User not found");
    assert_eq!(demote.status.as_u16(), 404, "{}", demote.body);
    assert_eq!(demote.message(), "User not found");
    owner.assert_error(403);
    assert_eq!(
        owner.message(),
        "Cannot delete the organization's last admin user"
    );
}

// --- paths and query strings ---------------------------------------------------------------

#[actix_web::test]
async fn the_trailing_slash_forms_of_the_collections_are_accepted() {
    let app = spawn_app().await;

    let group = app
        .post("/api/v1/user-groups/", json!({"name": "Sales"}))
        .await;
    let groups = app.get("/api/v1/user-groups/").await;
    let user = app
        .post(
            "/api/v1/users/",
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}),
        )
        .await;
    let users = app.get("/api/v1/users/").await;

    assert_eq!(group.status.as_u16(), 201, "{}", group.body);
    assert_eq!(groups.status.as_u16(), 200, "{}", groups.body);
    assert_eq!(groups.body["total"], 1);
    assert_eq!(user.status.as_u16(), 201, "{}", user.body);
    assert_eq!(users.status.as_u16(), 200, "{}", users.body);
    assert_eq!(users.body["items"][0]["email"], "ada@example.com");
}

#[actix_web::test]
async fn unknown_or_repeated_query_parameters_are_400_listing_each_of_them() {
    let app = spawn_app().await;
    let group = app.create_group("Sales").await;
    let group_path = format!("{GROUPS}/{}", group["id"].as_str().unwrap());
    let cases = [
        (
            "an unknown parameter",
            format!("{GROUPS}?color=red"),
            vec!["color"],
        ),
        (
            "a repeated parameter",
            format!("{GROUPS}?page=1&page=2"),
            vec!["page"],
        ),
        (
            "repeated with the same value",
            format!("{USERS}?limit=5&limit=5"),
            vec!["limit"],
        ),
        (
            "one of each",
            format!("{USERS}?sort=name&search=a&search=b"),
            vec!["sort", "search"],
        ),
        (
            "a parameter on an item",
            format!("{group_path}?expand=users"),
            vec!["expand"],
        ),
        (
            "a name spelt in another case",
            format!("{GROUPS}?Page=1"),
            vec!["Page"],
        ),
    ];

    for (why, target, fields) in cases {
        let response = app.get(&target).await;
        assert_eq!(response.status.as_u16(), 400, "{why}: {}", response.body);
        response.assert_error(400);
        let listed: BTreeSet<String> = response.error_fields().into_iter().collect();
        let expected: BTreeSet<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(listed, expected, "{why}: {}", response.body);
    }
}

#[actix_web::test]
async fn a_query_parameter_on_a_write_is_400() {
    let app = spawn_app().await;

    let response = app
        .post(&format!("{GROUPS}?dryRun=true"), json!({"name": "Sales"}))
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["dryRun"]);
    assert_eq!(app.get(GROUPS).await.body["total"], 0);
}
