//! The Rust SDK: a typed, **blocking** client for every route of the API, signing each request
//! with the same [`signer`](crate::auth::signer) the server verifies against.
//!
//! Built only with the `client` cargo feature (plain HTTP) or `client-tls` (HTTPS through
//! rustls), so the server binary never carries an HTTP client. The transport is `ureq`: small,
//! synchronous and without an async runtime of its own, which suits a client that other
//! services embed. Every call blocks the calling thread until the answer arrives (30 s at most
//! by default); from async code run it on a blocking thread, e.g.
//! `tokio::task::spawn_blocking(move || client.get_group(&id))` or actix's `web::block`.
//!
//! ```no_run
//! use usergroups::api::CreateGroup;
//! use usergroups::client::{Client, Error};
//!
//! let client = Client::new("http://127.0.0.1:8080", "OLAK…", "secret")?;
//! let group = client.create_group(&CreateGroup { name: "Sales".into(), ..Default::default() })?;
//! match client.delete_group(&group.id) {
//!     Ok(deleted) => println!("deleted at {:?}", deleted.deleted_at),
//!     Err(Error::Service(e)) if e.status_code == 403 => println!("still has {:?} members", e.active_members),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What every request carries: `host` and `x-onlive-site-date`, the `Authorization` of
//! `signing.md`, and on writes (POST, PUT, DELETE) a random signed `x-onlive-site-nonce`, so two
//! identical writes within one second are not refused as a replay. Query strings are built
//! percent-encoded byte by byte (a space is `%20`, `%` is `%25`, `+` is `%2B`), which is the
//! canonical form the server signs over; ids in paths are encoded the same way.

pub mod nscale;

use std::fmt;
use std::time::Duration;

use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{
    CreateGroup, CreateUser, DeletedGroup, DeletedUser, ErrorBody, EventPage, FieldError, Group,
    Page, UpdateGroup, UpdateUser, User,
};
use crate::auth::canonical::uri_encode;
use crate::auth::signer::{self, Credentials};

/// How long one call may take, connection included, unless [`Client::with_timeout`] says
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The header that makes otherwise identical writes distinct (`signing.md` §4).
pub const NONCE_HEADER: &str = "x-onlive-site-nonce";

const GROUPS: &str = "/api/v1/user-groups";
const USERS: &str = "/api/v1/users";
const DELETED_GROUPS: &str = "/api/v1/deleted-user-groups";
const DELETED_USERS: &str = "/api/v1/deleted-users";
const EVENTS: &str = "/api/v1/events";

/// The options of a write beyond its body; both headers are signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// `If-Match` (a PUT or DELETE): the write happens only while the record's ETag is this
    /// one (`*` for any live record); otherwise the call fails with a 412.
    pub if_match: Option<String>,
    /// `Idempotency-Key` (a create): a retry with the same key and body gets the first answer
    /// again for 24 hours instead of creating a second record.
    pub idempotency_key: Option<String>,
}

/// A record with the `ETag` its answer carried (for a later `If-Match`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tagged<T> {
    /// The record.
    pub value: T,
    /// Its strong ETag, as sent (quoted); `None` when the answer had none (a replayed
    /// idempotent create).
    pub etag: Option<String>,
}

/// The page of `GET /api/v1/deleted-user-groups` or `GET /api/v1/deleted-users`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListDeleted {
    /// The page number, from 1.
    pub page: Option<u64>,
    /// Items per page, 1 to 100.
    pub limit: Option<u32>,
    /// A case-insensitive substring, as in the live list.
    pub search: Option<String>,
    /// The `nextCursor` of the previous page of the same list.
    pub cursor: Option<String>,
}

impl ListDeleted {
    /// The query string (without `?`), in the server's canonical form.
    pub fn query(&self) -> String {
        query_string(&[
            ("cursor", self.cursor.clone()),
            ("limit", self.limit.map(|n| n.to_string())),
            ("page", self.page.map(|n| n.to_string())),
            ("search", self.search.clone()),
        ])
    }
}

/// A client for one service and one access key. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Client {
    /// `http` or `https`.
    scheme: &'static str,
    /// `host[:port]` as given in the base URL: sent and signed as `host`.
    authority: String,
    /// A path prefix before `/api/v1` (empty, or starting with `/` without a trailing one), for
    /// a service mounted below a reverse proxy's path.
    prefix: String,
    credentials: Credentials,
    agent: ureq::Agent,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Credentials` redacts its secret; the agent holds nothing worth showing.
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// The filters and page of `GET /api/v1/user-groups`; `None` leaves a parameter out (the
/// server's defaults are page 1 and 20 items).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListGroups {
    /// The page number, from 1.
    pub page: Option<u64>,
    /// Items per page, 1 to 100.
    pub limit: Option<u32>,
    /// A case-insensitive substring of the name or the description; `%` and `_` are literal.
    pub search: Option<String>,
    /// Only this organization's groups (another than the caller's gives an empty page).
    pub organization_id: Option<String>,
    /// The `nextCursor` of the previous page (sent with the same filters and no `page`): the
    /// next page, at the same cost however deep.
    pub cursor: Option<String>,
}

impl ListGroups {
    /// The query string (without `?`) these filters are sent as: percent-encoded, in the
    /// server's canonical form.
    pub fn query(&self) -> String {
        query_string(&[
            ("cursor", self.cursor.clone()),
            ("limit", self.limit.map(|n| n.to_string())),
            ("organizationId", self.organization_id.clone()),
            ("page", self.page.map(|n| n.to_string())),
            ("search", self.search.clone()),
        ])
    }
}

/// The filters and page of `GET /api/v1/users`; `None` leaves a parameter out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUsers {
    /// The page number, from 1.
    pub page: Option<u64>,
    /// Items per page, 1 to 100.
    pub limit: Option<u32>,
    /// A case-insensitive substring of the full name or the email; `%` and `_` are literal.
    pub search: Option<String>,
    /// Only this organization's users (another than the caller's gives an empty page).
    pub organization_id: Option<String>,
    /// Only the active members of this group.
    pub user_group_id: Option<String>,
    /// The `nextCursor` of the previous page (sent with the same filters and no `page`).
    pub cursor: Option<String>,
}

impl ListUsers {
    /// The query string (without `?`) these filters are sent as: percent-encoded, in the
    /// server's canonical form.
    pub fn query(&self) -> String {
        query_string(&[
            ("cursor", self.cursor.clone()),
            ("limit", self.limit.map(|n| n.to_string())),
            ("organizationId", self.organization_id.clone()),
            ("page", self.page.map(|n| n.to_string())),
            ("search", self.search.clone()),
            ("userGroupId", self.user_group_id.clone()),
        ])
    }
}

/// An answer of the service in the contract's error body (every non-2xx answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The HTTP status (the body's `statusCode` repeats it).
    pub status_code: u16,
    /// The contract's message, e.g. `"Cannot delete user group with active members"`.
    pub message: String,
    /// A machine-readable cause: a 401 reason of the signing scheme (`signature_mismatch`,
    /// `replayed_request`, …) or `group_has_active_members`.
    pub reason: Option<String>,
    /// The bad fields (400, up to 50), or the field holding a taken value (409); empty otherwise.
    pub errors: Vec<FieldError>,
    /// On a 400 with more bad fields than `errors` lists: how many more there were.
    pub omitted_errors: Option<usize>,
    /// For a group that still has members: how many.
    pub active_members: Option<i64>,
    /// The answer's `x-request-id`, to find the request in the service's log.
    pub request_id: Option<String>,
    /// The answer's `Retry-After` in seconds (on 429 and 503).
    pub retry_after: Option<u64>,
}

impl ServiceError {
    /// Builds the error from an answer's status and parsed body.
    fn from_body(status_code: u16, body: ErrorBody, meta: &AnswerMeta) -> Self {
        Self {
            status_code,
            message: body.message,
            reason: body.reason,
            errors: body.errors.unwrap_or_default(),
            omitted_errors: body.omitted_errors,
            active_members: body.active_members,
            request_id: meta.request_id.clone(),
            retry_after: meta.retry_after,
        }
    }
}

impl ServiceError {
    /// The contract's error body this error was read from (for logging or passing on).
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            status_code: self.status_code,
            message: self.message.clone(),
            reason: self.reason.clone(),
            active_members: self.active_members,
            errors: (!self.errors.is_empty()).then(|| self.errors.clone()),
            omitted_errors: self.omitted_errors,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status_code, self.message)?;
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        for error in &self.errors {
            write!(f, "; {}: {}", error.field, error.message)?;
        }
        if let Some(omitted) = self.omitted_errors {
            write!(f, "; and {omitted} more")?;
        }
        Ok(())
    }
}

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service refused the request with the contract's error body.
    #[error("the service answered {0}")]
    Service(Box<ServiceError>),
    /// The service refused a call of the nscale dialect ([`nscale`]) with that dialect's error
    /// body, `{"error", "error_description"}`.
    #[error("the service answered {0}")]
    Nscale(Box<nscale::NscaleError>),
    /// A non-2xx answer without the contract's error body (a proxy's page, a redirect, …).
    #[error("unexpected answer {status} from the service: {body}")]
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// The start of the body, as text.
        body: String,
    },
    /// A 2xx answer whose body is not the expected JSON.
    #[error("cannot read the service's {status} answer: {source}")]
    Decode {
        /// The HTTP status.
        status: u16,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The request could not be sent or the answer not received (refused connection,
    /// timeout, TLS, …).
    #[error("cannot reach the service: {0}")]
    Transport(#[source] Box<ureq::Error>),
    /// The request body could not be serialized.
    #[error("cannot serialize the request: {0}")]
    Encode(#[source] serde_json::Error),
    /// The base URL given to [`Client::new`] is not usable.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Error {
    /// The HTTP status of an answer that was not a success, if the service answered at all.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Error::Service(e) => Some(e.status_code),
            Error::Nscale(e) => Some(e.status_code),
            Error::UnexpectedResponse { status, .. } | Error::Decode { status, .. } => {
                Some(*status)
            }
            Error::Transport(_) | Error::Encode(_) | Error::InvalidBaseUrl { .. } => None,
        }
    }

    /// The contract's error answer, if that is what this is.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ureq::Error> for Error {
    fn from(error: ureq::Error) -> Self {
        Error::Transport(Box::new(error))
    }
}

/// What the client keeps of an answer's headers.
struct AnswerMeta {
    request_id: Option<String>,
    retry_after: Option<u64>,
}

/// How much of a non-contract body an [`Error::UnexpectedResponse`] keeps.
const SNIPPET_CHARS: usize = 200;

impl Client {
    /// A client for the service at `base_url` (`http://host:port`, optionally with a path
    /// prefix; `https://` needs the `client-tls` feature), signing with the given access key.
    pub fn new(
        base_url: &str,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidBaseUrl {
            url: base_url.to_owned(),
            reason,
        };
        let (scheme, rest) = if let Some(rest) = base_url.strip_prefix("http://") {
            ("http", rest)
        } else if let Some(rest) = base_url.strip_prefix("https://") {
            if !cfg!(feature = "client-tls") {
                return Err(invalid("https needs the `client-tls` feature"));
            }
            ("https", rest)
        } else {
            return Err(invalid("it must start with http:// or https://"));
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() {
            return Err(invalid("it has no host"));
        }
        if authority.contains(['@', '?', '#']) || path.contains(['?', '#']) {
            return Err(invalid(
                "it may hold only a scheme, a host, a port and a path",
            ));
        }
        if !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
        {
            return Err(invalid(
                "the host must be ASCII (punycode for a unicode name)",
            ));
        }
        Ok(Self {
            scheme,
            authority: authority.to_owned(),
            prefix: path.trim_end_matches('/').to_owned(),
            credentials: Credentials::new(access_key_id, secret_access_key),
            agent: agent(DEFAULT_TIMEOUT),
        })
    }

    /// The same client with another limit on the duration of one call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.agent = agent(timeout);
        self
    }

    /// The base URL this client calls, normalized (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.prefix)
    }

    /// The access key id this client signs with.
    pub fn access_key_id(&self) -> &str {
        &self.credentials.access_key_id
    }

    /// `POST /api/v1/user-groups`: creates a group (201).
    pub fn create_group(&self, group: &CreateGroup) -> Result<Group, Error> {
        self.send("POST", GROUPS.to_owned(), Some(group))
    }

    /// `GET /api/v1/user-groups`: one page of the organization's live groups, newest first.
    pub fn list_groups(&self, filters: &ListGroups) -> Result<Page<Group>, Error> {
        self.send::<(), _>("GET", with_query(GROUPS, &filters.query()), None)
    }

    /// `GET /api/v1/user-groups/{id}`: one live group (404 when missing or deleted).
    pub fn get_group(&self, id: &str) -> Result<Group, Error> {
        self.send::<(), _>("GET", item(GROUPS, id), None)
    }

    /// `PUT /api/v1/user-groups/{id}`: changes only the fields set in `changes`.
    pub fn update_group(&self, id: &str, changes: &UpdateGroup) -> Result<Group, Error> {
        self.send("PUT", item(GROUPS, id), Some(changes))
    }

    /// `DELETE /api/v1/user-groups/{id}`: soft-deletes a group and returns it with
    /// `deleted_at`; 403 while it has active members.
    pub fn delete_group(&self, id: &str) -> Result<Group, Error> {
        self.send::<(), _>("DELETE", item(GROUPS, id), None)
    }

    /// `POST /api/v1/users`: creates a user (201), in a group when `user_group_id` is set.
    pub fn create_user(&self, user: &CreateUser) -> Result<User, Error> {
        self.send("POST", USERS.to_owned(), Some(user))
    }

    /// `GET /api/v1/users`: one page of the organization's live users, newest first.
    pub fn list_users(&self, filters: &ListUsers) -> Result<Page<User>, Error> {
        self.send::<(), _>("GET", with_query(USERS, &filters.query()), None)
    }

    /// `GET /api/v1/users/{id}`: one live user (404 when missing or deleted).
    pub fn get_user(&self, id: &str) -> Result<User, Error> {
        self.send::<(), _>("GET", item(USERS, id), None)
    }

    /// `PUT /api/v1/users/{id}`: changes only the fields set in `changes`
    /// (`user_group_id: Some(None)` takes the user out of its group).
    pub fn update_user(&self, id: &str, changes: &UpdateUser) -> Result<User, Error> {
        self.send("PUT", item(USERS, id), Some(changes))
    }

    /// `DELETE /api/v1/users/{id}`: soft-deletes a user and returns it with `deleted_at`.
    pub fn delete_user(&self, id: &str) -> Result<User, Error> {
        self.send::<(), _>("DELETE", item(USERS, id), None)
    }

    /// `POST /api/v1/user-groups` with `options` (an `Idempotency-Key`), keeping the ETag.
    pub fn create_group_with(
        &self,
        group: &CreateGroup,
        options: &WriteOptions,
    ) -> Result<Tagged<Group>, Error> {
        self.send_tagged("POST", GROUPS.to_owned(), Some(group), options)
    }

    /// `GET /api/v1/user-groups/{id}` with the group's ETag.
    pub fn get_group_tagged(&self, id: &str) -> Result<Tagged<Group>, Error> {
        self.send_tagged::<(), _>("GET", item(GROUPS, id), None, &WriteOptions::default())
    }

    /// `PUT /api/v1/user-groups/{id}` with `options` (an `If-Match`): 412 when it is stale.
    pub fn update_group_with(
        &self,
        id: &str,
        changes: &UpdateGroup,
        options: &WriteOptions,
    ) -> Result<Tagged<Group>, Error> {
        self.send_tagged("PUT", item(GROUPS, id), Some(changes), options)
    }

    /// `DELETE /api/v1/user-groups/{id}` with `options` (an `If-Match`): 412 when it is stale.
    pub fn delete_group_with(
        &self,
        id: &str,
        options: &WriteOptions,
    ) -> Result<Tagged<Group>, Error> {
        self.send_tagged::<(), _>("DELETE", item(GROUPS, id), None, options)
    }

    /// `POST /api/v1/users` with `options` (an `Idempotency-Key`), keeping the ETag.
    pub fn create_user_with(
        &self,
        user: &CreateUser,
        options: &WriteOptions,
    ) -> Result<Tagged<User>, Error> {
        self.send_tagged("POST", USERS.to_owned(), Some(user), options)
    }

    /// `GET /api/v1/users/{id}` with the user's ETag.
    pub fn get_user_tagged(&self, id: &str) -> Result<Tagged<User>, Error> {
        self.send_tagged::<(), _>("GET", item(USERS, id), None, &WriteOptions::default())
    }

    /// `PUT /api/v1/users/{id}` with `options` (an `If-Match`): 412 when it is stale.
    pub fn update_user_with(
        &self,
        id: &str,
        changes: &UpdateUser,
        options: &WriteOptions,
    ) -> Result<Tagged<User>, Error> {
        self.send_tagged("PUT", item(USERS, id), Some(changes), options)
    }

    /// `DELETE /api/v1/users/{id}` with `options` (an `If-Match`): 412 when it is stale.
    pub fn delete_user_with(
        &self,
        id: &str,
        options: &WriteOptions,
    ) -> Result<Tagged<User>, Error> {
        self.send_tagged::<(), _>("DELETE", item(USERS, id), None, options)
    }

    /// `GET /api/v1/deleted-user-groups`: deleted groups not yet purged, newest deletion first
    /// (`user-groups:read-deleted`).
    pub fn list_deleted_groups(&self, filters: &ListDeleted) -> Result<Page<DeletedGroup>, Error> {
        self.send::<(), _>("GET", with_query(DELETED_GROUPS, &filters.query()), None)
    }

    /// `GET /api/v1/deleted-users`: deleted users not yet purged, newest deletion first
    /// (`users:read-deleted`).
    pub fn list_deleted_users(&self, filters: &ListDeleted) -> Result<Page<DeletedUser>, Error> {
        self.send::<(), _>("GET", with_query(DELETED_USERS, &filters.query()), None)
    }

    /// `POST /api/v1/deleted-user-groups/{id}/restore`: the live group again
    /// (`user-groups:restore`); 409 when its name or externalId is taken, 404 when purged.
    pub fn restore_group(&self, id: &str) -> Result<Group, Error> {
        self.send::<(), _>(
            "POST",
            format!("{}/restore", item(DELETED_GROUPS, id)),
            None,
        )
    }

    /// `POST /api/v1/deleted-users/{id}/restore`: the live user again (`users:restore`),
    /// without a group when its group is gone; 409 when its email is taken.
    pub fn restore_user(&self, id: &str) -> Result<User, Error> {
        self.send::<(), _>("POST", format!("{}/restore", item(DELETED_USERS, id)), None)
    }

    /// `GET /api/v1/events`: up to `limit` events after `after` (a page's `next_cursor`;
    /// `None` from the oldest kept), oldest first (`events:read`).
    pub fn list_events(&self, after: Option<&str>, limit: Option<u32>) -> Result<EventPage, Error> {
        let query = query_string(&[
            ("after", after.map(str::to_owned)),
            ("limit", limit.map(|n| n.to_string())),
        ]);
        self.send::<(), _>("GET", with_query(EVENTS, &query), None)
    }

    /// Signs and sends one request to `target` (a path under the API plus its query), and reads
    /// a 2xx answer as `T` or any other as an [`Error`].
    fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        target: String,
        body: Option<&B>,
    ) -> Result<T, Error> {
        self.send_tagged(method, target, body, &WriteOptions::default())
            .map(|tagged| tagged.value)
    }

    /// [`Client::send`] with the write's options as signed headers, keeping the answer's ETag.
    fn send_tagged<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        target: String,
        body: Option<&B>,
        options: &WriteOptions,
    ) -> Result<Tagged<T>, Error> {
        let target = format!("{}{target}", self.prefix);
        let body = match body {
            Some(body) => serde_json::to_vec(body).map_err(Error::Encode)?,
            None => Vec::new(),
        };
        let mut extra = if method == "GET" {
            Vec::new()
        } else {
            vec![(NONCE_HEADER.to_owned(), nonce())]
        };
        if let Some(tag) = &options.if_match {
            extra.push(("if-match".to_owned(), tag.clone()));
        }
        if let Some(key) = &options.idempotency_key {
            extra.push(("idempotency-key".to_owned(), key.clone()));
        }
        let signed = signer::sign(
            &self.credentials,
            method,
            &self.authority,
            &target,
            &extra,
            &body,
            Utc::now(),
        );
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}://{}{target}", self.scheme, self.authority));
        for (name, value) in &signed.headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let answer = self.exchange(request, body)?;
        if answer.is_success() {
            let etag = answer.etag.clone();
            return answer.decode().map(|value| Tagged { value, etag });
        }
        match serde_json::from_slice::<ErrorBody>(&answer.bytes) {
            Ok(body) => Err(Error::Service(Box::new(ServiceError::from_body(
                answer.status,
                body,
                &answer.meta,
            )))),
            Err(_) => Err(answer.unexpected()),
        }
    }

    /// Sends `request` with `body` and reads the whole answer. An empty body is sent as none at
    /// all: no `content-length: 0` on a GET or DELETE.
    fn exchange(
        &self,
        request: ureq::http::request::Builder,
        body: Vec<u8>,
    ) -> Result<Answer, Error> {
        let mut response = if body.is_empty() {
            self.agent
                .run(request.body(()).map_err(ureq::Error::from)?)?
        } else {
            self.agent
                .run(request.body(body).map_err(ureq::Error::from)?)?
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let meta = AnswerMeta {
            request_id: header("x-request-id"),
            retry_after: header("retry-after").and_then(|v| v.trim().parse().ok()),
        };
        let etag = header("etag");
        Ok(Answer {
            status: response.status().as_u16(),
            meta,
            etag,
            bytes: response.body_mut().read_to_vec()?,
        })
    }
}

/// An answer of the service, read whole: what both dialects' clients decode.
struct Answer {
    status: u16,
    meta: AnswerMeta,
    etag: Option<String>,
    bytes: Vec<u8>,
}

impl Answer {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The 2xx body as `T`.
    fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.bytes).map_err(|source| Error::Decode {
            status: self.status,
            source,
        })
    }

    /// A non-2xx answer without the dialect's error body (a proxy's page, a redirect, …).
    fn unexpected(&self) -> Error {
        Error::UnexpectedResponse {
            status: self.status,
            body: String::from_utf8_lossy(&self.bytes)
                .chars()
                .take(SNIPPET_CHARS)
                .collect(),
        }
    }
}

/// The HTTP agent of a client: errors are answers too, no redirects, one limit per call.
fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A signed request is for one host: never follow it elsewhere.
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .user_agent(concat!("usergroups-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// A random nonce: 128 bits from the OS, as 32 hex digits.
fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `collection/{id}` with the id percent-encoded, so no id can reach another path.
fn item(collection: &str, id: &str) -> String {
    let mut target = format!("{collection}/");
    uri_encode(id.as_bytes(), &mut target);
    target
}

/// `path?query`, or `path` alone for an empty query.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// `name=value` pairs joined with `&`, each side percent-encoded byte by byte; pairs without a
/// value are left out. Given sorted names, this is exactly the canonical query string.
fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        let Some(value) = value else { continue };
        if !out.is_empty() {
            out.push('&');
        }
        uri_encode(name.as_bytes(), &mut out);
        out.push('=');
        uri_encode(value.as_bytes(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::canonical::{canonical_query, query_pairs};

    #[test]
    fn a_search_with_spaces_percent_underscore_plus_and_unicode_is_sent_in_canonical_form() {
        let filters = ListGroups {
            page: Some(2),
            limit: Some(10),
            search: Some("50% off_sale + été ሴ&x=y".to_owned()),
            organization_id: None,
            cursor: None,
        };

        let query = filters.query();

        assert_eq!(
            query,
            "limit=10&page=2&search=50%25%20off_sale%20%2B%20%C3%A9t%C3%A9%20%E1%88%B4%26x%3Dy"
        );
        assert_eq!(canonical_query(&query), query, "already canonical");
        let decoded = query_pairs(&query);
        assert_eq!(decoded[2].1, "50% off_sale + été ሴ&x=y".as_bytes());
    }

    #[test]
    fn an_empty_filter_sends_no_query_at_all() {
        assert_eq!(with_query(USERS, &ListUsers::default().query()), USERS);
    }

    #[test]
    fn every_user_filter_is_sent_under_its_contract_name() {
        let filters = ListUsers {
            page: Some(1),
            limit: Some(5),
            search: Some("ada".to_owned()),
            organization_id: Some("o".to_owned()),
            user_group_id: Some("g".to_owned()),
            cursor: Some("c".to_owned()),
        };

        assert_eq!(
            filters.query(),
            "cursor=c&limit=5&organizationId=o&page=1&search=ada&userGroupId=g"
        );
    }

    #[test]
    fn an_id_cannot_escape_its_path_segment() {
        assert_eq!(
            item(GROUPS, "../users?x"),
            "/api/v1/user-groups/..%2Fusers%3Fx"
        );
    }

    #[test]
    fn base_urls_keep_their_prefix_and_refuse_what_cannot_be_signed() {
        let client = Client::new("http://127.0.0.1:8080/svc/", "id", "s").expect("valid");
        assert_eq!(client.base_url(), "http://127.0.0.1:8080/svc");
        for bad in [
            "127.0.0.1:8080",
            "ftp://host",
            "http://",
            "http://user@host",
            "http://host/?q",
            "http://h\u{e9}te",
        ] {
            assert!(
                matches!(
                    Client::new(bad, "id", "s"),
                    Err(Error::InvalidBaseUrl { .. })
                ),
                "{bad} accepted"
            );
        }
    }

    #[cfg(not(feature = "client-tls"))]
    #[test]
    fn https_is_refused_without_the_client_tls_feature() {
        let refused = Client::new("https://example.com", "id", "s");

        assert!(
            matches!(&refused, Err(Error::InvalidBaseUrl { reason, .. }) if reason.contains("client-tls")),
            "{refused:?}"
        );
    }

    #[test]
    fn debug_output_of_a_client_never_shows_the_secret() {
        let client =
            Client::new("http://127.0.0.1:8080", "OLAKID", "very-secret-value").expect("valid");

        let shown = format!("{client:?}");

        assert!(shown.contains("OLAKID"), "{shown}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
    }
}
