//! `usergroups recount`: sets every organization's live counts (the lists' `total`) to its live
//! rows, one transaction per organization, safe while servers of this release run beside it.
//! The last step of a rolling upgrade from a release that did not keep the counts
//! (`docs/deployment.md#upgrading`): instances of such a release, serving while the new one
//! migrated, created and deleted rows without counting them. Prints {"organizations",
//! "corrected", "seconds"}.

use std::error::Error;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::{open, print_json};
use crate::config::DatabaseArgs;
use crate::domain::counts;

#[derive(Debug, Args)]
pub(super) struct RecountArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Recounts every organization.
pub(super) fn run(args: RecountArgs) -> Result<(), Box<dyn Error>> {
    let pool = open(&args.database)?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let organizations = counts::organization_ids(&mut conn)?;
    let mut corrected = 0;
    for organization_id in &organizations {
        if counts::recount(&mut conn, organization_id)?.corrected {
            corrected += 1;
        }
    }
    print_json(&json!({
        "organizations": organizations.len(),
        "corrected": corrected,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}
