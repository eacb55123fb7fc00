//! `POST /api/v1/deleted-user-groups/{id}/restore` and `POST /api/v1/deleted-users/{id}/restore`:
//! the round trip, the 409s of a value taken meanwhile, the 404s (unknown, live, purged), a
//! user whose group is gone, and a restore into a group racing that group's delete.

use actix_web::http::StatusCode;
use futures_util::future::{join, join_all};
use serde_json::json;

use super::{backdate_group_deletion, purge};
use crate::helpers::{count, group_path, id_of, spawn_app, unknown_id, user_path};

fn restore_group_path(id: &str) -> String {
    format!("/api/v1/deleted-user-groups/{id}/restore")
}

fn restore_user_path(id: &str) -> String {
    format!("/api/v1/deleted-users/{id}/restore")
}

#[actix_web::test]
async fn a_restored_group_comes_back_with_its_fields_and_extra_fields_and_is_counted_again() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/user-groups",
            json!({"name": "Sales", "description": "EMEA", "externalId": "S-1",
                   "extraFields": {"n": 1.50e3, "tags": ["a", "b"]}}),
        )
        .await
        .body;
    let id = id_of(&created);
    assert_eq!(app.delete(&group_path(&id)).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&group_path(&id)).await.status,
        StatusCode::NOT_FOUND
    );

    let restored = app.post(&restore_group_path(&id), json!({})).await;

    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    for field in [
        "id",
        "name",
        "description",
        "externalId",
        "organizationId",
        "extraFields",
        "createdAt",
    ] {
        assert_eq!(restored.body[field], created[field], "{field}");
    }
    assert!(
        restored.body.get("deletedAt").is_none(),
        "{}",
        restored.body
    );
    assert!(restored.headers.get("etag").is_some());
    let read = app.get(&group_path(&id)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["extraFields"], created["extraFields"]);
    assert_eq!(app.get("/api/v1/user-groups").await.body["total"], 1);
    let listed = app.get("/api/v1/deleted-user-groups").await;
    assert_eq!(listed.body["total"], 0, "{}", listed.body);
}

#[actix_web::test]
async fn restoring_a_group_whose_name_or_external_id_a_live_group_now_holds_is_a_409_naming_it() {
    let app = spawn_app().await;
    let by_name = id_of(
        &app.post("/api/v1/user-groups", json!({"name": "Sales"}))
            .await
            .body,
    );
    let by_external = id_of(
        &app.post(
            "/api/v1/user-groups",
            json!({"name": "Ops", "externalId": "X-1"}),
        )
        .await
        .body,
    );
    app.delete(&group_path(&by_name)).await;
    app.delete(&group_path(&by_external)).await;
    app.post("/api/v1/user-groups", json!({"name": "Sales"}))
        .await;
    app.post(
        "/api/v1/user-groups",
        json!({"name": "Other", "externalId": "X-1"}),
    )
    .await;

    let name_taken = app.post(&restore_group_path(&by_name), json!({})).await;
    let external_taken = app.post(&restore_group_path(&by_external), json!({})).await;

    name_taken.assert_error(409);
    assert_eq!(
        name_taken.message(),
        "A user group with this name already exists"
    );
    assert_eq!(name_taken.error_fields(), ["name"]);
    external_taken.assert_error(409);
    assert_eq!(
        external_taken.message(),
        "A user group with this externalId already exists"
    );
    assert_eq!(external_taken.error_fields(), ["externalId"]);
    assert_eq!(
        app.get("/api/v1/deleted-user-groups").await.body["total"],
        2
    );
    assert_eq!(app.get("/api/v1/user-groups").await.body["total"], 2);
}

#[actix_web::test]
async fn restoring_a_group_that_is_unknown_live_or_purged_is_a_404() {
    let app = spawn_app().await;
    let live = id_of(&app.create_group("Live").await);
    let purged = id_of(&app.create_group("Purged").await);
    app.delete(&group_path(&purged)).await;
    backdate_group_deletion(&app, &purged, 31);
    purge(&app, 30, 500).await;

    for (id, why) in [
        (unknown_id(), "an unknown id"),
        (live, "a live group"),
        (purged, "a purged group"),
    ] {
        let answer = app.post(&restore_group_path(&id), json!({})).await;
        answer.assert_error(404);
        assert_eq!(answer.message(), "User group not found", "{why}");
    }
}

#[actix_web::test]
async fn another_organizations_deleted_group_cannot_be_restored() {
    let app = spawn_app().await;
    let id = id_of(&app.create_group("Mine").await);
    app.delete(&group_path(&id)).await;
    let (_, other) = app.other_organization();

    let answer = app
        .write("POST", &restore_group_path(&id))
        .credentials(&other)
        .json(&json!({}))
        .send()
        .await;

    answer.assert_error(404);
    assert_eq!(
        app.get(&group_path(&id)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn the_plain_routes_keep_answering_404_for_deleted_groups_and_users() {
    let app = spawn_app().await;
    let group = id_of(&app.create_group("Gone").await);
    let user = id_of(&app.create_user("gone@example.com", None).await);
    app.delete(&group_path(&group)).await;
    app.delete(&user_path(&user)).await;

    for path in [group_path(&group), user_path(&user)] {
        app.get(&path).await.assert_error(404);
        app.put(&path, json!({})).await.assert_error(404);
        app.delete(&path).await.assert_error(404);
    }
    assert_eq!(app.get("/api/v1/user-groups").await.body["total"], 0);
    assert_eq!(app.get("/api/v1/users").await.body["total"], 0);
}

#[actix_web::test]
async fn a_restored_user_rejoins_its_live_group_and_a_taken_email_is_a_409() {
    let app = spawn_app().await;
    let group = id_of(&app.create_group("Team").await);
    let member = id_of(&app.create_user("ada@example.com", Some(&group)).await);
    let other = id_of(&app.create_user("bob@example.com", None).await);
    app.delete(&user_path(&member)).await;
    app.delete(&user_path(&other)).await;
    app.create_user("BOB@example.com", None).await;

    let restored = app.post(&restore_user_path(&member), json!({})).await;
    let taken = app.post(&restore_user_path(&other), json!({})).await;

    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(restored.body["userGroupId"], group);
    assert_eq!(restored.body["email"], "ada@example.com");
    taken.assert_error(409);
    assert_eq!(taken.error_fields(), ["email"]);
    let members = app.get(&format!("/api/v1/users?userGroupId={group}")).await;
    assert_eq!(members.body["total"], 1);
    assert_eq!(app.get("/api/v1/users").await.body["total"], 2);
}

#[actix_web::test]
async fn a_user_whose_group_was_deleted_or_purged_is_restored_without_a_group() {
    let app = spawn_app().await;
    let deleted_group = id_of(&app.create_group("Deleted").await);
    let purged_group = id_of(&app.create_group("Purged").await);
    let in_deleted = id_of(&app.create_user("a@example.com", Some(&deleted_group)).await);
    let in_purged = id_of(&app.create_user("b@example.com", Some(&purged_group)).await);
    for user in [&in_deleted, &in_purged] {
        app.delete(&user_path(user)).await;
    }
    app.delete(&group_path(&deleted_group)).await;
    app.delete(&group_path(&purged_group)).await;
    backdate_group_deletion(&app, &purged_group, 31);
    purge(&app, 30, 500).await;

    for user in [&in_deleted, &in_purged] {
        let restored = app.post(&restore_user_path(user), json!({})).await;
        assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
        assert_eq!(
            restored.body["userGroupId"],
            json!(null),
            "{}",
            restored.body
        );
    }
}

#[actix_web::test]
async fn restoring_a_member_into_a_group_racing_that_groups_delete_never_both_succeed() {
    const PAIRS: usize = 16;
    let app = spawn_app().await;
    let mut pairs = Vec::new();
    for i in 0..PAIRS {
        let group = id_of(&app.create_group(&format!("Race {i}")).await);
        let user = id_of(
            &app.create_user(&format!("r{i}@example.com"), Some(&group))
                .await,
        );
        app.delete(&user_path(&user)).await;
        pairs.push((group, user));
    }

    let races = pairs.iter().enumerate().map(|(i, (group, user))| {
        let app = &app;
        async move {
            let (group_target, user_target) = (group_path(group), restore_user_path(user));
            let delete = app.delete(&group_target);
            let restore = app.post(&user_target, json!({}));
            if i % 2 == 0 {
                join(delete, restore).await
            } else {
                let (restore, delete) = join(restore, delete).await;
                (delete, restore)
            }
        }
    });
    let outcomes = join_all(races).await;

    for (delete, restore) in &outcomes {
        assert_eq!(restore.status, StatusCode::OK, "{}", restore.body);
        let rejoined = !restore.body["userGroupId"].is_null();
        match delete.status {
            StatusCode::OK => assert!(!rejoined, "both won: {}", restore.body),
            StatusCode::FORBIDDEN => assert!(rejoined, "the delete lost to nothing"),
            other => panic!("delete answered {other} {}", delete.body),
        }
    }
    let deleted_groups_with_active_members = count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM users u JOIN user_groups g ON g.id = u.user_group_id \
         WHERE u.deleted_at IS NULL AND g.deleted_at IS NOT NULL",
    );
    assert_eq!(deleted_groups_with_active_members, 0);
}
