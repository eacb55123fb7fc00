//! `usergroups import`, the real binary: JSON lines of create bodies become groups and users a
//! running server lists at once; a bad line stops the run naming its file, line and field, and
//! leaves the organization as it was, so a corrected rerun imports everything exactly once.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

use crate::live_server::{database_for, first_run_credentials, ScratchDir, Server, BINARY};

/// A server on a fresh database, its first-run key and organization.
struct Imported {
    server: Server,
    credentials: usergroups::auth::signer::Credentials,
    organization_id: String,
    url: String,
    dir: ScratchDir,
    _database: Option<crate::helpers::TestDatabase>,
}

impl Imported {
    fn start() -> Imported {
        let dir = ScratchDir::new();
        let (database, url) = database_for(&dir.0);
        let server = Server::start(&dir.0, &url);
        let (credentials, file) = first_run_credentials(&dir.0);
        Imported {
            server,
            credentials,
            organization_id: file["organizationId"].as_str().unwrap().to_owned(),
            url,
            dir,
            _database: database,
        }
    }

    /// Writes `lines` (one JSON value each) to `name` in the scratch directory.
    fn file(&self, name: &str, lines: &[Value]) -> String {
        let path = self.dir.0.join(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// Runs `usergroups import --org <the organization> ARGS`, with `stdin` as its input.
    fn import(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(BINARY)
            .arg("import")
            .args(["--org", &self.organization_id])
            .args(args)
            .env("DATABASE_URL", &self.url)
            .current_dir(&self.dir.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// A signed GET's body.
    fn get(&self, target: &str) -> Value {
        let (status, _, body) = self.server.signed(&self.credentials, "GET", target, None);
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn summary(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON summary")
}

#[test]
fn an_import_creates_the_groups_and_users_of_its_files_and_prints_one_summary() {
    let app = Imported::start();
    let groups = app.file(
        "groups.jsonl",
        &[
            json!({"name": "Sales", "description": "EMEA sales", "externalId": "S1",
                   "extraFields": {"region": "EMEA", "budget": 1.50}}),
            json!({"name": "  Support  "}),
        ],
    );
    let users = app.file(
        "users.jsonl",
        &[
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}),
            json!({"firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com",
                   "role": "editor"}),
        ],
    );

    let output = app.import(&["--groups", &groups, "--users", &users], "");

    let summary = summary(&output);
    assert_eq!(summary["groups"], 2);
    assert_eq!(summary["users"], 2);
    assert_eq!(summary["organizationId"], app.organization_id.as_str());
    let listed = app.get("/api/v1/user-groups");
    assert_eq!(listed["total"], 2);
    assert_eq!(
        listed["items"][0]["name"], "Support",
        "trimmed as the API trims"
    );
    assert_eq!(
        listed["items"][1]["extraFields"],
        json!({"region": "EMEA", "budget": 1.50})
    );
    let searched = app.get("/api/v1/users?search=hopp");
    assert_eq!(searched["items"][0]["role"], "editor");
    assert_eq!(searched["total"], 1);
    assert_eq!(app.get("/api/v1/users")["total"], 2);
}

#[test]
fn a_dash_reads_the_lines_from_standard_input() {
    let app = Imported::start();
    let stdin = "{\"name\":\"From a pipe\"}\n\n{\"name\":\"And another\"}";

    let output = app.import(&["--groups", "-"], stdin);

    assert_eq!(summary(&output)["groups"], 2);
    assert_eq!(app.get("/api/v1/user-groups?search=pipe")["total"], 1);
}

#[test]
fn a_bad_line_stops_the_import_naming_file_line_and_field_and_nothing_is_imported() {
    let app = Imported::start();
    let before = app.get("/api/v1/users")["total"].clone();
    let cases = [
        ("an empty name", json!({"name": ""}), "name"),
        (
            "an unknown field",
            json!({"name": "X", "color": "red"}),
            "color",
        ),
        (
            "a name taken earlier in the file",
            json!({"name": "Good 1"}),
            "name",
        ),
        ("a body that is not an object", json!(["Good"]), "body"),
    ];

    for (what, bad, field) in cases {
        let mut lines: Vec<Value> = (0..700)
            .map(|i| json!({"name": format!("Good {i}")}))
            .collect();
        lines.insert(650, bad);
        let groups = app.file("groups.jsonl", &lines);
        let users = app.file(
            "users.jsonl",
            &[json!({"firstName": "A", "lastName": "B", "email": "a@example.com"})],
        );

        let output = app.import(&["--groups", &groups, "--users", &users], "");

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("groups.jsonl line 651: {field}")),
            "{what}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{what}: no summary");
        assert_eq!(app.get("/api/v1/user-groups")["total"], 0, "{what}");
        assert_eq!(app.get("/api/v1/users")["total"], before, "{what}");
    }
}

#[test]
fn a_batched_import_stopped_by_a_bad_line_keeps_every_line_before_it() {
    let app = Imported::start();
    let cases = [
        ("an empty name", json!({"name": ""}), "name"),
        (
            "a name taken earlier in the file",
            json!({"name": "Good 1"}),
            "name",
        ),
    ];

    for (round, (what, bad, field)) in cases.into_iter().enumerate() {
        let mut lines: Vec<Value> = (0..700)
            .map(|i| json!({"name": format!("Round {round} good {i}")}))
            .collect();
        if round == 1 {
            lines[0] = json!({"name": "Good 1"});
        }
        lines.insert(650, bad);
        let groups = app.file("groups.jsonl", &lines);
        let before = app.get("/api/v1/user-groups?limit=1")["total"]
            .as_i64()
            .unwrap();

        let output = app.import(&["--groups", &groups, "--batched"], "");

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("groups.jsonl line 651: {field}")),
            "{what}: {stderr}"
        );
        assert!(
            stderr.contains("every line before it was imported"),
            "{stderr}"
        );
        let after = app.get("/api/v1/user-groups?limit=1")["total"]
            .as_i64()
            .unwrap();
        assert_eq!(after - before, 650, "{what}: the 650 lines before it");
        let rest = app.file("rest.jsonl", &lines[651..]);
        let rerun = app.import(&["--groups", &rest, "--batched"], "");
        assert_eq!(summary(&rerun)["groups"], 50, "{what}: the rest, once");
    }
}

#[test]
fn a_rerun_after_a_failure_imports_every_line_exactly_once() {
    let app = Imported::start();
    let mut lines: Vec<Value> = (0..1200)
        .map(|i| json!({"name": format!("Team {i}"), "externalId": format!("T{i}")}))
        .collect();
    lines[1100] = json!({"name": "Team 1100", "externalId": "T5"});
    let groups = app.file("groups.jsonl", &lines);
    let failed = app.import(&["--groups", &groups], "");
    lines[1100] = json!({"name": "Team 1100", "externalId": "T1100"});
    let groups = app.file("groups.jsonl", &lines);

    let rerun = app.import(&["--groups", &groups], "");
    let again = app.import(&["--groups", &groups], "");

    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("line 1101: externalId"), "{stderr}");
    assert_eq!(summary(&rerun)["groups"], 1200);
    assert!(
        !again.status.success(),
        "a second full run collides with the first"
    );
    assert_eq!(app.get("/api/v1/user-groups?limit=1")["total"], 1200);
    assert_eq!(app.get("/api/v1/user-groups?search=team+1100")["total"], 1);
}

#[test]
fn a_user_line_naming_no_live_group_stops_the_import_on_user_group_id() {
    let app = Imported::start();
    let users = app.file(
        "users.jsonl",
        &[
            json!({"firstName": "A", "lastName": "B", "email": "a@example.com"}),
            json!({"firstName": "C", "lastName": "D", "email": "c@example.com",
                   "userGroupId": uuid::Uuid::now_v7().to_string()}),
        ],
    );

    let output = app.import(&["--users", &users], "");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("users.jsonl line 2: userGroupId"),
        "{stderr}"
    );
    assert_eq!(app.get("/api/v1/users?search=example")["total"], 0);
}
