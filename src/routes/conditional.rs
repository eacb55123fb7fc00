//! Conditional and idempotent writes, as the Onlive routes read and answer them: the `ETag` of
//! an answer, the `If-Match` condition of a write, the `Idempotency-Key` of a create
//! ([`Caller::create`]), and the caller as the [`Actor`] of its changes.
//!
//! `If-Match` and `Idempotency-Key` change what a write does, so a signed request must cover
//! both by its signature (listed in `SignedHeaders`): otherwise anyone on the path could add,
//! drop or alter them. A signed request carrying either unsigned is a 400 naming the header. A
//! request with a bearer token sends them as they are: the token covers no header, and such a
//! client relies on TLS for the whole request.
//!
//! An idempotent create looks its key up before the replay guard records its signature: the
//! exact resend of a create whose first attempt committed (a client's retry after a lost answer)
//! carries a used signature, and gets the stored answer instead of the 401 `replayed_request`
//! it would get without a key. A fresh signature on a retry is still recorded, so it cannot be
//! replayed into anything else; a revoked key is still refused.

use actix_web::http::header::{HeaderName, HeaderValue, AUTHORIZATION, ETAG, IF_MATCH};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use diesel::Connection;

use super::caller::{PendingGuard, WriteError};
use super::{ApiError, Caller, JSON_UTF8};
use crate::auth::{bearer, AuthError, AuthFailure};
use crate::db::{self, DbConnection};
use crate::domain::events::Actor;
use crate::domain::lifecycle::IfMatch;
use crate::domain::DomainError;
use crate::limits;
use crate::models::idempotency::{self, KeyClaim, StoredAnswer};
use crate::state::AppState;

/// The header that makes a create idempotent.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that is the stored answer of an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

impl Caller {
    /// The caller as the actor of its changes (its access key id).
    pub fn actor(&self) -> Actor {
        Actor::Key(self.principal.access_key_id.clone())
    }
}

/// The strong `ETag` of a record at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// `response` with the `ETag` of `version`.
pub fn with_etag(mut response: HttpResponse, version: i64) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// 400 unless `header` (lowercase) is protected by the request's authentication: covered by the
/// ONLIVESITE signature (listed in `SignedHeaders`), or sent with a bearer token. A signature
/// covers only what it lists, so an unlisted header could be added or changed by anyone on the
/// path; a bearer token is not bound to any header, and a request carrying one relies on TLS for
/// all of it, these headers included.
fn require_protected(req: &HttpRequest, header: &str, field: &str) -> Result<(), ApiError> {
    let authorization = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let protected = authorization.is_some_and(|value| {
        value
            .split_once(' ')
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case(bearer::SCHEME))
            || crate::auth::header::parse_authorization(value)
                .is_some_and(|auth| auth.signed_headers.contains(&header))
    });
    if protected {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be signed: list {header} in SignedHeaders"),
        ))
    }
}

/// The write's condition from `If-Match`: [`IfMatch::Any`] without the header or with `*`, else
/// the versions of the strong entity tags it lists. Tags are compared as strings, as RFC 9110's
/// strong comparison says: only a tag identical to an [`etag`] this service sends (`"2"`) names
/// a version; `"02"`, `"+2"`, a weak `W/"2"` or a foreign tag matches nothing.
pub fn if_match(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let values: Vec<&HeaderValue> = req.headers().get_all(IF_MATCH).collect();
    if values.is_empty() {
        return Ok(IfMatch::Any);
    }
    require_protected(req, "if-match", "If-Match")?;
    let mut versions = Vec::new();
    for value in values {
        let text = value.to_str().map_err(|_| {
            ApiError::invalid_field("If-Match", "If-Match must be `*` or a list of ETags")
        })?;
        for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Ok(IfMatch::Any);
            }
            let version = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|t| t.parse::<i64>().ok().filter(|v| etag(*v) == tag));
            versions.extend(version);
        }
    }
    Ok(IfMatch::OneOf(versions))
}

/// The request's `Idempotency-Key`, if any: 1 to 255 visible ASCII characters, signed.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    const FIELD: &str = "Idempotency-Key";
    if values.next().is_some() {
        return Err(ApiError::invalid_field(
            FIELD,
            "Idempotency-Key must be sent once",
        ));
    }
    require_protected(req, "idempotency-key", FIELD)?;
    let key = value.to_str().unwrap_or_default();
    if key.is_empty()
        || key.len() > limits::IDEMPOTENCY_KEY_MAX
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::invalid_field(
            FIELD,
            format!(
                "Idempotency-Key must be 1 to {} visible ASCII characters",
                limits::IDEMPOTENCY_KEY_MAX
            ),
        ));
    }
    Ok(Some(key.to_owned()))
}

/// A created record's answer: its JSON body and version.
#[derive(Debug, Clone)]
pub struct Created {
    /// The record's JSON.
    pub body: String,
    /// Its version (the `ETag`).
    pub version: i64,
}

impl Created {
    /// The answer of `view` at `version`.
    pub fn of(view: &impl serde::Serialize, version: i64) -> Result<Self, DomainError> {
        let body = serde_json::to_string(view)
            .map_err(|e| DomainError::Internal(format!("a created record's JSON: {e}")))?;
        Ok(Created { body, version })
    }
}

/// What an idempotent create's transaction ended in.
enum Outcome {
    /// The create ran now.
    Fresh(Created),
    /// An earlier request with this key and body was answered so.
    Stored(StoredAnswer),
}

impl Caller {
    /// Runs a create (`work`, which returns the created record's answer) as [`Caller::write`]
    /// does, and answers 201 with it; with an `Idempotency-Key`, the first answer is stored in
    /// the same transaction and a repeat of the same request gets it again (see the module
    /// docs), a different request with the key a 422.
    pub async fn create<F>(
        &self,
        state: &AppState,
        req: &HttpRequest,
        mut work: F,
    ) -> Result<HttpResponse, ApiError>
    where
        F: FnMut(&mut DbConnection) -> Result<Created, DomainError> + Send + 'static,
    {
        let Some(key) = idempotency_key(req)? else {
            let created = self.write(state, work).await?;
            return Ok(created_response(created));
        };
        let hash = idempotency::request_hash(req.method().as_str(), req.path(), &self.body);
        let access_key_id = self.principal.access_key_id.clone();
        let guard = self.guard.as_deref().map(PendingGuard::take);
        let written = db::write(&state.pool, move |conn| {
            match idempotency::claim(conn, &access_key_id, &key, &hash, db::now())? {
                KeyClaim::New => {}
                KeyClaim::Answered(stored) => {
                    if let Some(guard) = &guard {
                        record_if_new(conn, guard)?;
                    }
                    return Ok(Outcome::Stored(stored));
                }
                KeyClaim::Reused => {
                    if let Some(guard) = &guard {
                        guard.record(conn).map_err(WriteError::Auth)?;
                    }
                    return Err(WriteError::Domain(DomainError::IdempotencyKeyReused));
                }
            }
            if let Some(guard) = &guard {
                guard.record(conn).map_err(WriteError::Auth)?;
            }
            match work(conn) {
                Ok(created) => {
                    let answer = StoredAnswer {
                        status: StatusCode::CREATED.as_u16(),
                        body: created.body.clone(),
                    };
                    idempotency::complete(conn, &access_key_id, &key, &answer)?;
                    Ok(Outcome::Fresh(created))
                }
                Err(e) => {
                    if e.is_refusal() {
                        idempotency::release(conn, &access_key_id, &key)?;
                    }
                    Err(WriteError::Domain(e))
                }
            }
        })
        .await;
        match self.answer(state, written)? {
            Outcome::Fresh(created) => Ok(created_response(created)),
            Outcome::Stored(stored) => {
                let status = StatusCode::from_u16(stored.status)
                    .map_err(|e| ApiError::internal(format!("a stored answer's status: {e}")))?;
                Ok(HttpResponse::build(status)
                    .content_type(JSON_UTF8)
                    .insert_header((IDEMPOTENT_REPLAYED, "true"))
                    .body(stored.body))
            }
        }
    }
}

/// Records a retry's signature if it is new (a retry signed afresh), and lets a used one pass:
/// the exact resend of the first attempt is what the stored answer is for. A revoked key is
/// still refused.
fn record_if_new(
    conn: &mut DbConnection,
    guard: &crate::auth::verify::ReplayGuard,
) -> Result<(), WriteError> {
    // In a savepoint: on PostgreSQL the refused insert of a used signature would otherwise
    // abort the whole transaction.
    match conn.transaction(|conn| guard.record(conn)) {
        Ok(()) | Err(AuthError::Refused(AuthFailure::ReplayedRequest)) => Ok(()),
        Err(e) => Err(WriteError::Auth(e)),
    }
}

/// 201 with a created record's JSON and `ETag`.
fn created_response(created: Created) -> HttpResponse {
    with_etag(
        HttpResponse::build(StatusCode::CREATED)
            .content_type(JSON_UTF8)
            .body(created.body),
        created.version,
    )
}
