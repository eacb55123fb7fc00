//! `GET /api/v1/deleted-user-groups` and `GET /api/v1/deleted-users`: newest deletion first,
//! with `deletedAt`, `deletedBy` and `purgeAt`, paged like the live lists (page, limit, search,
//! cursor), and only the caller's organization.

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use std::time::Duration;
use usergroups::Limits;

use super::backdate_group_deletion;
use crate::helpers::{group_path, id_of, ids_of, spawn_app, spawn_app_with, user_path};

fn time_of(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

#[actix_web::test]
async fn deleted_groups_are_listed_newest_deletion_first_with_who_deleted_them_and_when_they_go() {
    let app = spawn_app_with(Limits {
        retention: Duration::from_secs(7 * 86_400),
        ..Limits::default()
    })
    .await;
    let first = id_of(&app.create_group("First").await);
    let second = id_of(&app.create_group("Second").await);
    app.create_group("Live").await;
    app.delete(&group_path(&second)).await;
    app.delete(&group_path(&first)).await;
    // Deleted in the same second: the earlier deletion is moved back to make the order certain.
    backdate_group_deletion(&app, &second, 1);

    let listed = app.get("/api/v1/deleted-user-groups").await;

    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(ids_of(&listed.body), [first.clone(), second]);
    assert_eq!(listed.body["total"], 2);
    let item = &listed.body["items"][0];
    assert_eq!(item["name"], "First");
    assert_eq!(item["deletedBy"], app.credentials.access_key_id.as_str());
    let deleted_at = time_of(&item["deletedAt"]);
    assert_eq!(
        time_of(&item["purgeAt"]) - deleted_at,
        chrono::TimeDelta::days(7)
    );
}

#[actix_web::test]
async fn the_deleted_listings_page_search_and_follow_their_cursor_like_the_live_ones() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = id_of(&app.create_group(&format!("Team {i}")).await);
        app.delete(&group_path(&id)).await;
        ids.push(id);
    }
    app.create_group("Team live").await;

    let first = app.get("/api/v1/deleted-user-groups?limit=2").await;
    let cursor = first.body["nextCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let second = app
        .get(&format!(
            "/api/v1/deleted-user-groups?limit=2&cursor={cursor}"
        ))
        .await;
    let third = app.get("/api/v1/deleted-user-groups?limit=2&page=3").await;
    let searched = app.get("/api/v1/deleted-user-groups?search=team%203").await;
    let foreign_cursor = app
        .get(&format!("/api/v1/user-groups?limit=2&cursor={cursor}"))
        .await;

    assert_eq!(first.body["total"], 5);
    assert_eq!(first.body["totalPages"], 3);
    let mut paged = ids_of(&first.body);
    paged.extend(ids_of(&second.body));
    paged.extend(ids_of(&third.body));
    let mut expected = ids.clone();
    expected.sort();
    let mut sorted = paged.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "every deleted group once");
    assert_eq!(ids_of(&searched.body), [ids[3].clone()]);
    foreign_cursor.assert_error(400);
    assert_eq!(foreign_cursor.error_fields(), ["cursor"]);
}

#[actix_web::test]
async fn deleted_users_are_listed_with_their_deleter_and_not_another_organizations() {
    let app = spawn_app().await;
    let user = id_of(&app.create_user("ada@example.com", None).await);
    app.create_user("live@example.com", None).await;
    app.delete(&user_path(&user)).await;
    let (_, other) = app.other_organization();

    let listed = app.get("/api/v1/deleted-users").await;
    let foreign = app
        .call("GET", "/api/v1/deleted-users")
        .credentials(&other)
        .send()
        .await;
    let bad_limit = app.get("/api/v1/deleted-users?limit=0").await;

    assert_eq!(ids_of(&listed.body), [user]);
    assert_eq!(listed.body["items"][0]["email"], "ada@example.com");
    assert_eq!(
        listed.body["items"][0]["deletedBy"],
        app.credentials.access_key_id.as_str()
    );
    assert!(listed.body["items"][0]["purgeAt"].is_string());
    assert_eq!(foreign.body["total"], 0, "{}", foreign.body);
    bad_limit.assert_error(400);
}
