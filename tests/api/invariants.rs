//! The invariants of `api.md` under concurrent requests: a deleted group never has an active
//! member, `deletedAt` is set once, and live names are unique, however requests interleave.

use actix_web::http::StatusCode;
use futures_util::future::{join, join_all};
use serde_json::json;

use crate::helpers::{count, spawn_app, TestApp, TestResponse};

const PAIRS: usize = 24;

/// Groups with no live member whose deletion has been recorded: must always be zero.
fn deleted_groups_with_active_members(app: &TestApp) -> i64 {
    count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM users u JOIN user_groups g ON g.id = u.user_group_id \
         WHERE u.deleted_at IS NULL AND g.deleted_at IS NOT NULL",
    )
}

/// Exactly one of a racing pair won: the delete (and the join was refused as an unknown group),
/// or the join (and the delete was refused for its active member).
#[track_caller]
fn exactly_one_won(delete: &TestResponse, join: &TestResponse, joined: StatusCode) {
    let delete_won = delete.status == StatusCode::OK && join.status == StatusCode::BAD_REQUEST;
    let join_won = join.status == joined && delete.status == StatusCode::FORBIDDEN;
    assert!(
        delete_won ^ join_won,
        "delete answered {} {}, join answered {} {}",
        delete.status,
        delete.body,
        join.status,
        join.body
    );
    if delete_won {
        assert_eq!(join.error_fields(), ["userGroupId"], "{}", join.body);
    }
}

#[actix_web::test]
async fn a_group_delete_racing_a_user_create_into_it_never_both_succeed() {
    let app = spawn_app().await;
    let mut group_ids = Vec::new();
    for i in 0..PAIRS {
        group_ids.push(
            app.create_group(&format!("Race {i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let races = group_ids.iter().enumerate().map(|(i, id)| {
        let app = &app;
        async move {
            let target = format!("/api/v1/user-groups/{id}");
            let delete = app.delete(&target);
            let enter = app.post(
                "/api/v1/users",
                json!({"firstName": "R", "lastName": "C", "email": format!("racer{i}@example.com"), "userGroupId": id}),
            );
            // Alternate which request is issued first, so both orders are exercised.
            if i % 2 == 0 {
                join(delete, enter).await
            } else {
                let (enter, delete) = join(enter, delete).await;
                (delete, enter)
            }
        }
    });
    let outcomes = join_all(races).await;

    for (delete, join) in &outcomes {
        exactly_one_won(delete, join, StatusCode::CREATED);
    }
    assert_eq!(deleted_groups_with_active_members(&app), 0);
}

#[actix_web::test]
async fn a_group_delete_racing_a_user_moving_into_it_never_both_succeed() {
    let app = spawn_app().await;
    let mut pairs = Vec::new();
    for i in 0..PAIRS {
        let group = app.create_group(&format!("Race {i}")).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let user = app
            .create_user(&format!("mover{i}@example.com"), None)
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        pairs.push((group, user));
    }

    let races = pairs.iter().map(|(group, user)| {
        let app = &app;
        async move {
            join(
                app.delete(&format!("/api/v1/user-groups/{group}")),
                app.put(
                    &format!("/api/v1/users/{user}"),
                    json!({"userGroupId": group}),
                ),
            )
            .await
        }
    });
    let outcomes = join_all(races).await;

    for (delete, join) in &outcomes {
        exactly_one_won(delete, join, StatusCode::OK);
    }
    assert_eq!(deleted_groups_with_active_members(&app), 0);
}

#[actix_web::test]
async fn concurrent_creates_of_one_name_leave_exactly_one_live_group() {
    let app = spawn_app().await;

    let attempts = (0..12).map(|i| {
        app.post(
            "/api/v1/user-groups",
            json!({"name": "Contended", "description": format!("attempt {i}")}),
        )
    });
    let responses = join_all(attempts).await;

    let created = responses
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let conflicts = responses
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        (created, conflicts),
        (1, 11),
        "{:?}",
        responses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(
        app.get("/api/v1/user-groups?search=contended").await.body["total"],
        1
    );
}

#[actix_web::test]
async fn concurrent_deletes_of_one_group_set_deleted_at_once() {
    let app = spawn_app().await;
    let id = app.create_group("Once").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = format!("/api/v1/user-groups/{id}");

    let responses = join_all((0..8).map(|_| app.delete(&target))).await;

    let deleted: Vec<_> = responses
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(deleted.len(), 1);
    assert!(responses
        .iter()
        .all(|r| r.status == StatusCode::OK || r.status == StatusCode::NOT_FOUND));
    let stored = count(
        &mut app.connection(),
        &format!(
            "SELECT COUNT(*) AS n FROM user_groups WHERE id = '{id}' AND deleted_at IS NOT NULL"
        ),
    );
    assert_eq!(stored, 1);
}

#[actix_web::test]
async fn the_last_two_admins_deleted_concurrently_leave_one() {
    let app = spawn_app().await;
    let first = app
        .create_user_with_role("a1@example.com", None, "admin")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app
        .create_user_with_role("a2@example.com", None, "admin")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (a, b) = join(
        app.delete(&format!("/api/v1/users/{first}")),
        app.delete(&format!("/api/v1/users/{second}")),
    )
    .await;

    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 403], "{} / {}", a.body, b.body);
    let live_admins = count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND deleted_at IS NULL",
    );
    assert_eq!(live_admins, 1);
}

#[actix_web::test]
async fn a_deleted_group_keeps_its_deleted_at_whatever_follows() {
    let app = spawn_app().await;
    let id = app.create_group("Final").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = app.delete(&format!("/api/v1/user-groups/{id}")).await.body;

    app.put(
        &format!("/api/v1/user-groups/{id}"),
        json!({"name": "Revived"}),
    )
    .await;
    app.delete(&format!("/api/v1/user-groups/{id}")).await;
    app.post("/api/v1/user-groups", json!({"name": "Final"}))
        .await;

    let mut conn = app.connection();
    let stored_at = {
        use diesel::prelude::*;
        use usergroups::db::schema::user_groups;
        user_groups::table
            .find(&id)
            .select((user_groups::name, user_groups::deleted_at))
            .first::<(String, Option<chrono::NaiveDateTime>)>(&mut *conn)
            .unwrap()
    };
    assert_eq!(stored_at.0, "Final");
    let shown = chrono::NaiveDateTime::parse_from_str(
        deleted["deletedAt"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%SZ",
    )
    .unwrap();
    assert_eq!(stored_at.1, Some(shown));
}
