//! `usergroups purge`: removes for good the soft-deleted groups and users, and the change-feed
//! events, older than the retention, as the `serve` task does every few minutes; for a cron
//! job, or to work off a backlog at once: the same round ([`purge::round`]), unbounded. Batches of [`crate::limits::PURGE_BATCH`] rows, one
//! transaction each, until none is left: safe while servers run (and purge) beside it. Prints
//! {"users", "groups", "events", "seconds"}.

use std::error::Error;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::{open, print_json};
use crate::config::{DatabaseArgs, RetentionArgs};
use crate::db;
use crate::domain::purge;
use crate::limits::PURGE_BATCH;

#[derive(Debug, Args)]
pub(super) struct PurgeArgs {
    #[command(flatten)]
    retention: RetentionArgs,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Runs the purge to the end.
pub(super) fn run(args: PurgeArgs) -> Result<(), Box<dyn Error>> {
    let pool = open(&args.database)?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let cutoff = purge::cutoff(db::now(), args.retention.retention());
    // The round's batches run one after the other on this thread: a runtime without threads or
    // timers is enough to drive it.
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let purged = runtime.block_on(purge::round(PURGE_BATCH, usize::MAX, async |kind, size| {
        db::write_transaction(&mut conn, |conn| purge::batch(conn, kind, cutoff, size))
    }))?;
    print_json(&json!({
        "users": purged.users,
        "groups": purged.groups,
        "events": purged.events,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}
