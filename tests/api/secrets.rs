//! Secrets at rest: access-key secrets are sealed under a master key kept out of the database,
//! so a copy of the database alone signs nothing; a wrong key is named at start; plaintext
//! secrets of an older database are sealed at start; the master key rotates, crash-safely, with
//! every key still signing; and neither a secret nor the master key reaches a log. In-process
//! and through the real binary, on SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use usergroups::auth::signer::Credentials;
use usergroups::db::{self, DatabaseUrl, DbPool, PoolOptions};
use usergroups::ids::AccessKeyId;
use usergroups::models::AccessKey;
use usergroups::secrets::{
    self, pending_key_file, read_key_file, KeySource, Keyring, MasterKey, Reseal, MASTER_KEY_FILE,
    MASTER_KEY_VAR, NEW_MASTER_KEY_VAR,
};
use usergroups::Limits;

use crate::helpers::{app_with_keys, TestApp, TestDatabase};
use crate::live_server::{
    command_key, database_for, first_run_credentials, ScratchDir, Server, BINARY,
};

/// An in-process app whose master key lives in a key file in a scratch directory, as `serve`
/// runs without `USERGROUPS_MASTER_KEY`.
struct FileKeyedApp {
    app: TestApp,
    pool: DbPool,
    key_file: PathBuf,
    _dir: ScratchDir,
}

impl FileKeyedApp {
    fn start() -> FileKeyedApp {
        let (database, url) = TestDatabase::create();
        let pool = db::init(&url, PoolOptions::for_url(&url)).expect("the database initializes");
        let dir = ScratchDir::new();
        let key_file = dir.0.join(MASTER_KEY_FILE);
        let keyring = secrets::prepare(&pool, &KeySource::File(key_file.clone()))
            .expect("a key file is created");
        let app = app_with_keys(database, pool.clone(), Limits::default(), keyring);
        FileKeyedApp {
            app,
            pool,
            key_file,
            _dir: dir,
        }
    }

    /// What the next start would do.
    /// What the next start would do; the instance's key cache starts empty, as a new
    /// process's does.
    fn restart(&mut self) -> Keyring {
        self.app.state.key_cache = Default::default();
        secrets::prepare(&self.pool, &KeySource::File(self.key_file.clone()))
            .expect("the next start succeeds")
    }
}

/// Every stored secret, as stored.
fn stored_secrets(pool: &DbPool) -> Vec<String> {
    secrets::stored_secrets(&mut pool.get().unwrap()).unwrap()
}

/// Answers whether `credentials` sign a read that `app` accepts, and the answer.
async fn signs(app: &TestApp, credentials: &Credentials) -> (bool, Value) {
    let response = app
        .call("GET", "/api/v1/user-groups")
        .credentials(credentials)
        .send()
        .await;
    (response.status.as_u16() == 200, response.body)
}

fn hex_of(key_file: &Path) -> String {
    std::fs::read_to_string(key_file).unwrap().trim().to_owned()
}

/// Runs a command of the binary in `dir` on `url` with `env`, returning its whole output.
fn run(dir: &Path, url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

/// What `serve` says when it refuses to start; fails the test if it starts instead.
fn serve_refusal(dir: &Path, url: &str, env: &[(&str, &str)]) -> String {
    let mut child = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("serve started: {}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[actix_web::test]
async fn the_database_holds_no_secret_in_plaintext_only_sealed_forms() {
    let keyed = FileKeyedApp::start();
    let extra = keyed.app.key_with("user-groups:read");

    let stored = stored_secrets(&keyed.pool);

    assert_eq!(stored.len(), 2);
    for secret in [&keyed.app.credentials, &extra].map(|c| c.secret_access_key().to_owned()) {
        assert!(
            stored.iter().all(|s| !s.contains(&secret)),
            "a plaintext secret is stored"
        );
    }
    let fingerprint = read_key_file(&keyed.key_file).unwrap().unwrap();
    assert!(stored
        .iter()
        .all(|s| s.starts_with(&format!("v1:{}:", fingerprint.fingerprint()))));
    assert!(signs(&keyed.app, &extra).await.0);
}

#[actix_web::test]
async fn a_secret_under_a_master_key_the_instance_lacks_is_a_401_never_a_500() {
    let mut app = crate::helpers::spawn_app().await;
    app.state.master_keys = Keyring::ephemeral().unwrap();

    let response = app.get("/api/v1/user-groups").await;

    response.assert_error(401);
    assert_eq!(response.reason(), "signature_mismatch");
}

#[actix_web::test]
async fn an_instance_lacking_the_master_key_of_stored_secrets_is_not_ready() {
    let mut app = crate::helpers::spawn_app().await;
    let ready_with_its_key = app.call("GET", "/readyz").unsigned().send().await;

    app.state.master_keys = Keyring::ephemeral().unwrap();
    let ready_with_another_key = app.call("GET", "/readyz").unsigned().send().await;

    assert_eq!(
        ready_with_its_key.status.as_u16(),
        200,
        "{}",
        ready_with_its_key.body
    );
    ready_with_another_key.assert_error(503);
}

#[actix_web::test]
async fn a_sealed_secret_copied_into_another_keys_row_does_not_verify() {
    let app = crate::helpers::spawn_app().await;
    let other = app.key_with("user-groups:read");
    let mut conn = app.connection();
    let first = AccessKey::find(
        &mut conn,
        &AccessKeyId::from(app.credentials.access_key_id.as_str()),
    )
    .unwrap()
    .unwrap();
    secrets::store_sealed_secret(
        &mut conn,
        &AccessKeyId::from(other.access_key_id.as_str()),
        &first.sealed_secret,
    )
    .unwrap();
    drop(conn);
    // The other key's id with the first key's secret: what the moved row would accept.
    let forged = Credentials::new(
        other.access_key_id.clone(),
        app.credentials.secret_access_key(),
    );

    let response = app
        .call("GET", "/api/v1/user-groups")
        .credentials(&forged)
        .send()
        .await;

    response.assert_error(401);
    assert_eq!(response.reason(), "signature_mismatch");
}

#[actix_web::test]
async fn a_plaintext_secret_of_an_older_database_is_refused_until_the_start_seals_it() {
    let mut keyed = FileKeyedApp::start();
    let credentials = keyed.app.credentials.clone();
    secrets::store_sealed_secret(
        &mut keyed.pool.get().unwrap(),
        &AccessKeyId::from(credentials.access_key_id.as_str()),
        credentials.secret_access_key(),
    )
    .unwrap();
    let (before, _) = signs(&keyed.app, &credentials).await;

    keyed.restart();

    assert!(
        !before,
        "a plaintext row is not trusted before it is sealed"
    );
    let stored = stored_secrets(&keyed.pool);
    assert!(stored.iter().all(|s| s.starts_with("v1:")), "{stored:?}");
    assert!(stored
        .iter()
        .all(|s| !s.contains(credentials.secret_access_key())));
    let (after, body) = signs(&keyed.app, &credentials).await;
    assert!(after, "{body}");
}

#[actix_web::test]
async fn a_rotation_reseals_every_key_and_all_of_them_still_sign_without_a_restart() {
    let mut keyed = FileKeyedApp::start();
    let keys = [
        keyed.app.credentials.clone(),
        keyed.app.key_with("users:read,user-groups:read"),
        keyed.app.key_with("user-groups:read"),
    ];
    let old = read_key_file(&keyed.key_file).unwrap().unwrap();
    let new = MasterKey::generate().unwrap();

    let rotation =
        secrets::rotate(&keyed.pool, &KeySource::File(keyed.key_file.clone()), &new).unwrap();

    assert_eq!(rotation.resealed, 3);
    assert_eq!(rotation.old_fingerprint, old.fingerprint());
    assert_eq!(rotation.new_fingerprint, new.fingerprint());
    assert_eq!(read_key_file(&keyed.key_file).unwrap(), Some(new.clone()));
    assert!(!pending_key_file(&keyed.key_file).exists());
    let prefix = format!("v1:{}:", new.fingerprint());
    assert!(stored_secrets(&keyed.pool)
        .iter()
        .all(|s| s.starts_with(&prefix)));
    for key in &keys {
        let (ok, body) = signs(&keyed.app, key).await;
        assert!(ok, "the running app picks the new key up: {body}");
    }
    let restarted = keyed.restart();
    assert_eq!(restarted.fingerprints(), vec![new.fingerprint().to_owned()]);
}

/// The steps of a key-file rotation, to stop after any of them.
#[derive(Debug, Clone, Copy)]
enum StoppedAfter {
    /// A temporary file half written, not yet renamed to the pending name.
    TemporaryFile,
    /// The pending key file written.
    PendingFile,
    /// The pending key file written and every secret re-sealed under it.
    Reseal,
}

#[actix_web::test]
async fn a_rotation_interrupted_after_any_step_recovers_at_the_next_start() {
    for stopped in [
        StoppedAfter::TemporaryFile,
        StoppedAfter::PendingFile,
        StoppedAfter::Reseal,
    ] {
        let mut keyed = FileKeyedApp::start();
        let other = keyed.app.key_with("user-groups:read");
        let old = read_key_file(&keyed.key_file).unwrap().unwrap();
        let new = MasterKey::generate().unwrap();
        match stopped {
            StoppedAfter::TemporaryFile => {
                let mut name = pending_key_file(&keyed.key_file).into_os_string();
                name.push(".0123.tmp");
                std::fs::write(name, "0123").unwrap();
            }
            StoppedAfter::PendingFile => {
                secrets::write_pending_key_file(&keyed.key_file, &new).unwrap();
            }
            StoppedAfter::Reseal => {
                secrets::write_pending_key_file(&keyed.key_file, &new).unwrap();
                let both = Keyring::new(new.clone(), vec![old.clone()], None);
                secrets::reseal(&mut keyed.pool.get().unwrap(), &both, &new, Reseal::All).unwrap();
            }
        }
        for key in [&keyed.app.credentials, &other] {
            let (ok, body) = signs(&keyed.app, key).await;
            assert!(ok, "{stopped:?}: the running app keeps verifying: {body}");
        }

        let keyring = keyed.restart();

        let expected = match stopped {
            StoppedAfter::TemporaryFile => &old,
            StoppedAfter::PendingFile | StoppedAfter::Reseal => &new,
        };
        assert_eq!(
            read_key_file(&keyed.key_file).unwrap().as_ref(),
            Some(expected),
            "{stopped:?}"
        );
        assert!(!pending_key_file(&keyed.key_file).exists(), "{stopped:?}");
        assert_eq!(keyring.sealing_key(), *expected, "{stopped:?}");
        let prefix = format!("v1:{}:", expected.fingerprint());
        assert!(
            stored_secrets(&keyed.pool)
                .iter()
                .all(|s| s.starts_with(&prefix)),
            "{stopped:?}"
        );
        let mut restarted = keyed.app;
        restarted.state.master_keys = keyring;
        for key in [&restarted.credentials, &other] {
            let (ok, body) = signs(&restarted, key).await;
            assert!(ok, "{stopped:?}: after the next start: {body}");
        }
    }
}

#[test]
fn a_first_start_creates_a_private_key_file_logs_its_path_and_never_its_content() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);

    let server = Server::start(&dir.0, &url);

    let key_file = dir.0.join(MASTER_KEY_FILE);
    let log = server.log_text();
    let logged = key_file.canonicalize().unwrap();
    assert!(log.contains(&logged.display().to_string()), "{log}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (credentials, _) = first_run_credentials(&dir.0);
    assert!(
        !log.contains(&hex_of(&key_file)),
        "the master key was logged"
    );
    assert!(!log.contains(credentials.secret_access_key()));
}

#[test]
fn keys_made_on_the_command_line_are_stored_sealed_and_sign_through_a_rotation_and_a_restart() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);
    let (first, file) = first_run_credentials(&dir.0);
    let (_, second) = command_key(&dir.0, &url, file["organizationId"].as_str().unwrap(), None);
    let parsed: DatabaseUrl = url.parse().unwrap();
    let pool = db::pool(&parsed, PoolOptions::for_url(&parsed));
    let old_hex = hex_of(&dir.0.join(MASTER_KEY_FILE));

    let stored = stored_secrets(&pool);
    let rotated = run(&dir.0, &url, &[], &["master-key", "rotate"]);
    let rotation = json_of(&rotated);

    for credentials in [&first, &second] {
        assert!(stored
            .iter()
            .all(|s| !s.contains(credentials.secret_access_key())));
    }
    assert_eq!(rotation["resealed"], 2, "{rotation}");
    assert_ne!(rotation["oldFingerprint"], rotation["newFingerprint"]);
    let new_hex = hex_of(&dir.0.join(MASTER_KEY_FILE));
    assert_ne!(old_hex, new_hex);
    for credentials in [&first, &second] {
        let (status, _, body) = server.signed(credentials, "GET", "/api/v1/user-groups", None);
        assert_eq!(
            status, 200,
            "the running server follows the rotation: {body}"
        );
    }
    let everything_said = format!(
        "{}\n{}\n{}",
        server.log_text(),
        String::from_utf8_lossy(&rotated.stdout),
        String::from_utf8_lossy(&rotated.stderr)
    );
    drop(server);
    let restarted = Server::start(&dir.0, &url);
    for credentials in [&first, &second] {
        let (status, _, body) = restarted.signed(credentials, "GET", "/api/v1/user-groups", None);
        assert_eq!(status, 200, "after a restart: {body}");
    }
    let everything_said = format!("{everything_said}\n{}", restarted.log_text());
    for secret in [
        old_hex.as_str(),
        new_hex.as_str(),
        first.secret_access_key(),
        second.secret_access_key(),
    ] {
        assert!(
            !everything_said.contains(secret),
            "a secret or master key was logged or printed"
        );
    }
}

#[test]
fn a_copy_of_the_database_without_its_master_key_cannot_start_and_says_which_key_it_needs() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    drop(Server::start(&dir.0, &url));
    let sealed_with = read_key_file(&dir.0.join(MASTER_KEY_FILE))
        .unwrap()
        .unwrap();
    let other = MasterKey::generate().unwrap();
    // The copy: the same database, served from elsewhere, without the key file.
    let elsewhere = ScratchDir::new();
    let elsewhere_url = match url.strip_prefix("sqlite://") {
        Some(path) => {
            // The whole database: the file and its write-ahead log.
            for suffix in ["", "-wal"] {
                let from = format!("{path}{suffix}");
                if Path::new(&from).exists() {
                    let to = elsewhere.0.join(format!("usergroups.db{suffix}"));
                    std::fs::copy(from, to).unwrap();
                }
            }
            format!("sqlite://{}", elsewhere.0.join("usergroups.db").display())
        }
        None => url.clone(),
    };

    let with_another_key = serve_refusal(
        &elsewhere.0,
        &elsewhere_url,
        &[(MASTER_KEY_VAR, &other.to_hex())],
    );
    let without_a_key = serve_refusal(&elsewhere.0, &elsewhere_url, &[]);

    assert!(
        with_another_key.contains(&format!(
            "sealed with master key {}, the configured key is {}",
            sealed_with.fingerprint(),
            other.fingerprint()
        )),
        "{with_another_key}"
    );
    assert!(
        without_a_key.contains("no master key") && without_a_key.contains(MASTER_KEY_VAR),
        "{without_a_key}"
    );
    assert!(
        !elsewhere.0.join(MASTER_KEY_FILE).exists(),
        "no key file is made up for a sealed database"
    );
}

#[test]
fn a_bad_master_key_variable_is_refused_at_start_naming_it_and_not_its_value() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let bad = "0123456789abcdef-not-a-key";

    let refusal = serve_refusal(&dir.0, &url, &[(MASTER_KEY_VAR, bad)]);

    assert!(refusal.contains(MASTER_KEY_VAR), "{refusal}");
    assert!(!refusal.contains(bad), "the value was echoed: {refusal}");
    assert!(!dir.0.join(MASTER_KEY_FILE).exists());
}

#[test]
fn with_the_key_in_the_environment_a_rotation_accepts_both_keys_during_the_window() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let old = MasterKey::generate().unwrap();
    let old_hex = old.to_hex().to_string();
    let only_old = [(MASTER_KEY_VAR, old_hex.as_str())];
    drop(Server::start_with_env(&dir.0, &url, &only_old));
    let (credentials, _) = first_run_credentials(&dir.0);

    // Without a new key, the command proposes one and changes nothing.
    let proposal = json_of(&run(&dir.0, &url, &only_old, &["master-key", "rotate"]));
    let new_hex = proposal["newMasterKey"].as_str().unwrap().to_owned();
    let new = MasterKey::parse(&new_hex, "newMasterKey").unwrap();
    let both = [
        (MASTER_KEY_VAR, old_hex.as_str()),
        (NEW_MASTER_KEY_VAR, new_hex.as_str()),
    ];
    let window = Server::start_with_env(&dir.0, &url, &both);
    let rotation = json_of(&run(&dir.0, &url, &both, &["master-key", "rotate"]));
    let (during, _, body) = window.signed(&credentials, "GET", "/api/v1/user-groups", None);
    let window_log = window.log_text();
    drop(window);
    let refusal = serve_refusal(&dir.0, &url, &only_old);
    let only_new = Server::start_with_env(&dir.0, &url, &[(MASTER_KEY_VAR, new_hex.as_str())]);
    let (after, _, _) = only_new.signed(&credentials, "GET", "/api/v1/user-groups", None);

    assert_eq!(proposal["resealed"], 0);
    assert_eq!(proposal["oldFingerprint"], old.fingerprint());
    assert_eq!(proposal["newFingerprint"], new.fingerprint());
    assert!(!proposal.to_string().contains(&old_hex));
    assert_eq!(rotation["resealed"], 1, "{rotation}");
    assert!(
        rotation["next"].as_str().unwrap().contains(MASTER_KEY_VAR),
        "{rotation}"
    );
    assert_eq!(during, 200, "an instance holding both keys: {body}");
    assert!(
        refusal.contains(&format!("sealed with master key {}", new.fingerprint())),
        "{refusal}"
    );
    assert_eq!(after, 200);
    for log in [window_log, only_new.log_text()] {
        assert!(!log.contains(&old_hex) && !log.contains(&new_hex));
    }
}

#[test]
fn a_service_starting_after_an_interrupted_rotation_finishes_it_and_serves_every_key() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    drop(Server::start(&dir.0, &url));
    let (credentials, _) = first_run_credentials(&dir.0);
    let key_file = dir.0.join(MASTER_KEY_FILE);
    let old = read_key_file(&key_file).unwrap().unwrap();
    let new = MasterKey::generate().unwrap();
    // Killed between the re-seal's commit and the rename.
    secrets::write_pending_key_file(&key_file, &new).unwrap();
    let parsed: DatabaseUrl = url.parse().unwrap();
    let pool = db::pool(&parsed, PoolOptions::for_url(&parsed));
    let both = Keyring::new(new.clone(), vec![old], None);
    secrets::reseal(&mut pool.get().unwrap(), &both, &new, Reseal::All).unwrap();

    let server = Server::start(&dir.0, &url);

    let (status, _, body) = server.signed(&credentials, "GET", "/api/v1/user-groups", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(read_key_file(&key_file).unwrap(), Some(new));
    assert!(!pending_key_file(&key_file).exists());
    assert!(
        server
            .log_text()
            .contains("finished an interrupted master-key rotation"),
        "{}",
        server.log_text()
    );
}
