//! `POST /api/v1/users`: what a created user looks like, the optional role, avatar and group,
//! the limits of each field, the 400 that names every bad field, and the email that must be
//! unique among live users whatever its case.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use usergroups::api::CreateUser;
use usergroups::role::Role;

use super::{accented, avatar_of_length, deleted_group, new_user, new_user_with};
use crate::helpers::{count, id_of, spawn_app, unknown_id, user_path};

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

    let response = app.get(&user_path(&id_of(&created))).await;

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
    let read = app.get(&user_path(&id_of(&response.body))).await;
    assert_eq!(read.body["email"], "Ada.Lovelace@Example.COM");
}

#[actix_web::test]
async fn creating_a_user_trims_the_names_and_builds_the_full_name_from_them() {
    let app = spawn_app().await;

    let response = app
        .create_user_with(&CreateUser {
            first_name: "  Ada ".into(),
            last_name: "\tLovelace  ".into(),
            email: "ada@example.com".into(),
            ..CreateUser::default()
        })
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
        .create_user_with(&CreateUser {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            role: Some(Role::Editor),
            avatar: Some("https://cdn.example.com/ada.png".into()),
            user_group_id: Some(group_id.clone()),
        })
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
        .create_user_with(&CreateUser {
            first_name: accented(100),
            last_name: "😀".repeat(100),
            email: "ada@example.com".into(),
            ..CreateUser::default()
        })
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
        .create_user_with(&CreateUser {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: email.clone(),
            avatar: Some(avatar.clone()),
            ..CreateUser::default()
        })
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
    let deleted = app.delete(&user_path(&id_of(&first))).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);

    let response = app.post("/api/v1/users", new_user("Ada@Example.com")).await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    assert_ne!(id_of(&response.body), id_of(&first));
}
