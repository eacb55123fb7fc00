//! The `usergroups` command line: `serve`, organization and access-key management, master-key
//! rotation, `sign`, the bulk `import` of groups and users, the retention `purge`, and
//! `completions`; and the log's two
//! formats (text, or JSON lines).
//! Every management command prints one JSON object on stdout; errors go to stderr with a
//! non-zero exit status. A standard output closed early (`usergroups key list | head -c0`) ends
//! the command quietly with status 0, as for most Unix tools: Rust ignores SIGPIPE, and keeping
//! it ignored matters to the server, so the broken pipe is handled where output is written.
//!
//! This module holds the command tree, the dispatch and what the commands share (opening the
//! database, printing the JSON object); each command group lives in its own submodule, its
//! arguments beside the code that runs it, so a command is read and changed in one place.

use std::error::Error;
use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use serde_json::Value;

use crate::config::{Config, DatabaseArgs};
use crate::db::{self, DbPool, PoolOptions};

mod import;
mod key;
mod master_key;
mod org;
mod purge;
mod recount;
mod serve;
mod sign;

use import::ImportArgs;
use key::KeyCommand;
use master_key::MasterKeyCommand;
use org::OrgCommand;
use purge::PurgeArgs;
use recount::RecountArgs;
use sign::SignArgs;

/// Onlive-compatible user groups and users behind HMAC-signed requests.
#[derive(Debug, Parser)]
#[command(name = "usergroups", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines are written to stderr: `text` for a terminal, `json` for one JSON object a
    /// line (time, level, target, message, and a request's fields) for a log collector.
    #[arg(long, global = true, env = "USERGROUPS_LOG_FORMAT", value_name = "USERGROUPS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// env_logger's lines, for people.
    Text,
    /// One JSON object a line, for machines.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrations run at start; an empty database gets first-run credentials).
    Serve(Box<Config>),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage access keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage the master key that seals access-key secrets at rest.
    #[command(subcommand, name = "master-key")]
    MasterKey(MasterKeyCommand),
    /// Print the headers that sign a request, one `Name: value` per line (for curl -H @file);
    /// a write also gets a random signed `x-onlive-site-nonce`.
    Sign(SignArgs),
    /// Create an organization's groups and users from JSON lines of create bodies, all or
    /// nothing; prints {"organizationId", "groups", "users", "seconds"}.
    Import(ImportArgs),
    /// Remove for good the soft-deleted groups and users (and change-feed events) older than the
    /// retention, in batches; prints {"users", "groups", "events", "seconds"}.
    Purge(PurgeArgs),
    /// Set every organization's list totals to its live rows: the last step of a rolling
    /// upgrade from a release that did not keep them (docs/deployment.md); prints
    /// {"organizations", "corrected", "seconds"}.
    Recount(RecountArgs),
    /// Print the completion script for a shell, e.g. `usergroups completions bash >
    /// /etc/bash_completion.d/usergroups`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Runs the command line and returns the process's exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_log));
    if cli.log_format == LogFormat::Json {
        logger.format(write_json_line);
    }
    logger.init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&*e) => ExitCode::SUCCESS,
        Err(e) => {
            // `eprintln!` would panic if stderr were closed too; the status still tells.
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes one log record as a JSON object on one line: `time` (RFC 3339 UTC, milliseconds),
/// `level`, `target`, `message`, then the record's key-value pairs as fields (the access log's
/// `request_id`, `method`, `path`, `status`, `latency_ms` and `reason`), numbers as numbers.
fn write_json_line(
    out: &mut env_logger::fmt::Formatter,
    record: &log::Record,
) -> std::io::Result<()> {
    struct Fields(serde_json::Map<String, Value>);
    impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
        fn visit_pair(
            &mut self,
            key: log::kv::Key<'kvs>,
            value: log::kv::Value<'kvs>,
        ) -> Result<(), log::kv::Error> {
            let value = if let Some(n) = value.to_u64() {
                Value::from(n)
            } else if let Some(n) = value.to_i64() {
                Value::from(n)
            } else if let Some(n) = value.to_f64() {
                Value::from(n)
            } else if let Some(b) = value.to_bool() {
                Value::from(b)
            } else {
                Value::from(value.to_string())
            };
            self.0.insert(key.as_str().to_owned(), value);
            Ok(())
        }
    }
    let mut fields = Fields(serde_json::Map::new());
    fields.0.insert(
        "time".to_owned(),
        chrono::Utc::now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .into(),
    );
    fields
        .0
        .insert("level".to_owned(), record.level().as_str().into());
    fields.0.insert("target".to_owned(), record.target().into());
    fields
        .0
        .insert("message".to_owned(), record.args().to_string().into());
    // A pair that cannot be read is left out rather than losing the whole line.
    let _ = record.key_values().visit(&mut fields);
    let line = serde_json::to_string(&fields.0).map_err(std::io::Error::other)?;
    writeln!(out, "{line}")
}

/// True when `error` is a write to a standard output whose reader has gone away: nobody is left
/// to read an answer or an error message about it.
fn is_broken_pipe(error: &(dyn Error + 'static)) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)
}

/// Writes `text` to standard output and flushes it, returning the error (a broken pipe
/// included) instead of panicking as `println!` does.
fn print_out(text: &str) -> Result<(), Box<dyn Error>> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn run(command: Command) -> Result<(), Box<dyn Error>> {
    match command {
        Command::Serve(config) => serve::run(*config),
        Command::Org(command) => org::run(command),
        Command::Key(command) => key::run(command),
        Command::MasterKey(command) => master_key::run(command),
        Command::Sign(args) => sign::run(args),
        Command::Import(args) => import::run(args),
        Command::Purge(args) => purge::run(args),
        Command::Recount(args) => recount::run(args),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics on a failed write, and a closed standard
            // output must end the command quietly like every other.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "usergroups", &mut script);
            print_out(&String::from_utf8_lossy(&script))
        }
    }
}

fn open(database: &DatabaseArgs) -> Result<DbPool, Box<dyn Error>> {
    let mut options = PoolOptions::for_url(&database.database_url);
    options.max_size = 1;
    // Commands write through their one connection (`db::write_transaction`), never `db::write`.
    options.sqlite_writer = false;
    let pool = db::init(&database.database_url, options)?;
    // A command of an older release than the database's schema changes nothing.
    db::check_generation(&mut *pool.get()?)?;
    Ok(pool)
}

fn print_json(value: &Value) -> Result<(), Box<dyn Error>> {
    print_out(&format!("{}\n", serde_json::to_string(value)?))
}
