//! `usergroups serve`: runs the HTTP service. Its arguments are [`Config`], which lives in
//! `config` because the server reads it too; only the step from the command line into the
//! server's runtime is here.

use std::error::Error;

use crate::config::Config;

/// Runs the server on actix's runtime until it stops.
pub(super) fn run(config: Config) -> Result<(), Box<dyn Error>> {
    actix_web::rt::System::new().block_on(crate::server::run(config))
}
