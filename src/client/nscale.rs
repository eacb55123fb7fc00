//! The nscale dialect's client (`../shared/spec/nscale.md`): the same service through the nscale
//! Identity group routes, authenticated by OAuth2 bearer tokens instead of signatures.
//!
//! [`NscaleClient`] fetches a token with the client-credentials grant (`POST /oauth2/v2/token`,
//! the access key id and secret as `client_id` and `client_secret`), keeps it, fetches a new one
//! shortly before it expires, and once more when the service refuses a kept token (a restarted
//! clock, a token pruned early); a key revoked meanwhile then gets `invalid_client`. Calls block,
//! as [`Client`](super::Client)'s do.
//!
//! ```no_run
//! use usergroups::api::nscale::{GroupWrite, GroupWriteMetadata, GroupWriteSpec};
//! use usergroups::client::nscale::NscaleClient;
//!
//! let client = NscaleClient::new("http://127.0.0.1:8080", "OLAK…", "secret", "<organization id>")?;
//! let group = client.create_group(&GroupWrite {
//!     metadata: GroupWriteMetadata { name: "The-A-Team".into(), description: None, tags: None },
//!     spec: GroupWriteSpec { role_ids: vec![], service_account_ids: vec![], user_ids: None },
//! })?;
//! let deleted = client.delete_group(&group.metadata.id)?;
//! assert!(deleted.metadata.deletion_time.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{agent, item, Client, Error};
use crate::api::nscale::{GroupRead, GroupWrite, RoleRead};
use crate::auth::bearer;
use crate::auth::canonical::uri_encode;

/// The token endpoint, relative to the base URL.
pub const TOKEN_PATH: &str = "/oauth2/v2/token";

/// The answer of the token endpoint (RFC 6749 §5.1).
#[derive(Debug, Clone, Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

/// A non-2xx answer of the dialect: `{"error", "error_description"}` (RFC 6749 §5.2 on the
/// token endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NscaleError {
    /// The HTTP status.
    #[serde(skip)]
    pub status_code: u16,
    /// The machine-readable code: `invalid_client`, `access_denied`, `forbidden`, `not_found`,
    /// `conflict`, `invalid_request`, `rate_limited`, …
    pub error: String,
    /// What went wrong, for a person.
    pub error_description: String,
    /// The answer's `x-request-id`, to find the request in the service's log.
    #[serde(skip)]
    pub request_id: Option<String>,
    /// The answer's `Retry-After` in seconds (on 429 and 503).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl fmt::Display for NscaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status_code, self.error, self.error_description
        )
    }
}

/// A kept token and when to stop using it.
struct Token {
    value: String,
    refresh_at: Instant,
}

/// A client of the nscale dialect for one service, one access key and its organization. Cheap
/// to clone; clones share connections and the token.
#[derive(Clone)]
pub struct NscaleClient {
    base: Client,
    organization_id: String,
    token: Arc<Mutex<Option<Token>>>,
}

impl fmt::Debug for NscaleClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the secret nor the token is shown.
        f.debug_struct("NscaleClient")
            .field("base_url", &self.base.base_url())
            .field("client_id", &self.base.access_key_id())
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}

impl NscaleClient {
    /// A client of the service at `base_url` (as for [`Client::new`]) for `organization_id`,
    /// the organization of the access key `client_id`.
    pub fn new(
        base_url: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        organization_id: impl Into<String>,
    ) -> Result<Self, Error> {
        Ok(NscaleClient {
            base: Client::new(base_url, client_id, client_secret)?,
            organization_id: organization_id.into(),
            token: Arc::default(),
        })
    }

    /// The same client with another limit on the duration of one call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.base.agent = agent(timeout);
        self
    }

    /// `GET …/groups`: every live group of the organization, sorted by name.
    pub fn list_groups(&self) -> Result<Vec<GroupRead>, Error> {
        self.send::<(), _>("GET", self.groups(), None)
    }

    /// `POST …/groups`: creates a group (201), with the members in `spec.userIDs`.
    pub fn create_group(&self, group: &GroupWrite) -> Result<GroupRead, Error> {
        self.send("POST", self.groups(), Some(group))
    }

    /// `GET …/groups/{groupid}`: one live group.
    pub fn get_group(&self, id: &str) -> Result<GroupRead, Error> {
        self.send::<(), _>("GET", item(&self.groups(), id), None)
    }

    /// `PUT …/groups/{groupid}`: replaces the group's metadata and spec (membership too, when
    /// `spec.userIDs` is set).
    pub fn update_group(&self, id: &str, group: &GroupWrite) -> Result<GroupRead, Error> {
        self.send("PUT", item(&self.groups(), id), Some(group))
    }

    /// `DELETE …/groups/{groupid}`: soft-deletes the group and returns it with
    /// `metadata.deletionTime`; 403 `forbidden` while it has active members.
    pub fn delete_group(&self, id: &str) -> Result<GroupRead, Error> {
        self.send::<(), _>("DELETE", item(&self.groups(), id), None)
    }

    /// `GET …/groups?showDeleted=true` (AIP-164): every live group and every soft-deleted one
    /// the retention purge has not removed yet, sorted by name; a deleted one carries
    /// `metadata.deletionTime`, `deletedBy` (when known) and `purgeTime`. Needs
    /// `user-groups:read-deleted` besides `user-groups:read`.
    pub fn list_groups_with_deleted(&self) -> Result<Vec<GroupRead>, Error> {
        let mut path = self.groups();
        path.push_str("?showDeleted=true");
        self.send::<(), _>("GET", path, None)
    }

    /// `POST …/groups/{groupid}:undelete` (AIP-164): brings a soft-deleted group back and
    /// returns it live; 404 `not_found` when it is not a deleted group of the organization, 409
    /// `conflict` when a live group now holds its name. Needs `user-groups:restore`.
    pub fn undelete_group(&self, id: &str) -> Result<GroupRead, Error> {
        let mut path = item(&self.groups(), id);
        path.push_str(":undelete");
        self.send::<(), _>("POST", path, None)
    }

    /// `GET …/roles`: the built-in roles `spec.roleIDs` may name.
    pub fn list_roles(&self) -> Result<Vec<RoleRead>, Error> {
        let mut path = self.organization();
        path.push_str("/roles");
        self.send::<(), _>("GET", path, None)
    }

    /// A token for the calls: the kept one while it is fresh, a new one otherwise.
    pub fn token(&self) -> Result<String, Error> {
        let mut kept = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(token) = kept.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        let fresh = self.fetch_token()?;
        let value = fresh.value.clone();
        *kept = Some(fresh);
        Ok(value)
    }

    /// Forgets the kept token, so the next call fetches a new one.
    pub fn forget_token(&self) {
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// `POST /oauth2/v2/token` with the client credentials in the form body.
    fn fetch_token(&self) -> Result<Token, Error> {
        let credentials = &self.base.credentials;
        let mut form = String::from("grant_type=client_credentials&client_id=");
        uri_encode(credentials.access_key_id.as_bytes(), &mut form);
        form.push_str("&client_secret=");
        uri_encode(credentials.secret_access_key().as_bytes(), &mut form);
        let requested = Instant::now();
        let answer: TokenAnswer = self.exchange(
            "POST",
            TOKEN_PATH,
            Some(("application/x-www-form-urlencoded", form.into_bytes())),
            None,
        )?;
        // Fetch the next one a little early: a tenth of the lifetime, at most a minute.
        let lifetime = Duration::from_secs(answer.expires_in);
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        Ok(Token {
            value: answer.access_token,
            refresh_at: requested + lifetime - margin,
        })
    }

    /// `/api/v1/organizations/{organizationID}`, the id percent-encoded.
    fn organization(&self) -> String {
        item("/api/v1/organizations", &self.organization_id)
    }

    fn groups(&self) -> String {
        let mut path = self.organization();
        path.push_str("/groups");
        path
    }

    /// Sends one call with the token, fetching a new token and sending again once when the
    /// service refuses the kept one.
    fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: String,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let body = match body {
            Some(body) => Some((
                "application/json",
                serde_json::to_vec(body).map_err(Error::Encode)?,
            )),
            None => None,
        };
        let token = self.token()?;
        match self.exchange(method, &path, body.clone(), Some(&token)) {
            Err(Error::Nscale(e)) if e.status_code == 401 => {
                self.forget_token();
                let token = self.token()?;
                self.exchange(method, &path, body, Some(&token))
            }
            other => other,
        }
    }

    /// One request and its answer: a 2xx read as `T`, anything else as an [`Error`].
    fn exchange<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        token: Option<&str>,
    ) -> Result<T, Error> {
        let base = &self.base;
        let mut request = ureq::http::Request::builder().method(method).uri(format!(
            "{}://{}{}{path}",
            base.scheme, base.authority, base.prefix
        ));
        if let Some(token) = token {
            request = request.header("authorization", bearer::authorization_value(token));
        }
        let bytes = match body {
            Some((content_type, bytes)) => {
                request = request.header("content-type", content_type);
                bytes
            }
            None => Vec::new(),
        };
        let answer = base.exchange(request, bytes)?;
        if answer.is_success() {
            return answer.decode();
        }
        match serde_json::from_slice::<NscaleError>(&answer.bytes) {
            Ok(error) => Err(Error::Nscale(Box::new(NscaleError {
                status_code: answer.status,
                request_id: answer.meta.request_id.clone(),
                retry_after: answer.meta.retry_after,
                ..error
            }))),
            Err(_) => Err(answer.unexpected()),
        }
    }
}
