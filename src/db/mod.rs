//! Storage: one connection type over SQLite and PostgreSQL, the pool, the embedded migrations,
//! and the transaction discipline every write goes through.
//!
//! Backend-specific SQL (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's row and advisory locks) lives
//! only behind a `match` on [`DbConnection`]: here, and in the domain's row locks beside the
//! records they lock; everything else is portable.

mod error;
pub mod schema;
mod share;
mod writer;

pub use error::StoreError;
pub use share::as_tenant;

use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::metrics;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL (`postgres://` or `postgresql://`).
    Pg(PgConnection),
    /// Embedded SQLite (`sqlite://path`).
    Sqlite(SqliteConnection),
}

/// A pooled connection.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// The pool handed to every request, with the time any one request may spend on the database,
/// and on SQLite the one writer every write of this process goes through ([`write`]).
#[derive(Clone)]
pub struct DbPool {
    inner: r2d2::Pool<ConnectionManager>,
    writer: Option<Arc<writer::SqliteWriter>>,
    shares: Arc<share::Shares>,
    request_timeout: Duration,
    /// The flag its connection manager shares ([`ConnectionManager`]'s `fenced`).
    fenced: Arc<std::sync::atomic::AtomicBool>,
}

impl DbPool {
    /// A connection, waiting at most the configured connection timeout.
    pub fn get(&self) -> Result<PooledConnection, r2d2::PoolError> {
        let waiting = Instant::now();
        let conn = self.inner.get();
        metrics::record_pool_wait(waiting.elapsed());
        conn
    }

    /// How many connections are open and idle now, and the most the pool opens (`/metrics`).
    pub fn gauges(&self) -> metrics::PoolGauges {
        let state = self.inner.state();
        metrics::PoolGauges {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.inner.max_size(),
        }
    }
}

/// The advisory lock key under which instances apply migrations and the first-run setup.
pub const MIGRATION_LOCK: i64 = 0x7573_6572_6772_7073; // "usergrps"

/// How many times a PostgreSQL write is retried after a serialization failure or a deadlock.
const WRITE_ATTEMPTS: u32 = 3;

/// The newest schema generation this release writes correctly. The migrations record the
/// database's generation in the `deployment` row; a migration that an older release cannot
/// write correctly beside steps it (and this constant with it), and then every instance of an
/// older release refuses its writes ([`check_generation`]) until it is upgraded.
/// `docs/deployment.md#upgrading` has the procedure; generation 1 is every release before the
/// `deployment` row existed.
pub const SCHEMA_GENERATION: i64 = 2;

/// Whether the refusal of [`check_generation`] was logged already by this process: one line
/// says it, not one per refused write.
static OUTDATED_LOGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The advisory lock key of the fence: every write transaction holds it shared
/// ([`check_generation`]), and [`init`] holds it exclusively while it applies migrations, so a
/// migration (one that steps the generation included) waits for the writes under way, and the
/// writes after it read the generation it left.
pub const FENCE_LOCK: i64 = MIGRATION_LOCK + 1;

/// The generation the database's schema records (`None` before the `deployment` row exists).
/// On PostgreSQL inside a write transaction it first takes [`FENCE_LOCK`] shared, to the
/// commit, and only then reads the row (a new statement: it sees what a migration that held the
/// lock committed). A lock in the lock manager, not on the row: a row lock taken by every write
/// would make each of them write the row's page and its log record.
pub fn schema_generation(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    let query = || schema::deployment::table.select(schema::deployment::schema_generation);
    let locked = in_transaction(conn);
    let found = match conn {
        DbConnection::Pg(c) => {
            if locked {
                c.batch_execute(&format!(
                    "SELECT pg_advisory_xact_lock_shared({FENCE_LOCK})"
                ))?;
            }
            query().first(c).optional()
        }
        DbConnection::Sqlite(c) => query().first(c).optional(),
    };
    Ok(found?)
}

/// The fence against older writers: [`StoreError::Outdated`] when a newer release migrated the
/// database past [`SCHEMA_GENERATION`]. Every write transaction runs it first, so an instance of
/// an older release stops writing at the first write after the migration, before it could write
/// what the new schema gets wrong; the first refusal is logged once, saying to upgrade.
pub fn check_generation(conn: &mut DbConnection) -> Result<(), StoreError> {
    match schema_generation(conn)? {
        Some(found) if found > SCHEMA_GENERATION => {
            let error = StoreError::Outdated {
                found,
                known: SCHEMA_GENERATION,
            };
            if !OUTDATED_LOGGED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                log::error!(
                    "{error}: a newer release migrated the database, so this instance answers \
                     every write 503 (upgrade_required) and /readyz 503 until it is replaced by \
                     the new release (docs/deployment.md#upgrading)"
                );
            }
            Err(error)
        }
        _ => Ok(()),
    }
}

/// A checked `DATABASE_URL`: the scheme decides the backend, and nothing else is accepted, so a
/// typo in the scheme fails at start instead of quietly creating a new SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`: a file path, relative to the working directory unless it starts with `/`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, handed to libpq as it is.
    Postgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(format!(
                    "DATABASE_URL {url:?} names no SQLite file (use sqlite://PATH, e.g. sqlite://usergroups.db)"
                ));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else {
            let scheme = url.split("://").next().unwrap_or_default();
            Err(format!(
                "DATABASE_URL must start with sqlite://, postgres:// or postgresql:// (got scheme {scheme:?})"
            ))
        }
    }
}

impl fmt::Display for DatabaseUrl {
    /// The URL without its password, fit for a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                match rest.rsplit_once('@') {
                    Some((user_info, host)) => {
                        let user = user_info.split(':').next().unwrap_or_default();
                        write!(f, "{scheme}://{user}@{host}")
                    }
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Opens connections for the pool, on the backend the URL was checked to name, with the
/// configured timeouts applied to each.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    options: PoolOptions,
    /// Set by [`init`] once the migrations ran: from then on this pool's writes check the
    /// schema generation ([`check_generation`]). A pool opened without [`init`] (a tool, or a
    /// test that builds an old schema on purpose) may lack the `deployment` row.
    fenced: Arc<std::sync::atomic::AtomicBool>,
}

impl ConnectionManager {
    /// The libpq URL with the connection timeouts this service needs, unless the operator set
    /// them: `connect_timeout` bounds opening a connection, `tcp_user_timeout` and keepalives
    /// bound how long a dead peer can hold a query.
    fn postgres_url(&self, url: &str) -> String {
        let connect = self.options.connection_timeout.as_secs().max(2);
        let user_timeout =
            (self.options.connection_timeout + self.options.statement_timeout).as_millis();
        let mut url = url.to_owned();
        for (name, value) in [
            ("connect_timeout", connect.to_string()),
            ("tcp_user_timeout", user_timeout.to_string()),
            ("keepalives_idle", "5".to_owned()),
            ("keepalives_interval", "2".to_owned()),
            ("keepalives_count", "3".to_owned()),
        ] {
            if !url.contains(&format!("{name}=")) {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&format!("{name}={value}"));
            }
        }
        url
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                create_private_sqlite_file(path).map_err(|e| {
                    r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
                        "cannot create {}: {e}",
                        path.display()
                    )))
                })?;
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // `synchronous = FULL`: every acknowledged commit survives a power cut as well as
                // a killed process. `busy_timeout`: a writer waits its turn for the single write
                // lock, up to the statement timeout, and then the request is a 503.
                conn.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = {};",
                    self.options.statement_timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(&self.postgres_url(url))
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}; SET lock_timeout = {};",
                    self.options.statement_timeout.as_millis(),
                    self.options.statement_timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Pg(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Pool settings; the defaults suit each backend (see [`PoolOptions::for_url`]).
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long a request waits for a connection (from the pool, or a new one) before it is
    /// answered 503.
    pub connection_timeout: Duration,
    /// How long one statement may run, or wait for a lock, before it is abandoned and the
    /// request answered 503 (PostgreSQL `statement_timeout` and `lock_timeout`, SQLite
    /// `busy_timeout`).
    pub statement_timeout: Duration,
    /// On SQLite, whether [`pool()`] starts the writer thread that [`write()`] queues to. The
    /// service needs it; a command-line run writes through its own connection
    /// ([`write_transaction`]) and leaves it off, so no idle thread is started.
    pub sqlite_writer: bool,
}

impl PoolOptions {
    /// SQLite serializes writers anyway, so a few connections (for concurrent WAL readers) are
    /// enough; PostgreSQL gets a pool sized for a small service.
    pub fn for_url(url: &DatabaseUrl) -> Self {
        let max_size = match url {
            DatabaseUrl::Sqlite(_) => 4,
            DatabaseUrl::Postgres(_) => 10,
        };
        PoolOptions {
            max_size,
            connection_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
            sqlite_writer: true,
        }
    }
}

/// Why the database could not be made ready at start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// No connection could be opened.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The URL, without its password.
        url: DatabaseUrl,
        /// What the pool reported.
        source: r2d2::PoolError,
    },
    /// A migration or a setup statement failed.
    #[error("cannot prepare the database schema: {0}")]
    Migrate(String),
}

/// A pool for `url` that opens connections lazily, as requests need them: it never fails to
/// build, and a database that cannot be reached shows as 503 answers, not as a crash. On SQLite
/// it also starts the writer thread ([`write()`]) unless [`PoolOptions::sqlite_writer`] is off.
///
/// A checked-out connection is not pinged first: a broken one fails its first statement, which
/// is a 503 like any other unavailability, and r2d2 drops it on return (`has_broken`).
pub fn pool(url: &DatabaseUrl, options: PoolOptions) -> DbPool {
    let manager = ConnectionManager {
        url: url.clone(),
        options,
        fenced: Arc::default(),
    };
    let fenced = Arc::clone(&manager.fenced);
    let writer = match url {
        DatabaseUrl::Sqlite(_) if !options.sqlite_writer => None,
        DatabaseUrl::Sqlite(_) => match writer::SqliteWriter::start(manager.clone()) {
            Ok(writer) => Some(Arc::new(writer)),
            Err(e) => {
                // Without a thread, writes fall back to the pool's connections and SQLite's lock.
                log::error!("cannot start the SQLite writer thread: {e}");
                None
            }
        },
        DatabaseUrl::Postgres(_) => None,
    };
    let inner = r2d2::Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(0))
        .test_on_check_out(false)
        .connection_timeout(options.connection_timeout)
        .build_unchecked(manager);
    DbPool {
        inner,
        writer,
        shares: Arc::new(share::Shares::for_pool(options.max_size)),
        // A transaction may retry, so leave room for a few statements after the wait.
        request_timeout: options.connection_timeout + options.statement_timeout * 2,
        fenced,
    }
}

/// The files SQLite keeps for the database at `path`: the database itself, its write-ahead log
/// and the log's shared-memory index.
#[cfg(unix)]
fn sqlite_files(path: &Path) -> [PathBuf; 3] {
    let with_suffix = |suffix: &str| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        PathBuf::from(file)
    };
    [path.to_owned(), with_suffix("-wal"), with_suffix("-shm")]
}

/// Creates the SQLite database file with mode 0600 if it does not exist yet. Left to SQLite it
/// would be created 0644 under the usual umask, readable by every local user, names and e-mail
/// addresses included; SQLite gives the `-wal` and `-shm` files the database file's mode, so
/// they stay private too. An existing file is left as it is ([`init`] warns about it).
#[cfg(unix)]
fn create_private_sqlite_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_sqlite_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The warning for a SQLite file of mode `mode` that its group or other users may read or
/// write, naming the file and the fix; `None` when only its owner may.
#[cfg(unix)]
fn open_permissions_warning(file: &Path, mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "{file} is readable or writable by other local users (mode {mode:04o}) and holds \
             names and e-mail addresses: run `chmod 600 {file}`",
            file = file.display(),
            mode = mode & 0o7777,
        )
    })
}

/// The warnings for every existing file of the SQLite database at `path` that is open to its
/// group or other users.
#[cfg(unix)]
fn open_permissions_warnings(path: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    sqlite_files(path)
        .iter()
        .filter_map(|file| {
            let mode = std::fs::metadata(file).ok()?.permissions().mode();
            open_permissions_warning(file, mode)
        })
        .collect()
}

/// Opens the pool and brings the schema up to date. On PostgreSQL the migrations run under an
/// advisory lock, so several instances starting together apply them exactly once. A SQLite file
/// that is new is created private (mode 0600); one that exists and is open to other users is
/// used as it is, with a warning naming it and the `chmod` that fixes it.
pub fn init(url: &DatabaseUrl, options: PoolOptions) -> Result<DbPool, InitError> {
    #[cfg(unix)]
    if let DatabaseUrl::Sqlite(path) = url {
        for warning in open_permissions_warnings(path) {
            log::warn!("{warning}");
        }
    }
    let pool = pool(url, options);
    let mut conn = pool.get().map_err(|source| InitError::Connect {
        url: url.clone(),
        source,
    })?;
    let migrate_error =
        |e: Box<dyn std::error::Error + Send + Sync>| InitError::Migrate(e.to_string());
    match &mut *conn {
        DbConnection::Sqlite(c) => {
            // Switching a new file to WAL needs the file to itself, and SQLite answers "locked"
            // at once (no busy wait) while another process starting beside this one holds it:
            // try again for a while rather than fail the start.
            let deadline = Instant::now() + options.connection_timeout + options.statement_timeout;
            loop {
                // WAL is a property of the file: set once, it lets readers run beside the writer.
                match c.batch_execute("PRAGMA journal_mode = WAL;") {
                    Ok(()) => break,
                    Err(e) if e.to_string().contains("locked") && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => return Err(InitError::Migrate(e.to_string())),
                }
            }
            // Under the write lock, so processes starting together on one file apply each
            // migration once (the others wait, then find nothing pending).
            c.immediate_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()))
                .map_err(migrate_error)?;
        }
        DbConnection::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({})", MIGRATION_LOCK))
                .map_err(|e| InitError::Migrate(e.to_string()))?;
            // With migrations to apply, the fence too: they wait for the writes under way (of
            // every instance), and no write runs beside them.
            let pending = c
                .has_pending_migration(POSTGRES_MIGRATIONS)
                .map_err(migrate_error);
            let fenced = matches!(pending, Ok(true));
            if fenced {
                c.batch_execute(&format!("SELECT pg_advisory_lock({FENCE_LOCK})"))
                    .map_err(|e| InitError::Migrate(e.to_string()))?;
            }
            let migrated = pending.and_then(|_| {
                c.run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|_| ())
                    .map_err(migrate_error)
            });
            let mut unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK});");
            if fenced {
                unlock.push_str(&format!(" SELECT pg_advisory_unlock({FENCE_LOCK});"));
            }
            c.batch_execute(&unlock)
                .map_err(|e| InitError::Migrate(e.to_string()))?;
            migrated?;
        }
    }
    drop(conn);
    pool.fenced
        .store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(pool)
}

/// The current time as stored: UTC, truncated to whole seconds as the contract shows it.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(0)
}

thread_local! {
    /// When the request whose database work runs on this thread has been answered 503 for
    /// taking too long: a write transaction still running then rolls back instead of
    /// committing, so a change the client was told failed does not happen later.
    static REQUEST_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };

    /// Whether the write transactions run on this thread check the schema generation first:
    /// set by [`run`] for a pool that [`init`] migrated.
    static FENCED: Cell<bool> = const { Cell::new(false) };
}

fn past_request_deadline() -> Result<(), StoreError> {
    match REQUEST_DEADLINE.get() {
        Some(deadline) if Instant::now() >= deadline => Err(StoreError::unavailable(
            "the request was answered 503 before this transaction could commit; rolled back",
        )),
        _ => Ok(()),
    }
}

/// `Err` (503, as the request was answered) once the request whose work runs on this thread is
/// past its deadline: a long write checks it between its steps, so a write whose request was
/// answered 503 stops at its next step and rolls back, instead of holding the writer (on SQLite
/// every organization's writes) until its end only to roll back then.
pub fn within_request_deadline() -> Result<(), StoreError> {
    past_request_deadline()
}

/// Runs `work` on a pooled connection on the blocking thread pool, so diesel's synchronous
/// calls never stall the async workers. A pool that cannot hand out a connection in time, or a
/// database that does not answer within the request timeout, is a 503, not a 500 or a hang.
///
/// Inside a request ([`as_tenant`]) the work first takes a place in its organization's share of
/// the pool, waiting for one without a thread or a connection: one organization never holds
/// more than its share of the connections for reads (see `share`).
///
/// For reads; a request's write goes through [`write`].
pub async fn run<T, E, F>(pool: &DbPool, work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    let deadline = Instant::now() + pool.request_timeout;
    let place = pool
        .shares
        .enter(pool.inner.connection_timeout())
        .await
        .map_err(E::from)?;
    run_blocking(pool, deadline, place, work).await
}

/// [`run`] past the share: `work` on a pooled connection on the blocking thread pool, holding
/// `place` until the connection goes back, answered 503 at `deadline`.
async fn run_blocking<T, E, F>(
    pool: &DbPool,
    deadline: Instant,
    place: Option<share::Place>,
    work: F,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    let timeout = pool.request_timeout;
    let pool = pool.clone();
    let blocking = tokio::task::spawn_blocking(move || {
        // Held until the connection goes back, even when the client was answered 503 first.
        let _place = place;
        REQUEST_DEADLINE.set(Some(deadline));
        FENCED.set(pool.fenced.load(std::sync::atomic::Ordering::Relaxed));
        let result = pool
            .get()
            .map_err(|e| E::from(StoreError::from(e)))
            .and_then(|mut conn| work(&mut conn));
        REQUEST_DEADLINE.set(None);
        FENCED.set(false);
        result
    });
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left, blocking).await {
        Ok(result) => result.map_err(|e| E::from(StoreError::internal(e)))?,
        // The blocking call goes on until the driver's own timeouts end it; the client does
        // not wait for that.
        Err(_) => Err(E::from(StoreError::unavailable(format!(
            "the database did not answer within {timeout:?}"
        )))),
    }
}

/// Runs `work` as one write transaction, off the async workers, and answers only once it is
/// durable: all of it commits, or none of it does, except that an error whose
/// [`TransactionError::commits`] is true keeps what the work wrote before it.
///
/// On SQLite the work is queued to the writer thread, which commits it in a batch with the other
/// writes queued meanwhile (a savepoint each, one fsync for the batch). On PostgreSQL it runs on
/// a pooled connection in [`write_transaction`], retried after a serialization failure or a
/// deadlock.
pub async fn write<T, E, F>(pool: &DbPool, mut work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: TransactionError + Send + 'static,
    F: FnMut(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    match &pool.writer {
        Some(writer) => writer.write(pool.request_timeout, work).await,
        // Outside the organization's share of the pool: a write waits on its commit and its
        // row locks, not on a core, and its organization's writes are bounded by the write
        // rate limit and the writes' own bounds; counting them against the reads' share would
        // make one organization's writes on PostgreSQL commit one at a time.
        None => {
            let deadline = Instant::now() + pool.request_timeout;
            run_blocking(pool, deadline, None, move |conn| {
                write_transaction(conn, &mut work)
            })
            .await
        }
    }
}

/// An error a write transaction's work can end in: it takes the store's own failures (and
/// diesel's, through them), and says whether running the whole transaction again may succeed.
pub trait TransactionError: From<StoreError> + From<diesel::result::Error> + fmt::Display {
    /// True when the transaction lost a race (serialization failure, deadlock) and is worth
    /// running again.
    fn is_retryable(&self) -> bool;

    /// True when the transaction still commits what its work wrote before this error: a
    /// refusal by the state of the data, after which the request's replay-guard entry must stay.
    /// False (the default) rolls everything back.
    fn commits(&self) -> bool {
        false
    }
}

impl TransactionError for StoreError {
    fn is_retryable(&self) -> bool {
        StoreError::is_retryable(self)
    }
}

/// Runs `work` as one write transaction: all of it commits or none of it does, except that an
/// error whose [`TransactionError::commits`] is true keeps what the work wrote before it.
///
/// On SQLite the transaction is `BEGIN IMMEDIATE`, taking the database's single write lock up
/// front, so a check and the write that depends on it (count members, then mark deleted) cannot
/// interleave with another writer. On PostgreSQL it is a READ COMMITTED transaction in which the
/// work takes the domain's row locks; a serialization failure or a deadlock rolls back and
/// runs `work` again, a bounded number of times.
///
/// Inside a transaction already open on `conn` (a request's write, see [`write`]), `work` runs
/// in a savepoint instead: an error rolls back its part only, and the outer transaction decides
/// about the rest.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, mut work: F) -> Result<T, E>
where
    E: TransactionError,
    F: FnMut(&mut DbConnection) -> Result<T, E>,
{
    if in_transaction(conn) {
        return conn.transaction(work);
    }
    if matches!(conn, DbConnection::Sqlite(_)) {
        return sqlite_immediate_transaction(conn, work);
    }
    let mut attempt = 1;
    loop {
        let attempt_result: Result<Result<T, E>, E> = conn.transaction(|conn| {
            if FENCED.get() {
                check_generation(conn).map_err(E::from)?;
            }
            let outcome = work(conn);
            past_request_deadline().map_err(E::from)?;
            match outcome {
                Err(e) if !e.commits() => Err(e),
                kept => Ok(kept),
            }
        });
        match attempt_result {
            Err(e) if e.is_retryable() && attempt < WRITE_ATTEMPTS => {
                log::warn!("retrying a write transaction after: {e}");
                metrics::record_transaction_retry();
                attempt += 1;
            }
            Ok(kept) => return kept,
            Err(e) => return Err(e),
        }
    }
}

/// True while a transaction is open on `conn`.
pub fn in_transaction(conn: &mut DbConnection) -> bool {
    type Manager = <DbConnection as Connection>::TransactionManager;
    Manager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .is_ok_and(|depth| depth.is_some())
}

fn sqlite_immediate_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    E: TransactionError,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    // diesel's `immediate_transaction` would hand the closure a bare `SqliteConnection`; the
    // models take a `DbConnection`, so the same three steps are done here on the inner manager.
    if let DbConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(E::from)?;
    }
    let fence = match FENCED.get() {
        true => check_generation(conn),
        false => Ok(()),
    };
    let result = fence
        .map_err(E::from)
        .and_then(|()| work(conn))
        .and_then(|value| past_request_deadline().map(|()| value).map_err(E::from));
    let DbConnection::Sqlite(c) = conn else {
        return Err(E::from(StoreError::internal(
            "connection changed backend inside a transaction",
        )));
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(c).map_err(E::from)?;
            Ok(value)
        }
        Err(e) if e.commits() => {
            AnsiTransactionManager::commit_transaction(c).map_err(E::from)?;
            Err(e)
        }
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(c).map_err(E::from)?;
            Err(e)
        }
    }
}

/// Answers whether the database takes a query now (`/readyz`).
pub fn ping(conn: &mut DbConnection) -> Result<(), StoreError> {
    conn.ping().map_err(StoreError::unavailable)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_sqlite_file_open_to_other_users_gets_a_warning_naming_it_and_the_fix() {
        let warning = open_permissions_warning(Path::new("/srv/usergroups.db"), 0o100644)
            .expect("a warning for 0644");

        assert_eq!(
            warning,
            "/srv/usergroups.db is readable or writable by other local users (mode 0644) and \
             holds names and e-mail addresses: run `chmod 600 /srv/usergroups.db`"
        );
        assert!(open_permissions_warning(Path::new("/srv/usergroups.db"), 0o100600).is_none());
        assert!(open_permissions_warning(Path::new("/srv/usergroups.db"), 0o100400).is_none());
        assert!(open_permissions_warning(Path::new("/srv/usergroups.db"), 0o100620).is_some());
    }

    #[test]
    fn each_existing_sqlite_file_open_to_other_users_is_warned_about() {
        let dir = std::env::temp_dir().join(format!(
            "usergroups-modes-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("usergroups.db");
        let [_, wal, shm] = sqlite_files(&database);
        for (file, mode) in [(&database, 0o600), (&wal, 0o644), (&shm, 0o600)] {
            std::fs::write(file, b"").unwrap();
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).unwrap();
        }

        let warnings = open_permissions_warnings(&database);

        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with(&format!("{} is readable", wal.display())));
        assert!(warnings[0].ends_with(&format!("run `chmod 600 {}`", wal.display())));
    }
}
