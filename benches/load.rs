//! Load benchmark: signed `GET` and signed `DELETE` of user groups through the real HTTP stack,
//! beside the raw cost of the same database work called in-process, on SQLite or PostgreSQL.
//!
//! ```sh
//! cargo bench --bench load                                       # SQLite, a fresh temp file
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench --bench load                                   # PostgreSQL, a fresh schema
//! ```
//!
//! The server is the production route table (`usergroups::configure`) under an
//! `actix_web::HttpServer` with default workers, bound to `127.0.0.1:0` on its own thread, with
//! the backend's default pool (4 connections on SQLite, 10 on PostgreSQL). Clients are plain
//! threads, each with one HTTP/1.1 keep-alive `TcpStream`, signing every request with
//! `usergroups::auth::signer::sign` at the current time. Scenarios, each run for
//! `BENCH_SECONDS` (default 10):
//!
//! - `HTTP GET`: `BENCH_CONNECTIONS` (default 32) clients `GET /api/v1/user-groups/{id}` of
//!   existing groups; the server looks the key up, then reads the group.
//! - `HTTP DELETE`: the same number of clients each `DELETE` a distinct empty group (each
//!   request consumes one pre-created group); the server looks the key up and records the
//!   signature (replay guard), then soft-deletes in one write transaction.
//! - `raw …`: the same database work without HTTP, signing or JSON, called on the pool in a loop,
//!   on 1 thread and on `BENCH_CONNECTIONS` threads, with one pool checkout per step as the
//!   handlers do (a request makes two `db::run` calls).
//! - `sign() only`: the client-side cost of signing one request, for reference.
//!
//! Only 200 answers count as requests and enter the latencies; any other answer counts as an
//! error (the first one's body is printed on stderr). A `DELETE` scenario stops early if its
//! pre-created groups run out (`BENCH_DELETE_GROUPS_PER_SECOND`, default 2500, times the
//! duration); the table then notes it. The output is a markdown table on stdout, followed by
//! the load average and the peak RSS of this process (server and clients together).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer};
use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use usergroups::auth::signer::{sign, Credentials};
use usergroups::auth::PermissionSet;
use usergroups::db::{self, DatabaseUrl, DbConnection, DbPool, PoolOptions};
use usergroups::domain::{Group, NewGroup};
use usergroups::ids::{AccessKeyId, GroupId, OrganizationId};
use usergroups::models::{AccessKey, Organization, UsedSignature};
use usergroups::secrets::Keyring;
use usergroups::{configure, AppState, Limits};

/// How many existing groups the GET scenarios cycle through.
const GET_GROUPS: usize = 1000;

/// The unrecorded HTTP GET run before the measured scenarios.
const WARM_UP: Duration = Duration::from_secs(2);

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) if !text.is_empty() => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {text:?}")),
        _ => default,
    }
}

/// A database that exists for one run and is removed at the end.
enum BenchDatabase {
    Sqlite(std::path::PathBuf),
    Postgres { base_url: String, schema: String },
}

impl BenchDatabase {
    fn create() -> (BenchDatabase, DatabaseUrl) {
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
                (
                    BenchDatabase::Postgres { base_url, schema },
                    url.parse().expect("a postgres URL"),
                )
            }
            _ => {
                let path = std::env::temp_dir().join(format!("usergroups-bench-{unique}.db"));
                let url = format!("sqlite://{}", path.display())
                    .parse()
                    .expect("a sqlite URL");
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
/// it runs on a separate pool with durability turned off for its connections
/// (`synchronous = OFF` / `synchronous_commit = off`), on 4 threads on PostgreSQL (1 on SQLite,
/// which has one writer anyway), so filling the table does not take as long as the benchmark.
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

/// The server on its own thread and actix system, stopped by [`Server::stop`].
struct Server {
    address: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: thread::JoinHandle<()>,
}

impl Server {
    fn start(state: AppState) -> Server {
        let (sender, receiver) = mpsc::channel();
        let thread = thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let server = HttpServer::new(move || {
                    let state = state.clone();
                    App::new().configure(|cfg| configure(cfg, state))
                })
                .bind("127.0.0.1:0")
                .expect("bind 127.0.0.1:0");
                let address = server.addrs()[0];
                let server = server.run();
                sender
                    .send((address, server.handle()))
                    .expect("the main thread waits for the address");
                server.await.expect("the server runs");
            });
        });
        let (address, handle) = receiver.recv().expect("the server starts");
        Server {
            address,
            handle,
            thread,
        }
    }

    fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        self.thread.join().expect("the server thread ends");
    }
}

/// One keep-alive HTTP/1.1 connection that sends signed, body-less requests.
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

    /// Signs `method target` now, then sends it and reads the whole answer; returns the status
    /// and the time from the first byte written to the last byte read (signing excluded).
    fn call(&mut self, credentials: &Credentials, method: &str, target: &str) -> (u16, Duration) {
        let signed = sign(
            credentials,
            method,
            &self.host,
            target,
            &[],
            b"",
            Utc::now(),
        );
        self.request.clear();
        write!(self.request, "{method} {target} HTTP/1.1\r\n").expect("write to a Vec");
        for (name, value) in &signed.headers {
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
}

/// What one scenario measured.
struct Outcome {
    scenario: String,
    ok: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    note: Option<String>,
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
/// step reports [`Step::Exhausted`]. `make_step` builds one thread's step from its index.
fn run_scenario<F, S>(scenario: &str, threads: usize, duration: Duration, make_step: F) -> Outcome
where
    F: Fn(usize) -> S + Sync,
    S: FnMut() -> Step,
{
    let barrier = Barrier::new(threads + 1);
    let exhausted = std::sync::atomic::AtomicBool::new(false);
    let (results, started) = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let barrier = &barrier;
                let exhausted = &exhausted;
                let make_step = &make_step;
                scope.spawn(move || {
                    let mut step = make_step(index);
                    let mut latencies = Vec::with_capacity(1 << 16);
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
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        note: None,
    };
    for (latencies, errors, first_error, ended) in results {
        outcome.ok += latencies.len();
        outcome.latencies.extend(latencies);
        outcome.errors += errors;
        outcome.elapsed = outcome.elapsed.max(ended.duration_since(started));
        if let Some(what) = first_error.filter(|_| outcome.note.is_none()) {
            eprintln!("{scenario}: first error: {what}");
            outcome.note = Some("errors: see stderr".to_owned());
        }
    }
    if exhausted.into_inner() {
        let note = format!(
            "ran out of groups after {:.1} s",
            outcome.elapsed.as_secs_f64()
        );
        eprintln!("{scenario}: {note}");
        outcome.note = Some(note);
    }
    outcome.latencies.sort_unstable();
    eprintln!(
        "{scenario}: {} ok, {} errors in {:.1} s",
        outcome.ok,
        outcome.errors,
        outcome.elapsed.as_secs_f64()
    );
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

fn millis(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

/// The nearest-rank percentile `p` (0 to 100) of sorted latencies.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print_table(backend: &str, outcomes: &[Outcome]) {
    println!(
        "| scenario | backend | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) | max (ms) |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for o in outcomes {
        let throughput = o.ok as f64 / o.elapsed.as_secs_f64().max(f64::EPSILON);
        let scenario = match &o.note {
            Some(note) => format!("{} ({note})", o.scenario),
            None => o.scenario.clone(),
        };
        println!(
            "| {scenario} | {backend} | {} | {} | {throughput:.0} | {} | {} | {} |",
            o.ok,
            o.errors,
            millis(percentile(&o.latencies, 50.0)),
            millis(percentile(&o.latencies, 99.0)),
            millis(o.latencies.last().copied().unwrap_or_default()),
        );
    }
}

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

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .map(|value| value.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A fresh 64-hex-digit replay-guard entry, as a DELETE's signature would be.
fn unique_signature() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The raw DELETE: what the two `db::run` calls of a signed DELETE do, on two checkouts.
fn raw_delete(
    pool: &DbPool,
    access_key_id: &AccessKeyId,
    organization_id: &OrganizationId,
    id: &GroupId,
) -> Result<(), String> {
    {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        let key = AccessKey::find(&mut conn, access_key_id)
            .map_err(|e| e.to_string())?
            .ok_or("the key is gone")?;
        let used = UsedSignature {
            signature: unique_signature(),
            expires_at: (Utc::now() + chrono::Duration::minutes(15)).naive_utc(),
        };
        if !used
            .record_first_use(&mut conn)
            .map_err(|e| e.to_string())?
        {
            return Err(format!("replayed {} for {}", used.signature, key.id));
        }
    }
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    Group::soft_delete(&mut conn, organization_id, id)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn main() {
    let seconds = env_number("BENCH_SECONDS", 10);
    let duration = Duration::from_secs(seconds);
    let connections = env_number("BENCH_CONNECTIONS", 32) as usize;
    let delete_groups =
        (env_number("BENCH_DELETE_GROUPS_PER_SECOND", 2500) * seconds.max(1)) as usize;

    let (database, url) = BenchDatabase::create();
    let backend = database.name();
    let options = PoolOptions::for_url(&url);
    let pool = db::init(&url, options).expect("the bench database initializes");
    let master_keys = Keyring::ephemeral().expect("a master key");
    let (organization_id, credentials) = {
        let mut conn = pool.get().expect("a connection");
        let org = Organization::create(&mut conn, "Bench organization").expect("an organization");
        let (_, credentials) =
            AccessKey::create(&mut conn, &master_keys, &org.id, PermissionSet::all())
                .expect("a key");
        (org.id, credentials)
    };
    let load_before = load_average();
    eprintln!(
        "{backend}: {seconds} s per scenario, {connections} connections, pool of {}, \
         {delete_groups} groups per DELETE scenario; load average {load_before}",
        options.max_size
    );

    let setup = Instant::now();
    let get_ids = Arc::new(create_groups(&url, &organization_id, "get", GET_GROUPS));
    let http_delete_ids = IdQueue::new(create_groups(
        &url,
        &organization_id,
        "http-delete",
        delete_groups,
    ));
    eprintln!(
        "{backend}: created {} groups in {:.1} s",
        GET_GROUPS + delete_groups,
        setup.elapsed().as_secs_f64()
    );

    let server = Server::start(AppState {
        pool: pool.clone(),
        limits: Limits::default(),
        master_keys,
        key_cache: Default::default(),
    });
    let address = server.address;
    let http_get = |index: usize| {
        let mut client = HttpClient::connect(address);
        let ids = Arc::clone(&get_ids);
        let credentials = credentials.clone();
        let mut next = index * 31;
        move || {
            let target = format!("/api/v1/user-groups/{}", ids[next % ids.len()]);
            next += 1;
            match client.call(&credentials, "GET", &target) {
                (200, latency) => Step::Ok(latency),
                (status, _) => Step::Failed(format!(
                    "{status} {}",
                    String::from_utf8_lossy(&client.body)
                )),
            }
        }
    };
    // Unrecorded: opens the pool's connections and warms the server and the caches.
    run_scenario("warm-up (not reported)", connections, WARM_UP, http_get);
    let mut outcomes = vec![run_scenario(
        &format!("HTTP GET /user-groups/{{id}}, {connections} conns"),
        connections,
        duration,
        http_get,
    )];

    outcomes.push(run_scenario(
        &format!("HTTP DELETE /user-groups/{{id}}, {connections} conns"),
        connections,
        duration,
        |_| {
            let mut client = HttpClient::connect(address);
            let ids = Arc::clone(&http_delete_ids);
            let credentials = credentials.clone();
            move || {
                let Some(id) = ids.take() else {
                    return Step::Exhausted;
                };
                let target = format!("/api/v1/user-groups/{id}");
                match client.call(&credentials, "DELETE", &target) {
                    (200, latency) => Step::Ok(latency),
                    (status, _) => Step::Failed(format!(
                        "{status} {}",
                        String::from_utf8_lossy(&client.body)
                    )),
                }
            }
        },
    ));
    server.stop();

    for threads in [1, connections] {
        outcomes.push(run_scenario(
            &format!("raw Group::find, {threads} thread(s)"),
            threads,
            duration,
            |index| {
                let pool = pool.clone();
                let ids = Arc::clone(&get_ids);
                let organization_id = organization_id.clone();
                let mut next = index * 31;
                move || {
                    let id = &ids[next % ids.len()];
                    next += 1;
                    let started = Instant::now();
                    let found = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                        Group::find(&mut conn, &organization_id, id).map_err(|e| e.to_string())
                    });
                    match found {
                        Ok(Some(_)) => Step::Ok(started.elapsed()),
                        Ok(None) => Step::Failed(format!("group {id} not found")),
                        Err(e) => Step::Failed(e),
                    }
                }
            },
        ));
    }

    for threads in [1, connections] {
        outcomes.push(run_scenario(
            &format!("raw key lookup + Group::find (a GET's queries), {threads} thread(s)"),
            threads,
            duration,
            |index| {
                let pool = pool.clone();
                let ids = Arc::clone(&get_ids);
                let organization_id = organization_id.clone();
                let access_key_id = AccessKeyId::from(credentials.access_key_id.clone());
                let mut next = index * 31;
                move || {
                    let id = &ids[next % ids.len()];
                    next += 1;
                    let started = Instant::now();
                    let key = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                        AccessKey::find(&mut conn, &access_key_id).map_err(|e| e.to_string())
                    });
                    if !matches!(key, Ok(Some(_))) {
                        return Step::Failed(format!("key lookup: {key:?}"));
                    }
                    let found = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                        Group::find(&mut conn, &organization_id, id).map_err(|e| e.to_string())
                    });
                    match found {
                        Ok(Some(_)) => Step::Ok(started.elapsed()),
                        Ok(None) => Step::Failed(format!("group {id} not found")),
                        Err(e) => Step::Failed(e),
                    }
                }
            },
        ));
    }

    for threads in [1, connections] {
        let setup = Instant::now();
        let ids = IdQueue::new(create_groups(
            &url,
            &organization_id,
            &format!("raw-delete-{threads}"),
            delete_groups,
        ));
        eprintln!(
            "{backend}: created {delete_groups} groups in {:.1} s",
            setup.elapsed().as_secs_f64()
        );
        outcomes.push(run_scenario(
            &format!(
                "raw key lookup + replay insert + Group::soft_delete (a DELETE's queries), \
                 {threads} thread(s)"
            ),
            threads,
            duration,
            |_| {
                let pool = pool.clone();
                let ids = Arc::clone(&ids);
                let organization_id = organization_id.clone();
                let access_key_id = AccessKeyId::from(credentials.access_key_id.clone());
                move || {
                    let Some(id) = ids.take() else {
                        return Step::Exhausted;
                    };
                    let started = Instant::now();
                    match raw_delete(&pool, &access_key_id, &organization_id, id) {
                        Ok(()) => Step::Ok(started.elapsed()),
                        Err(e) => Step::Failed(e),
                    }
                }
            },
        ));
    }

    outcomes.push(run_scenario(
        "client sign() of one request, 1 thread",
        1,
        duration.min(Duration::from_secs(2)),
        |_| {
            let credentials = credentials.clone();
            let target = format!("/api/v1/user-groups/{}", get_ids[0]);
            move || {
                let started = Instant::now();
                let signed = sign(
                    &credentials,
                    "DELETE",
                    "127.0.0.1:8080",
                    &target,
                    &[],
                    b"",
                    Utc::now(),
                );
                std::hint::black_box(signed);
                Step::Ok(started.elapsed())
            }
        },
    ));

    drop(pool);
    println!();
    println!(
        "{backend}, {seconds} s per scenario, {connections} connections, server with {} \
         workers (actix default: one per CPU), pool of {} connections",
        server_workers(),
        options.max_size,
    );
    println!();
    print_table(backend, &outcomes);
    println!();
    println!(
        "load average (1/5/15 min): {load_before} before, {} after; peak RSS (VmHWM) {}",
        load_average(),
        peak_rss()
    );
    drop(database);
}

/// actix's default worker count: one per available CPU.
fn server_workers() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}
