//! Configuration: one [`Config`] for `serve`, read once from flags and environment variables
//! (a flag wins over its variable). A bad value is refused at start with the variable's name.

use std::time::Duration;

use clap::Args;

use crate::db::{DatabaseUrl, PoolOptions};
use crate::server::Limits;

/// The database every command works on.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (embedded, the default) or postgres://… / postgresql://…
    #[arg(long = "database-url", env = "DATABASE_URL", default_value = "sqlite://usergroups.db", value_parser = parse_database_url)]
    pub database_url: DatabaseUrl,
}

fn parse_database_url(text: &str) -> Result<DatabaseUrl, String> {
    text.parse()
}

/// Everything `usergroups serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address to listen on.
    #[arg(long, env = "USERGROUPS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Largest accepted request body, in bytes (413 above).
    #[arg(long, env = "USERGROUPS_BODY_LIMIT", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub body_limit: u32,

    /// Allowed distance between a request's x-onlive-site-date and the server clock, in seconds.
    #[arg(long, env = "USERGROUPS_SIGNATURE_SKEW_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub signature_skew_seconds: u64,

    /// Most database connections open at once [default: 4 on SQLite, 10 on PostgreSQL].
    #[arg(long, env = "USERGROUPS_DB_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: Option<u32>,

    /// How long a request waits for a database connection (pooled or new) before it is answered 503, in seconds.
    #[arg(long, env = "USERGROUPS_DB_TIMEOUT_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub db_timeout_seconds: u64,

    /// How long one database statement may run or wait for a lock before the request is answered 503, in seconds.
    #[arg(long, env = "USERGROUPS_DB_STATEMENT_TIMEOUT_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub db_statement_timeout_seconds: u64,

    /// Reads per minute per access key (0 = off). Reserved: not enforced yet.
    #[arg(long, env = "USERGROUPS_RATE_LIMIT_READS", default_value_t = 1000)]
    pub rate_limit_reads: u32,

    /// Writes per minute per access key (0 = off). Reserved: not enforced yet.
    #[arg(long, env = "USERGROUPS_RATE_LIMIT_WRITES", default_value_t = 100)]
    pub rate_limit_writes: u32,
}

impl Config {
    /// The checked database URL.
    pub fn database_url(&self) -> &DatabaseUrl {
        &self.database.database_url
    }

    /// The request limits.
    pub fn limits(&self) -> Limits {
        Limits {
            body_limit: self.body_limit as usize,
            signature_skew: Duration::from_secs(self.signature_skew_seconds),
        }
    }

    /// The pool settings: the backend's defaults, overridden where configured.
    pub fn pool_options(&self) -> PoolOptions {
        let mut options = PoolOptions::for_url(self.database_url());
        if let Some(size) = self.db_pool_size {
            options.max_size = size;
        }
        options.connection_timeout = Duration::from_secs(self.db_timeout_seconds);
        options.statement_timeout = Duration::from_secs(self.db_statement_timeout_seconds);
        options
    }
}
