//! The three ways callers reach the service, each against a real `usergroups serve` on a port
//! with its first-run key: the Rust SDK (`usergroups::client`) and its `examples/client.rs`,
//! `usergroups sign` feeding curl, and `examples/signed-curl.sh` (bash, curl and openssl only).
//! Every story ends in a real soft delete answered 200.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::value::to_raw_value;
use serde_json::{json, Value};
use usergroups::api::{CreateGroup, CreateUser, FieldError, UpdateGroup, UpdateUser};
use usergroups::auth::signer::Credentials;
use usergroups::client::{Client, Error, ListDeleted, ListGroups, ListUsers, WriteOptions};
use usergroups::role::Role;

use crate::helpers::TestDatabase;
use crate::live_server::{database_for, first_run_credentials, ScratchDir, Server, BINARY};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/signed-curl.sh");

/// A live server on the test backend, its first-run key, and a client signing with it.
struct Live {
    client: Client,
    credentials: Credentials,
    organization_id: String,
    // Dropped in this order: the server stops before its database and directory go.
    server: Server,
    _database: Option<TestDatabase>,
    dir: ScratchDir,
}

impl Live {
    fn start() -> Live {
        let dir = ScratchDir::new();
        let (database, url) = database_for(&dir.0);
        let server = Server::start(&dir.0, &url);
        let (credentials, file) = first_run_credentials(&dir.0);
        let client = Client::new(
            &format!("http://{}", server.address),
            credentials.access_key_id.clone(),
            credentials.secret_access_key(),
        )
        .expect("a valid base URL");
        Live {
            client,
            organization_id: file["organizationId"].as_str().unwrap().to_owned(),
            credentials,
            server,
            _database: database,
            dir,
        }
    }

    /// The environment every way of calling reads its key from.
    fn env(&self) -> [(&'static str, String); 3] {
        [
            ("USERGROUPS_URL", self.base_url()),
            (
                "USERGROUPS_ACCESS_KEY_ID",
                self.credentials.access_key_id.clone(),
            ),
            (
                "USERGROUPS_SECRET_ACCESS_KEY",
                self.credentials.secret_access_key().to_owned(),
            ),
        ]
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.server.address)
    }

    fn groups_url(&self) -> String {
        format!("{}/api/v1/user-groups", self.base_url())
    }

    fn group(&self, name: &str) -> usergroups::api::Group {
        self.client
            .create_group(&CreateGroup {
                name: name.to_owned(),
                ..CreateGroup::default()
            })
            .expect("the group is created")
    }

    /// Runs a bash script in the server's directory with the key in the environment, `UG` set
    /// to the `usergroups` binary and `SCRIPT` to `examples/signed-curl.sh`.
    fn bash(&self, script: &str, vars: &[(&str, &str)]) -> Output {
        let output = Command::new("bash")
            .args(["-c", &format!("set -euo pipefail\n{script}")])
            .envs(self.env())
            .env("UG", BINARY)
            .env("SCRIPT", SCRIPT)
            .env("URL", self.groups_url())
            .envs(vars.iter().copied())
            .current_dir(&self.dir.0)
            .output()
            .expect("bash runs");
        assert!(
            output.status.success(),
            "{script}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

/// Splits curl's output made with `-w '\n%{http_code}'` into the status and the JSON body.
fn status_and_body(text: &str) -> (u16, Value) {
    let (body, status) = text.trim_end().rsplit_once('\n').unwrap_or(("", text));
    (
        status.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn service_error(result: Result<impl std::fmt::Debug, Error>) -> usergroups::client::ServiceError {
    match result {
        Err(Error::Service(e)) => *e,
        other => panic!("expected the service's error answer, got {other:?}"),
    }
}

fn names<T>(page: &usergroups::api::Page<T>, name: impl Fn(&T) -> &str) -> Vec<String> {
    page.items
        .iter()
        .map(|item| name(item).to_owned())
        .collect()
}

/// Where cargo puts the examples it builds for `cargo test`: beside the test binary's `deps/`.
fn example(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let path = test_binary
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    path
}

// --- the Rust SDK ----------------------------------------------------------------------------

#[test]
fn the_client_example_walks_the_whole_story_and_ends_in_a_soft_delete() {
    let live = Live::start();

    let output = Command::new(example("client"))
        .envs(live.env())
        .output()
        .expect("the example runs");

    let printed = stdout(&output);
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for step in ["== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6."] {
        assert!(printed.contains(step), "{step} missing from:\n{printed}");
    }
    assert!(printed.contains("\"activeMembers\": 1"), "{printed}");
    assert!(printed.contains("\"deletedAt\""), "{printed}");
    assert!(printed.contains("\"statusCode\": 404"), "{printed}");
    let left = live.client.list_groups(&ListGroups::default()).unwrap();
    assert_eq!(left.total, 0, "the story's group is soft-deleted");
}

#[test]
fn the_client_example_beside_the_first_run_file_finds_the_service_and_the_key_there() {
    let live = Live::start();

    let output = Command::new(example("client"))
        .env_remove("USERGROUPS_URL")
        .env_remove("USERGROUPS_ACCESS_KEY_ID")
        .env_remove("USERGROUPS_SECRET_ACCESS_KEY")
        .current_dir(&live.dir.0)
        .output()
        .expect("the example runs");

    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout(&output).contains("OK: the whole story went as expected"));
}

#[test]
fn the_client_example_exits_non_zero_when_an_answer_is_not_the_expected_one() {
    let live = Live::start();

    let output = Command::new(example("client"))
        .envs(live.env())
        .env("USERGROUPS_SECRET_ACCESS_KEY", "not-the-secret")
        .output()
        .expect("the example runs");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("signature_mismatch"), "{stderr}");
}

#[test]
fn the_client_creates_gets_updates_and_soft_deletes_a_group() {
    let live = Live::start();
    let extra = r#"{"department":"Sales","budget":1.50,"big":123456789012345678901234567890}"#;

    let created = live
        .client
        .create_group(&CreateGroup {
            name: "Global Sales Team".to_owned(),
            description: Some("International sales team".to_owned()),
            external_id: Some("SALES_TEAM_01".to_owned()),
            extra_fields: Some(serde_json::from_str(extra).unwrap()),
        })
        .unwrap();
    let fetched = live.client.get_group(&created.id).unwrap();
    let updated = live
        .client
        .update_group(
            &created.id,
            &UpdateGroup {
                name: Some("Sales".to_owned()),
                description: Some(None),
                ..UpdateGroup::default()
            },
        )
        .unwrap();
    let deleted = live.client.delete_group(&created.id).unwrap();
    let after = live.client.get_group(&created.id);

    assert_eq!(
        created.extra_fields.get(),
        extra,
        "number text and key order kept"
    );
    assert_eq!(created.organization_id, live.organization_id);
    assert_eq!(fetched.name, "Global Sales Team");
    assert_eq!(fetched.external_id.as_deref(), Some("SALES_TEAM_01"));
    assert_eq!(updated.name, "Sales");
    assert_eq!(updated.description, None);
    assert_eq!(updated.external_id.as_deref(), Some("SALES_TEAM_01"));
    assert_eq!(deleted.deleted_at, Some(deleted.updated_at));
    assert_eq!(deleted.extra_fields.get(), extra);
    let gone = service_error(after);
    assert_eq!(
        (gone.status_code, gone.message.as_str()),
        (404, "User group not found")
    );
}

#[test]
fn the_client_lists_groups_with_every_filter_and_page() {
    let live = Live::start();
    for name in ["Alpha", "Beta", "Gamma"] {
        live.group(name);
    }
    let list = |filters: ListGroups| live.client.list_groups(&filters).unwrap();

    let first = list(ListGroups {
        page: Some(1),
        limit: Some(2),
        ..ListGroups::default()
    });
    let second = list(ListGroups {
        page: Some(2),
        limit: Some(2),
        ..ListGroups::default()
    });
    let own = list(ListGroups {
        organization_id: Some(live.organization_id.clone()),
        ..ListGroups::default()
    });
    let other = list(ListGroups {
        organization_id: Some(uuid::Uuid::new_v4().to_string()),
        ..ListGroups::default()
    });
    let searched = list(ListGroups {
        search: Some("MM".to_owned()),
        ..ListGroups::default()
    });

    assert_eq!(
        names(&first, |g| &g.name),
        ["Gamma", "Beta"],
        "newest first"
    );
    assert_eq!(
        (first.page, first.limit, first.total, first.total_pages),
        (1, 2, 3, 2)
    );
    assert_eq!(names(&second, |g| &g.name), ["Alpha"]);
    assert_eq!(own.total, 3);
    assert_eq!((other.total, other.total_pages), (0, 0));
    assert_eq!(names(&searched, |g| &g.name), ["Gamma"]);
}

#[test]
fn a_search_with_spaces_percent_underscore_plus_and_unicode_is_signed_and_taken_literally() {
    let live = Live::start();
    live.group("50% off_sale été");
    live.group("500 offXsale ete");
    live.group("R+D lab");
    let search = |text: &str| {
        let page = live
            .client
            .list_groups(&ListGroups {
                search: Some(text.to_owned()),
                ..ListGroups::default()
            })
            .unwrap_or_else(|e| panic!("search {text:?}: {e}"));
        names(&page, |g| &g.name)
    };

    assert_eq!(
        search("% off_"),
        ["50% off_sale été"],
        "% and _ are literal"
    );
    assert_eq!(
        search("ÉTÉ"),
        ["50% off_sale été"],
        "unicode, case-insensitively"
    );
    assert_eq!(search("off_sale été"), ["50% off_sale été"], "spaces");
    assert_eq!(search("R+D"), ["R+D lab"], "a plus is a plus, not a space");
    assert_eq!(search("offXsale"), ["500 offXsale ete"]);
    assert_eq!(search("sale").len(), 2);
}

#[test]
fn the_client_manages_users_and_their_membership() {
    let live = Live::start();
    let sales = live.group("Sales");
    let support = live.group("Support");
    let user = |first: &str, email: &str, group: Option<&str>| {
        live.client
            .create_user(&CreateUser {
                first_name: first.to_owned(),
                last_name: "Example".to_owned(),
                email: email.to_owned(),
                role: Some(Role::Editor),
                user_group_id: group.map(str::to_owned),
                ..CreateUser::default()
            })
            .unwrap()
    };
    let ada = user("Ada", "ada@example.com", Some(&sales.id));
    let bob = user("Bob", "bob@example.com", None);
    user("Grace", "grace+ops@example.com", Some(&sales.id));
    let list = |filters: ListUsers| live.client.list_users(&filters).unwrap();

    let members = list(ListUsers {
        user_group_id: Some(sales.id.clone()),
        ..ListUsers::default()
    });
    let paged = list(ListUsers {
        page: Some(2),
        limit: Some(1),
        ..ListUsers::default()
    });
    let tagged = list(ListUsers {
        search: Some("grace+ops".to_owned()),
        ..ListUsers::default()
    });
    let elsewhere = list(ListUsers {
        organization_id: Some(uuid::Uuid::new_v4().to_string()),
        ..ListUsers::default()
    });
    let moved = live
        .client
        .update_user(
            &ada.id,
            &UpdateUser {
                role: Some(Role::Admin),
                avatar: Some(Some("https://example.com/ada.png".to_owned())),
                user_group_id: Some(Some(support.id.clone())),
                ..UpdateUser::default()
            },
        )
        .unwrap();
    let out = live
        .client
        .update_user(
            &ada.id,
            &UpdateUser {
                user_group_id: Some(None),
                ..UpdateUser::default()
            },
        )
        .unwrap();
    let deleted = live.client.delete_user(&bob.id).unwrap();
    let gone = service_error(live.client.get_user(&bob.id));

    assert_eq!(ada.full_name, "Ada Example");
    assert_eq!(ada.role, Role::Editor);
    assert_eq!(names(&members, |u| &u.first_name), ["Grace", "Ada"]);
    assert_eq!((paged.total, paged.total_pages), (3, 3));
    assert_eq!(names(&paged, |u| &u.first_name), ["Bob"]);
    assert_eq!(names(&tagged, |u| &u.first_name), ["Grace"]);
    assert_eq!(elsewhere.total, 0);
    assert_eq!(moved.role, Role::Admin);
    assert_eq!(moved.avatar.as_deref(), Some("https://example.com/ada.png"));
    assert_eq!(moved.user_group_id.as_deref(), Some(support.id.as_str()));
    assert_eq!(out.user_group_id, None);
    assert_eq!(live.client.get_user(&ada.id).unwrap(), out);
    assert!(deleted.deleted_at.is_some());
    assert_eq!(
        (gone.status_code, gone.message.as_str()),
        (404, "User not found")
    );
}

#[test]
fn refusals_arrive_as_typed_errors_with_status_message_reason_and_fields() {
    let live = Live::start();
    let group = live.group("Sales");
    live.client
        .create_user(&CreateUser {
            first_name: "Ada".to_owned(),
            last_name: "Lovelace".to_owned(),
            email: "ada@example.com".to_owned(),
            user_group_id: Some(group.id.clone()),
            ..CreateUser::default()
        })
        .unwrap();

    let empty_name = service_error(live.client.create_group(&CreateGroup {
        name: " ".to_owned(),
        ..CreateGroup::default()
    }));
    let taken = service_error(live.client.create_group(&CreateGroup {
        name: "Sales".to_owned(),
        ..CreateGroup::default()
    }));
    let bad_id = service_error(live.client.get_user("not-a-uuid"));
    let with_members = service_error(live.client.delete_group(&group.id));
    let missing = service_error(live.client.get_group(&uuid::Uuid::now_v7().to_string()));
    let wrong_secret = Client::new(
        &live.base_url(),
        live.credentials.access_key_id.clone(),
        "not-the-secret",
    )
    .unwrap();
    let forged = service_error(wrong_secret.list_groups(&ListGroups::default()));
    let unknown = Client::new(&live.base_url(), "OLAKUNKNOWN", "secret").unwrap();
    let stranger = service_error(unknown.get_group(&group.id));

    assert_eq!(empty_name.status_code, 400);
    assert_eq!(empty_name.message, "Invalid input");
    assert_eq!(empty_name.errors.len(), 1);
    assert_eq!(empty_name.errors[0].field, "name");
    assert_eq!(taken.status_code, 409);
    assert!(
        taken.errors.iter().any(|e: &FieldError| e.field == "name"),
        "{taken:?}"
    );
    assert_eq!(
        (bad_id.status_code, bad_id.errors[0].field.as_str()),
        (400, "id")
    );
    assert_eq!(with_members.status_code, 403);
    assert_eq!(
        with_members.message,
        "Cannot delete user group with active members"
    );
    assert_eq!(
        with_members.reason.as_deref(),
        Some("group_has_active_members")
    );
    assert_eq!(with_members.active_members, Some(1));
    assert_eq!(missing.status_code, 404);
    assert!(
        missing.request_id.is_some(),
        "the request id is kept for support"
    );
    assert_eq!(forged.status_code, 401);
    assert_eq!(forged.reason.as_deref(), Some("signature_mismatch"));
    assert_eq!(stranger.reason.as_deref(), Some("unknown_access_key"));
    let shown = Error::Service(Box::new(with_members)).to_string();
    assert!(
        shown.contains("403 Cannot delete user group with active members"),
        "{shown}"
    );
}

#[test]
fn identical_writes_in_one_second_all_succeed_thanks_to_the_signed_nonce() {
    let live = Live::start();
    let group = live.group("Sales");
    let same = UpdateGroup {
        extra_fields: Some(to_raw_value(&json!({"tier": 1})).unwrap()),
        ..UpdateGroup::default()
    };

    let answers: Vec<_> = (0..3)
        .map(|_| live.client.update_group(&group.id, &same))
        .collect();

    for answer in answers {
        let updated = answer.expect("not refused as a replay");
        assert_eq!(updated.extra_fields.get(), r#"{"tier":1}"#);
    }
}

#[test]
fn an_unreachable_service_is_a_transport_error_without_a_status() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(&format!("http://127.0.0.1:{port}"), "id", "secret").unwrap();

    let error = client.get_group("0").unwrap_err();

    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(error.status_code(), None);
}

// --- usergroups sign + curl ------------------------------------------------------------------

#[test]
fn the_sign_command_and_curl_create_and_soft_delete_a_group() {
    let live = Live::start();
    let body = r#"{"name":"Global Sales Team","extraFields":{"department":"Sales"}}"#;

    let created = live.bash(
        r#"curl -s -X POST "$URL" -H @<($UG sign --data "$BODY" POST "$URL") --data "$BODY" -w '\n%{http_code}'"#,
        &[("BODY", body)],
    );
    let (status, group) = status_and_body(&stdout(&created));
    assert_eq!(status, 201, "{group}");
    let id = group["id"].as_str().unwrap();
    let deleted = live.bash(
        r#"curl -s -X DELETE "$URL/$ID" -H @<($UG sign DELETE "$URL/$ID") -w '\n%{http_code}'"#,
        &[("ID", id)],
    );
    let after = live.bash(
        r#"curl -s "$URL/$ID" -H @<($UG sign GET "$URL/$ID") -w '\n%{http_code}'"#,
        &[("ID", id)],
    );

    let (status, deleted) = status_and_body(&stdout(&deleted));
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["extraFields"], json!({"department": "Sales"}));
    assert!(deleted["deletedAt"].is_string(), "{deleted}");
    assert_eq!(status_and_body(&stdout(&after)).0, 404);
}

#[test]
fn the_sign_command_signs_an_encoded_search_that_curl_sends_as_is() {
    let live = Live::start();
    live.group("50% off_sale été");
    live.group("500 offXsale ete");

    let found = live.bash(
        r#"Q="$URL?search=%25%20off_sale+%C3%A9T%C3%A9&limit=5"
        curl -s "$Q" -H @<($UG sign GET "$Q") -w '\n%{http_code}'"#,
        &[],
    );

    let (status, page) = status_and_body(&stdout(&found));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["name"], "50% off_sale été");
}

#[test]
fn the_sign_command_adds_a_nonce_so_identical_curl_writes_are_not_replays() {
    let live = Live::start();
    let missing = format!("{}/{}", live.groups_url(), uuid::Uuid::now_v7());

    let twice = live.bash(
        r#"for _ in 1 2 3; do curl -s -X DELETE "$M" -H @<($UG sign DELETE "$M") -w '\n%{http_code}\n'; done"#,
        &[("M", &missing)],
    );

    let text = stdout(&twice);
    let statuses: Vec<&str> = text.lines().filter(|l| l.len() == 3).collect();
    assert_eq!(statuses, ["404", "404", "404"], "{text}");
}

#[test]
fn the_sign_command_signs_extra_headers_and_explains_itself_on_stderr() {
    let live = Live::start();
    let url = live.groups_url();
    let env = live.env();

    let output = Command::new(BINARY)
        .args(["sign", "--verbose", "--header", "If-Match:  \"3\" "])
        .args(["GET", &url])
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    let sent = live.bash(
        r#"curl -s "$URL" -H @<($UG sign --header 'If-Match: "3"' GET "$URL") -w '\n%{http_code}'"#,
        &[],
    );

    assert!(output.status.success());
    let printed = stdout(&output);
    let names: Vec<&str> = printed
        .lines()
        .map(|line| line.split_once(": ").expect("Name: value").0)
        .collect();
    assert_eq!(
        names,
        ["host", "x-onlive-site-date", "if-match", "authorization"]
    );
    assert!(
        printed.contains("SignedHeaders=host;if-match;x-onlive-site-date, Signature="),
        "{printed}"
    );
    let explained = String::from_utf8_lossy(&output.stderr);
    assert!(
        explained.contains("--- canonical request\nGET\n/api/v1/user-groups\n\nhost:"),
        "{explained}"
    );
    assert!(explained.contains("\nif-match:\"3\"\n"), "{explained}");
    assert!(explained.contains("--- string to sign\nONLIVESITE-HMAC-SHA256\n"));
    assert!(!explained.contains(live.credentials.secret_access_key()));
    assert_eq!(status_and_body(&stdout(&sent)).0, 200);
}

#[test]
fn the_sign_command_without_credentials_says_where_to_put_them() {
    let dir = ScratchDir::new();

    let output = Command::new(BINARY)
        .args(["sign", "GET", "http://127.0.0.1:8080/api/v1/user-groups"])
        .env_remove("USERGROUPS_ACCESS_KEY_ID")
        .env_remove("USERGROUPS_SECRET_ACCESS_KEY")
        .current_dir(&dir.0)
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no half-signed headers");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("USERGROUPS_ACCESS_KEY_ID")
            && stderr.contains("usergroups-credentials.json"),
        "{stderr}"
    );
}

#[test]
fn the_sign_command_adds_a_nonce_only_to_writes_and_refuses_headers_it_sets_itself() {
    let sign = |args: &[&str]| {
        Command::new(BINARY)
            .arg("sign")
            .args(args)
            .env("USERGROUPS_ACCESS_KEY_ID", "OLAKEXAMPLE")
            .env("USERGROUPS_SECRET_ACCESS_KEY", "secret")
            .output()
            .unwrap()
    };
    let url = "http://127.0.0.1:8080/api/v1/user-groups";
    let has_nonce = |output: &Output| stdout(output).contains("\nx-onlive-site-nonce: ");

    let write = sign(&["PUT", url]);
    let read = sign(&["GET", url]);
    let opted_out = sign(&["--no-nonce", "DELETE", url]);
    let own_nonce = sign(&["--header", "X-Onlive-Site-Nonce: mine", "POST", url]);
    let host = sign(&["--header", "Host: elsewhere", "GET", url]);
    let nameless = sign(&["--header", ": value", "GET", url]);

    assert!(has_nonce(&write), "{}", stdout(&write));
    assert!(!has_nonce(&read), "{}", stdout(&read));
    assert!(!has_nonce(&opted_out), "{}", stdout(&opted_out));
    assert_eq!(
        stdout(&own_nonce).matches("x-onlive-site-nonce: ").count(),
        1
    );
    assert!(stdout(&own_nonce).contains("x-onlive-site-nonce: mine"));
    assert!(!host.status.success() && host.stdout.is_empty());
    assert!(!nameless.status.success() && nameless.stdout.is_empty());
}

// --- examples/signed-curl.sh -----------------------------------------------------------------

#[test]
fn the_shell_script_creates_and_soft_deletes_a_group_with_curl_and_openssl_only() {
    let live = Live::start();
    let body = r#"{"name":"Scripted","extraFields":{"shell":true}}"#;

    let created = live.bash(
        r#""$SCRIPT" --data "$BODY" POST "$URL" -w '\n%{http_code}'"#,
        &[("BODY", body)],
    );
    let (status, group) = status_and_body(&stdout(&created));
    assert_eq!(status, 201, "{group}");
    let id = group["id"].as_str().unwrap();
    let deleted = live.bash(
        r#""$SCRIPT" DELETE "$URL/$ID" -w '\n%{http_code}'"#,
        &[("ID", id)],
    );
    let after = live.bash(
        r#""$SCRIPT" GET "$URL/$ID" -w '\n%{http_code}'"#,
        &[("ID", id)],
    );

    let (status, deleted) = status_and_body(&stdout(&deleted));
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["extraFields"], json!({"shell": true}));
    assert!(deleted["deletedAt"].is_string(), "{deleted}");
    assert_eq!(status_and_body(&stdout(&after)).0, 404);
}

#[test]
fn the_shell_script_signs_encoded_searches_and_identical_writes_like_the_server_expects() {
    let live = Live::start();
    live.group("50% off_sale été");
    live.group("500 offXsale ete");
    let missing = format!("{}/{}", live.groups_url(), uuid::Uuid::now_v7());

    let found = live.bash(
        r#""$SCRIPT" GET "$URL?limit=5&search=%25%20off_sale+%C3%A9T%C3%A9" -w '\n%{http_code}'"#,
        &[],
    );
    let twice = live.bash(
        r#"for _ in 1 2 3; do "$SCRIPT" DELETE "$M" -w '\n%{http_code}\n'; done"#,
        &[("M", &missing)],
    );

    let (status, page) = status_and_body(&stdout(&found));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let text = stdout(&twice);
    let statuses: Vec<&str> = text.lines().filter(|l| l.len() == 3).collect();
    assert_eq!(statuses, ["404", "404", "404"], "no replay: {text}");
}

#[test]
fn the_shell_script_falls_back_to_the_first_run_credentials_file() {
    let live = Live::start();
    live.group("Sales");

    let output = Command::new("bash")
        .args([SCRIPT, "GET", &live.groups_url(), "-w", "\n%{http_code}"])
        .env_remove("USERGROUPS_ACCESS_KEY_ID")
        .env_remove("USERGROUPS_SECRET_ACCESS_KEY")
        .current_dir(&live.dir.0)
        .output()
        .unwrap();

    let (status, page) = status_and_body(&stdout(&output));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1);
}

/// `signing.md`'s worked cases, run through the script's `--dry-run --verbose`: the canonical
/// request, the string to sign and the `Authorization` must match byte for byte.
#[test]
fn the_shell_script_reproduces_every_reference_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors.json");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(!cases.is_empty());

    for case in cases {
        let name = case["name"].as_str().unwrap();
        let text = |field: &str| case[field].as_str().unwrap().to_owned();
        let mut host = String::new();
        let mut date = String::new();
        let mut args = vec![
            "--dry-run".to_owned(),
            "--verbose".to_owned(),
            "--no-nonce".to_owned(),
        ];
        for header in case["headers"].as_array().unwrap() {
            let (header, value) = (header[0].as_str().unwrap(), header[1].as_str().unwrap());
            match header {
                "host" => host = value.to_owned(),
                "x-onlive-site-date" => date = value.to_owned(),
                // The script sends it with --data, unsigned, as the case does.
                "content-type" => {}
                _ => args.extend(["--header".to_owned(), format!("{header}:{value}")]),
            }
        }
        if !text("body").is_empty() {
            args.extend(["--data".to_owned(), text("body")]);
        }
        args.extend(["--date".to_owned(), date]);
        args.extend([text("method"), format!("http://{host}{}", text("target"))]);

        let output = Command::new("bash")
            .arg(SCRIPT)
            .args(&args)
            .env("USERGROUPS_ACCESS_KEY_ID", text("access_key_id"))
            .env("USERGROUPS_SECRET_ACCESS_KEY", text("secret"))
            .output()
            .unwrap();

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        let explained = stderr
            .strip_prefix("--- canonical request\n")
            .unwrap_or_else(|| panic!("{name}: {stderr}"));
        let (canonical, string_to_sign) = explained
            .split_once("\n--- string to sign\n")
            .unwrap_or_else(|| panic!("{name}: {stderr}"));
        assert_eq!(canonical, text("canonical_request"), "{name}");
        assert_eq!(
            string_to_sign.trim_end_matches('\n'),
            text("string_to_sign"),
            "{name}"
        );
        let printed = stdout(&output);
        let authorization = printed
            .lines()
            .find_map(|line| line.strip_prefix("authorization: "))
            .unwrap_or_else(|| panic!("{name}: {printed}"));
        assert_eq!(authorization, text("authorization"), "{name}");
    }
}

#[test]
fn the_client_makes_writes_conditional_and_creates_idempotent_and_the_first_run_key_lacks_the_lifecycle_reads(
) {
    let live = Live::start();
    let once = WriteOptions {
        idempotency_key: Some("client-create-1".to_owned()),
        ..WriteOptions::default()
    };
    let new = CreateGroup {
        name: "Tagged".to_owned(),
        ..CreateGroup::default()
    };

    let created = live.client.create_group_with(&new, &once).unwrap();
    let replayed = live.client.create_group_with(&new, &once).unwrap();
    let read = live.client.get_group_tagged(&created.value.id).unwrap();
    let stale = WriteOptions {
        if_match: Some("\"0\"".to_owned()),
        ..WriteOptions::default()
    };
    let refused = live.client.update_group_with(
        &created.value.id,
        &UpdateGroup {
            name: Some("Lost".to_owned()),
            ..UpdateGroup::default()
        },
        &stale,
    );
    let fresh = WriteOptions {
        if_match: read.etag.clone(),
        ..WriteOptions::default()
    };
    let deleted = live
        .client
        .delete_group_with(&created.value.id, &fresh)
        .unwrap();
    let events = live.client.list_events(None, Some(10));
    let deleted_list = live.client.list_deleted_groups(&ListDeleted::default());

    assert_eq!(
        replayed.value.id, created.value.id,
        "the first answer again"
    );
    assert_eq!(created.etag.as_deref(), Some("\"1\""));
    assert_eq!(read.etag, created.etag);
    assert_eq!(service_error(refused).status_code, 412);
    assert!(deleted.value.deleted_at.is_some());
    assert_ne!(deleted.etag, read.etag);
    assert_eq!(service_error(events).status_code, 403);
    assert_eq!(service_error(deleted_list).status_code, 403);
}
