//! A real `usergroups serve` for tests that need one: started on a free port on the test
//! backend, spoken to in plain HTTP/1.1 over a socket, killed when dropped. Also the scratch
//! directory it runs in and the management commands.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use usergroups::auth::signer::{self, Credentials};

use crate::helpers::TestDatabase;

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_usergroups");

/// A scratch directory removed at the end of the test.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    /// A new empty directory under the system's temporary directory.
    pub fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("usergroups-bin-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        ScratchDir(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The database a binary test runs on: the test backend, with the SQLite file in `dir`.
pub fn database_for(dir: &Path) -> (Option<TestDatabase>, String) {
    let (database, url) = TestDatabase::create();
    if database.is_postgres() {
        let url = match &url {
            usergroups::db::DatabaseUrl::Postgres(url) => url.clone(),
            usergroups::db::DatabaseUrl::Sqlite(_) => unreachable!(),
        };
        (Some(database), url)
    } else {
        (
            None,
            format!("sqlite://{}", dir.join("usergroups.db").display()),
        )
    }
}

/// A running `usergroups serve`, killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub address: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `usergroups serve` in `dir` on `database_url` and waits until it listens.
    pub fn start(dir: &Path, database_url: &str) -> Server {
        Server::start_with_env(dir, database_url, &[])
    }

    /// [`Server::start`] with extra environment variables (`USERGROUPS_…` settings, or a
    /// `RUST_LOG` other than `info`).
    pub fn start_with_env(dir: &Path, database_url: &str, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .env("DATABASE_URL", database_url)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let address = log.lock().unwrap().iter().find_map(|line| {
                // The address ends the text line, or a string of the JSON one.
                let rest = line.split("listening on http://").nth(1)?;
                Some(rest.split(['"', ' ']).next().unwrap_or(rest).to_owned())
            });
            if let Some(address) = address {
                return Server {
                    child,
                    address,
                    log,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server exited with {status}: {:?}", log.lock().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start: {:?}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server logged so far.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends one request over a fresh connection and returns the status, headers and JSON body.
    pub fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> (u16, String, Value) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut request = format!("{method} {target} HTTP/1.1\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            request.push_str(&format!("host: {}\r\n", self.address));
        }
        request.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        stream.write_all(request.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (
            status,
            head.to_owned(),
            serde_json::from_str(body).unwrap_or(Value::Null),
        )
    }

    /// Sends a request signed with `credentials` (and a nonce, as a careful client does).
    pub fn signed(
        &self,
        credentials: &Credentials,
        method: &str,
        target: &str,
        body: Option<&Value>,
    ) -> (u16, String, Value) {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let nonce = vec![(
            "x-onlive-site-nonce".to_owned(),
            uuid::Uuid::new_v4().to_string(),
        )];
        let mut headers = signer::sign(
            credentials,
            method,
            &self.address,
            target,
            &nonce,
            &body,
            chrono::Utc::now(),
        )
        .headers;
        if !body.is_empty() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        self.send(method, target, &headers, &body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a management command and returns its one JSON object.
pub fn command(dir: &Path, database_url: &str, args: &[&str]) -> Value {
    let output = Command::new(BINARY)
        .args(args)
        .env("DATABASE_URL", database_url)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A key made by `usergroups key create` for `organization_id`, with `permissions` (the
/// command's default when `None`): what the command printed, and the credentials to sign with.
pub fn command_key(
    dir: &Path,
    database_url: &str,
    organization_id: &str,
    permissions: Option<&str>,
) -> (Value, Credentials) {
    let mut args = vec!["key", "create", "--org", organization_id];
    if let Some(permissions) = permissions {
        args.extend(["--permissions", permissions]);
    }
    let printed = command(dir, database_url, &args);
    let credentials = Credentials::new(
        printed["accessKeyId"].as_str().expect("an accessKeyId"),
        printed["secretAccessKey"]
            .as_str()
            .expect("a secretAccessKey"),
    );
    (printed, credentials)
}

/// The credentials the first start wrote into `dir`, and the whole file.
pub fn first_run_credentials(dir: &Path) -> (Credentials, Value) {
    let text = std::fs::read_to_string(dir.join("usergroups-credentials.json"))
        .expect("the credentials file");
    let file: Value = serde_json::from_str(&text).unwrap();
    let credentials = Credentials::new(
        file["accessKeyId"].as_str().unwrap(),
        file["secretAccessKey"].as_str().unwrap(),
    );
    (credentials, file)
}
