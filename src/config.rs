//! Configuration: one [`Config`] for `serve`, read once from flags and environment variables
//! (a flag wins over its variable). A bad value is refused at start with the variable's name.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use crate::auth::MAX_SIGNATURE_SKEW_SECONDS;
use crate::db::{DatabaseUrl, PoolOptions};
use crate::models::used_signature::CLOCK_MARGIN_SECONDS;
use crate::rate_limit::RateLimits;
use crate::state::{Limits, DEFAULT_TOKEN_TTL_SECONDS};

/// The database every command works on.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (embedded, the default) or postgres://… / postgresql://…
    #[arg(long = "database-url", env = "DATABASE_URL", value_name = "DATABASE_URL", default_value = "sqlite://usergroups.db", value_parser = parse_database_url)]
    pub database_url: DatabaseUrl,
}

/// Parses `--database-url` / `DATABASE_URL`, and refuses at once a SQLite path whose folder does
/// not exist: left to SQLite, that is a 5-second wait for the pool and four driver errors before
/// "unable to open the database file", which names neither the folder nor the fix.
fn parse_database_url(text: &str) -> Result<DatabaseUrl, String> {
    let url: DatabaseUrl = text.parse()?;
    if let DatabaseUrl::Sqlite(path) = &url {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(format!(
                    "--database-url (DATABASE_URL) {text:?}: the folder {} does not exist; create \
                     it first (`mkdir -p {}`) or name a file in an existing folder",
                    dir.display(),
                    dir.display()
                ));
            }
        }
    }
    Ok(url)
}

/// The variable behind `--bind`.
const BIND_VAR: &str = "USERGROUPS_BIND";

/// Checks `--bind` / `USERGROUPS_BIND` is `HOST:PORT` with a port of 0 to 65535, before anything
/// else happens at start; the address itself is resolved when the server listens.
fn parse_bind(text: &str) -> Result<String, String> {
    let fix = "use HOST:PORT, e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080";
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("--bind ({BIND_VAR}) {text:?} has no port: {fix}"));
    };
    if host.is_empty() {
        return Err(format!("--bind ({BIND_VAR}) {text:?} has no host: {fix}"));
    }
    if port.parse::<u16>().is_err() {
        return Err(format!(
            "--bind ({BIND_VAR}) {text:?}: the port {port:?} is not a number from 0 to 65535; {fix}"
        ));
    }
    Ok(text.to_owned())
}

/// The variable behind `--signature-skew-seconds`.
const SIGNATURE_SKEW_VAR: &str = "USERGROUPS_SIGNATURE_SKEW_SECONDS";

/// The skew is bounded by [`MAX_SIGNATURE_SKEW_SECONDS`] because the replay guard forgets a
/// signature that long (plus a margin) after its date; clap's own range error would name
/// neither the variable nor why, so the message here does.
fn parse_signature_skew(text: &str) -> Result<u64, String> {
    let seconds: u64 = text.parse().map_err(|_| {
        format!("--signature-skew-seconds ({SIGNATURE_SKEW_VAR}) must be a whole number of seconds, got {text:?}")
    })?;
    if seconds == 0 {
        return Err(format!(
            "--signature-skew-seconds ({SIGNATURE_SKEW_VAR}) must be at least 1, got 0"
        ));
    }
    if seconds > MAX_SIGNATURE_SKEW_SECONDS {
        return Err(format!(
            "--signature-skew-seconds ({SIGNATURE_SKEW_VAR}) is {seconds}, above the maximum of \
             {MAX_SIGNATURE_SKEW_SECONDS} seconds: the replay guard keeps a used signature only \
             that long (plus {CLOCK_MARGIN_SECONDS} s) past its date, so a wider window would let \
             a write be replayed"
        ));
    }
    Ok(seconds)
}

/// The variable behind `--token-ttl-seconds`.
const TOKEN_TTL_VAR: &str = "USERGROUPS_TOKEN_TTL_SECONDS";

/// The shortest and longest bearer-token lifetimes `serve` accepts, in seconds.
const TOKEN_TTL_RANGE: std::ops::RangeInclusive<u64> = 60..=86_400;

/// A token shorter-lived than a minute sends clients back to the token endpoint (and its write
/// budget) all the time; one living past a day keeps a leaked token useful for too long, when
/// revoking its key is the only way to end it.
fn parse_token_ttl(text: &str) -> Result<u64, String> {
    let (min, max) = (TOKEN_TTL_RANGE.start(), TOKEN_TTL_RANGE.end());
    let fix = format!("use a whole number of seconds from {min} to {max} (the default is {DEFAULT_TOKEN_TTL_SECONDS})");
    let seconds: u64 = text.parse().map_err(|_| {
        format!("--token-ttl-seconds ({TOKEN_TTL_VAR}) {text:?} is not a number; {fix}")
    })?;
    if !TOKEN_TTL_RANGE.contains(&seconds) {
        return Err(format!(
            "--token-ttl-seconds ({TOKEN_TTL_VAR}) is {seconds}, outside {min} to {max}: a \
             shorter lifetime sends clients back for a token all the time, a longer one keeps a \
             leaked token working for too long; {fix}"
        ));
    }
    Ok(seconds)
}

/// The variable behind `--metrics-bind`.
const METRICS_BIND_VAR: &str = "USERGROUPS_METRICS_BIND";

/// The metrics address is an IP address and a port, checked at start: a typo would otherwise
/// surface only as a failed bind, or as a scraper finding nothing.
fn parse_metrics_bind(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!(
            "--metrics-bind ({METRICS_BIND_VAR}) must be an IP address and a port, such as \
             127.0.0.1:9090 or [::1]:9090, got {text:?}; leave it unset to serve /metrics on \
             the main address"
        )
    })
}

/// The variable behind `--retention-days`.
const RETENTION_VAR: &str = "USERGROUPS_RETENTION_DAYS";

/// The retention of deleted rows and events when none is configured: 30 days.
pub const DEFAULT_RETENTION: Duration =
    Duration::from_secs(crate::limits::DEFAULT_RETENTION_DAYS * 24 * 3600);

/// The longest retention accepted, in days (100 years): far enough for any policy, and small
/// enough that `deletedAt` plus it stays a valid time.
pub const MAX_RETENTION_DAYS: u64 = 36_500;

/// The retention is whole days from 1 up: 0 would purge a row the moment it is deleted, before
/// anyone could restore it, which is never what an operator means.
fn parse_retention_days(text: &str) -> Result<u64, String> {
    let days: u64 = text.parse().map_err(|_| {
        format!("--retention-days ({RETENTION_VAR}) must be a whole number of days, got {text:?}")
    })?;
    if days == 0 {
        return Err(format!(
            "--retention-days ({RETENTION_VAR}) must be at least 1, got 0: a deleted row must \
             stay restorable for some time"
        ));
    }
    if days > MAX_RETENTION_DAYS {
        return Err(format!(
            "--retention-days ({RETENTION_VAR}) is {days}, above the maximum of \
             {MAX_RETENTION_DAYS} days"
        ));
    }
    Ok(days)
}

/// How long deleted rows and events are kept: the flag the `serve` and `purge` commands share.
#[derive(Debug, Clone, Copy, Args)]
pub struct RetentionArgs {
    /// Days a soft-deleted group or user (and a change-feed event) is kept before the purge removes it for good (1 to 36500).
    #[arg(long = "retention-days", env = RETENTION_VAR, value_name = RETENTION_VAR, default_value_t = 30, value_parser = parse_retention_days)]
    pub retention_days: u64,
}

impl RetentionArgs {
    /// The retention as a duration.
    pub fn retention(&self) -> Duration {
        Duration::from_secs(self.retention_days * 24 * 3600)
    }
}

/// Everything `usergroups serve` needs.
///
/// Each setting's value name is its variable's, so clap's own refusals (a number out of range,
/// not a number) name the flag, the variable, the value and the range allowed.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Where the master key comes from.
    #[command(flatten)]
    pub master_key: MasterKeyArgs,

    /// Address to listen on.
    #[arg(long, env = BIND_VAR, value_name = BIND_VAR, default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: String,

    /// Address to serve GET /metrics on (e.g. 127.0.0.1:9090) instead of the main address, which then answers it 404 [default: /metrics on the main address].
    #[arg(long, env = METRICS_BIND_VAR, value_parser = parse_metrics_bind)]
    pub metrics_bind: Option<SocketAddr>,

    /// Largest accepted request body, in bytes (413 above).
    #[arg(long, env = "USERGROUPS_BODY_LIMIT", value_name = "USERGROUPS_BODY_LIMIT", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub body_limit: u32,

    /// Allowed distance between a request's x-onlive-site-date and the server clock, in seconds
    /// (1 to 3600: every instance keeps used signatures for the largest window any may allow).
    #[arg(long, env = SIGNATURE_SKEW_VAR, value_name = SIGNATURE_SKEW_VAR, default_value_t = 900, value_parser = parse_signature_skew)]
    pub signature_skew_seconds: u64,

    /// Most database connections open at once [default: 4 on SQLite, 10 on PostgreSQL].
    #[arg(long, env = "USERGROUPS_DB_POOL_SIZE", value_name = "USERGROUPS_DB_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: Option<u32>,

    /// How long a request waits for a database connection (pooled or new) before it is answered 503, in seconds.
    #[arg(long, env = "USERGROUPS_DB_TIMEOUT_SECONDS", value_name = "USERGROUPS_DB_TIMEOUT_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub db_timeout_seconds: u64,

    /// How long one database statement may run or wait for a lock before the request is answered 503, in seconds.
    #[arg(long, env = "USERGROUPS_DB_STATEMENT_TIMEOUT_SECONDS", value_name = "USERGROUPS_DB_STATEMENT_TIMEOUT_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub db_statement_timeout_seconds: u64,

    /// Reads (GET, HEAD) per minute per access key on this instance, 429 above (0 = off).
    #[arg(
        long,
        env = "USERGROUPS_RATE_LIMIT_READS",
        value_name = "USERGROUPS_RATE_LIMIT_READS",
        default_value_t = 1000
    )]
    pub rate_limit_reads: u32,

    /// Writes (POST, PUT, DELETE, any other method) per minute per access key on this instance, 429 above (0 = off).
    #[arg(
        long,
        env = "USERGROUPS_RATE_LIMIT_WRITES",
        value_name = "USERGROUPS_RATE_LIMIT_WRITES",
        default_value_t = 100
    )]
    pub rate_limit_writes: u32,

    /// Seconds a client has to send a request's head, then its body (408 after), and to take the answer when the connection closes.
    #[arg(long, env = "USERGROUPS_REQUEST_TIMEOUT_SECONDS", value_name = "USERGROUPS_REQUEST_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_seconds: u64,

    /// Lifetime of the bearer tokens of POST /oauth2/v2/token, in seconds (60 to 86400).
    #[arg(long, env = TOKEN_TTL_VAR, value_name = TOKEN_TTL_VAR, default_value_t = DEFAULT_TOKEN_TTL_SECONDS, value_parser = parse_token_ttl)]
    pub token_ttl_seconds: u64,
    /// How long deleted rows and events are kept.
    #[command(flatten)]
    pub retention: RetentionArgs,

    /// Seconds SIGTERM waits for the requests in flight before stopping anyway.
    #[arg(long, env = "USERGROUPS_SHUTDOWN_TIMEOUT_SECONDS", value_name = "USERGROUPS_SHUTDOWN_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_timeout_seconds: u64,
}

impl Config {
    /// The checked database URL.
    pub fn database_url(&self) -> &DatabaseUrl {
        &self.database.database_url
    }

    /// The request limits, with fresh rate-limit buckets.
    pub fn limits(&self) -> Limits {
        Limits {
            body_limit: self.body_limit as usize,
            signature_skew: Duration::from_secs(self.signature_skew_seconds),
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            rate_limits: RateLimits::per_minute(self.rate_limit_reads, self.rate_limit_writes),
            token_ttl: Duration::from_secs(self.token_ttl_seconds),
            failed_token_attempts: Default::default(),
            retention: self.retention.retention(),
            retention_since: None,
        }
    }

    /// Every effective setting, readably, for the start-up log line: `name=value` pairs in
    /// the order of the README's table. No secret: the database URL is shown without its
    /// password, and the master key only by where it comes from.
    pub fn summary(&self) -> String {
        let pool = self.pool_options();
        let per_minute = |limit: u32| match limit {
            0 => "off".to_owned(),
            n => format!("{n}/min"),
        };
        let master_key = match self.master_key.source(self.database_url()) {
            Ok(crate::secrets::KeySource::Environment { next: None, .. }) => {
                "USERGROUPS_MASTER_KEY".to_owned()
            }
            Ok(crate::secrets::KeySource::Environment { next: Some(_), .. }) => {
                "USERGROUPS_MASTER_KEY+USERGROUPS_NEW_MASTER_KEY".to_owned()
            }
            Ok(crate::secrets::KeySource::File(path)) => format!("file {}", path.display()),
            Err(_) => "invalid".to_owned(),
        };
        format!(
            "database={} bind={} body_limit={} signature_skew={}s db_pool_size={} \
             db_timeout={}s db_statement_timeout={}s rate_limit_reads={} rate_limit_writes={} \
             request_timeout={}s token_ttl={}s shutdown_timeout={}s retention={}d master_key={}",
            self.database_url(),
            self.bind,
            self.body_limit,
            self.signature_skew_seconds,
            pool.max_size,
            pool.connection_timeout.as_secs(),
            pool.statement_timeout.as_secs(),
            per_minute(self.rate_limit_reads),
            per_minute(self.rate_limit_writes),
            self.request_timeout_seconds,
            self.token_ttl_seconds,
            self.shutdown_timeout_seconds,
            self.retention.retention_days,
            master_key,
        )
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::rate_limit::RequestClass;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        config: Config,
    }

    fn config(args: &[&str]) -> Result<Config, clap::Error> {
        Serve::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map(|serve| serve.config)
    }

    #[test]
    fn the_default_limits_are_the_contracts_rate_limits_and_a_ten_second_request_timeout() {
        let limits = config(&[]).unwrap().limits();

        assert_eq!(limits.rate_limits.limit(RequestClass::Read), Some(1000));
        assert_eq!(limits.rate_limits.limit(RequestClass::Write), Some(100));
        assert_eq!(limits.request_timeout, Duration::from_secs(10));
        assert_eq!(config(&[]).unwrap().shutdown_timeout_seconds, 30);
    }

    #[test]
    fn the_retention_is_thirty_days_unless_set_and_zero_days_are_refused_naming_the_variable() {
        assert_eq!(config(&[]).unwrap().limits().retention, DEFAULT_RETENTION);
        let week = config(&["--retention-days", "7"]).unwrap().limits();
        assert_eq!(week.retention, Duration::from_secs(7 * 24 * 3600));

        for bad in ["0", "-1", "soon", "36501"] {
            let text = config(&[&format!("--retention-days={bad}")])
                .expect_err(bad)
                .to_string();
            assert!(text.contains("USERGROUPS_RETENTION_DAYS"), "{bad}: {text}");
        }
    }

    #[test]
    fn a_rate_limit_of_zero_turns_that_class_off() {
        let limits = config(&["--rate-limit-reads", "0", "--rate-limit-writes", "5"])
            .unwrap()
            .limits();

        assert_eq!(limits.rate_limits.limit(RequestClass::Read), None);
        assert_eq!(limits.rate_limits.limit(RequestClass::Write), Some(5));
    }

    #[test]
    fn a_signature_skew_above_the_maximum_is_refused_naming_the_flag_the_variable_and_both_values()
    {
        let error = config(&["--signature-skew-seconds", "3601"]).expect_err("refused");
        let text = error.to_string();

        for expected in [
            "--signature-skew-seconds",
            "USERGROUPS_SIGNATURE_SKEW_SECONDS",
            "3601",
            "3600",
        ] {
            assert!(text.contains(expected), "no {expected:?} in: {text}");
        }
    }

    #[test]
    fn a_signature_skew_up_to_the_maximum_is_accepted_and_zero_is_not() {
        let limits = config(&["--signature-skew-seconds", "3600"])
            .unwrap()
            .limits();

        assert_eq!(limits.signature_skew, Duration::from_secs(3600));
        assert_eq!(
            config(&[]).unwrap().limits().signature_skew,
            Duration::from_secs(900)
        );
        assert!(config(&["--signature-skew-seconds", "0"]).is_err());
    }

    #[test]
    fn a_metrics_address_that_is_not_an_ip_and_port_is_refused_naming_the_flag_the_variable_the_value_and_the_fix(
    ) {
        let error = config(&["--metrics-bind", "localhost"]).expect_err("refused");
        let text = error.to_string();

        for expected in [
            "--metrics-bind",
            "USERGROUPS_METRICS_BIND",
            "\"localhost\"",
            "127.0.0.1:9090",
            "leave it unset",
        ] {
            assert!(text.contains(expected), "no {expected:?} in: {text}");
        }
    }

    #[test]
    fn a_bind_address_with_a_bad_port_is_refused_naming_the_flag_the_variable_the_value_and_the_form(
    ) {
        for bad in ["localhost:80800", "localhost", ":8080", "127.0.0.1:http"] {
            let text = config(&["--bind", bad]).expect_err(bad).to_string();

            for expected in ["--bind", "USERGROUPS_BIND", bad, "HOST:PORT"] {
                assert!(text.contains(expected), "no {expected:?} in: {text}");
            }
        }
        assert_eq!(config(&["--bind", "[::1]:0"]).unwrap().bind, "[::1]:0");
    }

    #[test]
    fn a_sqlite_file_in_a_missing_folder_is_refused_naming_the_folder_and_the_fix() {
        let text = config(&["--database-url", "sqlite://nodir-for-this-test/x.db"])
            .expect_err("refused")
            .to_string();

        for expected in [
            "--database-url",
            "DATABASE_URL",
            "nodir-for-this-test",
            "mkdir -p nodir-for-this-test",
        ] {
            assert!(text.contains(expected), "no {expected:?} in: {text}");
        }
    }

    #[test]
    fn metrics_are_on_the_main_address_unless_a_metrics_address_is_given() {
        let separate = config(&["--metrics-bind", "[::1]:9090"]).unwrap();

        assert_eq!(config(&[]).unwrap().metrics_bind, None);
        assert_eq!(separate.metrics_bind, Some("[::1]:9090".parse().unwrap()));
    }

    #[test]
    fn the_summary_lists_every_setting_and_no_password() {
        let summary = config(&[
            "--database-url",
            "postgres://app:hunter2@db.example/usergroups",
            "--rate-limit-reads",
            "0",
        ])
        .unwrap()
        .summary();

        assert!(!summary.contains("hunter2"), "{summary}");
        for expected in [
            "database=postgres://app@db.example/usergroups",
            "bind=127.0.0.1:8080",
            "body_limit=1048576",
            "signature_skew=900s",
            "db_pool_size=10",
            "db_timeout=5s",
            "db_statement_timeout=5s",
            "rate_limit_reads=off",
            "rate_limit_writes=100/min",
            "request_timeout=10s",
            "token_ttl=3600s",
            "shutdown_timeout=30s",
            "master_key=",
        ] {
            assert!(summary.contains(expected), "no {expected:?} in: {summary}");
        }
    }

    #[test]
    fn a_token_ttl_outside_a_minute_to_a_day_is_refused_naming_the_flag_the_variable_and_the_range()
    {
        for bad in ["59", "86401", "0", "an hour"] {
            let text = config(&["--token-ttl-seconds", bad])
                .expect_err(bad)
                .to_string();

            for expected in [
                "--token-ttl-seconds",
                "USERGROUPS_TOKEN_TTL_SECONDS",
                "60",
                "86400",
                bad,
            ] {
                assert!(text.contains(expected), "no {expected:?} in: {text}");
            }
        }
        assert_eq!(
            config(&[]).unwrap().limits().token_ttl,
            Duration::from_secs(3600)
        );
        assert_eq!(
            config(&["--token-ttl-seconds", "60"])
                .unwrap()
                .limits()
                .token_ttl,
            Duration::from_secs(60)
        );
    }

    #[test]
    fn a_request_timeout_of_zero_is_refused() {
        let error = config(&["--request-timeout-seconds", "0"]).expect_err("refused");

        assert!(
            error.to_string().contains("--request-timeout-seconds"),
            "{error}"
        );
    }
}

/// Where the master key that seals access-key secrets comes from (`serve`, `key create`,
/// `master-key rotate`). The key itself is read from `USERGROUPS_MASTER_KEY` only, never from a
/// flag (a command line is visible to every local user), and parsed by [`crate::secrets`] so
/// that a bad value is refused naming the variable without echoing it.
#[derive(Debug, Clone, Args)]
pub struct MasterKeyArgs {
    /// The master key file, used when USERGROUPS_MASTER_KEY is unset; created at first start
    /// with mode 0600 [default: usergroups-master.key beside the SQLite file, or in the working
    /// directory on PostgreSQL].
    #[arg(
        long,
        env = "USERGROUPS_MASTER_KEY_FILE",
        value_name = "USERGROUPS_MASTER_KEY_FILE"
    )]
    pub master_key_file: Option<std::path::PathBuf>,
}

impl MasterKeyArgs {
    /// The key source: `USERGROUPS_MASTER_KEY` (and `USERGROUPS_NEW_MASTER_KEY`) when set, else
    /// the key file for `url`.
    pub fn source(
        &self,
        url: &DatabaseUrl,
    ) -> Result<crate::secrets::KeySource, crate::secrets::SecretsError> {
        crate::secrets::KeySource::from_env(self.master_key_file.as_deref(), url)
    }
}
