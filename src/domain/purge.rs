//! The retention purge, the only physical removal of groups and users: soft-deleted rows whose
//! `deleted_at` is older than the retention, and change-feed events older than it, are removed
//! in bounded batches ([`crate::limits::PURGE_BATCH`] rows per transaction by default), each purged group
//! or user leaving a `…purged` event by `system:retention`.
//!
//! Several purges may run at once (every instance runs one, and the `purge` command): on
//! PostgreSQL each batch takes its rows with `FOR UPDATE SKIP LOCKED`, so concurrent batches
//! take disjoint rows and none waits for another's; on SQLite the write lock makes batches run
//! one after the other. Either way a row is removed, and counted, once.
//!
//! Users go first, then groups, in separate transactions: a purged group's deleted members that
//! are still within their own retention lose their reference to it (`user_group_id` becomes
//! null) rather than blocking the group's purge or being purged early. (A live user never
//! references a deleted group: the rule of the delete.) Keeping the kinds apart also means a
//! batch of groups never holds user rows that a batch of users waits for, and the other way round.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::events::{Actor, Change, RETENTION_ACTOR};
use super::lifecycle::{group_event, user_event};
use super::{DomainError, Group, GroupId, User, UserId};
use crate::db::schema::{deployment, user_groups, users};
use crate::db::DbConnection;

/// What one batch removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// Soft-deleted users.
    Users,
    /// Soft-deleted groups.
    Groups,
    /// Change-feed events.
    Events,
}

impl Purge {
    /// Every kind, in the order a purge pass removes them.
    pub const PASS: [Purge; 3] = [Purge::Users, Purge::Groups, Purge::Events];
}

/// How many rows of each kind a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Users removed.
    pub users: u64,
    /// Groups removed.
    pub groups: u64,
    /// Events removed.
    pub events: u64,
}

impl Purged {
    /// Adds `n` rows of `kind`.
    pub fn add(&mut self, kind: Purge, n: usize) {
        let n = n as u64;
        match kind {
            Purge::Users => self.users += n,
            Purge::Groups => self.groups += n,
            Purge::Events => self.events += n,
        }
    }
}

/// The time before which a deletion (or an event) is past `retention` at `now`.
pub fn cutoff(now: NaiveDateTime, retention: std::time::Duration) -> NaiveDateTime {
    let retention = chrono::TimeDelta::from_std(retention).unwrap_or(chrono::TimeDelta::MAX);
    now.checked_sub_signed(retention)
        .unwrap_or(NaiveDateTime::MIN)
}

/// When the purge removes a row deleted at `deleted_at`: the deletion plus the retention, or,
/// for a row deleted before the retention started to count (`since`, see [`retention_since`]),
/// `since` plus the retention (the deleted listings' `purgeAt`, the nscale dialect's
/// `purgeTime`). The inverse of [`scheduled_cutoff`].
pub fn purge_time(
    deleted_at: NaiveDateTime,
    since: Option<NaiveDateTime>,
    retention: std::time::Duration,
) -> NaiveDateTime {
    let counted_from = since.map_or(deleted_at, |since| since.max(deleted_at));
    chrono::TimeDelta::from_std(retention)
        .ok()
        .and_then(|retention| counted_from.checked_add_signed(retention))
        .unwrap_or(NaiveDateTime::MAX)
}

/// When the retention started to count for this database: the time of the upgrade to the first
/// release that keeps this (the migration that made the `deployment` row). Rows deleted before
/// it were promised to be kept for good by the release that deleted them; they are kept until
/// the retention has run from this time.
pub fn retention_since(conn: &mut DbConnection) -> Result<NaiveDateTime, DomainError> {
    Ok(deployment::table
        .select(deployment::retention_since)
        .first(conn)?)
}

/// The cutoff of the scheduled purge (`serve`'s) at `now`: [`cutoff`], or `None` while the
/// retention has not yet run from `since`, when nothing may be purged (every row deleted
/// before `since` is due at `since` plus the retention, every row deleted after it later).
pub fn scheduled_cutoff(
    now: NaiveDateTime,
    retention: std::time::Duration,
    since: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let cutoff = cutoff(now, retention);
    (cutoff >= since).then_some(cutoff)
}

/// One purge round, the loop of both `serve`'s purge and `usergroups purge`: batches of at most
/// `size` rows, of users, then groups, then events ([`Purge::PASS`]), each kind until a batch
/// removes fewer than `size` rows, at most `max_batches` batches in all (so a large backlog is
/// worked off over several rounds). `run_batch(kind, size)` runs one [`batch`] in its own write
/// transaction, with the caller's cutoff; its error ends the round. Returns the rows removed.
pub async fn round<E>(
    size: i64,
    max_batches: usize,
    mut run_batch: impl AsyncFnMut(Purge, i64) -> Result<usize, E>,
) -> Result<Purged, E> {
    let mut purged = Purged::default();
    let mut batches = 0;
    for kind in Purge::PASS {
        while batches < max_batches {
            batches += 1;
            let n = run_batch(kind, size).await?;
            purged.add(kind, n);
            if n < size as usize {
                break;
            }
        }
    }
    Ok(purged)
}

/// Removes one batch of at most `size` rows of `kind` deleted (or, for events, made) before
/// `cutoff`, inside the transaction open on `conn` (run it in its own write transaction; the
/// service uses [`crate::limits::PURGE_BATCH`]). Returns how many rows it removed: fewer than
/// `size` means none was left for this purge (a concurrent purge may hold the rest).
pub fn batch(
    conn: &mut DbConnection,
    kind: Purge,
    cutoff: NaiveDateTime,
    size: i64,
) -> Result<usize, DomainError> {
    match kind {
        Purge::Users => purge_users(conn, cutoff, size),
        Purge::Groups => purge_groups(conn, cutoff, size),
        Purge::Events => purge_events(conn, cutoff, size),
    }
}

fn purge_users(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    size: i64,
) -> Result<usize, DomainError> {
    let expired = || {
        users::table
            .filter(users::deleted_at.lt(cutoff))
            .order(users::deleted_at.asc())
            .limit(size)
    };
    // The selection's backend is fixed where each arm uses it.
    let mut rows: Vec<User> = match conn {
        DbConnection::Pg(c) => expired()
            .select(User::as_select())
            .for_update()
            .skip_locked()
            .load(c)?,
        DbConnection::Sqlite(c) => expired().select(User::as_select()).load(c)?,
    };
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&UserId> = rows.iter().map(|u| &u.id).collect();
    diesel::delete(users::table.filter(users::id.eq_any(ids))).execute(conn)?;
    // Sequence rows are taken in organization order (see `events`).
    rows.sort_by(|a, b| (&a.organization_id, &a.id).cmp(&(&b.organization_id, &b.id)));
    let actor = Actor::System(RETENTION_ACTOR);
    for user in &rows {
        user_event(conn, &actor, Change::Purged, user)?;
    }
    Ok(rows.len())
}

fn purge_groups(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    size: i64,
) -> Result<usize, DomainError> {
    let expired = || {
        user_groups::table
            .filter(user_groups::deleted_at.lt(cutoff))
            .order(user_groups::deleted_at.asc())
            .limit(size)
    };
    // The selection's backend is fixed where each arm uses it.
    let mut rows: Vec<Group> = match conn {
        DbConnection::Pg(c) => expired()
            .select(Group::as_select())
            .for_update()
            .skip_locked()
            .load(c)?,
        DbConnection::Sqlite(c) => expired().select(Group::as_select()).load(c)?,
    };
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&GroupId> = rows.iter().map(|g| &g.id).collect();
    diesel::update(
        users::table
            .filter(users::user_group_id.eq_any(ids.clone()))
            .filter(users::deleted_at.is_not_null()),
    )
    .set(users::user_group_id.eq(None::<GroupId>))
    .execute(conn)?;
    diesel::delete(user_groups::table.filter(user_groups::id.eq_any(ids))).execute(conn)?;
    rows.sort_by(|a, b| (&a.organization_id, &a.id).cmp(&(&b.organization_id, &b.id)));
    let actor = Actor::System(RETENTION_ACTOR);
    for group in &rows {
        group_event(conn, &actor, Change::Purged, group)?;
    }
    Ok(rows.len())
}

fn purge_events(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    size: i64,
) -> Result<usize, DomainError> {
    // Backend-specific only in how a bounded delete names its rows.
    const PG: &str = "DELETE FROM events WHERE (organization_id, seq) IN (SELECT organization_id, \
        seq FROM events WHERE occurred_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
    const SQLITE: &str = "DELETE FROM events WHERE rowid IN \
        (SELECT rowid FROM events WHERE occurred_at < ? LIMIT ?)";
    let removed = match conn {
        DbConnection::Pg(c) => diesel::sql_query(PG)
            .bind::<Timestamp, _>(cutoff)
            .bind::<BigInt, _>(size)
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(SQLITE)
            .bind::<Timestamp, _>(cutoff)
            .bind::<BigInt, _>(size)
            .execute(c)?,
    };
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batches a round asks for when each kind has `left` rows, and what it returns.
    fn run_round(left: [usize; 3], size: i64, max_batches: usize) -> (Vec<Purge>, Purged) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut left = left;
        let mut asked = Vec::new();
        let purged = runtime
            .block_on(round(size, max_batches, async |kind, size| {
                asked.push(kind);
                let slot = &mut left[kind as usize];
                let n = (*slot).min(size as usize);
                *slot -= n;
                Ok::<_, ()>(n)
            }))
            .unwrap();
        (asked, purged)
    }

    #[test]
    fn a_round_takes_each_kind_until_a_short_batch_and_stops_at_its_bound() {
        let (asked, purged) = run_round([5, 2, 0], 2, usize::MAX);
        use Purge::{Events, Groups, Users};
        assert_eq!(asked, [Users, Users, Users, Groups, Groups, Events]);
        assert_eq!((purged.users, purged.groups, purged.events), (5, 2, 0));
        let (asked, purged) = run_round([5, 2, 0], 2, 4);
        assert_eq!(asked, [Users, Users, Users, Groups]);
        assert_eq!((purged.users, purged.groups, purged.events), (5, 2, 0));
    }

    #[test]
    fn the_cutoff_is_the_retention_before_now_and_never_overflows() {
        let now = chrono::DateTime::from_timestamp(1_000_000, 0)
            .unwrap()
            .naive_utc();
        let day = std::time::Duration::from_secs(86_400);
        assert_eq!(cutoff(now, day), now - chrono::TimeDelta::days(1));
        assert_eq!(cutoff(now, std::time::Duration::MAX), NaiveDateTime::MIN);
    }

    #[test]
    fn rows_deleted_before_the_retention_started_are_kept_the_retention_from_its_start() {
        let at = |days: i64| {
            chrono::DateTime::from_timestamp(days * 86_400, 0)
                .unwrap()
                .naive_utc()
        };
        let thirty_days = std::time::Duration::from_secs(30 * 86_400);
        let since = at(100);

        // Deleted on day 10, long before the upgrade on day 100: due on day 130, not day 40.
        assert_eq!(purge_time(at(10), Some(since), thirty_days), at(130));
        assert_eq!(purge_time(at(110), Some(since), thirty_days), at(140));
        assert_eq!(purge_time(at(10), None, thirty_days), at(40));
        assert_eq!(scheduled_cutoff(at(101), thirty_days, since), None);
        assert_eq!(scheduled_cutoff(at(129), thirty_days, since), None);
        assert_eq!(scheduled_cutoff(at(130), thirty_days, since), Some(at(100)));
        assert_eq!(scheduled_cutoff(at(150), thirty_days, since), Some(at(120)));
    }
}
