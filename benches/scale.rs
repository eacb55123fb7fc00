//! Scale benchmark: the list routes, search and a single read at 1,000 and at 1,000,000 groups in
//! one organization, loaded with `usergroups import`, on SQLite and (when `BENCH_DATABASE_URL`
//! is set) PostgreSQL. Writes its tables to its own section of `docs/BENCHMARKS.md`, between
//! `<!-- scale:begin -->` and `<!-- scale:end -->`, and leaves the rest of the file alone.
//!
//! ```sh
//! cargo bench --bench scale                                      # SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench --bench scale                                  # SQLite, then PostgreSQL
//! SCALE_SIZES=1000,100000 SCALE_SECONDS=2 cargo bench --bench scale   # a quicker run
//! ```
//!
//! For each backend and size: a fresh database (a temporary SQLite file, or a new PostgreSQL
//! schema), the real `usergroups serve` process started on it (its first run makes the
//! organization and the key), a JSON lines file of `size` groups imported with the real
//! `usergroups import` (timed), then one client on one keep-alive connection, signing every
//! request, runs each scenario for `SCALE_SECONDS` (default 5):
//!
//! - `GET /user-groups/{id}`: single reads of groups spread over the whole table;
//! - `list page 1`: `GET /user-groups?limit=20`;
//! - `list by cursor, 1,000 pages deep`: the page a client reaches after following
//!   `nextCursor` 1,000 times (or the deepest page there is), asked again and again;
//! - `list page 500 by offset`: the deepest offset page the bound allows at 20 a page;
//! - `selective search`: an 8-character word that one group's description holds;
//! - `short search`: two characters (no trigram), which every 10th group's name holds.
//!
//! The server's peak resident memory (`VmHWM` of its process) is read at the end of each size.
//! The client runs on the same machine and cores as the server.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;

use usergroups::auth::signer::{sign, Credentials};

/// The real binary, built by cargo for benches.
const BINARY: &str = env!("CARGO_BIN_EXE_usergroups");

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) if !text.is_empty() => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {text:?}")),
        _ => default,
    }
}

/// A scratch directory (the SQLite file, the server's first-run files, the import file).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let path = std::env::temp_dir().join(format!(
            "usergroups-scale-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("a scratch directory");
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL schema that lives for one size of one run.
struct Schema {
    base_url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.base_url) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// `usergroups serve` on its own port, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(dir: &Path, url: &str) -> Server {
        let child = Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn,usergroups=info")
            .env("USERGROUPS_RATE_LIMIT_READS", "0")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("usergroups serve starts");
        // Owned by the `Server` at once, so any panic below still kills and reaps it.
        let mut server = Server {
            child,
            address: String::new(),
        };
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let stderr = server.child.stderr.take().expect("the server's stderr");
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("the log").push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let found = lines
                .lock()
                .expect("the log")
                .iter()
                .find_map(|l| l.split("listening on http://").nth(1).map(str::to_owned));
            if let Some(address) = found {
                server.address = address;
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The peak resident set of the server process, in MiB (Linux `VmHWM`).
    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection sending signed GETs.
struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    host: String,
    credentials: Credentials,
}

impl Client {
    fn connect(address: &str, credentials: Credentials) -> Client {
        let stream = TcpStream::connect(address).expect("connect to the server");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone the stream")),
            writer: stream,
            host: address.to_owned(),
            credentials,
        }
    }

    /// A signed GET of `target`: the status, the body, and the time from the first byte sent
    /// to the last byte read.
    fn get(&mut self, target: &str) -> (u16, Vec<u8>, Duration) {
        let signed = sign(
            &self.credentials,
            "GET",
            &self.host,
            target,
            &[],
            b"",
            Utc::now(),
        );
        let mut request = format!("GET {target} HTTP/1.1\r\n");
        for (name, value) in &signed.headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let started = Instant::now();
        self.writer
            .write_all(request.as_bytes())
            .expect("send a request");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a status line");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("an HTTP status");
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("a header line");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("a content length");
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("the body");
        (status, body, started.elapsed())
    }

    /// A signed GET whose answer must be 200, as JSON.
    fn json(&mut self, target: &str) -> Value {
        let (status, body, _) = self.get(target);
        assert_eq!(status, 200, "{target}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("a JSON answer")
    }
}

/// What one scenario measured.
struct Measured {
    requests: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Asks for `targets` in turn, one request at a time, for `duration`.
fn measure(client: &mut Client, targets: &[String], duration: Duration) -> Measured {
    let mut latencies = Vec::new();
    let started = Instant::now();
    let mut next = 0;
    while started.elapsed() < duration {
        let target = &targets[next % targets.len()];
        next += 1;
        let (status, body, latency) = client.get(target);
        assert_eq!(status, 200, "{target}: {}", String::from_utf8_lossy(&body));
        latencies.push(latency);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[index].as_secs_f64() * 1000.0
    };
    Measured {
        requests: latencies.len(),
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}

/// A unique 8-hex-digit word per group: `i` times an odd constant is a bijection of `u32`, and
/// the digits look random, as words do, so their trigrams are spread like a real text's.
fn word(i: u64) -> String {
    format!("{:08x}", (i as u32).wrapping_mul(2_654_435_761))
}

/// The import file: `size` groups, each name unique, every 10th holding `qz`, each
/// description holding its unique [`word`].
fn write_groups(path: &Path, size: u64) {
    let file = std::fs::File::create(path).expect("the import file");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for i in 0..size {
        let tag = if i % 10 == 0 { " qz" } else { "" };
        writeln!(
            out,
            r#"{{"name":"Group {i}{tag}","description":"Team {} of the scale bench","extraFields":{{"n":{i}}}}}"#,
            word(i)
        )
        .expect("write the import file");
    }
    out.flush().expect("write the import file");
}

/// One backend at one size: the figures of each scenario, the import time and the peak RSS.
struct Run {
    backend: &'static str,
    size: u64,
    import_seconds: f64,
    rows: Vec<(&'static str, Measured)>,
    depth: u64,
    peak_rss_mib: Option<f64>,
}

fn run_size(backend: &'static str, base_url: Option<&str>, size: u64, seconds: u64) -> Run {
    let scratch = Scratch::new();
    let (_schema, url) = match base_url {
        None => (
            None,
            format!("sqlite://{}", scratch.0.join("usergroups.db").display()),
        ),
        Some(base_url) => {
            let name = format!("scale_{}", uuid::Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(base_url).expect("BENCH_DATABASE_URL answers");
            conn.batch_execute(&format!("CREATE SCHEMA {name}"))
                .expect("create the bench schema");
            let separator = if base_url.contains('?') { '&' } else { '?' };
            let url = format!("{base_url}{separator}options=-csearch_path%3D{name}");
            (
                Some(Schema {
                    base_url: base_url.to_owned(),
                    name,
                }),
                url,
            )
        }
    };
    let server = Server::start(&scratch.0, &url);
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(scratch.0.join("usergroups-credentials.json"))
            .expect("first-run credentials"),
    )
    .expect("a credentials file");
    let credentials = Credentials::new(
        file["accessKeyId"].as_str().expect("an access key id"),
        file["secretAccessKey"].as_str().expect("a secret"),
    );
    let organization = file["organizationId"].as_str().expect("an organization");

    let groups = scratch.0.join("groups.jsonl");
    write_groups(&groups, size);
    let started = Instant::now();
    let output = Command::new(BINARY)
        .args(["import", "--org", organization, "--groups"])
        .arg(&groups)
        .env("DATABASE_URL", &url)
        .stderr(Stdio::inherit())
        .output()
        .expect("usergroups import runs");
    let import_seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "the import failed");
    eprintln!(
        "{backend} {size}: imported in {import_seconds:.1} s: {}",
        String::from_utf8_lossy(&output.stdout).trim()
    );

    let mut client = Client::connect(&server.address, credentials);
    let first = client.json("/api/v1/user-groups?limit=20");
    assert_eq!(
        first["total"].as_u64(),
        Some(size),
        "total after the import"
    );
    // Ids spread over the table, for the single reads: a few pages at several depths.
    let mut ids = Vec::new();
    let mut cursor = first["nextCursor"].as_str().map(str::to_owned);
    let mut depth = 1;
    let mut deep_target = "/api/v1/user-groups?limit=20".to_owned();
    while let Some(next) = cursor.take() {
        if depth >= 1000 {
            break;
        }
        let target = format!("/api/v1/user-groups?limit=20&cursor={next}");
        let page = client.json(&target);
        depth += 1;
        deep_target = target;
        if depth % 50 == 0 {
            ids.extend(
                page["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g["id"].as_str().map(str::to_owned)),
            );
        }
        cursor = page["nextCursor"].as_str().map(str::to_owned);
    }
    if ids.is_empty() {
        ids.extend(
            first["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g["id"].as_str().map(str::to_owned)),
        );
    }
    let gets: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/user-groups/{id}"))
        .collect();
    let needle = word(size / 2 + 7);
    let duration = Duration::from_secs(seconds);
    let mut rows = Vec::new();
    rows.push((
        "GET /user-groups/{id}",
        measure(&mut client, &gets, duration),
    ));
    rows.push((
        "list page 1",
        measure(
            &mut client,
            &["/api/v1/user-groups?limit=20".to_owned()],
            duration,
        ),
    ));
    rows.push((
        "list by cursor, 1,000 pages deep",
        measure(&mut client, &[deep_target], duration),
    ));
    let offset_page = (size / 20).clamp(1, 500);
    rows.push((
        "list page 500 by offset",
        measure(
            &mut client,
            &[format!("/api/v1/user-groups?limit=20&page={offset_page}")],
            duration,
        ),
    ));
    rows.push((
        "selective search (one word)",
        measure(
            &mut client,
            &[format!("/api/v1/user-groups?limit=20&search={needle}")],
            duration,
        ),
    ));
    rows.push((
        "short search (2 characters)",
        measure(
            &mut client,
            &["/api/v1/user-groups?limit=20&search=qz".to_owned()],
            duration,
        ),
    ));
    Run {
        backend,
        size,
        import_seconds,
        rows,
        depth,
        peak_rss_mib: server.peak_rss_mib(),
    }
}

fn per_second(run: &Run, scenario: &str) -> f64 {
    run.rows
        .iter()
        .find(|(name, _)| *name == scenario)
        .map_or(f64::NAN, |(_, m)| m.per_second)
}

/// The markdown of the whole section.
fn report(runs: &[Run], seconds: u64) -> String {
    let mut text = String::new();
    text.push_str("## Scale: one organization of 1,000 and of 1,000,000 groups\n\n");
    text.push_str(&format!(
        "Written by `cargo bench --bench scale` on {} (release build; one client on one \
         keep-alive connection, on the same machine; {seconds} s per scenario; the groups loaded \
         with `usergroups import`; the server is the real `usergroups serve` process).\n\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    text.push_str(
        "| backend | groups | scenario | requests | req/s | p50 (ms) | p99 (ms) |\n\
         | --- | ---: | --- | ---: | ---: | ---: | ---: |\n",
    );
    for run in runs {
        for (name, m) in &run.rows {
            text.push_str(&format!(
                "| {} | {} | {name} | {} | {:.0} | {:.2} | {:.2} |\n",
                run.backend, run.size, m.requests, m.per_second, m.p50_ms, m.p99_ms
            ));
        }
    }
    text.push_str(
        "\n| backend | groups | import (s) | import (groups/s) | cursor depth reached | server peak RSS (MiB) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for run in runs {
        text.push_str(&format!(
            "| {} | {} | {:.1} | {:.0} | {} | {} |\n",
            run.backend,
            run.size,
            run.import_seconds,
            run.size as f64 / run.import_seconds,
            run.depth,
            run.peak_rss_mib
                .map_or("n/a".to_owned(), |m| format!("{m:.1}"))
        ));
    }
    let mut by_backend: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for run in runs {
        by_backend.entry(run.backend).or_default().push(run);
    }
    text.push_str(
        "\nRatios of throughput within one run (the issue's targets in brackets):\n\n\
         | backend | list page 1, largest ÷ smallest size (≥ 0.9) | cursor page 1,000 deep ÷ page 1 (≥ 0.9) | selective search ÷ single GET (≥ 0.5) | single GET, largest ÷ smallest (≥ 0.95) |\n\
         | --- | ---: | ---: | ---: | ---: |\n",
    );
    for (backend, runs) in by_backend {
        let (Some(small), Some(large)) = (runs.first(), runs.last()) else {
            continue;
        };
        text.push_str(&format!(
            "| {backend} ({} ÷ {}) | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            large.size,
            small.size,
            per_second(large, "list page 1") / per_second(small, "list page 1"),
            per_second(large, "list by cursor, 1,000 pages deep")
                / per_second(large, "list page 1"),
            per_second(large, "selective search (one word)")
                / per_second(large, "GET /user-groups/{id}"),
            per_second(large, "GET /user-groups/{id}") / per_second(small, "GET /user-groups/{id}"),
        ));
    }
    text
}

/// Replaces the text between the scale markers of `docs/BENCHMARKS.md` with `section`,
/// creating the file or the markers if they are missing; nothing else in the file changes.
fn write_section(path: &Path, section: &str) {
    const BEGIN: &str = "<!-- scale:begin -->";
    const END: &str = "<!-- scale:end -->";
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{section}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!("{}{block}{}", &old[..begin], &old[end + END.len()..])
        }
        _ if old.is_empty() => format!("# Benchmarks\n\n{block}\n"),
        _ => format!(
            "{}\n{block}\n",
            old.trim_end_matches('\n').to_owned() + "\n"
        ),
    };
    std::fs::write(path, new).expect("write docs/BENCHMARKS.md");
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let sizes: Vec<u64> = std::env::var("SCALE_SIZES")
        .unwrap_or_else(|_| "1000,1000000".to_owned())
        .split(',')
        .map(|s| s.trim().parse().expect("SCALE_SIZES: whole numbers"))
        .collect();
    let seconds = env_number("SCALE_SECONDS", 5);
    let postgres = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let mut runs = Vec::new();
    for &size in &sizes {
        runs.push(run_size("SQLite", None, size, seconds));
    }
    if let Some(base_url) = &postgres {
        for &size in &sizes {
            runs.push(run_size("PostgreSQL", Some(base_url), size, seconds));
        }
    }
    let section = report(&runs, seconds);
    println!("{section}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/BENCHMARKS.md");
    write_section(&path, &section);
    eprintln!("wrote the scale section of {}", path.display());
}
