//! The retention purge: it removes exactly the soft-deleted rows (and events) older than the
//! retention, never a live row or a younger deletion, in batches; it handles the members of a
//! purged group; and two purges at once neither fail nor remove a row twice.

use futures_util::future::join;
use serde_json::json;
use usergroups::db;
use usergroups::domain::purge::{self as domain_purge, Purge, Purged};

use super::{
    backdate_events, backdate_group_deletion, backdate_user_deletion, feed, purge, stored, types_of,
};
use crate::helpers::{count, group_path, id_of, spawn_app, user_path};

#[actix_web::test]
async fn the_purge_removes_exactly_the_deletions_older_than_the_retention_in_batches() {
    let app = spawn_app().await;
    let live = id_of(&app.create_group("Live").await);
    let recent = id_of(&app.create_group("Recent").await);
    app.delete(&group_path(&recent)).await;
    backdate_group_deletion(&app, &recent, 29);
    let mut expired = Vec::new();
    for i in 0..7 {
        let id = id_of(&app.create_group(&format!("Old {i}")).await);
        app.delete(&group_path(&id)).await;
        backdate_group_deletion(&app, &id, 31);
        expired.push(id);
    }

    let (purged, batches) = purge(&app, 30, 3).await;

    assert_eq!(purged.groups, 7);
    assert_eq!(purged.users, 0);
    // Users: one empty batch; groups: 3, 3, 1; events: none old yet.
    assert_eq!(batches, [0, 3, 3, 1, 0]);
    for id in &expired {
        assert_eq!(stored(&app, "user_groups", id), 0, "{id}");
    }
    assert_eq!(stored(&app, "user_groups", &live), 1);
    assert_eq!(stored(&app, "user_groups", &recent), 1);
    assert_eq!(
        app.get("/api/v1/deleted-user-groups").await.body["total"],
        1
    );
    assert_eq!(app.get("/api/v1/user-groups").await.body["total"], 1);
}

#[actix_web::test]
async fn a_purged_group_leaves_its_younger_deleted_members_without_a_group_reference() {
    let app = spawn_app().await;
    let group = id_of(&app.create_group("Team").await);
    let old_member = id_of(&app.create_user("old@example.com", Some(&group)).await);
    let young_member = id_of(&app.create_user("young@example.com", Some(&group)).await);
    app.delete(&user_path(&old_member)).await;
    app.delete(&user_path(&young_member)).await;
    app.delete(&group_path(&group)).await;
    backdate_user_deletion(&app, &old_member, 40);
    backdate_group_deletion(&app, &group, 35);

    let (purged, _) = purge(&app, 30, 500).await;

    assert_eq!((purged.users, purged.groups), (1, 1));
    assert_eq!(stored(&app, "users", &old_member), 0);
    assert_eq!(stored(&app, "users", &young_member), 1);
    let listed = app.get("/api/v1/deleted-users").await;
    assert_eq!(listed.body["items"][0]["userGroupId"], json!(null));
}

#[actix_web::test]
async fn the_purge_removes_events_older_than_the_retention_and_records_its_own() {
    let app = spawn_app().await;
    let id = id_of(&app.create_group("Old").await);
    app.delete(&group_path(&id)).await;
    backdate_group_deletion(&app, &id, 31);
    backdate_events(&app, 31);

    let (purged, _) = purge(&app, 30, 500).await;
    let events = feed(&app).await;

    assert_eq!((purged.groups, purged.events), (1, 2));
    assert_eq!(types_of(&events), ["user-group.purged"]);
    assert_eq!(events[0]["actor"], "system:retention");
    assert_eq!(events[0]["resourceId"], id.as_str());
    assert_eq!(events[0]["resource"]["name"], "Old");
}

#[actix_web::test]
async fn two_purges_at_once_neither_fail_nor_remove_a_row_twice() {
    let app = spawn_app().await;
    let mut expired = Vec::new();
    for i in 0..24 {
        let user = id_of(&app.create_user(&format!("u{i}@example.com"), None).await);
        app.delete(&user_path(&user)).await;
        backdate_user_deletion(&app, &user, 31);
        expired.push(user);
    }
    let other = app.second_instance();
    let cutoff = domain_purge::cutoff(db::now(), std::time::Duration::from_secs(30 * 86_400));

    // Each purger works through its own pool (on SQLite its own writer thread), in batches of 4.
    let run = |pool: db::DbPool| async move {
        let mut purged = Purged::default();
        loop {
            let n = db::write(&pool, move |conn| {
                domain_purge::batch(conn, Purge::Users, cutoff, 4)
            })
            .await
            .expect("a purge batch never fails");
            purged.add(Purge::Users, n);
            if n == 0 {
                return purged;
            }
        }
    };
    let (a, b) = join(run(app.state.pool.clone()), run(other.state.pool.clone())).await;

    assert_eq!(a.users + b.users, 24, "{a:?} {b:?}");
    let left = count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM users WHERE deleted_at IS NOT NULL",
    );
    assert_eq!(left, 0);
    let purge_events = feed(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "user.purged")
        .count();
    assert_eq!(purge_events, 24, "one purge event per row");
}
