//! The background tasks of `serve`: pruning the expired replay-guard entries, bearer tokens
//! and idempotency keys, forgetting the rate limiters' full buckets, and the retention purge.

use std::convert::Infallible;
use std::time::Duration;

use chrono::NaiveDateTime;

use crate::db::{self, DbConnection, DbPool, StoreError};
use crate::domain::purge;
use crate::models::{idempotency, AccessToken, UsedSignature};
use crate::rate_limit::{FailedAttempts, RateLimits};

/// How often expired replay-guard entries and bearer tokens are pruned, and full rate-limit
/// buckets and ended failed-attempt windows forgotten.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Keeps the rate limiters' memory to the keys and client ids in recent use.
pub(super) async fn forget_full_buckets(
    rate_limits: RateLimits,
    failed_token_attempts: FailedAttempts,
) {
    let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
    loop {
        interval.tick().await;
        rate_limits.forget_full_buckets();
        failed_token_attempts.forget_ended();
    }
}

/// A pruning of expired rows: (what it removes, what it works on, the deletion).
type Prune = (
    &'static str,
    &'static str,
    fn(&mut DbConnection, NaiveDateTime) -> Result<usize, StoreError>,
);

/// What [`prune_expired_rows`] deletes, in this order.
const PRUNES: [Prune; 3] = [
    (
        "expired replay-guard entries",
        "the replay guard",
        UsedSignature::prune_expired,
    ),
    (
        "expired bearer tokens",
        "the bearer tokens",
        AccessToken::prune_expired,
    ),
    (
        "expired idempotency keys",
        "the idempotency keys",
        idempotency::prune_expired,
    ),
];

/// Deletes the replay guard's expired entries, the expired bearer tokens and the expired
/// idempotency keys, each in a write of its own, so a failure of one does not hold back the
/// others.
pub(super) async fn prune_expired_rows(pool: DbPool) {
    let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
    loop {
        interval.tick().await;
        for (rows, table, prune) in PRUNES {
            match db::write(&pool, move |conn| prune(conn, db::now())).await {
                Ok(0) => {}
                Ok(pruned) => log::debug!("pruned {pruned} {rows}"),
                Err(e) => log::warn!("pruning {table} failed: {e}"),
            }
        }
    }
}

/// How often the retention purge looks for expired deleted rows and events.
const PURGE_INTERVAL: Duration = Duration::from_secs(300);

/// Most batches one purge round runs, so a large backlog is worked off over several rounds
/// rather than holding the SQLite writer's queue for long.
const PURGE_BATCHES_PER_ROUND: usize = 20;

/// The start's log line about the retention: how long rows are kept, from when, and what the
/// first purge, one [`PURGE_INTERVAL`] after `now`, removes. The first purge waits that long, so
/// nothing is ever purged that a log line did not announce at least one interval earlier.
pub(super) fn purge_announcement(
    now: chrono::NaiveDateTime,
    retention: Duration,
    since: chrono::NaiveDateTime,
) -> String {
    let days = retention.as_secs() / 86_400;
    let first = now + chrono::TimeDelta::from_std(PURGE_INTERVAL).unwrap_or_default();
    let due = purge::purge_time(since, None, retention);
    let what = match purge::scheduled_cutoff(first, retention, since) {
        Some(cutoff) => format!(
            "removes the groups and users deleted, and the change-feed events made, before \
             {cutoff} UTC"
        ),
        None => format!("removes nothing: nothing is purged before {due} UTC"),
    };
    format!(
        "retention: deleted groups and users and change-feed events are kept {days} days \
         (USERGROUPS_RETENTION_DAYS), counted from their deletion, or from {since} UTC (when this \
         database started to count it) for rows deleted before; the first purge runs at {first} \
         UTC and {what}; then one every {} s",
        PURGE_INTERVAL.as_secs()
    )
}

/// The retention purge of `serve` ([`crate::domain::purge`]): every [`PURGE_INTERVAL`], the
/// first one interval after the start (announced by [`purge_announcement`]), batches of expired
/// users, then groups, then events, each its own write ([`purge::round`]). Nothing goes before
/// the retention has run from `since` ([`purge::scheduled_cutoff`]). Safe beside the other instances' purges and
/// the `purge` command.
pub(super) async fn purge_expired(pool: DbPool, retention: Duration, since: chrono::NaiveDateTime) {
    let start = actix_web::rt::time::Instant::now() + PURGE_INTERVAL;
    let mut interval = actix_web::rt::time::interval_at(start, PURGE_INTERVAL);
    loop {
        interval.tick().await;
        let Some(cutoff) = purge::scheduled_cutoff(db::now(), retention, since) else {
            continue;
        };
        let round = purge::round(
            crate::limits::PURGE_BATCH,
            PURGE_BATCHES_PER_ROUND,
            async |kind, size| match db::write(&pool, move |conn| {
                purge::batch(conn, kind, cutoff, size)
            })
            .await
            {
                Ok(n) => Ok::<_, Infallible>(n),
                // A failed batch ends its kind, as a short one does; the round goes on with the
                // next kind, and the next round tries again.
                Err(e) => {
                    log::warn!("the retention purge failed: {e}");
                    Ok(0)
                }
            },
        );
        let Ok(purged) = round.await;
        if purged != purge::Purged::default() {
            log::info!(
                "retention purge: {} users, {} groups, {} events removed",
                purged.users,
                purged.groups,
                purged.events
            );
        }
    }
}
