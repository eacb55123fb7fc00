//! Crash safety (invariant 4 of `api.md`): an answer of 2xx means the change is durable. Several
//! threads stream signed creates at the real binary; the server is killed with SIGKILL
//! (`Child::kill` on Unix) after a varying number of acknowledgements, in the middle of the
//! stream; it is restarted on the same database, and every id acknowledged with a 201 must be
//! there with the name it was created with. Three rounds, each killed at another moment.
//!
//! SQLite runs in WAL mode with `synchronous = FULL`, so a commit is on disk before the answer
//! leaves; PostgreSQL commits before the answer too. A request cut by the kill has no answer
//! and is not counted: it may or may not have been applied, and either is correct.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usergroups::auth::signer::{self, Credentials};

use crate::live_server::{database_for, first_run_credentials, ScratchDir, Server};

/// Writers streaming at once.
const WRITERS: usize = 4;
/// Kill rounds.
const ROUNDS: usize = 3;
/// One signed request on a fresh connection: the status and JSON body, or `None` when there is
/// no complete answer (refused connection, reset, or a response cut by the kill).
fn request(
    address: &str,
    key: &Credentials,
    method: &str,
    target: &str,
    body: &[u8],
) -> Option<(u16, Value)> {
    let nonce = [(
        "x-onlive-site-nonce".to_owned(),
        uuid::Uuid::new_v4().to_string(),
    )];
    let signed = signer::sign(
        key,
        method,
        address,
        target,
        &nonce,
        body,
        chrono::Utc::now(),
    );
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in &signed.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8(answer).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    // A body cut short by the kill does not parse: no acknowledgement.
    let body = serde_json::from_str(body).ok()?;
    Some((status, body))
}

/// Streams creates until the server stops answering; every 201 goes into `acknowledged` as
/// `(id, name)`.
fn stream_creates(
    address: String,
    key: Credentials,
    writer: usize,
    round: usize,
    acknowledged: Arc<Mutex<Vec<(String, String)>>>,
    stop: Arc<AtomicBool>,
) {
    for sequence in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let name = format!("crash r{round} w{writer} #{sequence}");
        let body = serde_json::to_vec(&json!({ "name": name })).unwrap();
        match request(&address, &key, "POST", "/api/v1/user-groups", &body) {
            Some((201, group)) => {
                let id = group["id"]
                    .as_str()
                    .expect("a 201 carries the id")
                    .to_owned();
                acknowledged.lock().unwrap().push((id, name));
            }
            // A 503 (a busy database) or a 429 is not an acknowledgement; keep streaming.
            Some((status, _)) if status >= 500 || status == 429 => {}
            Some((status, body)) => panic!("a create answered {status}: {body}"),
            None => return,
        }
    }
}

/// How many acknowledgements to wait for before the kill in `round`: varied from run to run
/// (clock nanoseconds) and from round to round, between 8 and 27. Small enough that all rounds
/// together stay under the default per-key limit of 100 writes a minute, so the test needs no
/// special configuration.
fn kill_after(round: usize) -> usize {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as usize)
        .unwrap_or(0);
    8 + (nanos / 1000 + round * 7) % 20
}

#[test]
fn every_acknowledged_create_survives_a_sigkill_in_the_middle_of_a_stream_of_writes() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let mut server = Server::start(&dir.0, &url);
    let (key, _) = first_run_credentials(&dir.0);
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();

    for round in 0..ROUNDS {
        let before = acknowledged.lock().unwrap().len();
        let target = before + kill_after(round);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (address, key) = (server.address.clone(), key.clone());
                let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
                thread::spawn(move || {
                    stream_creates(address, key, writer, round, acknowledged, stop)
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.lock().unwrap().len() < target {
            assert!(
                Instant::now() < deadline,
                "round {round}: only {} acknowledgements in 60 s\n{}",
                acknowledged.lock().unwrap().len() - before,
                server.log_text()
            );
            thread::sleep(Duration::from_millis(1));
        }

        // SIGKILL, with the writers still streaming: no drain, no shutdown hook.
        server.child.kill().expect("SIGKILL the server");
        server.child.wait().expect("reap the killed server");
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.join().expect("a writer thread");
        }
        server = Server::start(&dir.0, &url);

        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(
            acknowledged.len() > before,
            "round {round} acknowledged nothing"
        );
        eprintln!(
            "round {round}: killed after {} acknowledged creates ({} in all)",
            acknowledged.len() - before,
            acknowledged.len()
        );
        let mut missing = Vec::new();
        for (id, name) in &acknowledged {
            let target = format!("/api/v1/user-groups/{id}");
            match request(&server.address, &key, "GET", &target, b"") {
                Some((200, group)) if group["name"] == name.as_str() => {}
                other => missing.push(format!("{id} ({name}): {other:?}")),
            }
        }
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} acknowledged creates are gone after the kill:\n{}",
            missing.len(),
            acknowledged.len(),
            missing.join("\n")
        );
    }
}
