//! `GET /api/v1/events`: one event per change of a group or user (created, updated, deleted,
//! restored, purged) with its actor and the resource after the change; only the caller's
//! organization; and a consumer following `nextCursor` while several writers (two instances over
//! one database) run sees every change exactly once, in order.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::StatusCode;
use futures_util::future::{join, join_all};
use serde_json::{json, Value};

use super::{backdate_group_deletion, feed, purge, types_of};
use crate::helpers::{group_path, id_of, spawn_app, user_path, TestApp};

#[actix_web::test]
async fn each_change_of_a_group_or_user_is_one_event_with_its_actor_and_resource() {
    let app = spawn_app().await;
    let key = app.credentials.access_key_id.clone();
    let group = id_of(&app.create_group("Team").await);
    app.put(&group_path(&group), json!({"description": "d"}))
        .await;
    let user = id_of(&app.create_user("ada@example.com", Some(&group)).await);
    app.put(&user_path(&user), json!({"lastName": "Byron"}))
        .await;
    app.delete(&user_path(&user)).await;
    app.delete(&group_path(&group)).await;
    app.post(
        &format!("/api/v1/deleted-user-groups/{group}/restore"),
        json!({}),
    )
    .await;
    app.post(&format!("/api/v1/deleted-users/{user}/restore"), json!({}))
        .await;
    app.delete(&user_path(&user)).await;
    app.delete(&group_path(&group)).await;
    backdate_group_deletion(&app, &group, 31);
    purge(&app, 30, 500).await;

    let events = feed(&app).await;

    assert_eq!(
        types_of(&events),
        [
            "user-group.created",
            "user-group.updated",
            "user.created",
            "user.updated",
            "user.deleted",
            "user-group.deleted",
            "user-group.restored",
            "user.restored",
            "user.deleted",
            "user-group.deleted",
            "user-group.purged",
        ]
    );
    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=11).collect::<Vec<_>>());
    for event in &events[..10] {
        assert_eq!(event["actor"], key.as_str(), "{event}");
    }
    assert_eq!(events[10]["actor"], "system:retention");
    assert_eq!(events[1]["resource"]["description"], "d");
    assert_eq!(events[3]["resource"]["fullName"], "Ada Byron");
    assert!(events[4]["resource"]["deletedAt"].is_string());
    assert!(events[6]["resource"].get("deletedAt").is_none());
    assert_eq!(events[7]["resource"]["userGroupId"], group.as_str());
    assert_eq!(events[0]["resourceId"], group.as_str());
}

#[actix_web::test]
async fn a_refused_or_failed_write_leaves_no_event() {
    let app = spawn_app().await;
    let group = id_of(&app.create_group("Team").await);
    app.create_user("ada@example.com", Some(&group)).await;

    let refused = app.delete(&group_path(&group)).await;
    let conflict = app
        .post("/api/v1/user-groups", json!({"name": "Team"}))
        .await;

    refused.assert_error(403);
    conflict.assert_error(409);
    assert_eq!(
        types_of(&feed(&app).await),
        ["user-group.created", "user.created"]
    );
}

#[actix_web::test]
async fn no_other_organizations_events_are_visible() {
    let app = spawn_app().await;
    app.create_group("Mine").await;
    let (_, other) = app.other_organization();
    app.write("POST", "/api/v1/user-groups")
        .credentials(&other)
        .json(&json!({"name": "Theirs"}))
        .send()
        .await;

    let mine = feed(&app).await;
    let theirs = app
        .call("GET", "/api/v1/events")
        .credentials(&other)
        .send()
        .await;

    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["resource"]["name"], "Mine");
    let items = theirs.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["resource"]["name"], "Theirs");
    assert_eq!(items[0]["sequence"], 1, "each organization counts its own");
}

#[actix_web::test]
async fn the_cursor_is_validated_and_an_empty_page_keeps_it() {
    let app = spawn_app().await;
    app.create_group("One").await;

    let bad = app.get("/api/v1/events?after=-1").await;
    let past_the_end = app.get("/api/v1/events?after=5").await;
    let limited = app.get("/api/v1/events?limit=1").await;

    bad.assert_error(400);
    assert_eq!(bad.error_fields(), ["after"]);
    assert_eq!(past_the_end.body["nextCursor"], "5");
    assert_eq!(limited.body["nextCursor"], "1");
}

/// Creates, updates and deletes a group as one writer does, returning its id.
async fn write_group(app: &TestApp, name: String) -> String {
    let created = app.post("/api/v1/user-groups", json!({"name": name})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = id_of(&created.body);
    let updated = app.put(&group_path(&id), json!({"description": "u"})).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let deleted = app.delete(&group_path(&id)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    id
}

#[actix_web::test]
async fn a_consumer_following_the_feed_during_concurrent_writes_sees_each_change_once_in_order() {
    const WRITERS: usize = 24;
    let app = spawn_app().await;
    let other = app.second_instance();

    let writers = join_all((0..WRITERS).map(|i| {
        let instance = if i % 2 == 0 { &app } else { &other };
        write_group(instance, format!("Writer {i}"))
    }));
    let consumer = async {
        let mut after = 0_i64;
        let mut seen: Vec<Value> = Vec::new();
        while seen.len() < WRITERS * 3 {
            let page = app
                .get(&format!("/api/v1/events?after={after}&limit=7"))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let items = page.body["items"].as_array().unwrap().clone();
            for item in &items {
                let sequence = item["sequence"].as_i64().unwrap();
                assert_eq!(sequence, after + 1, "no gap, no repeat, no reordering");
                after = sequence;
            }
            assert_eq!(page.body["nextCursor"], after.to_string());
            if items.is_empty() {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            seen.extend(items);
        }
        seen
    };
    let (ids, seen) = join(writers, consumer).await;

    let mut per_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in &seen {
        per_group
            .entry(event["resourceId"].as_str().unwrap().to_owned())
            .or_default()
            .push(event["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        per_group.keys().cloned().collect::<BTreeSet<_>>(),
        ids.into_iter().collect::<BTreeSet<_>>()
    );
    for (id, types) in &per_group {
        assert_eq!(
            types,
            &[
                "user-group.created",
                "user-group.updated",
                "user-group.deleted"
            ],
            "{id}"
        );
    }
    let tail = app
        .get(&format!("/api/v1/events?after={}", seen.len()))
        .await;
    assert_eq!(
        tail.body["items"],
        json!([]),
        "nothing more than the changes"
    );
}

#[actix_web::test]
async fn a_cursor_the_purge_overtook_is_410_naming_where_to_follow_on_and_a_new_consumer_starts_at_the_oldest_kept(
) {
    let app = spawn_app().await;
    for name in ["a", "b", "c"] {
        app.create_group(name).await;
    }
    super::backdate_events(&app, 31);
    let (purged, _) = purge(&app, 30, 500).await;
    let kept = id_of(&app.create_group("d").await);

    let overtaken = app.get("/api/v1/events?after=1").await;
    let at_the_purge = app.get("/api/v1/events?after=3").await;
    let from_the_start = app.get("/api/v1/events?after=0").await;

    assert_eq!(purged.events, 3);
    overtaken.assert_error(410);
    assert_eq!(overtaken.reason(), "events_purged");
    assert!(
        overtaken.message().contains("after=3"),
        "{}",
        overtaken.body
    );
    for page in [&at_the_purge, &from_the_start] {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}", page.body);
        assert_eq!(items[0]["sequence"], 4);
        assert_eq!(items[0]["resourceId"], kept.as_str());
    }
}
