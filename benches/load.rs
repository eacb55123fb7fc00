//! Load benchmark: each figure of the service beside its ceiling, measured in the same run, on
//! SQLite or PostgreSQL; the result goes to `docs/BENCHMARKS.md` (its `load` section only).
//!
//! ```sh
//! cargo bench --bench load                                       # SQLite, a fresh temp file
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench --bench load                                   # PostgreSQL, a fresh schema
//! cargo test --bench load                                        # the smoke run (CI)
//! ```
//!
//! The machine drifts by tens of percent from one minute to the next, so every target is a
//! ratio (or a bound) against a ceiling taken seconds apart, interleaved with it: each pair runs
//! in `BENCH_ROUNDS` rounds (default 4), the ceiling first in even rounds and second in odd ones,
//! and each side's rounds are added up. The disk's commit cost is probed before and after (the
//! median of 20 synchronous 4 KiB writes), since it sets every SQLite write figure.
//!
//! The server is the real binary (`usergroups serve`, built by cargo beside the bench with the
//! same profile) in a child process on `127.0.0.1:0`, with rate limits off, its default workers
//! and pool, and `RUST_LOG=warn` (no per-request log line), so its peak RSS is its own: a sampler
//! reads `VmRSS` of the child from `/proc` every 20 ms during each load. Clients are threads of
//! this process, each with one HTTP/1.1 keep-alive `TcpStream`, signing every request with
//! `usergroups::auth::signer::sign` at the current time. Only 200 answers count as requests and
//! enter the latencies.
//!
//! | backend | figure | ceiling | target |
//! | --- | --- | --- | --- |
//! | SQLite | signed `GET /api/v1/user-groups/{id}` | `GET /healthz` of the same server | ≥ 0.7 |
//! | SQLite | signed soft `DELETE` | [`data_layer_delete_ceiling`]: the same transaction in-process | ≥ 1.5 |
//! | SQLite | `DELETE` latency | | p99 ≤ 10 ms, max ≤ 50 ms |
//! | PostgreSQL | signed `GET` | a prepared point select of a live group by 32 clients (`pgbench -M prepared` when on the `PATH`, else a libpq loop of prepared statements) | ≥ 0.5 |
//! | PostgreSQL | signed `DELETE` | [`raw_delete_transaction`] by 32 libpq clients | ≥ 0.9 |
//! | both | peak RSS of the server under each load | | ≤ 64 MiB |
//!
//! Settings: `BENCH_SECONDS` (each scenario's total, default 10), `BENCH_ROUNDS`,
//! `BENCH_CEILING_WRITERS` (threads of the SQLite in-process ceiling, default 1),
//! `BENCH_CONNECTIONS` (default 32), `BENCH_DELETE_GROUPS_PER_SECOND` (groups made per second of
//! each DELETE scenario, default 4000 on SQLite and 3000 on PostgreSQL; a scenario that runs out
//! stops early and says so).
//!
//! **Smoke mode.** Without `--bench` (that is, under `cargo test --bench load`, which reuses the
//! test build instead of compiling a release one), or with `--smoke` or `BENCH_SMOKE=1`: every
//! scenario runs for a fraction of a second, the figures are printed and not judged, and the
//! file is not written. It exits non-zero when a scenario served no request or any error, so a
//! broken route, signature or ceiling fails CI without a speed being asserted.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use diesel::PgConnection;

use usergroups::auth::signer::{sign, Credentials};
use usergroups::auth::PermissionSet;
use usergroups::db::{self, DatabaseUrl, DbConnection, DbPool, PoolOptions};
use usergroups::domain::events::Actor;
use usergroups::domain::lifecycle::{self, IfMatch};
use usergroups::domain::{DomainError, NewGroup};
use usergroups::ids::{AccessKeyId, GroupId, OrganizationId};
use usergroups::models::used_signature::FirstUse;
use usergroups::models::{AccessKey, Organization, UsedSignature};
use usergroups::secrets::{Keyring, MasterKey};

/// How many live groups the GET scenarios cycle through.
const GET_GROUPS: usize = 1000;

/// The targets, as the issue states them.
const GET_RATIO_SQLITE: f64 = 0.7;
const DELETE_RATIO_SQLITE: f64 = 1.5;
const DELETE_P99_MS: f64 = 10.0;
const DELETE_MAX_MS: f64 = 50.0;
const GET_RATIO_POSTGRES: f64 = 0.5;
const DELETE_RATIO_POSTGRES: f64 = 0.9;
const RSS_LIMIT_MIB: f64 = 64.0;

/// The markers of this bench's section of `docs/BENCHMARKS.md`.
const SECTION_BEGIN: &str = "<!-- load:begin -->";
const SECTION_END: &str = "<!-- load:end -->";

fn env_number(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(text) if !text.is_empty() => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {text:?}")),
        _ => default,
    }
}

/// A database that exists for one run and is removed at the end.
enum BenchDatabase {
    Sqlite(PathBuf),
    Postgres { base_url: String, schema: String },
}

impl BenchDatabase {
    /// A fresh database, and its URL as the server is given it.
    fn create() -> (BenchDatabase, String) {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("BENCH_DATABASE_URL") {
            Ok(base_url) if !base_url.is_empty() => {
                let schema = format!("bench_{unique}");
                let mut conn =
                    PgConnection::establish(&base_url).expect("BENCH_DATABASE_URL answers");
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create the bench schema");
                let separator = if base_url.contains('?') { '&' } else { '?' };
                let url = format!("{base_url}{separator}options=-csearch_path%3D{schema}");
                (BenchDatabase::Postgres { base_url, schema }, url)
            }
            _ => {
                let path = std::env::temp_dir().join(format!("usergroups-bench-{unique}.db"));
                let url = format!("sqlite://{}", path.display());
                (BenchDatabase::Sqlite(path), url)
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            BenchDatabase::Sqlite(_) => "SQLite",
            BenchDatabase::Postgres { .. } => "PostgreSQL",
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        match self {
            BenchDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            BenchDatabase::Postgres { base_url, schema } => {
                if let Ok(mut conn) = PgConnection::establish(base_url) {
                    let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            }
        }
    }
}

/// Creates `count` empty groups named `{prefix}-{thread}-{i}` and returns their ids. Setup only:
/// on a separate pool with durability off for its connections (`synchronous = OFF` /
/// `synchronous_commit = off`), on 4 threads on PostgreSQL (1 on SQLite, which has one writer).
fn create_groups(
    url: &DatabaseUrl,
    organization_id: &OrganizationId,
    prefix: &str,
    count: usize,
) -> Vec<GroupId> {
    let threads = match url {
        DatabaseUrl::Sqlite(_) => 1,
        DatabaseUrl::Postgres(_) => 4,
    };
    let options = PoolOptions {
        max_size: threads as u32,
        ..PoolOptions::for_url(url)
    };
    let setup_pool = db::pool(url, options);
    thread::scope(|scope| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                let setup_pool = &setup_pool;
                scope.spawn(move || {
                    let mut conn = setup_pool.get().expect("a setup connection");
                    let relax = match &*conn {
                        DbConnection::Sqlite(_) => "PRAGMA synchronous = OFF;",
                        DbConnection::Pg(_) => "SET synchronous_commit = off;",
                    };
                    conn.batch_execute(relax)
                        .expect("relax durability for setup");
                    (t..count)
                        .step_by(threads)
                        .map(|i| {
                            NewGroup {
                                name: format!("{prefix}-{t}-{i}"),
                                description: Some("created by benches/load.rs".to_owned()),
                                external_id: None,
                                extra_fields: r#"{"bench":true}"#.to_owned(),
                                ..NewGroup::default()
                            }
                            .insert(&mut conn, organization_id)
                            .expect("create a group")
                            .id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("a setup thread"))
            .collect()
    })
}

/// `usergroups serve` in a child process, killed when dropped.
struct Server {
    child: Child,
    address: SocketAddr,
}

impl Server {
    /// Starts the binary cargo built beside this bench on `url`, with the master key `key_hex`
    /// and no rate limits, and waits until it listens.
    fn start(url: &str, key_hex: &str, dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_usergroups"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", url)
            .env("USERGROUPS_MASTER_KEY", key_hex)
            .env("USERGROUPS_RATE_LIMIT_READS", "0")
            .env("USERGROUPS_RATE_LIMIT_WRITES", "0")
            // The address is logged at info by the server module; requests are not logged.
            .env("RUST_LOG", "warn,usergroups::server=info")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let stderr = child.stderr.take().expect("the server's stderr");
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening on http://").nth(1) {
                    let _ = sender.send(address.trim().to_owned());
                } else if !line.contains(" INFO ") {
                    eprintln!("server: {line}");
                }
            }
        });
        let address = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server listens within a minute")
            .parse()
            .expect("a socket address");
        Server { child, address }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Samples the resident set of `pid` every 20 ms until stopped; returns the largest, in KiB.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<u64>,
}

impl RssSampler {
    fn start(pid: Option<u32>) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut peak = 0;
            let Some(pid) = pid else { return 0 };
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(proc_status_kib(pid, "VmRSS").unwrap_or(0));
                thread::sleep(Duration::from_millis(20));
            }
            peak.max(proc_status_kib(pid, "VmRSS").unwrap_or(0))
        });
        RssSampler { stop, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// One keep-alive HTTP/1.1 connection that sends body-less requests, signed or not.
struct HttpClient {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    host: String,
    request: Vec<u8>,
    line: String,
    body: Vec<u8>,
}

impl HttpClient {
    fn connect(address: SocketAddr) -> HttpClient {
        let stream = TcpStream::connect(address).expect("connect to the server");
        stream.set_nodelay(true).expect("set TCP_NODELAY");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("set a read timeout");
        HttpClient {
            reader: BufReader::new(stream.try_clone().expect("clone the stream")),
            writer: stream,
            host: address.to_string(),
            request: Vec::with_capacity(512),
            line: String::new(),
            body: Vec::new(),
        }
    }

    /// Sends `method target`, signed now with `credentials` if given, and reads the whole
    /// answer; returns the status and the time from the first byte written to the last byte
    /// read (signing excluded).
    fn call(
        &mut self,
        credentials: Option<&Credentials>,
        method: &str,
        target: &str,
    ) -> (u16, Duration) {
        let headers = match credentials {
            Some(credentials) => {
                sign(
                    credentials,
                    method,
                    &self.host,
                    target,
                    &[],
                    b"",
                    Utc::now(),
                )
                .headers
            }
            None => vec![("host".to_owned(), self.host.clone())],
        };
        self.request.clear();
        write!(self.request, "{method} {target} HTTP/1.1\r\n").expect("write to a Vec");
        for (name, value) in &headers {
            write!(self.request, "{name}: {value}\r\n").expect("write to a Vec");
        }
        self.request.extend_from_slice(b"\r\n");

        let started = Instant::now();
        self.writer
            .write_all(&self.request)
            .expect("send the request");
        let status = self.read_response();
        (status, started.elapsed())
    }

    fn read_line(&mut self) -> &str {
        self.line.clear();
        let read = self
            .reader
            .read_line(&mut self.line)
            .expect("read from the server");
        assert!(read > 0, "the server closed the connection");
        self.line.trim_end()
    }

    fn read_response(&mut self) -> u16 {
        let status: u16 = self
            .read_line()
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("an HTTP status line");
        let mut content_length = None;
        let mut chunked = false;
        loop {
            let line = self.read_line();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header line");
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = Some(value.parse::<usize>().expect("a content length"));
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                assert!(
                    !value.eq_ignore_ascii_case("close"),
                    "the server closes the connection (status {status})"
                );
            }
        }
        self.body.clear();
        if chunked {
            loop {
                let size = usize::from_str_radix(self.read_line(), 16).expect("a chunk size");
                let start = self.body.len();
                self.body.resize(start + size, 0);
                self.reader
                    .read_exact(&mut self.body[start..])
                    .expect("read a chunk");
                self.read_line();
                if size == 0 {
                    break;
                }
            }
        } else {
            self.body.resize(content_length.unwrap_or(0), 0);
            self.reader
                .read_exact(&mut self.body)
                .expect("read the body");
        }
        status
    }

    /// What to show of an answer that was not a 200.
    fn failure(&self, status: u16) -> Step {
        Step::Failed(format!("{status} {}", String::from_utf8_lossy(&self.body)))
    }
}

/// What one scenario measured, over all its rounds.
#[derive(Default)]
struct Outcome {
    scenario: String,
    ok: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    note: Option<String>,
    /// The server's largest resident set during the scenario, in KiB (0: not the server's load).
    server_rss_kib: u64,
    /// A throughput measured by another tool (pgbench), used instead of `ok / elapsed`.
    reported_rate: Option<f64>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.reported_rate
            .unwrap_or_else(|| self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON))
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        percentile(&self.latencies, p).as_secs_f64() * 1000.0
    }

    fn max_ms(&self) -> f64 {
        self.latencies
            .last()
            .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
    }

    /// Adds another round of the same scenario.
    fn absorb(&mut self, round: Outcome) {
        if self.scenario.is_empty() {
            self.scenario = round.scenario;
        }
        self.ok += round.ok;
        self.errors += round.errors;
        self.elapsed += round.elapsed;
        self.latencies.extend(round.latencies);
        self.latencies.sort_unstable();
        self.note = self.note.take().or(round.note);
        self.server_rss_kib = self.server_rss_kib.max(round.server_rss_kib);
        self.reported_rate = match (self.reported_rate, round.reported_rate) {
            // Rounds of equal length: their mean rate.
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            (a, b) => a.or(b),
        };
    }
}

/// What one step of a scenario's loop reports.
enum Step {
    /// Done, with its latency.
    Ok(Duration),
    /// A failure, with what to show of the first one.
    Failed(String),
    /// Nothing left to do.
    Exhausted,
}

/// Runs `step` in a loop on `threads` threads, started together, for `duration` or until a
/// step reports [`Step::Exhausted`], sampling the server's RSS meanwhile when `server` is given.
/// `make_step` builds one thread's step from its index.
fn run_scenario<F, S>(
    scenario: &str,
    threads: usize,
    duration: Duration,
    server: Option<u32>,
    make_step: F,
) -> Outcome
where
    F: Fn(usize) -> S + Sync,
    S: FnMut() -> Step,
{
    let barrier = Barrier::new(threads + 1);
    let exhausted = AtomicBool::new(false);
    let mut sampler = None;
    let (results, started) = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let barrier = &barrier;
                let exhausted = &exhausted;
                let make_step = &make_step;
                scope.spawn(move || {
                    let mut step = make_step(index);
                    let mut latencies = Vec::with_capacity(1 << 14);
                    let mut errors = 0usize;
                    let mut first_error = None;
                    barrier.wait();
                    let deadline = Instant::now() + duration;
                    while Instant::now() < deadline {
                        match step() {
                            Step::Ok(latency) => latencies.push(latency),
                            Step::Failed(what) => {
                                errors += 1;
                                first_error.get_or_insert(what);
                            }
                            Step::Exhausted => {
                                exhausted.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                    (latencies, errors, first_error, Instant::now())
                })
            })
            .collect();
        sampler = Some(RssSampler::start(server));
        barrier.wait();
        let started = Instant::now();
        let results: Vec<_> = workers
            .into_iter()
            .map(|w| w.join().expect("a client thread"))
            .collect();
        (results, started)
    });
    let mut outcome = Outcome {
        scenario: scenario.to_owned(),
        server_rss_kib: sampler.map_or(0, RssSampler::stop),
        ..Outcome::default()
    };
    for (latencies, errors, first_error, ended) in results {
        outcome.ok += latencies.len();
        outcome.latencies.extend(latencies);
        outcome.errors += errors;
        outcome.elapsed = outcome.elapsed.max(ended.duration_since(started));
        if let Some(what) = first_error.filter(|_| outcome.note.is_none()) {
            eprintln!("  {scenario}: first error: {what}");
            outcome.note = Some("errors: see stderr".to_owned());
        }
    }
    if exhausted.into_inner() {
        let note = format!(
            "ran out of groups after {:.1} s",
            outcome.elapsed.as_secs_f64()
        );
        eprintln!("  {scenario}: {note}");
        outcome.note = Some(note);
    }
    outcome.latencies.sort_unstable();
    outcome
}

/// Hands out each id once, across threads.
struct IdQueue {
    ids: Vec<GroupId>,
    next: AtomicUsize,
}

impl IdQueue {
    fn new(ids: Vec<GroupId>) -> Arc<IdQueue> {
        Arc::new(IdQueue {
            ids,
            next: AtomicUsize::new(0),
        })
    }

    fn take(&self) -> Option<&GroupId> {
        self.ids.get(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// The nearest-rank percentile `p` (0 to 100) of sorted latencies.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A fresh 64-hex-digit replay-guard entry, as a DELETE's signature would be.
fn unique_signature() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The SQLite DELETE ceiling: one signed DELETE's transaction run in-process through the
/// project's own data layer, one transaction per commit, on a connection of the service's own
/// kind (WAL, `synchronous = FULL`): the server's replay-guard statement (with its revocation
/// check), then the very domain call the route makes (`lifecycle::delete_group`: the version
/// lock, the group's lock, the count of its active members, the soft delete, the version step
/// and `deleted_by`, the change feed's event).
///
/// What it leaves out is what the server adds around the same transaction: HTTP, the signature
/// check, the hand-off to the writer thread. When the data layer changes, this follows it.
fn data_layer_delete_ceiling(
    conn: &mut DbConnection,
    access_key_id: &AccessKeyId,
    organization_id: &OrganizationId,
    id: &GroupId,
) -> Result<(), DomainError> {
    db::write_transaction(conn, |conn| {
        let used = UsedSignature::for_signature(unique_signature(), Utc::now());
        if used.record_for_live_key(conn, access_key_id)? != FirstUse::Recorded {
            return Err(DomainError::Internal(
                "a fresh signature was refused".into(),
            ));
        }
        let actor = Actor::Key(access_key_id.clone());
        lifecycle::delete_group(conn, &actor, organization_id, id, &IfMatch::Any).map(|_| ())
    })
}

/// The PostgreSQL DELETE ceiling: the same effects as raw SQL in one transaction, in the fewest
/// statements a hand-written client would send (diesel caches each statement prepared on the
/// connection): the replay-guard insert, the group's lock, the count of its active members, one
/// UPDATE for the soft delete with its version step and `deleted_by`, the organization's live
/// count, and the change feed's event with its sequence step (the domain's own statement).
fn raw_delete_transaction(
    conn: &mut PgConnection,
    organization_id: &str,
    access_key_id: &str,
    id: &str,
) -> Result<(), String> {
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        let expires_at = (Utc::now() + chrono::Duration::minutes(61)).naive_utc();
        diesel::sql_query("INSERT INTO used_signatures (signature, expires_at) VALUES ($1, $2)")
            .bind::<Text, _>(unique_signature())
            .bind::<Timestamp, _>(expires_at)
            .execute(conn)?;
        let locked = diesel::sql_query(
            "SELECT * FROM user_groups WHERE id = $1 AND organization_id = $2 \
             AND deleted_at IS NULL FOR UPDATE",
        )
        .bind::<Text, _>(id)
        .bind::<Text, _>(organization_id)
        .execute(conn)?;
        if locked != 1 {
            return Err(diesel::result::Error::NotFound);
        }
        diesel::sql_query(
            "SELECT count(*) FROM users WHERE user_group_id = $1 AND deleted_at IS NULL",
        )
        .bind::<Text, _>(id)
        .execute(conn)?;
        let now = db::now();
        diesel::sql_query(
            "UPDATE user_groups SET updated_at = $1, deleted_at = $1, version = version + 1, \
             deleted_by = $3 WHERE id = $2",
        )
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(id)
        .bind::<Text, _>(access_key_id)
        .execute(conn)?;
        diesel::sql_query(
            "UPDATE live_counts SET n = n - 1 WHERE organization_id = $1 AND kind = 'group'",
        )
        .bind::<Text, _>(organization_id)
        .execute(conn)?;
        diesel::sql_query(
            "WITH next AS (INSERT INTO event_sequences (organization_id, last) VALUES ($1, 1) \
             ON CONFLICT (organization_id) DO UPDATE SET last = event_sequences.last + 1 \
             RETURNING last) INSERT INTO events (organization_id, seq, event_type, resource_id, \
             actor, occurred_at, resource) SELECT $1, next.last, 'user-group.deleted', $2, $3, \
             $4, $5 FROM next",
        )
        .bind::<Text, _>(organization_id)
        .bind::<Text, _>(id)
        .bind::<Text, _>(access_key_id)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(RAW_EVENT_RESOURCE)
        .execute(conn)?;
        Ok(())
    })
    .map_err(|e| e.to_string())
}

/// The resource an event of the raw DELETE carries: a deleted group's JSON of the usual size.
const RAW_EVENT_RESOURCE: &str = r#"{"id":"0193a000-0000-7000-8000-000000000000","name":"bench group","description":null,"externalId":null,"organizationId":"0193a000-0000-7000-8000-000000000001","extraFields":{},"createdAt":"2026-12-01T00:00:00Z","updatedAt":"2026-12-01T00:00:00Z","deletedAt":"2026-12-01T00:00:00Z"}"#;

/// The point select a signed GET makes, as SQL: the group by id, in its organization, live.
const POINT_SELECT: &str = "SELECT * FROM user_groups WHERE id = $1 AND organization_id = $2 \
                            AND deleted_at IS NULL LIMIT 1";

/// The PostgreSQL GET ceiling by pgbench: `-M prepared`, `connections` clients on 2 threads,
/// each transaction one point select of a random one of `ids` (the ids are a constant array in
/// the prepared statement, the index its parameter). `None` when pgbench is not on the `PATH`.
fn pgbench_point_select(
    base_url: &str,
    schema: &str,
    organization_id: &str,
    ids: &[GroupId],
    connections: usize,
    seconds: u64,
    dir: &Path,
) -> Option<Outcome> {
    Command::new("pgbench")
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let array = ids
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let script = dir.join("point-select.sql");
    std::fs::write(
        &script,
        format!(
            "\\set n random(1, {count})\n\
             SELECT * FROM {schema}.user_groups WHERE id = ('{{{array}}}'::text[])[:n] \
             AND organization_id = '{organization_id}' AND deleted_at IS NULL LIMIT 1;\n",
            count = ids.len(),
        ),
    )
    .expect("write the pgbench script");
    let output = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg("-c")
        .arg(connections.to_string())
        .arg("-T")
        .arg(seconds.max(1).to_string())
        .arg("-f")
        .arg(&script)
        .arg(base_url)
        .output()
        .expect("pgbench runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let number = |prefix: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let mut outcome = Outcome {
        scenario: format!("pgbench -M prepared point select, {connections} clients"),
        elapsed: Duration::from_secs(seconds.max(1)),
        ..Outcome::default()
    };
    match (
        number("tps ="),
        number("number of transactions actually processed:"),
    ) {
        (Some(tps), Some(done)) if output.status.success() => {
            outcome.reported_rate = Some(tps);
            outcome.ok = done as usize;
            if let Some(average) = number("latency average =") {
                outcome.note = Some(format!("pgbench: latency average {average:.3} ms"));
            }
        }
        _ => {
            eprintln!(
                "  pgbench failed: {}\n{text}",
                String::from_utf8_lossy(&output.stderr)
            );
            outcome.errors = 1;
            outcome.note = Some("pgbench failed: see stderr".to_owned());
        }
    }
    Some(outcome)
}

/// The same point select without pgbench: `connections` threads, each with its own libpq
/// connection, the statement prepared once per connection (diesel's cache) and bound each time.
fn libpq_point_select(
    url: &str,
    organization_id: &str,
    ids: &Arc<Vec<GroupId>>,
    connections: usize,
    duration: Duration,
) -> Outcome {
    run_scenario(
        &format!("libpq prepared point select, {connections} clients"),
        connections,
        duration,
        None,
        |index| {
            let mut conn = PgConnection::establish(url).expect("a libpq connection");
            let ids = Arc::clone(ids);
            let organization_id = organization_id.to_owned();
            let mut next = index * 31;
            move || {
                let id = ids[next % ids.len()].to_string();
                next += 1;
                let started = Instant::now();
                match diesel::sql_query(POINT_SELECT)
                    .bind::<Text, _>(&id)
                    .bind::<Text, _>(&organization_id)
                    .execute(&mut conn)
                {
                    Ok(1) => Step::Ok(started.elapsed()),
                    Ok(rows) => Step::Failed(format!("{rows} rows for {id}")),
                    Err(e) => Step::Failed(e.to_string()),
                }
            }
        },
    )
}

/// The load average (1, 5, 15 minutes).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The median time of 20 synchronous 4 KiB writes (write, then `fdatasync`) in `dir`, in ms:
/// the disk's commit cost now, which other processes' writes move by an order of magnitude and
/// which bounds every durable commit on SQLite.
fn fsync_probe(dir: &Path) -> String {
    let path = dir.join("fsync-probe");
    let probe = || -> std::io::Result<f64> {
        let mut file = std::fs::File::create(&path)?;
        let block = [0u8; 4096];
        let mut times = Vec::with_capacity(20);
        for _ in 0..20 {
            let started = Instant::now();
            file.write_all(&block)?;
            file.sync_data()?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2])
    };
    let measured = probe();
    let _ = std::fs::remove_file(&path);
    match measured {
        Ok(ms) => format!("{ms:.2} ms"),
        Err(e) => format!("unknown ({e})"),
    }
}

/// Cores and memory of this machine.
fn machine() -> String {
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let kib: f64 = info
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{cores} cores, {memory} memory")
}

/// One row of the figures: a measured value against its target.
struct Figure {
    name: String,
    measured: String,
    target: String,
    holds: bool,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A ratio figure: `figure`'s rate over `ceiling`'s, held against `at_least`.
fn ratio_figure(name: &str, figure: &Outcome, ceiling: &Outcome, at_least: f64) -> Figure {
    let ratio = figure.rate() / ceiling.rate().max(f64::EPSILON);
    Figure {
        name: name.to_owned(),
        measured: format!(
            "{:.0} ÷ {:.0} req/s = **{ratio:.2}**",
            figure.rate(),
            ceiling.rate()
        ),
        target: format!("≥ {at_least}"),
        holds: ratio >= at_least && figure.errors == 0 && ceiling.errors == 0,
    }
}

fn rss_figure(outcomes: &[&Outcome]) -> Figure {
    let loads: Vec<String> = outcomes
        .iter()
        .filter(|o| o.server_rss_kib > 0)
        .map(|o| format!("{:.1}", mib(o.server_rss_kib)))
        .collect();
    let peak = outcomes.iter().map(|o| o.server_rss_kib).max().unwrap_or(0);
    Figure {
        name: "peak RSS of the server under each load (MiB)".to_owned(),
        measured: format!("{} (peak **{:.1}**)", loads.join(" / "), mib(peak)),
        target: format!("≤ {RSS_LIMIT_MIB}"),
        holds: peak > 0 && mib(peak) <= RSS_LIMIT_MIB,
    }
}

fn scenario_table(outcomes: &[&Outcome]) -> String {
    let mut table = String::from(
        "| scenario | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) | max (ms) | server peak RSS (MiB) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for o in outcomes {
        let scenario = match &o.note {
            Some(note) => format!("{} ({note})", o.scenario),
            None => o.scenario.clone(),
        };
        let (p50, p99, max) = if o.latencies.is_empty() {
            ("–".to_owned(), "–".to_owned(), "–".to_owned())
        } else {
            (
                format!("{:.2}", o.percentile_ms(50.0)),
                format!("{:.2}", o.percentile_ms(99.0)),
                format!("{:.2}", o.max_ms()),
            )
        };
        let rss = if o.server_rss_kib > 0 {
            format!("{:.1}", mib(o.server_rss_kib))
        } else {
            "–".to_owned()
        };
        let _ = writeln!(
            table,
            "| {scenario} | {} | {} | {:.0} | {p50} | {p99} | {max} | {rss} |",
            o.ok,
            o.errors,
            o.rate(),
        );
    }
    table
}

/// The figures against their targets; a smoke run's are not judged (a debug build, a second).
fn figure_table(figures: &[Figure], smoke: bool) -> String {
    let mut table =
        String::from("| figure | measured | target | holds |\n| --- | --- | --- | --- |\n");
    for f in figures {
        let holds = match (smoke, f.holds) {
            (true, _) => "not judged",
            (false, true) => "yes",
            (false, false) => "**no**",
        };
        let _ = writeln!(
            table,
            "| {} | {} | {} | {holds} |",
            f.name, f.measured, f.target
        );
    }
    table
}

/// The file this bench writes its section of.
fn benchmarks_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/BENCHMARKS.md")
}

/// Puts `body` between this backend's markers inside the `load` section of `text` (the whole of
/// `docs/BENCHMARKS.md`), adding the section if absent, and leaves everything else as it is:
/// the `scale` section, the other backend's part, any text around them.
fn splice_load_part(mut text: String, backend: &str, body: &str) -> String {
    let has_section = text
        .find(SECTION_BEGIN)
        .is_some_and(|at| text[at..].contains(SECTION_END));
    if !has_section {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "\n{SECTION_BEGIN}\n## Load (`cargo bench --bench load`)\n\n\
             Written by `benches/load.rs`, one part per backend. Every target is a ratio to a \
             ceiling measured in the same run, interleaved with it, because the machine's speed \
             drifts by tens of percent between runs. How each figure and its ceiling are \
             measured: [performance.md](performance.md#what-each-figure-measures).\n\n\
             {SECTION_END}\n"
        ));
    }
    let key = backend.to_ascii_lowercase();
    let begin = format!("<!-- load:{key}:begin -->");
    let end = format!("<!-- load:{key}:end -->");
    let part = format!("{begin}\n{body}\n{end}");
    let section_start = text.find(SECTION_BEGIN).unwrap_or(0);
    let section_end = text[section_start..]
        .find(SECTION_END)
        .map_or(text.len(), |at| section_start + at);
    let section = &text[section_start..section_end];
    let new_section = match (section.find(&begin), section.find(&end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{part}{}", &section[..b], &section[e + end.len()..])
        }
        _ => format!("{}\n\n{part}\n\n", section.trim_end()),
    };
    text.replace_range(section_start..section_end, &new_section);
    text
}

/// Writes this backend's part of `docs/BENCHMARKS.md` ([`splice_load_part`]), creating the
/// file with a short introduction if it does not exist.
fn write_benchmarks_file(backend: &str, body: &str) -> std::io::Result<PathBuf> {
    let path = benchmarks_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::from(
            "# Benchmarks\n\nMeasured figures of the service, each section written by the tool \
             that measures it; edit the text outside the markers only.\n",
        ),
        Err(e) => return Err(e),
    };
    std::fs::write(&path, splice_load_part(text, backend, body))?;
    Ok(path)
}

/// The smoke run's check of [`splice_load_part`], on text shaped like the real file: another
/// tool's section before and after survives byte for byte, each backend's part appears once,
/// and a second write of a part replaces the first.
fn check_splice() {
    let scale = "<!-- scale:begin -->\n## Scale\n\n| a | b |\n<!-- scale:end -->\n";
    let start = format!("# Benchmarks\n\n{scale}");
    let once = splice_load_part(start.clone(), "SQLite", "first SQLite\n");
    let both = splice_load_part(once, "PostgreSQL", "PostgreSQL\n");
    let again = splice_load_part(both, "SQLite", "second SQLite\n");
    let after = format!("{again}\n{scale}");
    let rewritten = splice_load_part(after.clone(), "PostgreSQL", "PostgreSQL\n");

    assert!(
        again.starts_with(&start),
        "the text before the section changed:\n{again}"
    );
    assert_eq!(
        rewritten, after,
        "rewriting a part unchanged changed the file"
    );
    assert_eq!(after.matches(scale).count(), 2, "{after}");
    assert_eq!(again.matches(SECTION_BEGIN).count(), 1, "{again}");
    assert_eq!(
        again.matches("<!-- load:sqlite:begin -->").count(),
        1,
        "{again}"
    );
    assert_eq!(
        again.matches("<!-- load:postgresql:begin -->").count(),
        1,
        "{again}"
    );
    assert!(
        again.contains("second SQLite") && !again.contains("first SQLite"),
        "{again}"
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --bench load` does not, and gets the smoke run.
    let smoke = !args.iter().any(|a| a == "--bench")
        || args.iter().any(|a| a == "--smoke")
        || std::env::var("BENCH_SMOKE").is_ok_and(|v| v == "1");
    let seconds = env_number("BENCH_SECONDS", if smoke { 0.5 } else { 10.0 });
    let rounds = env_number("BENCH_ROUNDS", if smoke { 1.0 } else { 4.0 }).max(1.0) as u32;
    let round = Duration::from_secs_f64(seconds / f64::from(rounds));
    let connections = env_number("BENCH_CONNECTIONS", 32.0) as usize;
    let (database, url_text) = BenchDatabase::create();
    // Past the in-process ceilings' rates on this machine (about 2,400/s on SQLite), so a
    // DELETE scenario rarely runs out; setup makes them with durability off, in seconds.
    let default_per_second = match database {
        BenchDatabase::Sqlite(_) => 4000.0,
        BenchDatabase::Postgres { .. } => 3000.0,
    };
    let per_second = env_number("BENCH_DELETE_GROUPS_PER_SECOND", default_per_second);
    let delete_groups = ((per_second * seconds).ceil() as usize).max(connections * 4);

    let url: DatabaseUrl = url_text.parse().expect("a database URL");
    let backend = database.name();
    let options = PoolOptions::for_url(&url);
    let pool = db::init(&url, options).expect("the bench database initializes");
    let master_key = MasterKey::generate().expect("a master key");
    let key_hex = master_key.to_hex().to_string();
    let master_keys = Keyring::single(master_key);
    let (organization_id, credentials) = {
        let mut conn = pool.get().expect("a connection");
        let org = Organization::create(&mut conn, "Bench organization").expect("an organization");
        let (_, credentials) =
            AccessKey::create(&mut conn, &master_keys, &org.id, PermissionSet::all())
                .expect("a key");
        (org.id, credentials)
    };
    let scratch = std::env::temp_dir().join(format!(
        "usergroups-bench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let load_before = load_average();
    let fsync_before = fsync_probe(&scratch);
    let mode = if smoke { "smoke run" } else { "measured run" };
    eprintln!(
        "{backend}, {mode}: {seconds} s per scenario in {rounds} round(s), {connections} \
         connections, server pool of {}; {}; load average {load_before}; a synchronous 4 KiB \
         write {fsync_before}",
        options.max_size,
        machine()
    );

    let setup = Instant::now();
    let get_ids = Arc::new(create_groups(&url, &organization_id, "get", GET_GROUPS));
    let http_deletes = IdQueue::new(create_groups(
        &url,
        &organization_id,
        "http-delete",
        delete_groups,
    ));
    let ceiling_deletes = IdQueue::new(create_groups(
        &url,
        &organization_id,
        "ceiling-delete",
        delete_groups,
    ));
    eprintln!(
        "{backend}: created {} groups in {:.1} s",
        GET_GROUPS + 2 * delete_groups,
        setup.elapsed().as_secs_f64()
    );

    let server = Server::start(&url_text, &key_hex, &scratch);
    let address = server.address;
    let pid = Some(server.pid());

    let signed_get = |index: usize| {
        let mut client = HttpClient::connect(address);
        let ids = Arc::clone(&get_ids);
        let credentials = credentials.clone();
        let mut next = index * 31;
        move || {
            let target = format!("/api/v1/user-groups/{}", ids[next % ids.len()]);
            next += 1;
            match client.call(Some(&credentials), "GET", &target) {
                (200, latency) => Step::Ok(latency),
                (status, _) => client.failure(status),
            }
        }
    };
    let healthz = |_: usize| {
        let mut client = HttpClient::connect(address);
        move || match client.call(None, "GET", "/healthz") {
            (200, latency) => Step::Ok(latency),
            (status, _) => client.failure(status),
        }
    };
    let signed_delete = |_: usize| {
        let mut client = HttpClient::connect(address);
        let ids = Arc::clone(&http_deletes);
        let credentials = credentials.clone();
        move || {
            let Some(id) = ids.take() else {
                return Step::Exhausted;
            };
            let target = format!("/api/v1/user-groups/{id}");
            match client.call(Some(&credentials), "DELETE", &target) {
                (200, latency) => Step::Ok(latency),
                (status, _) => client.failure(status),
            }
        }
    };

    // Unrecorded: opens the server's pool connections and warms its caches.
    let warm_up = round.min(Duration::from_secs(2));
    run_scenario("warm-up", connections, warm_up, None, signed_get);

    let total = 4;
    let mut done = 0;
    let mut progress = |what: &str| {
        done += 1;
        eprintln!(
            "[{done}/{}] {backend}: {what} ({:.1} s)",
            total * rounds,
            round.as_secs_f64()
        );
    };
    let named = |name: &str, mut o: Outcome| {
        o.scenario = name.to_owned();
        let p99 = if o.latencies.is_empty() {
            "p99 not measured".to_owned()
        } else {
            format!("p99 {:.2} ms", o.percentile_ms(99.0))
        };
        eprintln!(
            "      {} ok, {} errors, {:.0} req/s, {p99}",
            o.ok,
            o.errors,
            o.rate()
        );
        o
    };

    let get_name = format!("signed GET /api/v1/user-groups/{{id}}, {connections} conns");
    let delete_name = format!("signed DELETE /api/v1/user-groups/{{id}}, {connections} conns");
    let mut get = Outcome::default();
    let mut get_ceiling = Outcome::default();
    let mut delete = Outcome::default();
    let mut delete_ceiling = Outcome::default();
    let mut ceiling_tool = String::new();

    // SQLite has one writer at a time, so one thread committing back to back is the rate that
    // one transaction per commit allows; more threads only add waits for the write lock.
    let ceiling_writers = env_number("BENCH_CEILING_WRITERS", 1.0).max(1.0) as usize;
    let ceiling_pool: DbPool = db::pool(
        &url,
        PoolOptions {
            max_size: ceiling_writers as u32,
            ..options
        },
    );
    for r in 0..rounds {
        // Each pair alternates which side runs first, so a drift within a round favours neither.
        let ceiling_first = r % 2 == 0;
        for pair in 0..2 {
            for side in [ceiling_first, !ceiling_first] {
                match (pair, side, &database) {
                    (0, true, BenchDatabase::Sqlite(_)) => {
                        let name = format!("GET /healthz, {connections} conns");
                        progress(&name);
                        get_ceiling.absorb(named(
                            &name,
                            run_scenario(&name, connections, round, pid, healthz),
                        ));
                    }
                    (0, true, BenchDatabase::Postgres { base_url, schema }) => {
                        let measured = pgbench_point_select(
                            base_url,
                            schema,
                            organization_id.as_str(),
                            &get_ids,
                            connections,
                            round.as_secs_f64().round() as u64,
                            &scratch,
                        );
                        let outcome = match measured {
                            Some(outcome) => {
                                ceiling_tool = "pgbench -M prepared".to_owned();
                                outcome
                            }
                            None => {
                                ceiling_tool =
                                    "a libpq loop of prepared statements (no pgbench)".to_owned();
                                libpq_point_select(
                                    &url_text,
                                    organization_id.as_str(),
                                    &get_ids,
                                    connections,
                                    round,
                                )
                            }
                        };
                        let name = outcome.scenario.clone();
                        progress(&name);
                        get_ceiling.absorb(named(&name, outcome));
                    }
                    (0, false, _) => {
                        progress(&get_name);
                        get.absorb(named(
                            &get_name,
                            run_scenario(&get_name, connections, round, pid, signed_get),
                        ));
                    }
                    (_, false, _) => {
                        progress(&delete_name);
                        delete.absorb(named(
                            &delete_name,
                            run_scenario(&delete_name, connections, round, pid, signed_delete),
                        ));
                    }
                    (_, true, BenchDatabase::Sqlite(_)) => {
                        let name = format!(
                            "data-layer DELETE transaction in-process, {ceiling_writers} \
                             writer(s) (WAL, synchronous=FULL)"
                        );
                        let name = name.as_str();
                        progress(name);
                        let outcome = run_scenario(name, ceiling_writers, round, None, |_| {
                            let pool = ceiling_pool.clone();
                            let ids = Arc::clone(&ceiling_deletes);
                            let organization_id = organization_id.clone();
                            let access_key_id =
                                AccessKeyId::from(credentials.access_key_id.as_str());
                            move || {
                                let Some(id) = ids.take() else {
                                    return Step::Exhausted;
                                };
                                let started = Instant::now();
                                let done =
                                    pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                                        data_layer_delete_ceiling(
                                            &mut conn,
                                            &access_key_id,
                                            &organization_id,
                                            id,
                                        )
                                        .map_err(|e| e.to_string())
                                    });
                                match done {
                                    Ok(()) => Step::Ok(started.elapsed()),
                                    Err(e) => Step::Failed(e),
                                }
                            }
                        });
                        delete_ceiling.absorb(named(name, outcome));
                    }
                    (_, true, BenchDatabase::Postgres { .. }) => {
                        let name = format!("raw DELETE transaction, {connections} libpq clients");
                        progress(&name);
                        let outcome = run_scenario(&name, connections, round, None, |_| {
                            let mut conn =
                                PgConnection::establish(&url_text).expect("a libpq connection");
                            let ids = Arc::clone(&ceiling_deletes);
                            let organization_id = organization_id.to_string();
                            let access_key_id = credentials.access_key_id.clone();
                            move || {
                                let Some(id) = ids.take() else {
                                    return Step::Exhausted;
                                };
                                let started = Instant::now();
                                match raw_delete_transaction(
                                    &mut conn,
                                    &organization_id,
                                    &access_key_id,
                                    id.as_str(),
                                ) {
                                    Ok(()) => Step::Ok(started.elapsed()),
                                    Err(e) => Step::Failed(e),
                                }
                            }
                        });
                        delete_ceiling.absorb(named(&name, outcome));
                    }
                }
            }
        }
    }
    let server_hwm = proc_status_kib(server.pid(), "VmHWM").unwrap_or(0);
    drop(server);
    drop(ceiling_pool);
    drop(pool);
    let load_after = load_average();
    let fsync_after = fsync_probe(&scratch);

    let figures = match &database {
        BenchDatabase::Sqlite(_) => vec![
            ratio_figure(
                "SQLite signed GET ÷ GET /healthz",
                &get,
                &get_ceiling,
                GET_RATIO_SQLITE,
            ),
            ratio_figure(
                "SQLite signed DELETE ÷ data-layer transaction in-process",
                &delete,
                &delete_ceiling,
                DELETE_RATIO_SQLITE,
            ),
            Figure {
                name: format!("SQLite DELETE latency, {connections} conns (ms)"),
                measured: format!(
                    "p99 **{:.1}**, max **{:.1}**",
                    delete.percentile_ms(99.0),
                    delete.max_ms()
                ),
                target: format!("p99 ≤ {DELETE_P99_MS}, max ≤ {DELETE_MAX_MS}"),
                holds: delete.ok > 0
                    && delete.percentile_ms(99.0) <= DELETE_P99_MS
                    && delete.max_ms() <= DELETE_MAX_MS,
            },
            rss_figure(&[&get_ceiling, &get, &delete]),
        ],
        BenchDatabase::Postgres { .. } => vec![
            ratio_figure(
                &format!("PostgreSQL signed GET ÷ prepared point select ({ceiling_tool})"),
                &get,
                &get_ceiling,
                GET_RATIO_POSTGRES,
            ),
            ratio_figure(
                "PostgreSQL signed DELETE ÷ raw transaction",
                &delete,
                &delete_ceiling,
                DELETE_RATIO_POSTGRES,
            ),
            rss_figure(&[&get, &delete]),
        ],
    };
    let outcomes = [&get_ceiling, &get, &delete_ceiling, &delete];
    let command = match &database {
        BenchDatabase::Sqlite(_) => format!("BENCH_SECONDS={seconds} cargo bench --bench load"),
        BenchDatabase::Postgres { base_url, .. } => format!(
            "BENCH_DATABASE_URL={} BENCH_SECONDS={seconds} cargo bench --bench load",
            DatabaseUrl::Postgres(base_url.clone())
        ),
    };
    let mut body = String::new();
    let _ = writeln!(
        body,
        "### {backend}\n\n{} UTC, {mode}. Machine: {}; load average {load_before} before, \
         {load_after} after; a synchronous 4 KiB write (median of 20) {fsync_before} before, \
         {fsync_after} after. {seconds} s per scenario in {rounds} interleaved round(s), \
         {connections} connections, the server's pool of {}; the server's VmHWM at the end \
         {:.1} MiB.\n\n```sh\n{command}\n```\n",
        Utc::now().format("%Y-%m-%d %H:%M"),
        machine(),
        options.max_size,
        mib(server_hwm),
    );
    body.push_str(&figure_table(&figures, smoke));
    body.push('\n');
    body.push_str(&scenario_table(&outcomes));
    println!("\n{body}");

    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.ok == 0 || o.errors > 0)
        .map(|o| o.scenario.as_str())
        .collect();
    let _ = std::fs::remove_dir_all(&scratch);
    drop(database);
    if smoke {
        check_splice();
        eprintln!(
            "smoke run: the figures are not judged and docs/BENCHMARKS.md is not written (its \
             splicing was checked on a copy)"
        );
    } else {
        match write_benchmarks_file(backend, &body) {
            Ok(path) => eprintln!("wrote the {backend} part of {}", path.display()),
            Err(e) => eprintln!("could not write docs/BENCHMARKS.md: {e}"),
        }
    }
    if !failed.is_empty() {
        eprintln!("scenarios with errors or no request served: {failed:?}");
        std::process::exit(1);
    }
}
