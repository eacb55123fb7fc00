//! `GET /api/v1/users`: paging newest first, the search over names and emails, the group and
//! organization filters, and the 400 that names every bad parameter.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use usergroups::api::{CreateUser, UpdateUser};

use super::deleted_group;
use crate::helpers::{id_of, ids_of, spawn_app, unknown_id, user_path, TestApp};

/// Creates a user with the given names and email, returning it.
async fn create_named(app: &TestApp, first: &str, last: &str, email: &str) -> Value {
    let response = app
        .create_user_with(&CreateUser {
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
            ..CreateUser::default()
        })
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

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
        json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0, "nextCursor": null})
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
        json!({"items": [], "page": 5, "limit": 10, "total": 1, "totalPages": 1, "nextCursor": null})
    );
}

#[actix_web::test]
async fn deleted_users_are_not_listed() {
    let app = spawn_app().await;
    let kept = app.create_user("kept@example.com", None).await;
    let gone = app.create_user("gone@example.com", None).await;
    app.delete(&user_path(&id_of(&gone))).await;

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
    let join_sales = UpdateUser {
        user_group_id: Some(Some(sales.clone())),
        ..UpdateUser::default()
    };
    let ada = id_of(&create_named(&app, "Ada", "Lovelace", "ada@example.com").await);
    app.update_user(&ada, &join_sales).await;
    let grace = id_of(&create_named(&app, "Grace", "Hopper", "grace@example.com").await);
    app.update_user(&grace, &join_sales).await;
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
        .update_user(
            &id,
            &UpdateUser {
                last_name: Some("Lovelace".into()),
                ..UpdateUser::default()
            },
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
    app.delete(&user_path(&left)).await;

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
    let empty_page = json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0, "nextCursor": null});

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
            json!({"items": [], "page": 1, "limit": 20, "total": 0, "totalPages": 0, "nextCursor": null})
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

#[actix_web::test]
async fn paging_users_by_cursor_keeps_the_group_filter_and_lists_each_member_once() {
    let app = spawn_app().await;
    let sales = id_of(&app.create_group("Sales").await);
    let mut members = Vec::new();
    for i in 0..5 {
        members.push(id_of(
            &app.create_user(&format!("member{i}@example.com"), Some(&sales))
                .await,
        ));
        app.create_user(&format!("outsider{i}@example.com"), None)
            .await;
    }
    members.reverse();
    let mut listed = Vec::new();
    let mut target = format!("/api/v1/users?userGroupId={sales}&limit=2");

    loop {
        let response = app.get(&target).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert_eq!(response.body["total"], 5);
        listed.extend(ids_of(&response.body));
        let Some(cursor) = response.body["nextCursor"].as_str() else {
            break;
        };
        target = format!("/api/v1/users?userGroupId={sales}&limit=2&cursor={cursor}");
    }
    let without_filter = app
        .get(&format!(
            "/api/v1/users?limit=2&cursor={}",
            app.get(&format!("/api/v1/users?userGroupId={sales}&limit=2"))
                .await
                .body["nextCursor"]
                .as_str()
                .unwrap()
        ))
        .await;

    assert_eq!(listed, members);
    without_filter.assert_error(400);
    assert_eq!(without_filter.error_fields(), ["cursor"]);
}

#[actix_web::test]
async fn the_user_total_is_exact_after_concurrent_creates_and_deletes() {
    let app = spawn_app().await;
    let mut existing = Vec::new();
    for i in 0..15 {
        existing.push(id_of(
            &app.create_user(&format!("old{i}@example.com"), None).await,
        ));
    }

    let creates = (0..25).map(|i| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/users",
                json!({"firstName": "New", "lastName": "User", "email": format!("new{i}@example.com")}),
            )
            .await
            .status
        }
    });
    let deletes = existing[..10].iter().map(|id| {
        let app = &app;
        async move { app.delete(&user_path(id)).await.status }
    });
    let (created, deleted) = futures_util::future::join(
        futures_util::future::join_all(creates),
        futures_util::future::join_all(deletes),
    )
    .await;

    assert!(
        created.iter().all(|s| *s == StatusCode::CREATED),
        "{created:?}"
    );
    assert!(deleted.iter().all(|s| *s == StatusCode::OK), "{deleted:?}");
    let live = crate::helpers::count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM users WHERE deleted_at IS NULL",
    );
    let listed = app.get("/api/v1/users?limit=1").await;
    assert_eq!(live, 30);
    assert_eq!(listed.body["total"], live);
}
