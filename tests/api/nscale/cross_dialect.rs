//! One store, two dialects: what one writes the other reads, changes and deletes, under the same
//! rules, and a delete in one racing a membership change in the other never both succeed.

use actix_web::http::StatusCode;
use futures_util::future::{join, join_all};
use serde_json::json;

use super::groups::{
    assert_nscale_error, create_nscale_group, group_path, group_write, group_write_with_members,
    groups_path, nscale_id,
};
use crate::helpers::{count, spawn_app, TestApp, TestResponse};
use usergroups::group_roles::USER_ID;

const ROUNDS: usize = 24;

fn deleted_groups_with_active_members(app: &TestApp) -> i64 {
    count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM users u JOIN user_groups g ON g.id = u.user_group_id \
         WHERE u.deleted_at IS NULL AND g.deleted_at IS NOT NULL",
    )
}

#[actix_web::test]
async fn an_onlive_group_reads_in_nscale_with_its_name_as_stored_and_empty_lists() {
    let app = spawn_app().await;
    let group = app.create_group("Global Sales Team").await;

    let read = app
        .get(&group_path(&app, group["id"].as_str().unwrap()))
        .await;

    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["metadata"]["name"], "Global Sales Team");
    assert_eq!(
        read.body["metadata"]["createdBy"],
        app.credentials.access_key_id.as_str()
    );
    assert!(read.body["metadata"].get("tags").is_none());
    assert!(read.body["metadata"].get("description").is_none());
    assert!(read.body["metadata"].get("modifiedTime").is_none());
    assert_eq!(
        read.body["spec"],
        json!({"roleIDs": [], "serviceAccountIDs": [], "userIDs": []})
    );
}

#[actix_web::test]
async fn an_onlive_update_shows_as_a_modification_in_nscale() {
    let app = spawn_app().await;
    let group = app.create_group("Team").await;
    let id = group["id"].as_str().unwrap();

    app.put(
        &format!("/api/v1/user-groups/{id}"),
        json!({"description": "new"}),
    )
    .await;
    let read = app.get(&group_path(&app, id)).await;

    assert_eq!(read.body["metadata"]["description"], "new");
    assert_eq!(
        read.body["metadata"]["modifiedBy"],
        app.credentials.access_key_id.as_str()
    );
    assert!(read.body["metadata"]["modifiedTime"].is_string());
}

#[actix_web::test]
async fn an_nscale_group_is_read_changed_and_deleted_through_onlive_which_keeps_its_fields() {
    let app = spawn_app().await;
    let group = create_nscale_group(
        &app,
        json!({"metadata": {"name": "team", "description": "d", "tags": [{"name": "k", "value": "v"}]},
               "spec": {"roleIDs": [USER_ID], "serviceAccountIDs": []}}),
    )
    .await;
    let id = nscale_id(&group);
    let onlive = format!("/api/v1/user-groups/{id}");

    let read = app.get(&onlive).await;
    assert_eq!(read.body["name"], "team");
    assert_eq!(read.body["description"], "d");
    let changed = app
        .put(
            &onlive,
            json!({"name": "renamed", "externalId": "EXT", "extraFields": {"a": 1}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);

    let seen = app.get(&group_path(&app, &id)).await;
    assert_eq!(seen.body["metadata"]["name"], "renamed");
    assert_eq!(
        seen.body["metadata"]["tags"],
        json!([{"name": "k", "value": "v"}])
    );
    assert_eq!(seen.body["spec"]["roleIDs"], json!([USER_ID]));

    // An nscale PUT keeps what only Onlive shows.
    app.put(&group_path(&app, &id), group_write("renamed"))
        .await;
    let kept = app.get(&onlive).await;
    assert_eq!(kept.body["externalId"], "EXT");
    assert_eq!(kept.body["extraFields"], json!({"a": 1}));

    let deleted = app.delete(&onlive).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_nscale_error(&app.get(&group_path(&app, &id)).await, 404, "not_found");
}

#[actix_web::test]
async fn live_names_are_unique_across_both_dialects() {
    let app = spawn_app().await;
    create_nscale_group(&app, group_write("shared")).await;
    app.create_group("other").await;

    let onlive = app
        .post("/api/v1/user-groups", json!({"name": "shared"}))
        .await;
    let nscale = app.post(&groups_path(&app), group_write("other")).await;

    onlive.assert_error(409);
    assert_nscale_error(&nscale, 409, "conflict");
}

#[actix_web::test]
async fn members_set_in_nscale_are_the_users_group_in_onlive() {
    let app = spawn_app().await;
    let user = app.create_user("a@example.com", None).await;
    let user_id = user["id"].as_str().unwrap();

    let group = create_nscale_group(&app, group_write_with_members("team", &[user_id])).await;
    let seen = app.get(&format!("/api/v1/users/{user_id}")).await;
    let onlive_delete = app
        .delete(&format!("/api/v1/user-groups/{}", nscale_id(&group)))
        .await;

    assert_eq!(seen.body["userGroupId"], nscale_id(&group).as_str());
    onlive_delete.assert_error(403);
}

#[track_caller]
fn exactly_one_won(delete: &TestResponse, change: &TestResponse, change_lost: StatusCode) {
    let delete_won = delete.status == StatusCode::OK && change.status == change_lost;
    let change_won = change.status.is_success() && delete.status == StatusCode::FORBIDDEN;
    assert!(
        delete_won ^ change_won,
        "delete answered {} {}, the change answered {} {}",
        delete.status,
        delete.body,
        change.status,
        change.body
    );
}

#[actix_web::test]
async fn an_onlive_delete_racing_an_nscale_membership_change_never_both_succeed() {
    let app = spawn_app().await;
    let mut pairs = Vec::new();
    for i in 0..ROUNDS {
        let group = app.create_group(&format!("race-{i}")).await;
        let user = app.create_user(&format!("r{i}@example.com"), None).await;
        pairs.push((
            group["id"].as_str().unwrap().to_owned(),
            user["id"].as_str().unwrap().to_owned(),
        ));
    }

    let races = pairs.iter().enumerate().map(|(i, (group, user))| {
        let app = &app;
        async move {
            let onlive = format!("/api/v1/user-groups/{group}");
            let nscale = group_path(app, group);
            let delete = app.delete(&onlive);
            let change = app.put(
                &nscale,
                group_write_with_members(&format!("race-{i}"), &[user]),
            );
            if i % 2 == 0 {
                join(delete, change).await
            } else {
                let (change, delete) = join(change, delete).await;
                (delete, change)
            }
        }
    });
    let outcomes = join_all(races).await;

    for (delete, change) in &outcomes {
        exactly_one_won(delete, change, StatusCode::NOT_FOUND);
    }
    assert_eq!(deleted_groups_with_active_members(&app), 0);
}

#[actix_web::test]
async fn an_nscale_delete_racing_an_onlive_join_never_both_succeed() {
    let app = spawn_app().await;
    let mut groups = Vec::new();
    for i in 0..ROUNDS {
        groups.push(nscale_id(
            &create_nscale_group(&app, group_write(&format!("race-{i}"))).await,
        ));
    }

    let races = groups.iter().enumerate().map(|(i, group)| {
        let app = &app;
        async move {
            let target = group_path(app, group);
            let delete = app.delete(&target);
            let join_it = app.post(
                "/api/v1/users",
                json!({"firstName": "R", "lastName": "C",
                       "email": format!("j{i}@example.com"), "userGroupId": group}),
            );
            if i % 2 == 0 {
                join(delete, join_it).await
            } else {
                let (join_it, delete) = join(join_it, delete).await;
                (delete, join_it)
            }
        }
    });
    let outcomes = join_all(races).await;

    for (delete, change) in &outcomes {
        exactly_one_won(delete, change, StatusCode::BAD_REQUEST);
    }
    assert_eq!(deleted_groups_with_active_members(&app), 0);
}

#[actix_web::test]
async fn an_nscale_delete_racing_an_nscale_create_with_a_member_of_it_never_both_succeed() {
    // A membership change into a group being deleted, both through the dialect: a PUT that
    // adds a user to the group, racing the group's delete.
    let app = spawn_app().await;
    let mut pairs = Vec::new();
    for i in 0..ROUNDS {
        let group = nscale_id(&create_nscale_group(&app, group_write(&format!("g-{i}"))).await);
        let user = app.create_user(&format!("n{i}@example.com"), None).await;
        pairs.push((group, user["id"].as_str().unwrap().to_owned()));
    }

    let races = pairs.iter().enumerate().map(|(i, (group, user))| {
        let app = &app;
        async move {
            join(
                app.delete(&group_path(app, group)),
                app.put(
                    &group_path(app, group),
                    group_write_with_members(&format!("g-{i}"), &[user]),
                ),
            )
            .await
        }
    });
    let outcomes = join_all(races).await;

    for (delete, change) in &outcomes {
        exactly_one_won(delete, change, StatusCode::NOT_FOUND);
    }
    assert_eq!(deleted_groups_with_active_members(&app), 0);
}

#[actix_web::test]
async fn the_nscale_writes_are_in_the_change_feed_with_each_user_their_membership_moved() {
    let app = spawn_app().await;
    let ada = crate::helpers::id_of(&app.create_user("ada@example.com", None).await);
    let bob = crate::helpers::id_of(&app.create_user("bob@example.com", None).await);
    let group =
        nscale_id(&create_nscale_group(&app, group_write_with_members("team", &[&ada])).await);
    let path = group_path(&app, &group);

    let swapped = app
        .put(&path, group_write_with_members("team", &[&bob]))
        .await;
    let emptied = app.put(&path, group_write_with_members("team", &[])).await;
    let deleted = app.delete(&path).await;
    let events = crate::lifecycle::feed(&app).await;

    for answer in [&swapped, &emptied, &deleted] {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let of = |id: &str| -> Vec<(String, Option<String>)> {
        events
            .iter()
            .filter(|e| e["resourceId"] == id)
            .map(|e| {
                let kind = e["type"].as_str().unwrap().to_owned();
                let member_of = e["resource"]["userGroupId"].as_str().map(str::to_owned);
                (kind, member_of)
            })
            .collect()
    };
    let joined = |kind: &str| (kind.to_owned(), Some(group.clone()));
    let alone = |kind: &str| (kind.to_owned(), None);
    assert_eq!(
        of(&ada),
        [
            alone("user.created"),
            joined("user.updated"),
            alone("user.updated")
        ],
        "ada joins with the create and leaves with the first PUT"
    );
    assert_eq!(
        of(&bob),
        [
            alone("user.created"),
            joined("user.updated"),
            alone("user.updated")
        ],
        "bob joins with the first PUT and leaves with the second"
    );
    let group_events: Vec<&str> = events
        .iter()
        .filter(|e| e["resourceId"] == group.as_str())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        group_events,
        [
            "user-group.created",
            "user-group.updated",
            "user-group.updated",
            "user-group.deleted"
        ]
    );
    let last = events.last().unwrap();
    assert_eq!(last["actor"], app.credentials.access_key_id.as_str());
    assert!(last["resource"]["deletedAt"].is_string(), "{last}");
}
