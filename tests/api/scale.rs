//! Several instances on one database, as a scaled-out deployment runs: two real `usergroups
//! serve` processes share every piece of state through the database (the replay guard,
//! revocation, the data) and keep the contract's invariants while both take concurrent
//! requests. Runs on SQLite (two processes, one file) and on PostgreSQL.

use std::thread;

use serde_json::json;
use usergroups::auth::signer;
use usergroups::db::{self, DatabaseUrl, PoolOptions};

use crate::helpers::count;
use crate::live_server::{command, database_for, first_run_credentials, ScratchDir, Server};

/// Two instances on one fresh database, and a direct pool for checking rows.
struct Pair {
    a: Server,
    b: Server,
    url: String,
    _database: Option<crate::helpers::TestDatabase>,
    dir: ScratchDir,
}

impl Pair {
    fn start() -> Pair {
        let dir = ScratchDir::new();
        let (database, url) = database_for(&dir.0);
        let a = Server::start(&dir.0, &url);
        let b = Server::start(&dir.0, &url);
        Pair {
            a,
            b,
            url,
            _database: database,
            dir,
        }
    }

    fn count(&self, sql: &str) -> i64 {
        let url: DatabaseUrl = self.url.parse().unwrap();
        let pool = db::pool(&url, PoolOptions::for_url(&url));
        let mut conn = pool.get().unwrap();
        count(&mut conn, sql)
    }
}

#[test]
fn a_write_replayed_through_the_other_instance_is_refused() {
    let pair = Pair::start();
    let (credentials, _) = first_run_credentials(&pair.dir.0);
    let body = br#"{"name":"Once"}"#;
    let mut headers = signer::sign(
        &credentials,
        "POST",
        "localhost",
        "/api/v1/user-groups",
        &[],
        body,
        chrono::Utc::now(),
    )
    .headers;
    headers.push(("content-type".to_owned(), "application/json".to_owned()));

    let (first, _, created) = pair.a.send("POST", "/api/v1/user-groups", &headers, body);
    let (replayed, _, refused) = pair.b.send("POST", "/api/v1/user-groups", &headers, body);

    assert_eq!(first, 201, "{created}");
    assert_eq!(replayed, 401);
    assert_eq!(refused["reason"], "replayed_request");
    assert_eq!(pair.count("SELECT COUNT(*) AS n FROM user_groups"), 1);
}

#[test]
fn what_one_instance_writes_the_other_sees_at_once() {
    let pair = Pair::start();
    let (credentials, _) = first_run_credentials(&pair.dir.0);

    let (_, _, group) = pair.a.signed(
        &credentials,
        "POST",
        "/api/v1/user-groups",
        Some(&json!({"name": "Shared"})),
    );
    let target = format!("/api/v1/user-groups/{}", group["id"].as_str().unwrap());
    let (seen, _, _) = pair.b.signed(&credentials, "GET", &target, None);
    let (deleted, _, _) = pair.b.signed(&credentials, "DELETE", &target, None);
    let (gone, _, _) = pair.a.signed(&credentials, "GET", &target, None);

    assert_eq!((seen, deleted, gone), (200, 200, 404));
}

#[test]
fn a_key_revoked_from_the_command_line_is_refused_by_every_instance() {
    let pair = Pair::start();
    let (_, file) = first_run_credentials(&pair.dir.0);
    let org = file["organizationId"].as_str().unwrap();
    let key = command(&pair.dir.0, &pair.url, &["key", "create", "--org", org]);
    let credentials = signer::Credentials::new(
        key["accessKeyId"].as_str().unwrap(),
        key["secretAccessKey"].as_str().unwrap(),
    );
    let (before_a, _, _) = pair.a.signed(&credentials, "GET", "/api/v1/users", None);
    let (before_b, _, _) = pair.b.signed(&credentials, "GET", "/api/v1/users", None);

    command(
        &pair.dir.0,
        &pair.url,
        &["key", "revoke", key["accessKeyId"].as_str().unwrap()],
    );
    let delete = |server: &Server| {
        let target = format!("/api/v1/user-groups/{}", uuid::Uuid::now_v7());
        server.signed(&credentials, "DELETE", &target, None)
    };
    let (write_a, _, write_body_a) = delete(&pair.a);
    let (write_b, _, write_body_b) = delete(&pair.b);
    // Reads trust each instance's key cache for up to a second.
    std::thread::sleep(usergroups::auth::key_cache::FRESHNESS);
    let (after_a, _, body_a) = pair.a.signed(&credentials, "GET", "/api/v1/users", None);
    let (after_b, _, body_b) = pair.b.signed(&credentials, "GET", "/api/v1/users", None);

    assert_eq!((before_a, before_b), (200, 200));
    assert_eq!((write_a, write_b), (401, 401), "writes are refused at once");
    assert_eq!(write_body_a["reason"], "revoked_access_key");
    assert_eq!(write_body_b["reason"], "revoked_access_key");
    assert_eq!((after_a, after_b), (401, 401));
    assert_eq!(body_a["reason"], "revoked_access_key");
    assert_eq!(body_b["reason"], "revoked_access_key");
}

#[test]
fn deletes_and_joins_racing_across_two_instances_keep_every_deleted_group_empty() {
    const PAIRS: usize = 30;
    let pair = Pair::start();
    let (credentials, _) = first_run_credentials(&pair.dir.0);
    let groups: Vec<String> = (0..PAIRS)
        .map(|i| {
            let (status, _, group) = pair.a.signed(
                &credentials,
                "POST",
                "/api/v1/user-groups",
                Some(&json!({"name": format!("Race {i}")})),
            );
            assert_eq!(status, 201, "{group}");
            group["id"].as_str().unwrap().to_owned()
        })
        .collect();

    let outcomes: Vec<(u16, u16)> = thread::scope(|scope| {
        let racers: Vec<_> = groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                // Each side goes to a different instance, alternating which.
                let (deleter, joiner) = if i % 2 == 0 { (&pair.a, &pair.b) } else { (&pair.b, &pair.a) };
                let credentials = &credentials;
                let delete = scope.spawn(move || {
                    deleter.signed(credentials, "DELETE", &format!("/api/v1/user-groups/{group}"), None).0
                });
                let join = scope.spawn(move || {
                    let user = json!({"firstName": "R", "lastName": "C", "email": format!("r{i}@example.com"), "userGroupId": group});
                    joiner.signed(credentials, "POST", "/api/v1/users", Some(&user)).0
                });
                (delete, join)
            })
            .collect();
        racers
            .into_iter()
            .map(|(delete, join)| (delete.join().unwrap(), join.join().unwrap()))
            .collect()
    });

    for (delete, join) in &outcomes {
        assert!(*delete < 500 && *join < 500, "no 5xx: {outcomes:?}");
        assert!(
            (*delete == 200 && *join == 400) ^ (*delete == 403 && *join == 201),
            "exactly one side of each pair wins: {outcomes:?}"
        );
    }
    let violations = pair.count(
        "SELECT COUNT(*) AS n FROM users u JOIN user_groups g ON g.id = u.user_group_id \
         WHERE u.deleted_at IS NULL AND g.deleted_at IS NOT NULL",
    );
    assert_eq!(violations, 0);
}

#[test]
fn concurrent_creates_of_one_name_on_two_instances_leave_one_live_group() {
    let pair = Pair::start();
    let (credentials, _) = first_run_credentials(&pair.dir.0);

    let statuses: Vec<u16> = thread::scope(|scope| {
        let attempts: Vec<_> = (0..12)
            .map(|i| {
                let server = if i % 2 == 0 { &pair.a } else { &pair.b };
                let credentials = &credentials;
                scope.spawn(move || {
                    server
                        .signed(
                            credentials,
                            "POST",
                            "/api/v1/user-groups",
                            Some(&json!({"name": "Contended"})),
                        )
                        .0
                })
            })
            .collect();
        attempts
            .into_iter()
            .map(|attempt| attempt.join().unwrap())
            .collect()
    });

    let created = statuses.iter().filter(|s| **s == 201).count();
    let conflicts = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, conflicts), (1, 11), "{statuses:?}");
}

#[test]
fn instances_starting_together_on_an_empty_database_set_it_up_once() {
    let dir_a = ScratchDir::new();
    let dir_b = ScratchDir::new();
    let (_database, url) = database_for(&dir_a.0);

    let (a, b) = thread::scope(|scope| {
        let a = scope.spawn(|| Server::start(&dir_a.0, &url));
        let b = scope.spawn(|| Server::start(&dir_b.0, &url));
        (a.join().unwrap(), b.join().unwrap())
    });

    let url: DatabaseUrl = url.parse().unwrap();
    let mut conn = db::pool(&url, PoolOptions::for_url(&url)).get().unwrap();
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM organizations"),
        1
    );
    let written = [&dir_a, &dir_b]
        .iter()
        .filter(|dir| dir.0.join("usergroups-credentials.json").exists())
        .count();
    assert_eq!(
        written, 1,
        "exactly one instance wrote first-run credentials"
    );
    drop((a, b));
}
