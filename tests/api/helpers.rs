//! The test harness: [`spawn_app`] builds the production route table (`usergroups::configure`)
//! on a fresh database (a SQLite file, or a PostgreSQL schema when `TEST_DATABASE_URL` is set),
//! with an organization and an all-permissions key, and sends requests signed by the crate's own
//! signer: raw ones (any method, path and JSON) for what a client would never send, and typed
//! ones over the SDK's request types (`usergroups::api`) for what a client does send.

use std::sync::{Arc, Mutex};

use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::{test, App};
use chrono::{DateTime, Utc};
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::{Connection, PgConnection};
use serde::Serialize;
use serde_json::{json, Value};

use usergroups::api::{CreateGroup, CreateUser, UpdateGroup, UpdateUser};
use usergroups::auth::signer::{self, Credentials};
use usergroups::auth::PermissionSet;
use usergroups::db::{self, DatabaseUrl, DbConnection, DbPool, PoolOptions};
use usergroups::ids::OrganizationId;
use usergroups::models::{AccessKey, Organization};
use usergroups::secrets::Keyring;
use usergroups::{configure, AppState, Limits};

/// The host every test request is signed for and sent to.
pub const HOST: &str = "localhost:8080";

/// The path of the group `id` (any text: a malformed id goes out as it is).
pub fn group_path(id: &str) -> String {
    format!("/api/v1/user-groups/{id}")
}

/// The path of the user `id` (any text: a malformed id goes out as it is).
pub fn user_path(id: &str) -> String {
    format!("/api/v1/users/{id}")
}

/// A database that exists for one test and is removed when the test ends.
pub enum TestDatabase {
    /// A SQLite file in the temporary directory.
    Sqlite(std::path::PathBuf),
    /// A schema of the `TEST_DATABASE_URL` database.
    Postgres { base_url: String, schema: String },
}

impl TestDatabase {
    /// A fresh, empty database for one test.
    pub fn create() -> (TestDatabase, DatabaseUrl) {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base_url) if !base_url.is_empty() => {
                let schema = format!("test_{unique}");
                let mut conn =
                    PgConnection::establish(&base_url).expect("TEST_DATABASE_URL answers");
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create the test schema");
                let separator = if base_url.contains('?') { '&' } else { '?' };
                let url = format!("{base_url}{separator}options=-csearch_path%3D{schema}");
                (
                    TestDatabase::Postgres { base_url, schema },
                    url.parse().expect("a postgres URL"),
                )
            }
            _ => {
                let path = std::env::temp_dir().join(format!("usergroups-test-{unique}.db"));
                let url = format!("sqlite://{}", path.display())
                    .parse()
                    .expect("a sqlite URL");
                (TestDatabase::Sqlite(path), url)
            }
        }
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres { .. })
    }

    /// The URL that opens this database (another pool on it is another instance).
    pub fn url(&self) -> DatabaseUrl {
        match self {
            TestDatabase::Sqlite(path) => format!("sqlite://{}", path.display())
                .parse()
                .expect("a sqlite URL"),
            TestDatabase::Postgres { base_url, schema } => {
                let separator = if base_url.contains('?') { '&' } else { '?' };
                format!("{base_url}{separator}options=-csearch_path%3D{schema}")
                    .parse()
                    .expect("a postgres URL")
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            TestDatabase::Postgres { base_url, schema } => {
                if let Ok(mut conn) = PgConnection::establish(base_url) {
                    let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            }
        }
    }
}

/// One application on its own database, with an organization and its all-permissions key.
pub struct TestApp {
    /// What the handlers see.
    pub state: AppState,
    /// The organization the default key acts for.
    pub organization_id: String,
    /// The default key (all permissions).
    pub credentials: Credentials,
    // Last, so the pool closes before the database is removed; shared by the instances of
    // one database (`second_instance`), which is removed when the last of them ends.
    _database: Arc<TestDatabase>,
}

/// An answer, with its body parsed as JSON (`Value::Null` for an empty or non-JSON body).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The body's `message`.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// The body's `reason`.
    pub fn reason(&self) -> &str {
        self.body["reason"].as_str().unwrap_or_default()
    }

    /// The fields named in the body's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the status and that the body is the contract's error body for it.
    #[track_caller]
    pub fn assert_error(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.body["statusCode"],
            json!(status),
            "body: {}",
            self.body
        );
        assert!(!self.message().is_empty(), "no message in {}", self.body);
        self
    }
}

/// Builds an app on a fresh database with the default limits.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Limits::default()).await
}

/// Builds an app on a fresh database with `limits`.
pub async fn spawn_app_with(limits: Limits) -> TestApp {
    let (database, database_url) = TestDatabase::create();
    let mut options = PoolOptions::for_url(&database_url);
    options.max_size = if database.is_postgres() { 16 } else { 4 };
    let pool = db::init(&database_url, options).expect("the test database initializes");
    app_on(database, pool, limits)
}

/// An app on `pool` (a pool of `database`, perhaps opened with special options or through a
/// proxy), with a random master key, a new organization and its all-permissions key.
pub fn app_on(database: TestDatabase, pool: DbPool, limits: Limits) -> TestApp {
    let master_keys = Keyring::ephemeral().expect("a random master key");
    app_with_keys(database, pool, limits, master_keys)
}

/// [`app_on`] with the given master keys.
pub fn app_with_keys(
    database: TestDatabase,
    pool: DbPool,
    limits: Limits,
    master_keys: Keyring,
) -> TestApp {
    let (organization_id, credentials) =
        new_organization(&pool, &master_keys, PermissionSet::all());
    TestApp {
        state: AppState {
            pool,
            limits,
            master_keys,
            key_cache: Default::default(),
        },
        organization_id,
        credentials,
        _database: Arc::new(database),
    }
}

/// Creates an organization with one key holding `permissions`, sealed under `master_keys`.
pub fn new_organization(
    pool: &DbPool,
    master_keys: &Keyring,
    permissions: PermissionSet,
) -> (String, Credentials) {
    let mut conn = pool.get().expect("a connection");
    let org = Organization::create(&mut conn, "Test organization").expect("create an organization");
    let (_, credentials) =
        AccessKey::create(&mut conn, master_keys, &org.id, permissions).expect("create a key");
    (org.id.into_inner(), credentials)
}

/// A request under construction: signed by default with the app's key, now, over every header
/// added with [`Call::signed_header`].
pub struct Call<'a> {
    app: &'a TestApp,
    method: String,
    target: String,
    body: Vec<u8>,
    content_type: Option<String>,
    signed_headers: Vec<(String, String)>,
    unsigned_headers: Vec<(String, String)>,
    credentials: Option<Credentials>,
    date: DateTime<Utc>,
    sign: bool,
}

impl<'a> Call<'a> {
    /// A JSON body (with `content-type: application/json`): a `Value`, or one of the SDK's
    /// request types, sent as serde writes it (so `extraFields` goes out byte for byte).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = serde_json::to_vec(body).expect("serializable");
        self.content_type = Some("application/json".to_owned());
        self
    }

    /// A raw body, sent as it is.
    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets (or with `None` removes) the content type.
    pub fn content_type(mut self, content_type: Option<&str>) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    /// Signs with other credentials.
    pub fn credentials(mut self, credentials: &Credentials) -> Self {
        self.credentials = Some(credentials.clone());
        self
    }

    /// Dates the request at `date` instead of now.
    pub fn dated(mut self, date: DateTime<Utc>) -> Self {
        self.date = date;
        self
    }

    /// Adds a header that is sent and signed.
    pub fn signed_header(mut self, name: &str, value: &str) -> Self {
        self.signed_headers
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a header sent after signing (not covered by the signature).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.unsigned_headers
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends the request with no signature at all.
    pub fn unsigned(mut self) -> Self {
        self.sign = false;
        self
    }

    /// The headers the request will carry, in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut headers = if self.sign {
            let credentials = self.credentials.as_ref().unwrap_or(&self.app.credentials);
            signer::sign(
                credentials,
                &self.method,
                HOST,
                &self.target,
                &self.signed_headers,
                &self.body,
                self.date,
            )
            .headers
        } else {
            let mut headers = vec![("host".to_owned(), HOST.to_owned())];
            headers.extend(self.signed_headers.iter().cloned());
            headers
        };
        if let Some(content_type) = &self.content_type {
            headers.push(("content-type".to_owned(), content_type.clone()));
        }
        headers.extend(self.unsigned_headers.iter().cloned());
        headers
    }

    /// Sends the request through the production route table.
    pub async fn send(self) -> TestResponse {
        self.send_copy().await
    }

    /// Sends the request and keeps it, so the very same signed request can be sent again.
    pub async fn send_copy(&self) -> TestResponse {
        let method = actix_web::http::Method::from_bytes(self.method.as_bytes()).expect("a method");
        let mut request = test::TestRequest::default()
            .method(method)
            .uri(&self.target)
            .set_payload(self.body.clone());
        for (name, value) in self.headers() {
            request = request.append_header((name, value));
        }
        self.app.call_raw(request).await
    }
}

impl TestApp {
    /// True when the app runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self._database.is_postgres()
    }

    /// Another instance of the service on the same database: its own pool (on SQLite its own
    /// writer thread), key cache and route table, the same organization, key and master keys.
    pub fn second_instance(&self) -> TestApp {
        let url = self._database.url();
        let mut options = PoolOptions::for_url(&url);
        options.max_size = if self.is_postgres() { 16 } else { 4 };
        let pool = db::init(&url, options).expect("a second pool on the test database");
        TestApp {
            state: AppState {
                pool,
                limits: self.state.limits.clone(),
                master_keys: self.state.master_keys.clone(),
                key_cache: Default::default(),
            },
            organization_id: self.organization_id.clone(),
            credentials: self.credentials.clone(),
            _database: Arc::clone(&self._database),
        }
    }

    /// Starts a request; send it with [`Call::send`].
    pub fn call(&self, method: &str, target: &str) -> Call<'_> {
        Call {
            app: self,
            method: method.to_owned(),
            target: target.to_owned(),
            body: Vec::new(),
            content_type: None,
            signed_headers: Vec::new(),
            unsigned_headers: Vec::new(),
            credentials: None,
            date: Utc::now(),
            sign: true,
        }
    }

    /// Sends a prepared request through a fresh instance of the production route table.
    pub async fn call_raw(&self, request: test::TestRequest) -> TestResponse {
        let app =
            test::init_service(App::new().configure(|cfg| configure(cfg, self.state.clone())))
                .await;
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// A signed GET.
    pub async fn get(&self, target: &str) -> TestResponse {
        self.call("GET", target).send().await
    }

    /// A write as a careful client sends it: with a signed nonce, so two identical writes in
    /// one second are not refused as a replay (`signing.md` §4).
    pub fn write(&self, method: &str, target: &str) -> Call<'_> {
        self.call(method, target)
            .signed_header("x-onlive-site-nonce", &uuid::Uuid::new_v4().to_string())
    }

    /// A signed DELETE (with a nonce).
    pub async fn delete(&self, target: &str) -> TestResponse {
        self.write("DELETE", target).send().await
    }

    /// A signed POST of JSON (with a nonce).
    pub async fn post(&self, target: &str, body: Value) -> TestResponse {
        self.write("POST", target).json(&body).send().await
    }

    /// A signed PUT of JSON (with a nonce).
    pub async fn put(&self, target: &str, body: Value) -> TestResponse {
        self.write("PUT", target).json(&body).send().await
    }

    /// A signed POST of `request` to the groups (with a nonce).
    pub async fn create_group_with(&self, request: &CreateGroup) -> TestResponse {
        self.write("POST", "/api/v1/user-groups")
            .json(request)
            .send()
            .await
    }

    /// A signed PUT of `request` to the group `id` (with a nonce).
    pub async fn update_group(&self, id: &str, request: &UpdateGroup) -> TestResponse {
        self.write("PUT", &group_path(id))
            .json(request)
            .send()
            .await
    }

    /// A signed POST of `request` to the users (with a nonce).
    pub async fn create_user_with(&self, request: &CreateUser) -> TestResponse {
        self.write("POST", "/api/v1/users")
            .json(request)
            .send()
            .await
    }

    /// A signed PUT of `request` to the user `id` (with a nonce).
    pub async fn update_user(&self, id: &str, request: &UpdateUser) -> TestResponse {
        self.write("PUT", &user_path(id)).json(request).send().await
    }

    /// Creates a group named `name` and returns it.
    pub async fn create_group(&self, name: &str) -> Value {
        let response = self
            .create_group_with(&CreateGroup {
                name: name.to_owned(),
                ..CreateGroup::default()
            })
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.body
    }

    /// Creates a user with `email`, in `group_id` if given, and returns it.
    pub async fn create_user(&self, email: &str, group_id: Option<&str>) -> Value {
        self.create_user_with_role(email, group_id, "creator").await
    }

    /// Creates a user with `email` and `role`, in `group_id` if given, and returns it.
    pub async fn create_user_with_role(
        &self,
        email: &str,
        group_id: Option<&str>,
        role: &str,
    ) -> Value {
        let response = self
            .post(
                "/api/v1/users",
                json!({ "firstName": "Ada", "lastName": "Lovelace", "email": email, "role": role, "userGroupId": group_id }),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.body
    }

    /// A key of this organization with only `permissions`.
    pub fn key_with(&self, permissions: &str) -> Credentials {
        let mut conn = self.connection();
        let (_, credentials) = AccessKey::create(
            &mut conn,
            &self.state.master_keys,
            &OrganizationId::from(self.organization_id.as_str()),
            permissions.parse().expect("permissions"),
        )
        .expect("create a key");
        credentials
    }

    /// A second organization and its all-permissions key.
    pub fn other_organization(&self) -> (String, Credentials) {
        new_organization(
            &self.state.pool,
            &self.state.master_keys,
            PermissionSet::all(),
        )
    }

    /// A connection to the test database, for arranging and checking rows directly.
    pub fn connection(&self) -> diesel::r2d2::PooledConnection<db::ConnectionManager> {
        self.state.pool.get().expect("a connection")
    }
}

/// Runs a raw SQL query returning one count, for checks across the whole database.
pub fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .expect("a count query")
        .n
}

/// An id no group or user has.
pub fn unknown_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The `id` of a group or user answer.
pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

/// The ids of a list answer's items, in order.
pub fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect()
}

/// The statements an app's connections ran, in order, without their bind values, and where
/// its transactions began and ended.
#[derive(Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<String>>>);

impl StatementLog {
    /// What was logged since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("the log"))
    }
}

impl Instrumentation for StatementLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        let entry = match event {
            // The binds hold the id under test, the request's signature and the time, which
            // differ between any two requests; the statement is what costs.
            InstrumentationEvent::StartQuery { query, .. } => query
                .to_string()
                .split(" -- binds: ")
                .next()
                .unwrap_or_default()
                .to_owned(),
            InstrumentationEvent::BeginTransaction { depth, .. } => format!("begin {depth}"),
            InstrumentationEvent::CommitTransaction { depth, .. } => format!("commit {depth}"),
            InstrumentationEvent::RollbackTransaction { depth, .. } => {
                format!("rollback {depth}")
            }
            // `CacheQuery` comes only the first time a statement is prepared: it tells which
            // request ran first, not what a request does.
            _ => return,
        };
        self.0.lock().expect("the log").push(entry);
    }
}

/// An app whose pooled connections all report to the returned log.
pub async fn spawn_app_with_statement_log() -> (TestApp, StatementLog) {
    let (database, database_url) = TestDatabase::create();
    let mut options = PoolOptions::for_url(&database_url);
    // Every connection the pool may hold is opened and instrumented here, so no request can be
    // served by a connection that does not report.
    options.max_size = 2;
    let pool = db::init(&database_url, options).expect("the test database initializes");
    let log = StatementLog::default();
    let mut connections: Vec<_> = (0..options.max_size)
        .map(|_| pool.get().expect("a connection"))
        .collect();
    for connection in &mut connections {
        connection.set_instrumentation(log.clone());
    }
    drop(connections);
    // On SQLite the writes run on the writer thread's own connection: instrument it too.
    let writer_log = log.clone();
    db::write(&pool, move |conn| {
        conn.set_instrumentation(writer_log.clone());
        Ok::<_, db::StoreError>(())
    })
    .await
    .expect("the writer takes a write");
    let mut app = app_on(database, pool, Limits::default());
    // Counting statements needs the key cache in a known state: an entry that expired while a
    // loaded machine paused the test would add a key query.
    app.state.key_cache =
        usergroups::auth::key_cache::KeyCache::with_freshness(std::time::Duration::from_secs(600));
    (app, log)
}
