//! The `usergroups` command line: `serve`, organization and access-key management, master-key
//! rotation, `sign`, and the bulk `import` of groups and users.
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

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::config::{Config, DatabaseArgs};
use crate::db::{self, DbPool, PoolOptions};

mod import;
mod key;
mod master_key;
mod org;
mod serve;
mod sign;

use import::ImportArgs;
use key::KeyCommand;
use master_key::MasterKeyCommand;
use org::OrgCommand;
use sign::SignArgs;

/// Onlive-compatible user groups and users behind HMAC-signed requests.
#[derive(Debug, Parser)]
#[command(name = "usergroups", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

/// Runs the command line and returns the process's exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_log)).init();
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
    }
}

fn open(database: &DatabaseArgs) -> Result<DbPool, Box<dyn Error>> {
    let mut options = PoolOptions::for_url(&database.database_url);
    options.max_size = 1;
    Ok(db::init(&database.database_url, options)?)
}

fn print_json(value: &Value) -> Result<(), Box<dyn Error>> {
    print_out(&format!("{}\n", serde_json::to_string(value)?))
}
