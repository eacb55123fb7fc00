//! `usergroups import --org ORG_ID --groups FILE [--users FILE] [--batched]`: brings an
//! organization's groups and users in from another system (or from Onlive) in one go.
//!
//! Each file holds JSON lines: one create body per line, exactly as `POST /api/v1/user-groups`
//! and `POST /api/v1/users` take it, read with the routes' own parsing
//! ([`crate::routes::onlive::groups::new_group_from_body`], [`crate::routes::onlive::users::new_user_from_body`]),
//! so a line is accepted exactly when the API would accept it as a body. Blank lines are
//! skipped; `-` reads standard input.
//!
//! **The unit of atomicity is the whole run**: both files are written in one transaction, in
//! multi-row statements of [`crate::domain::INSERT_CHUNK`] rows, each batch under a savepoint.
//! The first bad line (invalid, a taken name, externalId or email, a `userGroupId` that names
//! no live group, a line longer than the API's body limit) stops the import with the file, the
//! line and the field, and nothing of the run is kept. So a rerun after a failure is always
//! safe: it starts from an organization the failed run did not change. (A rerun of a run that
//! succeeded fails on its first line, whose name or email is taken by then, and writes nothing.)
//!
//! While the transaction runs it holds the write lock (SQLite: the database's, so every
//! organization's writes; PostgreSQL: the organization's count rows), so those writes wait for
//! it, or answer 503 after their statement timeout: import before the service takes traffic, or
//! off-peak.
//!
//! **`--batched`** trades the whole run's atomicity for the write lock: each batch of
//! [`crate::domain::INSERT_CHUNK`] rows commits on its own (a `BEGIN IMMEDIATE` transaction on
//! SQLite), so the lock is held for one batch at a time (milliseconds) and a serving instance's
//! writes go on between batches. A bad line then stops the run with every line before it
//! imported (the rows read before it are written first, and a failing batch is retried row by
//! row, each committing), which the message says: remove those lines before running again.
//!
//! After the commit, PostgreSQL's statistics of the tables are refreshed
//! ([`crate::domain::refresh_statistics`]), so the first searches after a large import already
//! use the trigram indexes.
//!
//! Progress goes to standard error, as a bar on a terminal and as a plain line every
//! [`PLAIN_EVERY`] rows otherwise; standard output gets one JSON summary at the end.

use std::error::Error;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::{open, print_json};
use crate::config::DatabaseArgs;
use crate::db::{self, DbConnection, StoreError, TransactionError};
use crate::domain::{
    refresh_statistics, DomainError, NewGroup, NewUser, OrganizationId, INSERT_CHUNK,
};
use crate::models::Organization;
use crate::routes::input::parse_uuid;
use crate::routes::onlive::{self, groups, users};
use crate::routes::ApiError;
use crate::state::Limits;

/// How often, in rows, progress is printed when standard error is not a terminal.
const PLAIN_EVERY: u64 = 100_000;

/// The shortest and longest pause between two committed batches of `--batched`.
const BATCH_PAUSE_MIN: Duration = Duration::from_millis(5);
const BATCH_PAUSE_MAX: Duration = Duration::from_millis(100);

/// How often the bar is redrawn on a terminal.
const REDRAW: Duration = Duration::from_millis(100);

#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// The organization the groups and users are created in.
    #[arg(long = "org", value_name = "ORG_ID")]
    org: String,
    /// JSON lines of group create bodies, one per line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    groups: Option<PathBuf>,
    /// JSON lines of user create bodies, imported after the groups (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// Commit every 500 rows instead of once at the end, so a serving instance's writes are
    /// held for one batch at a time; a bad line then keeps every line before it.
    #[arg(long)]
    batched: bool,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Why an import stopped. [`run`] says what of it was kept: nothing, or with `--batched`
/// every line before the one named.
#[derive(Debug, thiserror::Error)]
enum ImportError {
    /// A line the API would refuse, or that the data refuses (a taken value).
    #[error("{file} line {line}: {detail}")]
    Line {
        file: String,
        line: u64,
        detail: String,
    },
    /// The input could not be read.
    #[error("{file}: {detail}")]
    Input { file: String, detail: String },
    /// The database failed.
    #[error("{0}")]
    Store(String),
}

impl From<StoreError> for ImportError {
    fn from(error: StoreError) -> Self {
        ImportError::Store(error.to_string())
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(error: diesel::result::Error) -> Self {
        StoreError::from(error).into()
    }
}

impl TransactionError for ImportError {
    /// Never: running the import again would need its input again, which standard input
    /// cannot give; a failed run is rerun by the operator instead, safely (see the module).
    fn is_retryable(&self) -> bool {
        false
    }
}

/// What an import reads: a kind of create body and how it is written.
trait Record: Sized {
    /// The plural noun of the summary and the progress.
    const WHAT: &'static str;
    /// The body as the API parses it.
    fn parse(body: &[u8]) -> Result<Self, ApiError>;
    /// Writes `rows` inside the caller's transaction.
    fn insert_all(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        rows: &[Self],
    ) -> Result<(), DomainError>;
}

impl Record for NewGroup {
    const WHAT: &'static str = "groups";
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        groups::new_group_from_body(body)
    }
    fn insert_all(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        rows: &[Self],
    ) -> Result<(), DomainError> {
        NewGroup::insert_all(conn, organization_id, rows)
    }
}

impl Record for NewUser {
    const WHAT: &'static str = "users";
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        users::new_user_from_body(body)
    }
    fn insert_all(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        rows: &[Self],
    ) -> Result<(), DomainError> {
        NewUser::insert_all(conn, organization_id, rows)
    }
}

/// An open input: its name for messages, its reader and, for a file, its size.
struct Input {
    name: String,
    reader: Box<dyn BufRead>,
    size: Option<u64>,
}

impl Input {
    fn open(path: &PathBuf) -> Result<Input, ImportError> {
        if path.as_os_str() == "-" {
            return Ok(Input {
                name: "standard input".to_owned(),
                reader: Box::new(BufReader::new(std::io::stdin())),
                size: None,
            });
        }
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| ImportError::Input {
            file: name.clone(),
            detail: format!("cannot open: {e}"),
        })?;
        let size = file.metadata().ok().map(|m| m.len());
        Ok(Input {
            name,
            reader: Box::new(BufReader::with_capacity(1 << 20, file)),
            size,
        })
    }
}

/// The text of a refusal for a line: every bad field with its message, as the Onlive API's 400
/// or 409 would list them (the import reads the Onlive shapes, so it speaks their words).
fn describe(error: ApiError) -> String {
    let body = onlive::error::body(&error);
    match body.errors {
        Some(fields) => {
            let mut text = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ");
            if let Some(omitted) = body.omitted_errors {
                text.push_str(&format!("; and {omitted} more"));
            }
            text
        }
        None => error.to_string(),
    }
}

/// Progress on standard error: a bar on a terminal, a plain line now and then otherwise.
struct Progress {
    what: &'static str,
    terminal: bool,
    size: Option<u64>,
    started: Instant,
    drawn: Instant,
}

impl Progress {
    fn new(what: &'static str, size: Option<u64>) -> Progress {
        let now = Instant::now();
        Progress {
            what,
            terminal: std::io::stderr().is_terminal(),
            size,
            started: now,
            drawn: now,
        }
    }

    /// Shows `rows` read and `bytes` of the input consumed. Progress is best effort: a closed
    /// standard error does not stop the import.
    fn show(&mut self, rows: u64, bytes: u64, last: bool) {
        let seconds = self.started.elapsed().as_secs_f64();
        let mut err = std::io::stderr().lock();
        if self.terminal {
            if !last && self.drawn.elapsed() < REDRAW {
                return;
            }
            self.drawn = Instant::now();
            let bar = match self.size.filter(|size| *size > 0) {
                Some(size) => {
                    let done = (bytes.min(size) * 30 / size) as usize;
                    format!(
                        "[{}{}] {:3}% ",
                        "#".repeat(done),
                        "-".repeat(30 - done),
                        bytes.min(size) * 100 / size
                    )
                }
                None => String::new(),
            };
            let end = if last { "\n" } else { "" };
            let _ = write!(
                err,
                "\r{}: {bar}{rows} rows, {seconds:.1} s{end}",
                self.what
            );
        } else if last || (rows > 0 && rows % PLAIN_EVERY == 0) {
            let _ = writeln!(err, "{}: {rows} rows, {seconds:.1} s", self.what);
        }
        let _ = err.flush();
    }
}

/// Runs `work` under a savepoint of the caller's transaction: a failed batch leaves nothing
/// behind, and the transaction goes on (PostgreSQL would otherwise refuse every later
/// statement). Outside a transaction (`--batched`), `work` is a write transaction of its own,
/// committed when it succeeds.
fn savepoint<T>(
    conn: &mut DbConnection,
    work: impl FnMut(&mut DbConnection) -> Result<T, DomainError>,
) -> Result<T, DomainError> {
    db::write_transaction(conn, work)
}

/// Writes one batch. When it fails for a reason a row can carry (a taken value, a group that is
/// not live), its rows are written one by one to name the first line that fails.
fn flush<R: Record>(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    file: &str,
    lines: &mut Vec<u64>,
    rows: &mut Vec<R>,
) -> Result<(), ImportError> {
    if rows.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let committed_alone = !db::in_transaction(conn);
    let result = savepoint(conn, |conn| R::insert_all(conn, organization_id, rows));
    if committed_alone {
        // `--batched`: a writer waiting for the lock (SQLite's busy handler polls, sleeping up
        // to 100 ms between tries) would rarely find it free if the next batch began at once;
        // pausing about as long as the batch took lets it in.
        std::thread::sleep(started.elapsed().clamp(BATCH_PAUSE_MIN, BATCH_PAUSE_MAX));
    }
    match result {
        Ok(()) => {}
        Err(error @ (DomainError::Taken(_) | DomainError::InvalidInput(_))) => {
            for (line, row) in lines.iter().zip(rows.iter()) {
                let one = savepoint(conn, |conn| {
                    R::insert_all(conn, organization_id, std::slice::from_ref(row))
                });
                if let Err(error) = one {
                    return Err(ImportError::Line {
                        file: file.to_owned(),
                        line: *line,
                        detail: describe(error.into()),
                    });
                }
            }
            // Each row goes in alone but not all together: two lines of the batch collide.
            return Err(ImportError::Input {
                file: file.to_owned(),
                detail: format!(
                    "lines {} to {}: {}",
                    lines.first().copied().unwrap_or_default(),
                    lines.last().copied().unwrap_or_default(),
                    describe(error.into())
                ),
            });
        }
        Err(error) => return Err(ImportError::Store(describe(error.into()))),
    }
    lines.clear();
    rows.clear();
    Ok(())
}

/// Reads every line of `input` and writes its records; returns how many.
fn import_lines<R: Record>(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    mut input: Input,
    max_line: usize,
) -> Result<u64, ImportError> {
    let mut progress = Progress::new(R::WHAT, input.size);
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut bytes = 0u64;
    let mut imported = 0u64;
    let mut lines = Vec::with_capacity(INSERT_CHUNK);
    let mut rows = Vec::with_capacity(INSERT_CHUNK);
    loop {
        line.clear();
        // At most one byte past the limit is read, so a huge line costs no more than the limit.
        let read = (&mut input.reader)
            .take(max_line as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| ImportError::Input {
                file: input.name.clone(),
                detail: format!("cannot read: {e}"),
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        bytes += read as u64;
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.len() > max_line {
            // The lines before it go in first, so `--batched` keeps every one of them.
            flush(conn, organization_id, &input.name, &mut lines, &mut rows)?;
            return Err(ImportError::Line {
                file: input.name.clone(),
                line: number,
                detail: format!("longer than the API's body limit of {max_line} bytes"),
            });
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = match R::parse(&line) {
            Ok(record) => record,
            Err(error) => {
                flush(conn, organization_id, &input.name, &mut lines, &mut rows)?;
                return Err(ImportError::Line {
                    file: input.name.clone(),
                    line: number,
                    detail: describe(error),
                });
            }
        };
        lines.push(number);
        rows.push(record);
        imported += 1;
        if rows.len() == INSERT_CHUNK {
            flush(conn, organization_id, &input.name, &mut lines, &mut rows)?;
        }
        progress.show(imported, bytes, false);
    }
    flush(conn, organization_id, &input.name, &mut lines, &mut rows)?;
    progress.show(imported, bytes, true);
    Ok(imported)
}

/// Runs the import and prints its summary.
pub(super) fn run(args: ImportArgs) -> Result<(), Box<dyn Error>> {
    let organization_id = parse_uuid(&args.org)
        .map(OrganizationId::from)
        .ok_or("--org must be an organization id (a UUID)")?;
    if args.groups.is_none() && args.users.is_none() {
        return Err("nothing to import: give --groups FILE, --users FILE or both".into());
    }
    let stdin_twice = args.groups.as_ref().zip(args.users.as_ref());
    if stdin_twice.is_some_and(|(g, u)| g.as_os_str() == "-" && u.as_os_str() == "-") {
        return Err("only one of --groups and --users can read standard input".into());
    }
    // Both inputs open before anything is written, so a missing file fails at once.
    let mut group_input = args.groups.as_ref().map(Input::open).transpose()?;
    let mut user_input = args.users.as_ref().map(Input::open).transpose()?;
    let pool = open(&args.database)?;
    let mut conn = pool.get()?;
    if Organization::find(&mut conn, &organization_id)?.is_none() {
        return Err(format!("no organization has the id {organization_id}").into());
    }
    let max_line = Limits::default().body_limit;
    let started = Instant::now();
    let mut import = |conn: &mut DbConnection| {
        let groups = match group_input.take() {
            Some(input) => import_lines::<NewGroup>(conn, &organization_id, input, max_line)?,
            None => 0,
        };
        let users = match user_input.take() {
            Some(input) => import_lines::<NewUser>(conn, &organization_id, input, max_line)?,
            None => 0,
        };
        Ok::<_, ImportError>((groups, users))
    };
    let imported = match args.batched {
        true => import(&mut conn),
        false => db::write_transaction(&mut conn, import),
    };
    let (groups, users) = imported.map_err(|e| match args.batched {
        true => format!(
            "{e} (--batched: every line before it was imported; remove those lines before \
             running again)"
        ),
        false => format!("{e} (nothing was imported)"),
    })?;
    // The rows are committed: a statistics refresh that fails (a lock or the statement timeout
    // on a busy server) must not report the import as failed; autovacuum catches up later.
    if let Err(e) = refresh_statistics(&mut conn) {
        log::warn!(
            "the import is committed, but refreshing the planner's statistics failed ({e}); \
             run `ANALYZE user_groups, users` if searches are slow until autovacuum does"
        );
    }
    print_json(&json!({
        "organizationId": organization_id,
        "groups": groups,
        "users": users,
        "seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    }))
}
