//! Slow and stalled clients, and a graceful stop, against the real binary over raw sockets: a
//! client that stalls in its request head or body is cut off after the request timeout (408)
//! while other clients are served, and SIGTERM lets a request in flight finish, refuses new
//! connections, and exits 0.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usergroups::auth::signer;

use crate::live_server::{database_for, first_run_credentials, ScratchDir, Server};

/// The request timeout these servers run with.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How late after the timeout a stalled client may still be cut off.
const SLACK: Duration = Duration::from_secs(3);

/// A server whose clients have [`TIMEOUT`] to send a request head, and again its body.
fn server_with_a_short_request_timeout(dir: &ScratchDir, url: &str) -> Server {
    let seconds = TIMEOUT.as_secs().to_string();
    Server::start_with_env(
        &dir.0,
        url,
        &[("USERGROUPS_REQUEST_TIMEOUT_SECONDS", seconds.as_str())],
    )
}

/// A connection to `server` with a generous read timeout, so a test never hangs.
fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(&server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection (or resets it), and returns what came.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server neither answered nor closed: {e}"),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// The status and JSON body of a raw HTTP/1.1 answer.
fn parse(answer: &str) -> (u16, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The head of a signed `POST /api/v1/user-groups` of `body`, with `extra` header lines, from
/// the first-run key of the server running in `dir`.
fn signed_create_head(server: &Server, dir: &ScratchDir, body: &[u8], extra: &str) -> String {
    let (credentials, _) = first_run_credentials(&dir.0);
    let nonce = [(
        "x-onlive-site-nonce".to_owned(),
        uuid::Uuid::new_v4().to_string(),
    )];
    let signed = signer::sign(
        &credentials,
        "POST",
        &server.address,
        "/api/v1/user-groups",
        &nonce,
        body,
        chrono::Utc::now(),
    );
    let mut head = "POST /api/v1/user-groups HTTP/1.1\r\n".to_owned();
    for (name, value) in signed.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        body.len()
    ));
    head
}

/// Waits for the process to exit, at most `within`.
fn exit_status(server: &mut Server, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn clients_stalled_in_their_request_head_are_cut_off_while_others_are_served() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = server_with_a_short_request_timeout(&dir, &url);
    let started = Instant::now();
    // More stalled clients than the machine has workers.
    let mut stalled: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut stream = connect(&server);
            stream
                .write_all(b"GET /api/v1/user-groups HTTP/1.1\r\nhost: example\r\nx-onlive-")
                .unwrap();
            stream
        })
        .collect();

    let (status, _, body) = server.send("GET", "/healthz", &[], b"");
    let served_after = started.elapsed();

    assert_eq!(status, 200, "{body}");
    assert!(
        served_after < TIMEOUT,
        "another client waited {served_after:?} behind the stalled ones"
    );
    for stream in &mut stalled {
        let answer = read_until_closed(stream);
        let cut_off_after = started.elapsed();
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "a stalled head got {answer:?}"
        );
        assert!(
            cut_off_after >= TIMEOUT - Duration::from_millis(500),
            "cut off after {cut_off_after:?}, before the timeout"
        );
        assert!(
            cut_off_after < TIMEOUT + SLACK,
            "cut off only after {cut_off_after:?}"
        );
    }
}

#[test]
fn a_client_stalled_in_its_body_gets_a_408_in_the_contracts_body_and_nothing_is_written() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = server_with_a_short_request_timeout(&dir, &url);
    let (credentials, _) = first_run_credentials(&dir.0);
    let body = serde_json::to_vec(&json!({"name": "Never finished"})).unwrap();
    let mut stream = connect(&server);
    let started = Instant::now();
    stream
        .write_all(signed_create_head(&server, &dir, &body, "").as_bytes())
        .unwrap();
    stream.write_all(&body[..body.len() / 2]).unwrap();

    let (status, _, served) = server.signed(&credentials, "GET", "/api/v1/user-groups", None);
    let answer = read_until_closed(&mut stream);
    let cut_off_after = started.elapsed();

    assert_eq!(status, 200, "another client is served meanwhile: {served}");
    let (status, error) = parse(&answer);
    assert_eq!(status, 408, "{answer}");
    assert_eq!(
        error,
        json!({"statusCode": 408, "message": "Request body was not received in time"})
    );
    assert!(
        (TIMEOUT - Duration::from_millis(500)..TIMEOUT + SLACK).contains(&cut_off_after),
        "answered after {cut_off_after:?}"
    );
    let (_, _, list) = server.signed(&credentials, "GET", "/api/v1/user-groups", None);
    assert_eq!(list["total"], 0, "{list}");
}

#[cfg(unix)]
#[test]
fn sigterm_lets_a_request_in_flight_finish_refuses_new_connections_and_exits_0() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let mut server = Server::start(&dir.0, &url);
    let body = serde_json::to_vec(&json!({"name": "Finished during shutdown"})).unwrap();
    let mut in_flight = connect(&server);
    // `Expect: 100-continue` makes the server say when it has the head and waits for the body,
    // so the signal below surely lands while this request is in flight.
    in_flight
        .write_all(signed_create_head(&server, &dir, &body, "expect: 100-continue\r\n").as_bytes())
        .unwrap();
    let mut interim = [0; 25];
    in_flight.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    in_flight.write_all(&body[..body.len() / 2]).unwrap();

    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&server.address).is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections are still taken after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The rest of the body comes late: after actix's first check for idle workers (each
    // second), so only the shutdown timeout keeps this request alive.
    std::thread::sleep(Duration::from_secs(2));
    in_flight.write_all(&body[body.len() / 2..]).unwrap();
    let answer = read_until_closed(&mut in_flight);

    let (status, group) = parse(&answer);
    assert_eq!(status, 201, "{answer}");
    assert_eq!(group["name"], "Finished during shutdown");
    let status = exit_status(&mut server, Duration::from_secs(30));
    assert!(
        status.success(),
        "exit status {status}: {}",
        server.log_text()
    );
}
