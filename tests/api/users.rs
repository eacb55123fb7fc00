//! Users: create, list, get, the partial update and the soft delete, row by row of the
//! contract, with the last-admin rule and the permissions each route needs.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{count, id_of, ids_of, spawn_app, unknown_id, TestApp};

/// A valid create body for `email`, with no optional field.
fn new_user(email: &str) -> Value {
    json!({"firstName": "Ada", "lastName": "Lovelace", "email": email})
}

/// A valid create body with `field` replaced by `value`.
fn new_user_with(field: &str, value: Value) -> Value {
    let mut body = new_user("ada@example.com");
    body[field] = value;
    body
}

/// Creates a user with the given names and email, returning it.
async fn create_named(app: &TestApp, first: &str, last: &str, email: &str) -> Value {
    let response = app
        .post(
            "/api/v1/users",
            json!({"firstName": first, "lastName": last, "email": email}),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

/// Creates and deletes a group, returning its id.
async fn deleted_group(app: &TestApp, name: &str) -> String {
    let id = id_of(&app.create_group(name).await);
    let response = app.delete(&format!("/api/v1/user-groups/{id}")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    id
}

/// A name of `n` characters that are two bytes each in UTF-8.
fn accented(n: usize) -> String {
    "é".repeat(n)
}

/// An otherwise valid address of exactly `n` characters: a 64-character local part and a
/// domain of labels of at most 63 characters.
fn email_of_length(n: usize) -> String {
    let local = "a".repeat(64);
    let mut rest = n - 65;
    let mut labels = Vec::new();
    while rest > 63 {
        labels.push("b".repeat(63));
        rest -= 64; // the label and the dot after it
    }
    assert!(
        rest > 0,
        "no domain of {n} characters ends in a non-empty label this way"
    );
    labels.push("b".repeat(rest));
    let email = format!("{local}@{}", labels.join("."));
    assert_eq!(email.chars().count(), n);
    email
}

/// An https URL of exactly `n` characters.
fn avatar_of_length(n: usize) -> String {
    let prefix = "https://cdn.example.com/";
    format!("{prefix}{}", "a".repeat(n - prefix.len()))
}

// ---------------------------------------------------------------------------------------------
// Create

#[actix_web::test]
async fn creating_a_user_returns_201_with_every_field() {
    let app = spawn_app().await;

    let response = app.post("/api/v1/users", new_user("ada@example.com")).await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let user = &response.body;
    assert_eq!(user["firstName"], "Ada");
    assert_eq!(user["lastName"], "Lovelace");
    assert_eq!(user["fullName"], "Ada Lovelace");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "creator");
    assert_eq!(user["avatar"], Value::Null);
    assert_eq!(user["userGroupId"], Value::Null);
    assert!(
        user.get("avatar").is_some() && user.get("userGroupId").is_some(),
        "{user}"
    );
    assert_eq!(user["organizationId"], app.organization_id.as_str());
    assert_eq!(user["createdAt"], user["updatedAt"]);
    assert!(user.get("deletedAt").is_none());
    let id = id_of(user);
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!(id, id.to_lowercase());
    let created = user["createdAt"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{created}"
    );
    assert_eq!(
        response.headers.get("content-type").unwrap(),
        "application/json; charset=utf-8"
    );
}

#[actix_web::test]
async fn a_created_user_can_be_read_back_as_it_was_returned() {
    let app = spawn_app().await;
    let created = app.create_user("ada@example.com", None).await;

    let response = app.get(&format!("/api/v1/users/{}", id_of(&created))).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body, created);
}

#[actix_web::test]
async fn creating_a_user_keeps_the_email_exactly_as_given() {
    let app = spawn_app().await;

    let response = app
        .post("/api/v1/users", new_user("Ada.Lovelace@Example.COM"))
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["email"], "Ada.Lovelace@Example.COM");
    let read = app
        .get(&format!("/api/v1/users/{}", id_of(&response.body)))
        .await;
    assert_eq!(read.body["email"], "Ada.Lovelace@Example.COM");
}

#[actix_web::test]
async fn creating_a_user_trims_the_names_and_builds_the_full_name_from_them() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/users",
            json!({"firstName": "  Ada ", "lastName": "\tLovelace  ", "email": "ada@example.com"}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["firstName"], "Ada");
    assert_eq!(response.body["lastName"], "Lovelace");
    assert_eq!(response.body["fullName"], "Ada Lovelace");
}

#[actix_web::test]
async fn creating_a_user_with_a_role_an_avatar_and_a_group_keeps_all_three() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);

    let response = app
        .post(
            "/api/v1/users",
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "role": "editor",
                   "avatar": "https://cdn.example.com/ada.png", "userGroupId": group_id}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["role"], "editor");
    assert_eq!(response.body["avatar"], "https://cdn.example.com/ada.png");
    assert_eq!(response.body["userGroupId"], group_id.as_str());
}

#[actix_web::test]
async fn each_of_the_three_roles_can_be_given_at_creation() {
    let app = spawn_app().await;

    for role in ["creator", "editor", "admin"] {
        let body = json!({"firstName": "Ada", "lastName": "Lovelace", "email": format!("{role}@example.com"), "role": role});

        let response = app.post("/api/v1/users", body).await;

        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{role}: {}",
            response.body
        );
        assert_eq!(response.body["role"], role);
    }
}

#[actix_web::test]
async fn a_user_created_in_a_group_is_an_active_member_that_blocks_its_deletion() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);

    app.create_user("ada@example.com", Some(&group_id)).await;

    app.delete(&format!("/api/v1/user-groups/{group_id}"))
        .await
        .assert_error(403);
}

#[actix_web::test]
async fn creating_a_user_in_a_group_that_does_not_exist_is_a_400_on_user_group_id() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/users",
            new_user_with("userGroupId", json!(unknown_id())),
        )
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["userGroupId"]);
    assert_eq!(
        count(&mut app.connection(), "SELECT COUNT(*) AS n FROM users"),
        0
    );
}

#[actix_web::test]
async fn creating_a_user_in_a_deleted_group_is_a_400_on_user_group_id() {
    let app = spawn_app().await;
    let group_id = deleted_group(&app, "Former team").await;

    let response = app
        .post(
            "/api/v1/users",
            new_user_with("userGroupId", json!(group_id)),
        )
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["userGroupId"]);
    assert_eq!(
        count(&mut app.connection(), "SELECT COUNT(*) AS n FROM users"),
        0
    );
}

#[actix_web::test]
async fn names_of_100_characters_are_accepted_counting_unicode_characters_not_bytes() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/users",
            json!({"firstName": accented(100), "lastName": "😀".repeat(100), "email": "ada@example.com"}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["firstName"], accented(100));
    assert_eq!(response.body["lastName"], "😀".repeat(100));
}

#[actix_web::test]
async fn an_email_of_254_characters_and_an_avatar_of_2048_are_accepted() {
    let app = spawn_app().await;
    let email = email_of_length(254);
    let avatar = avatar_of_length(2_048);

    let response = app
        .post(
            "/api/v1/users",
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": email, "avatar": avatar}),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_eq!(response.body["email"], email.as_str());
    assert_eq!(response.body["avatar"], avatar.as_str());
}

/// One bad create body and the one field its 400 must name.
struct BadBody {
    what: &'static str,
    body: Value,
    field: &'static str,
}

fn bad_create_bodies() -> Vec<BadBody> {
    let without = |field: &str| {
        let mut body = new_user("ada@example.com");
        body.as_object_mut().unwrap().remove(field);
        body
    };
    vec![
        BadBody {
            what: "firstName is required",
            body: without("firstName"),
            field: "firstName",
        },
        BadBody {
            what: "firstName may not be empty",
            body: new_user_with("firstName", json!("")),
            field: "firstName",
        },
        BadBody {
            what: "firstName is empty once trimmed",
            body: new_user_with("firstName", json!("   ")),
            field: "firstName",
        },
        BadBody {
            what: "firstName of 101 characters is too long",
            body: new_user_with("firstName", json!("a".repeat(101))),
            field: "firstName",
        },
        BadBody {
            what: "firstName length counts characters: 101 two-byte ones are too many",
            body: new_user_with("firstName", json!(accented(101))),
            field: "firstName",
        },
        BadBody {
            what: "firstName may not be null",
            body: new_user_with("firstName", Value::Null),
            field: "firstName",
        },
        BadBody {
            what: "firstName must be a string",
            body: new_user_with("firstName", json!(42)),
            field: "firstName",
        },
        BadBody {
            what: "lastName is required",
            body: without("lastName"),
            field: "lastName",
        },
        BadBody {
            what: "lastName may not be empty",
            body: new_user_with("lastName", json!("")),
            field: "lastName",
        },
        BadBody {
            what: "lastName of 101 characters is too long",
            body: new_user_with("lastName", json!(accented(101))),
            field: "lastName",
        },
        BadBody {
            what: "lastName must be a string",
            body: new_user_with("lastName", json!(["Lovelace"])),
            field: "lastName",
        },
        BadBody {
            what: "email is required",
            body: without("email"),
            field: "email",
        },
        BadBody {
            what: "email may not be empty",
            body: new_user_with("email", json!("")),
            field: "email",
        },
        BadBody {
            what: "email needs an @",
            body: new_user_with("email", json!("ada.example.com")),
            field: "email",
        },
        BadBody {
            what: "email needs a local part",
            body: new_user_with("email", json!("@example.com")),
            field: "email",
        },
        BadBody {
            what: "email needs a dotted domain",
            body: new_user_with("email", json!("ada@localhost")),
            field: "email",
        },
        BadBody {
            what: "email may not hold spaces",
            body: new_user_with("email", json!("ada lovelace@example.com")),
            field: "email",
        },
        BadBody {
            what: "email of 255 characters is too long",
            body: new_user_with("email", json!(email_of_length(255))),
            field: "email",
        },
        BadBody {
            what: "email must be a string",
            body: new_user_with("email", json!(true)),
            field: "email",
        },
        BadBody {
            what: "role must be a known role",
            body: new_user_with("role", json!("owner")),
            field: "role",
        },
        BadBody {
            what: "role names are lowercase",
            body: new_user_with("role", json!("Admin")),
            field: "role",
        },
        BadBody {
            what: "role must be a string",
            body: new_user_with("role", json!(1)),
            field: "role",
        },
        BadBody {
            what: "avatar must be https, not http",
            body: new_user_with("avatar", json!("http://cdn.example.com/a.png")),
            field: "avatar",
        },
        BadBody {
            what: "avatar must be a URL",
            body: new_user_with("avatar", json!("ada.png")),
            field: "avatar",
        },
        BadBody {
            what: "avatar of 2049 characters is too long",
            body: new_user_with("avatar", json!(avatar_of_length(2_049))),
            field: "avatar",
        },
        BadBody {
            what: "avatar must be a string",
            body: new_user_with("avatar", json!({"url": "https://x.example.com"})),
            field: "avatar",
        },
        BadBody {
            what: "userGroupId must be a UUID",
            body: new_user_with("userGroupId", json!("sales")),
            field: "userGroupId",
        },
        BadBody {
            what: "userGroupId must be a string",
            body: new_user_with("userGroupId", json!(7)),
            field: "userGroupId",
        },
        BadBody {
            what: "firstName may not hold a NUL character",
            body: new_user_with("firstName", json!("Ada\u{0}")),
            field: "firstName",
        },
        BadBody {
            what: "avatar needs a host",
            body: new_user_with("avatar", json!("https:///a.png")),
            field: "avatar",
        },
        BadBody {
            what: "avatar may not hold spaces",
            body: new_user_with("avatar", json!("https://cdn.example.com/a b.png")),
            field: "avatar",
        },
        BadBody {
            what: "avatar scheme is https exactly, not javascript",
            body: new_user_with("avatar", json!("javascript:alert(1)")),
            field: "avatar",
        },
        BadBody {
            what: "an unknown field is refused",
            body: new_user_with("nickname", json!("Ada")),
            field: "nickname",
        },
        BadBody {
            what: "fullName is computed, not accepted",
            body: new_user_with("fullName", json!("Ada Lovelace")),
            field: "fullName",
        },
        BadBody {
            what: "organizationId comes from the key, not the body",
            body: new_user_with("organizationId", json!(unknown_id())),
            field: "organizationId",
        },
    ]
}

#[actix_web::test]
async fn each_bad_field_of_a_create_is_a_400_naming_that_field_once() {
    let app = spawn_app().await;

    for case in bad_create_bodies() {
        let response = app.post("/api/v1/users", case.body).await;

        response.assert_error(400);
        assert_eq!(response.message(), "Invalid input", "{}", case.what);
        assert_eq!(
            response.error_fields(),
            [case.field],
            "{}: {}",
            case.what,
            response.body
        );
    }
    assert_eq!(
        count(&mut app.connection(), "SELECT COUNT(*) AS n FROM users"),
        0
    );
}

#[actix_web::test]
async fn a_create_body_that_is_not_a_json_object_is_a_400() {
    let app = spawn_app().await;

    for (what, body) in [
        ("not JSON at all", "firstName=Ada"),
        ("truncated JSON", "{\"firstName\": \"Ada\""),
        ("a JSON array", "[]"),
        ("a JSON string", "\"ada@example.com\""),
        ("an empty body", ""),
    ] {
        let response = app
            .call("POST", "/api/v1/users")
            .raw_body(body)
            .content_type(Some("application/json"))
            .send()
            .await;

        response.assert_error(400);
        assert_eq!(
            response.error_fields(),
            ["body"],
            "{what}: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn a_create_with_several_bad_fields_lists_every_one_of_them() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/users",
            json!({"firstName": "", "lastName": "b".repeat(101), "email": "nope", "role": "owner",
                   "avatar": "http://cdn.example.com/a.png", "userGroupId": "x", "color": "red"}),
        )
        .await;

    response.assert_error(400);
    let mut fields = response.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "avatar",
            "color",
            "email",
            "firstName",
            "lastName",
            "role",
            "userGroupId"
        ],
        "{}",
        response.body
    );
}

#[actix_web::test]
async fn a_create_missing_every_required_field_names_all_three() {
    let app = spawn_app().await;

    let response = app.post("/api/v1/users", json!({})).await;

    response.assert_error(400);
    let mut fields = response.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "firstName", "lastName"]);
}

#[actix_web::test]
async fn a_create_without_a_json_content_type_is_a_415() {
    let app = spawn_app().await;

    let response = app
        .call("POST", "/api/v1/users")
        .json(&new_user("ada@example.com"))
        .content_type(Some("text/plain"))
        .send()
        .await;

    response.assert_error(415);
}

#[actix_web::test]
async fn creating_a_user_with_an_email_already_taken_is_a_409_whatever_its_case() {
    let app = spawn_app().await;
    app.create_user("ada@example.com", None).await;

    for email in ["ada@example.com", "ADA@Example.Com"] {
        let response = app.post("/api/v1/users", new_user(email)).await;

        response.assert_error(409);
        assert_eq!(
            response.message(),
            "A user with this email already exists",
            "{email}"
        );
    }
    assert_eq!(
        count(&mut app.connection(), "SELECT COUNT(*) AS n FROM users"),
        1
    );
}

#[actix_web::test]
async fn a_bad_group_is_a_400_even_when_the_email_is_also_taken() {
    let app = spawn_app().await;
    app.create_user("ada@example.com", None).await;

    let response = app
        .post(
            "/api/v1/users",
            new_user_with("userGroupId", json!(unknown_id())),
        )
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["userGroupId"]);
}

#[actix_web::test]
async fn emails_differing_only_in_the_case_of_non_ascii_letters_conflict_too() {
    let app = spawn_app().await;
    app.create_user("zoë@exämple.de", None).await;

    let response = app.post("/api/v1/users", new_user("ZOË@EXÄMPLE.DE")).await;

    response.assert_error(409);
    assert_eq!(response.message(), "A user with this email already exists");
}

#[actix_web::test]
async fn the_email_of_a_deleted_user_can_be_used_again() {
    let app = spawn_app().await;
    let first = app.create_user("ada@example.com", None).await;
    let deleted = app
        .delete(&format!("/api/v1/users/{}", id_of(&first)))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);

    let response = app.post("/api/v1/users", new_user("Ada@Example.com")).await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_ne!(id_of(&response.body), id_of(&first));
}

// ---------------------------------------------------------------------------------------------
// List

#[actix_web::test]
async fn listing_users_pages_them_newest_first() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(id_of(
            &app.create_user(&format!("user{i}@example.com"), None).await,
        ));
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let first = app.get("/api/v1/users?page=1&limit=2").await;
    let second = app.get("/api/v1/users?page=2&limit=2").await;
    let third = app.get("/api/v1/users?page=3&limit=2").await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["limit"], 2);
    assert_eq!(first.body["total"], 5);
    assert_eq!(first.body["totalPages"], 3);
    assert_eq!(ids_of(&first.body), newest_first[0..2]);
    assert_eq!(ids_of(&second.body), newest_first[2..4]);
    assert_eq!(ids_of(&third.body), newest_first[4..5]);
    assert_eq!(third.body["page"], 3);
}

#[actix_web::test]
async fn listing_users_defaults_to_page_1_of_20() {
    let app = spawn_app().await;
    for i in 0..21 {
        app.create_user(&format!("user{i}@example.com"), None).await;
    }

    let response = app.get("/api/v1/users").await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["page"], 1);
    assert_eq!(response.body["limit"], 20);
    assert_eq!(response.body["total"], 21);
    assert_eq!(response.body["totalPages"], 2);
    assert_eq!(ids_of(&response.body).len(), 20);
}

#[actix_web::test]
async fn list_items_are_the_same_user_objects_the_single_get_returns() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);
    let created = app
        .create_user_with_role("ada@example.com", Some(&group_id), "editor")
        .await;

    let response = app.get("/api/v1/users").await;

    assert_eq!(response.body["items"], json!([created]));
}

#[actix_web::test]
async fn an_empty_list_has_no_pages() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/users").await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.body,
        json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0})
    );
}

#[actix_web::test]
async fn a_page_past_the_end_is_empty_but_keeps_the_totals() {
    let app = spawn_app().await;
    app.create_user("ada@example.com", None).await;

    let response = app.get("/api/v1/users?page=5&limit=10").await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.body,
        json!({"items": [], "page": 5, "limit": 10, "total": 1, "totalPages": 1})
    );
}

#[actix_web::test]
async fn deleted_users_are_not_listed() {
    let app = spawn_app().await;
    let kept = app.create_user("kept@example.com", None).await;
    let gone = app.create_user("gone@example.com", None).await;
    app.delete(&format!("/api/v1/users/{}", id_of(&gone))).await;

    let response = app.get("/api/v1/users").await;

    assert_eq!(ids_of(&response.body), [id_of(&kept)]);
    assert_eq!(response.body["total"], 1);
}

#[actix_web::test]
async fn searching_users_matches_names_and_emails_case_insensitively() {
    let app = spawn_app().await;
    let ada = id_of(&create_named(&app, "Ada", "Lovelace", "countess@analytical.org").await);
    let grace = id_of(&create_named(&app, "Grace", "Hopper", "grace@navy.mil").await);
    let cases: [(&str, &str, Vec<&String>); 7] = [
        ("a first name", "ada", vec![&ada]),
        ("a last name, in another case", "HOPPER", vec![&grace]),
        ("the full name across the space", "ada love", vec![&ada]),
        ("part of an email", "ANALYTICAL.O", vec![&ada]),
        (
            "a substring both share, newest first",
            "r",
            vec![&grace, &ada],
        ),
        ("nothing either has", "turing", vec![]),
        (
            "an empty search, which keeps everyone",
            "",
            vec![&grace, &ada],
        ),
    ];

    for (what, search, expected) in cases {
        let response = app
            .get(&format!(
                "/api/v1/users?search={}",
                search.replace(' ', "%20")
            ))
            .await;

        assert_eq!(response.status, StatusCode::OK, "{what}: {}", response.body);
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids_of(&response.body), expected, "{what}");
        assert_eq!(response.body["total"], expected.len(), "{what}");
    }
}

#[actix_web::test]
async fn search_folds_the_case_of_non_ascii_letters() {
    let app = spawn_app().await;
    let zoe = id_of(&create_named(&app, "Zoë", "Ödegaard", "zoe@example.com").await);
    create_named(&app, "Zoe", "Odegaard", "zoe2@example.com").await;

    let response = app.get("/api/v1/users?search=%C3%B6DEGAARD").await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(ids_of(&response.body), [zoe]);
}

#[actix_web::test]
async fn search_and_group_filters_apply_together() {
    let app = spawn_app().await;
    let sales = id_of(&app.create_group("Sales").await);
    let ada = id_of(&create_named(&app, "Ada", "Lovelace", "ada@example.com").await);
    app.put(
        &format!("/api/v1/users/{ada}"),
        json!({"userGroupId": sales}),
    )
    .await;
    let grace = id_of(&create_named(&app, "Grace", "Hopper", "grace@example.com").await);
    app.put(
        &format!("/api/v1/users/{grace}"),
        json!({"userGroupId": sales}),
    )
    .await;
    create_named(&app, "Ada", "Outsider", "ada.out@example.com").await;

    let response = app
        .get(&format!("/api/v1/users?userGroupId={sales}&search=ada"))
        .await;

    assert_eq!(ids_of(&response.body), [ada]);
    assert!(!ids_of(&response.body).contains(&grace));
    assert_eq!(response.body["total"], 1);
}

#[actix_web::test]
async fn a_page_too_far_for_any_count_is_empty_rather_than_an_error() {
    let app = spawn_app().await;
    app.create_user("ada@example.com", None).await;

    let response = app
        .get(&format!("/api/v1/users?page={}&limit=100", i64::MAX))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["items"], json!([]));
    assert_eq!(response.body["total"], 1);
    assert_eq!(response.body["totalPages"], 1);
}

#[actix_web::test]
async fn search_takes_percent_and_underscore_literally() {
    let app = spawn_app().await;
    let percent = id_of(&create_named(&app, "Hundred%", "Percent", "percent@example.com").await);
    let underscore = id_of(&create_named(&app, "Ada", "Lovelace", "ada_l@example.com").await);
    let plain = id_of(&create_named(&app, "Plain", "Person", "adaxl@example.com").await);

    let by_percent = app.get("/api/v1/users?search=%25").await;
    let by_underscore = app.get("/api/v1/users?search=a_l").await;

    assert_eq!(ids_of(&by_percent.body), [percent]);
    assert_eq!(ids_of(&by_underscore.body), [underscore]);
    assert!(!ids_of(&by_underscore.body).contains(&plain));
}

#[actix_web::test]
async fn search_follows_a_renamed_user() {
    let app = spawn_app().await;
    let id = id_of(&create_named(&app, "Ada", "Byron", "ada@example.com").await);
    let updated = app
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"lastName": "Lovelace"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);

    let old_name = app.get("/api/v1/users?search=byron").await;
    let new_name = app.get("/api/v1/users?search=lovelace").await;

    assert_eq!(old_name.body["total"], 0, "{}", old_name.body);
    assert_eq!(ids_of(&new_name.body), [id]);
}

#[actix_web::test]
async fn filtering_by_group_lists_only_its_active_members() {
    let app = spawn_app().await;
    let sales = id_of(&app.create_group("Sales").await);
    let support = id_of(&app.create_group("Support").await);
    let ada = id_of(&app.create_user("ada@example.com", Some(&sales)).await);
    app.create_user("grace@example.com", Some(&support)).await;
    app.create_user("alan@example.com", None).await;
    let left = id_of(&app.create_user("left@example.com", Some(&sales)).await);
    app.delete(&format!("/api/v1/users/{left}")).await;

    let response = app.get(&format!("/api/v1/users?userGroupId={sales}")).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(ids_of(&response.body), [ada]);
    assert_eq!(response.body["total"], 1);
}

#[actix_web::test]
async fn filtering_by_a_group_that_does_not_exist_or_was_deleted_gives_an_empty_page() {
    let app = spawn_app().await;
    app.create_user("ada@example.com", None).await;
    let former = deleted_group(&app, "Former").await;
    let empty_page = json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0});

    for (what, group_id) in [
        ("an unknown group", unknown_id()),
        ("a deleted group", former),
    ] {
        let response = app
            .get(&format!("/api/v1/users?userGroupId={group_id}"))
            .await;

        assert_eq!(response.status, StatusCode::OK, "{what}: {}", response.body);
        assert_eq!(response.body, empty_page, "{what}");
    }
}

#[actix_web::test]
async fn filtering_by_the_callers_own_organization_lists_its_users() {
    let app = spawn_app().await;
    let ada = id_of(&app.create_user("ada@example.com", None).await);

    let lower = app
        .get(&format!(
            "/api/v1/users?organizationId={}",
            app.organization_id
        ))
        .await;
    let upper = app
        .get(&format!(
            "/api/v1/users?organizationId={}",
            app.organization_id.to_uppercase()
        ))
        .await;

    assert_eq!(ids_of(&lower.body), [ada.as_str()]);
    assert_eq!(ids_of(&upper.body), [ada]);
}

#[actix_web::test]
async fn filtering_by_another_organization_gives_an_empty_page() {
    let app = spawn_app().await;
    app.create_user("ada@example.com", None).await;
    let (other_org, _) = app.other_organization();

    for org in [other_org, unknown_id()] {
        let response = app
            .get(&format!("/api/v1/users?organizationId={org}"))
            .await;

        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert_eq!(
            response.body,
            json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0})
        );
    }
}

#[actix_web::test]
async fn each_bad_list_parameter_is_a_400_naming_it() {
    let app = spawn_app().await;
    let cases = [
        ("page must be at least 1", "page=0", "page"),
        ("page must be a number", "page=two", "page"),
        ("page may not be negative", "page=-1", "page"),
        ("limit must be at least 1", "limit=0", "limit"),
        ("limit is at most 100", "limit=101", "limit"),
        ("limit must be whole", "limit=1.5", "limit"),
        (
            "organizationId must be a UUID",
            "organizationId=acme",
            "organizationId",
        ),
        (
            "userGroupId must be a UUID",
            "userGroupId=sales",
            "userGroupId",
        ),
        (
            "userGroupId may not be empty",
            "userGroupId=",
            "userGroupId",
        ),
        ("an unknown parameter is refused", "role=admin", "role"),
        (
            "a repeated parameter is refused",
            "search=a&search=b",
            "search",
        ),
    ];

    for (what, query, field) in cases {
        let response = app.get(&format!("/api/v1/users?{query}")).await;

        response.assert_error(400);
        assert_eq!(
            response.error_fields(),
            [field],
            "{what}: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn a_limit_of_100_is_accepted() {
    let app = spawn_app().await;

    let response = app.get("/api/v1/users?limit=100").await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["limit"], 100);
}

#[actix_web::test]
async fn several_bad_list_parameters_are_all_listed() {
    let app = spawn_app().await;

    let response = app
        .get("/api/v1/users?page=0&limit=500&organizationId=x&userGroupId=y&color=red")
        .await;

    response.assert_error(400);
    let mut fields = response.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["color", "limit", "organizationId", "page", "userGroupId"]
    );
}

// ---------------------------------------------------------------------------------------------
// Get

#[actix_web::test]
async fn getting_a_user_that_does_not_exist_is_a_404() {
    let app = spawn_app().await;

    let response = app.get(&format!("/api/v1/users/{}", unknown_id())).await;

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

    let response = app
        .get(&format!("/api/v1/users/{}", id_of(&user).to_uppercase()))
        .await;

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
        .call("PATCH", &format!("/api/v1/users/{}", id_of(&user)))
        .json(&json!({"firstName": "Augusta"}))
        .send()
        .await;

    response.assert_error(405);
    assert_eq!(response.message(), "Method not allowed");
    assert_eq!(response.headers.get("allow").unwrap(), "GET, PUT, DELETE");
}

// ---------------------------------------------------------------------------------------------
// Update

#[actix_web::test]
async fn an_update_changes_only_the_fields_it_sends() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);
    let created = app
        .post(
            "/api/v1/users",
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "role": "editor",
                   "avatar": "https://cdn.example.com/ada.png", "userGroupId": group_id}),
        )
        .await
        .body;
    let id = id_of(&created);

    let response = app
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"firstName": " Augusta "}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let mut expected = created.clone();
    expected["firstName"] = json!("Augusta");
    expected["fullName"] = json!("Augusta Lovelace");
    expected["updatedAt"] = response.body["updatedAt"].clone();
    assert_eq!(response.body, expected);
    assert!(response.body["updatedAt"].as_str() >= created["updatedAt"].as_str());
    let read = app.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(read.body, response.body);
}

#[actix_web::test]
async fn an_update_can_change_every_changeable_field_at_once() {
    let app = spawn_app().await;
    let sales = id_of(&app.create_group("Sales").await);
    let support = id_of(&app.create_group("Support").await);
    let id = id_of(&app.create_user("ada@example.com", Some(&sales)).await);

    let response = app
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"firstName": "Grace", "lastName": "Hopper", "role": "admin",
                   "avatar": "https://cdn.example.com/grace.png", "userGroupId": support}),
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
        .put(&format!("/api/v1/users/{}", id_of(&created)), json!({}))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let mut expected = created.clone();
    expected["updatedAt"] = response.body["updatedAt"].clone();
    assert_eq!(response.body, expected);
}

#[actix_web::test]
async fn a_null_user_group_id_removes_the_user_from_its_group() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);
    let id = id_of(&app.create_user("ada@example.com", Some(&group_id)).await);

    let response = app
        .put(&format!("/api/v1/users/{id}"), json!({"userGroupId": null}))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["userGroupId"], Value::Null);
    let members = app
        .get(&format!("/api/v1/users?userGroupId={group_id}"))
        .await;
    assert_eq!(members.body["total"], 0);
    let deleted = app.delete(&format!("/api/v1/user-groups/{group_id}")).await;
    assert_eq!(
        deleted.status,
        StatusCode::OK,
        "the group has no member left: {}",
        deleted.body
    );
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
        .put(
            &format!("/api/v1/users/{}", id_of(&created)),
            json!({"avatar": null}),
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
        .put(&format!("/api/v1/users/{id}"), json!({"role": "editor"}))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["role"], "editor");
    assert_eq!(
        app.get(&format!("/api/v1/users/{id}")).await.body["role"],
        "editor"
    );
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
                &format!("/api/v1/users/{id}"),
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
    assert_eq!(app.get(&format!("/api/v1/users/{id}")).await.body, created);
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
            .put(
                &format!("/api/v1/users/{id}"),
                json!({"userGroupId": group_id}),
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
    assert_eq!(app.get(&format!("/api/v1/users/{id}")).await.body, created);
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
        let response = app.put(&format!("/api/v1/users/{id}"), body).await;

        response.assert_error(400);
        assert_eq!(
            response.error_fields(),
            [field],
            "{what}: {}",
            response.body
        );
    }
    assert_eq!(app.get(&format!("/api/v1/users/{id}")).await.body, created);
}

#[actix_web::test]
async fn an_update_with_several_bad_fields_lists_every_one_of_them() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);

    let response = app
        .put(
            &format!("/api/v1/users/{id}"),
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
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"lastName": accented(100)}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["lastName"], accented(100));
}

#[actix_web::test]
async fn updating_a_user_that_does_not_exist_is_a_404() {
    let app = spawn_app().await;

    let response = app
        .put(
            &format!("/api/v1/users/{}", unknown_id()),
            json!({"firstName": "Ada"}),
        )
        .await;

    response.assert_error(404);
    assert_eq!(response.message(), "User not found");
}

#[actix_web::test]
async fn a_bad_body_is_a_400_even_for_a_user_that_does_not_exist() {
    let app = spawn_app().await;

    let response = app
        .put(
            &format!("/api/v1/users/{}", unknown_id()),
            json!({"firstName": ""}),
        )
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
        .call("PUT", &format!("/api/v1/users/{id}"))
        .raw_body(r#"{"firstName":"Augusta"}"#)
        .content_type(None)
        .send()
        .await;

    response.assert_error(415);
}

// ---------------------------------------------------------------------------------------------
// Delete

#[actix_web::test]
async fn deleting_a_user_returns_it_with_deleted_at_equal_to_updated_at() {
    let app = spawn_app().await;
    let created = app.create_user("ada@example.com", None).await;

    let response = app
        .delete(&format!("/api/v1/users/{}", id_of(&created)))
        .await;

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
    let path = format!("/api/v1/users/{id}");
    app.delete(&path).await;

    let got = app.get(&path).await;
    let updated = app.put(&path, json!({"firstName": "Back"})).await;
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

    app.delete(&format!("/api/v1/users/{id}")).await;

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
    let deleted = app.delete(&format!("/api/v1/users/{id}")).await.body;

    app.put(&format!("/api/v1/users/{id}"), json!({"firstName": "Back"}))
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

    let response = app.delete(&format!("/api/v1/users/{}", unknown_id())).await;

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

#[actix_web::test]
async fn deleting_a_groups_only_member_lets_the_group_be_deleted() {
    let app = spawn_app().await;
    let group_id = id_of(&app.create_group("Sales").await);
    let id = id_of(&app.create_user("ada@example.com", Some(&group_id)).await);

    app.delete(&format!("/api/v1/users/{id}")).await;
    let response = app.delete(&format!("/api/v1/user-groups/{group_id}")).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

// ---------------------------------------------------------------------------------------------
// The organization's last admin

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

// ---------------------------------------------------------------------------------------------
// Permissions

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
    let user_path = format!("/api/v1/users/{id}");
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
    let missing = format!("/api/v1/users/{}", unknown_id());

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
        .call("GET", &format!("/api/v1/users/{}", id_of(&user)))
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
    let path = format!("/api/v1/users/{}", id_of(&created.body));
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
