//! The lifecycle of groups and users (issue 14, `docs/lifecycle.md`): the deleted listings and
//! the restores, the retention purge, the change feed, ETags with `If-Match`, idempotent creates,
//! and the permissions that guard them. One file per area.

mod cost;
mod deleted_listing;
mod etags;
mod events;
mod idempotency;
mod permissions;
mod purge;
mod restore;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::Value;
use usergroups::db;
use usergroups::db::schema::{events as events_table, user_groups, users};
use usergroups::domain::purge::{self as domain_purge, Purge, Purged};

use crate::helpers::TestApp;

/// A time `days` days before now, in the stored form.
pub fn days_ago(days: i64) -> NaiveDateTime {
    db::now() - TimeDelta::days(days)
}

/// Moves the deletion of the group `id` `days` days into the past, as if it had been deleted
/// then (the purge reads only `deleted_at`).
pub fn backdate_group_deletion(app: &TestApp, id: &str, days: i64) {
    let moved = diesel::update(user_groups::table.find(id))
        .set(user_groups::deleted_at.eq(days_ago(days)))
        .execute(&mut *app.connection())
        .expect("backdate a group");
    assert_eq!(moved, 1, "group {id}");
}

/// Moves the deletion of the user `id` `days` days into the past.
pub fn backdate_user_deletion(app: &TestApp, id: &str, days: i64) {
    let moved = diesel::update(users::table.find(id))
        .set(users::deleted_at.eq(days_ago(days)))
        .execute(&mut *app.connection())
        .expect("backdate a user");
    assert_eq!(moved, 1, "user {id}");
}

/// Moves every event of the organization `days` days into the past.
pub fn backdate_events(app: &TestApp, days: i64) {
    diesel::update(
        events_table::table.filter(events_table::organization_id.eq(&app.organization_id)),
    )
    .set(events_table::occurred_at.eq(days_ago(days)))
    .execute(&mut *app.connection())
    .expect("backdate the events");
}

/// Runs the purge as the service does (users, then groups, then events), with a retention of
/// `retention_days` and batches of `size`, through the app's writer; returns what it removed and
/// the size of each batch, in order.
pub async fn purge(app: &TestApp, retention_days: u64, size: i64) -> (Purged, Vec<usize>) {
    let retention = std::time::Duration::from_secs(retention_days * 86_400);
    let cutoff = domain_purge::cutoff(db::now(), retention);
    let mut purged = Purged::default();
    let mut batches = Vec::new();
    for kind in Purge::PASS {
        loop {
            let n = db::write(&app.state.pool, move |conn| {
                domain_purge::batch(conn, kind, cutoff, size)
            })
            .await
            .expect("a purge batch");
            batches.push(n);
            purged.add(kind, n);
            if n < size as usize {
                break;
            }
        }
    }
    (purged, batches)
}

/// How many rows of `table` (`user_groups` or `users`) have `id`, deleted or not.
pub fn stored(app: &TestApp, table: &str, id: &str) -> i64 {
    crate::helpers::count(
        &mut app.connection(),
        &format!("SELECT COUNT(*) AS n FROM {table} WHERE id = '{id}'"),
    )
}

/// The organization's change feed, from the start, as `(type, resourceId)` pairs with the whole
/// events, read page by page through the route.
pub async fn feed(app: &TestApp) -> Vec<Value> {
    let mut after = "0".to_owned();
    let mut seen = Vec::new();
    loop {
        let page = app
            .get(&format!("/api/v1/events?after={after}&limit=100"))
            .await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.body);
        let items = page.body["items"].as_array().expect("items").clone();
        after = page.body["nextCursor"]
            .as_str()
            .expect("a cursor")
            .to_owned();
        if items.is_empty() {
            return seen;
        }
        seen.extend(items);
    }
}

/// The types of `events`, in order.
pub fn types_of(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().expect("a type"))
        .collect()
}
