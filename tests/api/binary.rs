//! The real binary, as users run it: `usergroups serve` on a port, first-run credentials, the
//! key commands, `sign`, a refused database URL or skew, a clean stop on SIGTERM, and every
//! command writing to a standard output that nobody reads any more.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::live_server::{
    command, command_key, database_for, first_run_credentials, ScratchDir, Server, BINARY,
};

#[test]
fn a_first_start_writes_private_credentials_that_sign_a_whole_soft_delete() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);

    let path = dir.0.join("usergroups-credentials.json");
    assert!(
        server.log_text().contains("usergroups-credentials.json"),
        "{}",
        server.log_text()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (credentials, file) = first_run_credentials(&dir.0);
    assert!(
        !server.log_text().contains(credentials.secret_access_key()),
        "the secret reached the log"
    );
    assert_eq!(file["permissions"].as_array().unwrap().len(), 6);

    let (status, _, group) = server.signed(
        &credentials,
        "POST",
        "/api/v1/user-groups",
        Some(&json!({"name": "Sales", "extraFields": {"region": "EMEA"}})),
    );
    assert_eq!(status, 201, "{group}");
    let target = format!("/api/v1/user-groups/{}", group["id"].as_str().unwrap());
    let (status, head, deleted) = server.signed(&credentials, "DELETE", &target, None);
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["extraFields"], json!({"region": "EMEA"}));
    assert!(deleted["deletedAt"].is_string());
    assert!(
        head.to_ascii_lowercase().contains("x-request-id:"),
        "{head}"
    );
    let (status, _, _) = server.signed(&credentials, "GET", &target, None);
    assert_eq!(status, 404);
}

#[test]
fn a_second_start_on_the_same_database_creates_no_new_credentials() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    drop(Server::start(&dir.0, &url));
    let (first, _) = first_run_credentials(&dir.0);
    std::fs::remove_file(dir.0.join("usergroups-credentials.json")).unwrap();

    let server = Server::start(&dir.0, &url);

    assert!(!dir.0.join("usergroups-credentials.json").exists());
    let (status, _, body) = server.signed(&first, "GET", "/api/v1/user-groups", None);
    assert_eq!(status, 200, "the first key still works: {body}");
}

#[test]
fn health_probes_answer_unsigned_and_the_api_does_not() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);

    let (healthz, _, _) = server.send("GET", "/healthz", &[], b"");
    let (readyz, _, _) = server.send("GET", "/readyz", &[], b"");
    let (api, _, body) = server.send("GET", "/api/v1/user-groups", &[], b"");

    assert_eq!((healthz, readyz), (200, 200));
    assert_eq!(api, 401);
    assert_eq!(body["reason"], "missing_authorization");
}

#[test]
fn a_database_url_with_an_unknown_scheme_is_refused_at_start_without_creating_a_file() {
    let dir = ScratchDir::new();

    let output = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", "sqlit://usergroups.db")
        .current_dir(&dir.0)
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("sqlite://"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&dir.0).unwrap().count(),
        0,
        "nothing may be created"
    );
}

#[test]
fn a_signature_skew_above_the_maximum_is_refused_at_start_naming_the_setting_and_both_values() {
    let dir = ScratchDir::new();

    let output = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("USERGROUPS_SIGNATURE_SKEW_SECONDS", "3601")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.0.join("usergroups.db").display()),
        )
        .current_dir(&dir.0)
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "USERGROUPS_SIGNATURE_SKEW_SECONDS",
        "--signature-skew-seconds",
        "3601",
        "maximum of 3600",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn keys_made_on_the_command_line_sign_calls_and_a_revoked_key_is_refused() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);

    let org = command(&dir.0, &url, &["org", "create", "--name", "Acme"]);
    assert_eq!(org["name"], "Acme");
    let org_id = org["id"].as_str().unwrap();
    let (key, credentials) = command_key(&dir.0, &url, org_id, Some("user-groups:read"));
    assert_eq!(key["organizationId"], org_id);
    assert_eq!(key["permissions"], json!(["user-groups:read"]));
    let listed = command(&dir.0, &url, &["key", "list", "--org", org_id]);

    let (read, _, page) = server.signed(&credentials, "GET", "/api/v1/user-groups", None);
    let (write, _, refused) = server.signed(
        &credentials,
        "POST",
        "/api/v1/user-groups",
        Some(&json!({"name": "X"})),
    );
    let revoked = command(
        &dir.0,
        &url,
        &["key", "revoke", key["accessKeyId"].as_str().unwrap()],
    );
    let (write_after, _, write_after_body) = server.signed(
        &credentials,
        "POST",
        "/api/v1/user-groups",
        Some(&json!({"name": "X"})),
    );
    // Reads trust the instance's key cache for up to a second.
    std::thread::sleep(usergroups::auth::key_cache::FRESHNESS);
    let (after, _, after_body) = server.signed(&credentials, "GET", "/api/v1/user-groups", None);

    assert_eq!(read, 200, "{page}");
    assert_eq!(
        page["total"], 0,
        "a new organization sees none of the first one's groups"
    );
    assert_eq!(write, 403);
    assert_eq!(
        refused["message"],
        "Access key is not allowed to write user groups"
    );
    assert_eq!(listed["accessKeys"].as_array().unwrap().len(), 1);
    assert!(
        !listed.to_string().contains(credentials.secret_access_key()),
        "key list shows no secret"
    );
    assert!(revoked["revokedAt"].is_string(), "{revoked}");
    assert_eq!(
        (write_after, write_after_body["reason"].as_str()),
        (401, Some("revoked_access_key")),
        "a write is refused at once, before its missing permission: {write_after_body}"
    );
    assert_eq!(after, 401);
    assert_eq!(after_body["reason"], "revoked_access_key");
}

#[test]
fn the_sign_command_prints_headers_the_server_accepts() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);
    let (credentials, _) = first_run_credentials(&dir.0);
    let body = r#"{"name":"Signed by the CLI"}"#;
    let full_url = format!("http://{}/api/v1/user-groups", server.address);

    let output = Command::new(BINARY)
        .args(["sign", "--data", body, "POST", &full_url])
        .env("USERGROUPS_ACCESS_KEY_ID", &credentials.access_key_id)
        .env(
            "USERGROUPS_SECRET_ACCESS_KEY",
            credentials.secret_access_key(),
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let headers: Vec<(String, String)> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.split_once(": ").expect("Name: value");
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let (status, _, group) = server.send("POST", "/api/v1/user-groups", &headers, body.as_bytes());

    assert_eq!(status, 201, "{group}");
    assert_eq!(group["name"], "Signed by the CLI");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let mut server = Server::start(&dir.0, &url);

    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };

    assert!(status.success(), "exit status {status}");
}

/// The writing end of a pipe whose reading end is already closed, so the first write of a
/// command given it as stdout fails with a broken pipe, whatever the timing: `true` holds the
/// reading end as its stdin and has exited without reading when this returns.
#[cfg(unix)]
fn a_pipe_nobody_reads() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true runs");
    let writer = reader.stdin.take().expect("the pipe's writing end");
    assert!(reader.wait().expect("true exits").success());
    Stdio::from(writer)
}

#[cfg(unix)]
#[test]
fn every_command_ends_cleanly_when_its_standard_output_is_closed() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let org = command(&dir.0, &url, &["org", "create", "--name", "Acme"]);
    let org_id = org["id"].as_str().unwrap().to_owned();
    let key = command(&dir.0, &url, &["key", "create", "--org", &org_id]);
    let key_id = key["accessKeyId"].as_str().unwrap().to_owned();
    let target = "http://127.0.0.1:8080/api/v1/user-groups";
    let cases: [(&str, Vec<&str>); 7] = [
        ("key list", vec!["key", "list", "--org", &org_id]),
        ("sign a GET", vec!["sign", "GET", target]),
        (
            "sign a POST with a body",
            vec!["sign", "--data", r#"{"name":"X"}"#, "POST", target],
        ),
        ("org create", vec!["org", "create", "--name", "Closed"]),
        ("key create", vec!["key", "create", "--org", &org_id]),
        ("key revoke", vec!["key", "revoke", &key_id]),
        ("master-key rotate", vec!["master-key", "rotate"]),
    ];

    for (why, args) in cases {
        let output = Command::new(BINARY)
            .args(&args)
            .env("DATABASE_URL", &url)
            .env("USERGROUPS_ACCESS_KEY_ID", &key_id)
            .env("USERGROUPS_SECRET_ACCESS_KEY", "a secret")
            .env_remove("USERGROUPS_MASTER_KEY")
            .env_remove("RUST_BACKTRACE")
            .current_dir(&dir.0)
            .stdout(a_pipe_nobody_reads())
            .output()
            .unwrap();

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_ne!(output.status.code(), Some(101), "{why} panicked: {stderr}");
        assert!(!stderr.contains("panicked"), "{why}: {stderr}");
        assert!(
            output.status.success(),
            "{why} exited {}: {stderr}",
            output.status
        );
    }
}
