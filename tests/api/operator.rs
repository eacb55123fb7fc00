//! A new operator's first hour off the README's path, on the real binary: a second first start,
//! a start on a port in use, half-set credentials, each start-up error's text, the JSON log,
//! and the smaller commands (`org list`, `sign --date`, `completions`).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::live_server::{command, database_for, ScratchDir, Server, BINARY};

/// Runs the binary in `dir` with `args` and `env`, the access-key variables removed unless
/// `env` sets them.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BINARY)
        .args(args)
        .env_remove("USERGROUPS_ACCESS_KEY_ID")
        .env_remove("USERGROUPS_SECRET_ACCESS_KEY")
        .env_remove("USERGROUPS_MASTER_KEY")
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// The names in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_second_first_start_on_another_database_in_the_same_folder_keeps_the_first_secret() {
    let dir = ScratchDir::new();
    let first = Server::start(&dir.0, "sqlite://a.db");
    drop(first);
    let kept = std::fs::read_to_string(dir.0.join("a-credentials.json")).expect("a's credentials");

    let second = Server::start(&dir.0, "sqlite://b.db");
    let log = second.log_text();
    drop(second);

    assert_eq!(
        std::fs::read_to_string(dir.0.join("a-credentials.json")).unwrap(),
        kept,
        "a.db's secret, shown once, is still there"
    );
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.0.join("b-credentials.json")).unwrap())
            .unwrap();
    let a: Value = serde_json::from_str(&kept).unwrap();
    assert_ne!(a["accessKeyId"], b["accessKeyId"]);
    assert!(log.contains("b-credentials.json"), "{log}");
}

#[test]
fn a_first_start_whose_credentials_file_is_in_the_way_is_refused_naming_it_and_creates_nothing() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let in_the_way = dir.0.join("usergroups-credentials.json");
    std::fs::write(&in_the_way, "another database's secret").unwrap();

    let output = run_in(
        &dir.0,
        &["serve", "--bind", "127.0.0.1:0"],
        &[("DATABASE_URL", &url)],
    );

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in ["usergroups-credentials.json", "in the way", "Move it"] {
        assert!(stderr.contains(expected), "no {expected:?} in: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(&in_the_way).unwrap(),
        "another database's secret"
    );
    let listed = command(&dir.0, &url, &["org", "list"]);
    assert_eq!(
        listed["organizations"],
        serde_json::json!([]),
        "no organization or key was left behind"
    );
}

#[test]
fn a_start_on_a_port_in_use_fails_at_once_naming_the_address_and_the_flag_and_leaves_nothing_behind(
) {
    let dir = ScratchDir::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();

    let output = run_in(
        &dir.0,
        &["serve", "--bind", &address],
        &[("DATABASE_URL", "sqlite://usergroups.db")],
    );

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "--bind",
        "USERGROUPS_BIND",
        address.as_str(),
        "in use",
        "choose another port",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in: {stderr}");
    }
    assert_eq!(
        files_in(&dir.0),
        Vec::<String>::new(),
        "no database, master key or credentials file"
    );
}

/// One refused start: what the operator did, the arguments, the environment, and what the
/// message must say.
type StartUpCase<'a> = (
    &'a str,
    &'a [&'a str],
    &'a [(&'a str, &'a str)],
    &'a [&'a str],
);

#[test]
fn each_start_up_error_names_the_setting_the_value_and_the_fix_at_once_and_creates_nothing() {
    let cases: &[StartUpCase] = &[
        (
            "a SQLite file in a folder that does not exist",
            &["serve"],
            &[("DATABASE_URL", "sqlite://nodir/x.db")],
            &[
                "--database-url",
                "DATABASE_URL",
                "sqlite://nodir/x.db",
                "mkdir -p nodir",
            ],
        ),
        (
            "a port past 65535",
            &["serve", "--bind", "localhost:80800"],
            &[],
            &[
                "--bind",
                "USERGROUPS_BIND",
                "localhost:80800",
                "0 to 65535",
                "HOST:PORT",
            ],
        ),
        (
            "an address without a port, from the variable",
            &["serve"],
            &[("USERGROUPS_BIND", "127.0.0.1")],
            &["--bind", "USERGROUPS_BIND", "127.0.0.1", "HOST:PORT"],
        ),
        (
            "a request timeout out of range",
            &["serve", "--request-timeout-seconds", "0"],
            &[],
            &[
                "--request-timeout-seconds",
                "USERGROUPS_REQUEST_TIMEOUT_SECONDS",
                "'0'",
                "1..=3600",
            ],
        ),
        (
            "a log format nobody reads",
            &["serve"],
            &[("USERGROUPS_LOG_FORMAT", "yaml")],
            &[
                "--log-format",
                "USERGROUPS_LOG_FORMAT",
                "yaml",
                "text, json",
            ],
        ),
        (
            "a management command on a SQLite file in a folder that does not exist",
            &["org", "list"],
            &[("DATABASE_URL", "sqlite://nodir/x.db")],
            &["DATABASE_URL", "nodir", "mkdir -p nodir"],
        ),
    ];
    for (what, args, env, expected) in cases {
        let dir = ScratchDir::new();
        let started = Instant::now();

        let output = run_in(&dir.0, args, env);

        assert!(!output.status.success(), "{what}: accepted");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{what}: took {:?}, not at once",
            started.elapsed()
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        for text in *expected {
            assert!(stderr.contains(text), "{what}: no {text:?} in: {stderr}");
        }
        assert!(!stderr.contains("r2d2"), "{what}: {stderr}");
        assert_eq!(files_in(&dir.0), Vec::<String>::new(), "{what}: left files");
    }
}

#[test]
fn one_access_key_variable_without_the_other_is_refused_naming_the_missing_one() {
    let dir = ScratchDir::new();
    std::fs::write(
        dir.0.join("usergroups-credentials.json"),
        r#"{"accessKeyId":"FILEKEY","secretAccessKey":"file-secret"}"#,
    )
    .unwrap();
    let url = "http://127.0.0.1:8080/api/v1/user-groups";
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/signed-curl.sh");
    // (the one variable set, the one the message must name)
    for (set, missing) in [
        ("USERGROUPS_ACCESS_KEY_ID", "USERGROUPS_SECRET_ACCESS_KEY"),
        ("USERGROUPS_SECRET_ACCESS_KEY", "USERGROUPS_ACCESS_KEY_ID"),
    ] {
        let signed = run_in(&dir.0, &["sign", "GET", url], &[(set, "from-the-env")]);
        let scripted = Command::new("bash")
            .args([script, "--dry-run", "GET", url])
            .env_remove("USERGROUPS_ACCESS_KEY_ID")
            .env_remove("USERGROUPS_SECRET_ACCESS_KEY")
            .env(set, "from-the-env")
            .current_dir(&dir.0)
            .output()
            .unwrap();

        for (who, output) in [("sign", signed), ("signed-curl.sh", scripted)] {
            assert!(!output.status.success(), "{who} with only {set} signed");
            assert!(
                !String::from_utf8_lossy(&output.stdout).contains("FILEKEY"),
                "{who} signed with the file's key"
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains(missing) && stderr.contains(set),
                "{who}: {stderr}"
            );
        }
    }
}

#[test]
fn sign_with_a_date_signs_for_that_date_and_refuses_another_spelling() {
    let dir = ScratchDir::new();
    let env = [
        ("USERGROUPS_ACCESS_KEY_ID", "AKID"),
        ("USERGROUPS_SECRET_ACCESS_KEY", "secret"),
    ];
    let url = "http://127.0.0.1:8080/api/v1/user-groups";

    let dated = run_in(
        &dir.0,
        &["sign", "--date", "20261122T101500Z", "GET", url],
        &env,
    );
    let bad = run_in(&dir.0, &["sign", "--date", "2026-11-22", "GET", url], &env);

    assert!(dated.status.success());
    let headers = String::from_utf8_lossy(&dated.stdout);
    assert!(
        headers.contains("x-onlive-site-date: 20261122T101500Z"),
        "{headers}"
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("YYYYMMDDTHHMMSSZ"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn org_list_shows_the_first_start_organization_and_the_ones_created_after() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    drop(Server::start(&dir.0, &url));
    let acme = command(&dir.0, &url, &["org", "create", "--name", "Acme"]);

    let listed = command(&dir.0, &url, &["org", "list"]);

    let names: Vec<&str> = listed["organizations"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|org| org["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Default organization", "Acme"]);
    assert_eq!(listed["organizations"][1]["id"], acme["id"]);
}

#[test]
fn completions_print_a_script_for_each_shell_that_knows_the_commands() {
    let dir = ScratchDir::new();
    for shell in ["bash", "zsh", "fish"] {
        let output = run_in(&dir.0, &["completions", shell], &[]);

        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        for word in ["usergroups", "serve", "master-key", "completions"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
}

#[test]
fn the_start_up_line_lists_every_setting_and_never_the_master_key() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let master_key = "aa".repeat(32);

    let server = Server::start_with_env(
        &dir.0,
        &url,
        &[
            ("USERGROUPS_MASTER_KEY", &master_key),
            ("USERGROUPS_RATE_LIMIT_READS", "0"),
        ],
    );

    let log = server.log_text();
    let line = log
        .lines()
        .find(|line| line.contains("settings: "))
        .expect("a settings line");
    for expected in [
        "database=",
        "bind=127.0.0.1:0",
        "body_limit=1048576",
        "signature_skew=900s",
        "db_pool_size=",
        "db_timeout=5s",
        "db_statement_timeout=5s",
        "rate_limit_reads=off",
        "rate_limit_writes=100/min",
        "request_timeout=10s",
        "shutdown_timeout=30s",
        "master_key=USERGROUPS_MASTER_KEY",
    ] {
        assert!(line.contains(expected), "no {expected:?} in: {line}");
    }
    assert!(!line.contains("RateLimits {"), "{line}");
    assert!(!log.contains(&master_key), "the master key reached the log");
}

#[test]
fn the_json_log_writes_one_object_a_line_and_a_401_carries_its_request_id_and_reason() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start_with_env(&dir.0, &url, &[("USERGROUPS_LOG_FORMAT", "json")]);

    let (status, head, _) = server.send(
        "GET",
        "/api/v1/user-groups?search=secret",
        &[("x-request-id".to_owned(), "trace-401".to_owned())],
        b"",
    );
    assert_eq!(status, 401, "{head}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let access = loop {
        let found = server.log_text().lines().find_map(|line| {
            let object: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
            (object["request_id"] == "trace-401").then_some(object)
        });
        if let Some(object) = found {
            break object;
        }
        assert!(Instant::now() < deadline, "{}", server.log_text());
        std::thread::sleep(Duration::from_millis(50));
    };

    assert_eq!(access["level"], "INFO");
    assert_eq!(access["target"], "usergroups::access");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["path"], "/api/v1/user-groups");
    assert_eq!(access["status"], 401);
    assert_eq!(access["reason"], "missing_authorization");
    assert!(access["latency_ms"].is_number(), "{access}");
    assert!(access["message"].as_str().unwrap().contains("401"));
    let time = access["time"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
    assert!(
        !server.log_text().contains("search=secret"),
        "the query string stays out of the log"
    );
}
