//! `POST /oauth2/v2/token`: OAuth2 client credentials (RFC 6749 §4.4), unsigned; the token it
//! issues is a bearer credential of its access key (`crate::auth::bearer`).
//!
//! The client is an access key: `client_id` is its id and `client_secret` its secret, sent in
//! the form body or as HTTP Basic (RFC 6749 §2.3.1), never both. What is checked, in order:
//!
//! 1. the body, within the endpoint's own small limit ([`limits::TOKEN_BODY_MAX`]) and the
//!    request timeout (413, 408);
//! 2. the form: `application/x-www-form-urlencoded`, none of its four parameters twice,
//!    `grant_type` present and `client_credentials`, the credentials sent one way and complete
//!    (400 `invalid_request` or `unsupported_grant_type`), read in one linear pass;
//! 3. the credentials: an unknown id, a revoked key and a wrong secret are one answer, 401
//!    `invalid_client`, and cost the same (the secret is compared in constant time, against a
//!    stand-in when there is no key). A failure is counted for its client id, and past ten a
//!    minute it is answered 429 instead; a correct credential is never refused for failures
//!    that came before it, its own id's or any flood of others';
//! 4. one write of the key's rate limit (429), only now, so a forged flood never spends it;
//! 5. the token, stored (as its hash) by one statement that checks the key is still live.
//!
//! Every answer carries `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1): a
//! token must not sit in a cache, and neither should an answer about credentials. Neither the
//! secret nor the token is ever logged.

use std::fmt;
use std::time::Duration;

use actix_web::http::header::{
    self, HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use base64::Engine;
use serde::Serialize;

use super::error::{error_answer, NscaleErrorBody};
use crate::auth::bearer::{self, IssuedToken};
use crate::auth::canonical;
use crate::auth::key_cache::{CachedKey, Lookup};
use crate::auth::verify;
use crate::db;
use crate::ids::AccessKeyId;
use crate::limits;
use crate::metrics;
use crate::models::AccessToken;
use crate::rate_limit::{Decision, FailedAttempts, RequestClass};
use crate::routes::input::read_body;
use crate::routes::{ApiError, JSON_UTF8};
use crate::state::AppState;

/// The only grant this endpoint serves.
const CLIENT_CREDENTIALS: &str = "client_credentials";

/// The form media type the endpoint takes.
const FORM: &str = "application/x-www-form-urlencoded";

/// The challenge of every `invalid_client` (RFC 6749 §5.2 asks for the scheme the client may
/// use; a realm is what RFC 7617 requires of a Basic challenge).
const BASIC_CHALLENGE: &str = "Basic realm=\"usergroups\"";

/// The token request's form, as documented (the handler reads the body itself, strictly).
#[derive(Debug, utoipa::ToSchema)]
#[schema(examples(json!({"grant_type": "client_credentials",
    "client_id": "OLAKEXAMPLE1234567890", "client_secret": "<SecretAccessKey>"})))]
pub struct TokenRequest {
    /// `client_credentials`, the only grant served.
    pub grant_type: String,
    /// The access key id; or send the credentials as HTTP Basic instead.
    pub client_id: Option<String>,
    /// The access key's secret; or send the credentials as HTTP Basic instead.
    pub client_secret: Option<String>,
    /// Accepted and echoed; a token always acts with all of its key's permissions.
    pub scope: Option<String>,
}

/// A token issued (RFC 6749 §5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"access_token": "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",
    "token_type": "Bearer", "expires_in": 3600})))]
pub struct TokenResponse {
    /// The opaque bearer token (43 characters: 256 random bits in base64url).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// The token's whole lifetime in seconds (`USERGROUPS_TOKEN_TTL_SECONDS`).
    pub expires_in: u64,
    /// The `scope` the request sent, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Why a token request was refused, in RFC 6749 §5.2's terms.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// 400 `invalid_request`: the request is malformed; the text says how.
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// 400 `unsupported_grant_type`: a grant other than client credentials.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// 401 `invalid_client`: unknown id, revoked key or wrong secret, one answer for all three.
    #[error("invalid_client")]
    InvalidClient,
    /// 429 `rate_limited`: too many failed attempts for this client id, or the key's writes
    /// are spent.
    #[error("rate_limited: retry after {retry_after} s")]
    RateLimited {
        /// Whole seconds until a request may be served, sent as `Retry-After`.
        retry_after: u64,
    },
    /// What the transport or the store answered (413, 408, 500, 503), in this dialect's body.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        match self {
            TokenError::InvalidRequest(_) | TokenError::UnsupportedGrantType => {
                StatusCode::BAD_REQUEST
            }
            TokenError::InvalidClient => StatusCode::UNAUTHORIZED,
            TokenError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            TokenError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (code, description): (&str, &str) = match self {
            TokenError::InvalidRequest(why) => ("invalid_request", why),
            TokenError::UnsupportedGrantType => (
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            ),
            TokenError::InvalidClient => ("invalid_client", "client authentication failed"),
            TokenError::RateLimited { .. } => ("rate_limited", "too many requests"),
            TokenError::Api(ApiError::PayloadTooLarge { .. }) => {
                ("request_entity_too_large", "request body is too large")
            }
            TokenError::Api(ApiError::RequestTimeout { .. }) => {
                ("invalid_request", "request body was not received in time")
            }
            TokenError::Api(ApiError::InvalidInput(_)) => {
                ("invalid_request", "request body could not be read")
            }
            TokenError::Api(ApiError::Unavailable { .. }) => {
                ("temporarily_unavailable", "service temporarily unavailable")
            }
            TokenError::Api(_) => ("server_error", "internal server error"),
        };
        let mut response = error_answer(status, code, description);
        let headers = response.headers_mut();
        no_store(headers);
        match self {
            TokenError::InvalidClient => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(BASIC_CHALLENGE));
            }
            TokenError::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            TokenError::Api(ApiError::Unavailable { .. }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            TokenError::Api(ApiError::RequestTimeout { .. }) => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, on every answer of the endpoint.
fn no_store(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `Retry-After` is whole seconds: round up, so a client that waits that long is served.
fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The client's credentials, however they came.
struct ClientCredentials {
    id: String,
    secret: zeroize::Zeroizing<String>,
}

/// The form's parameters that matter here.
#[derive(Default)]
pub struct TokenForm {
    /// `grant_type`, decoded.
    pub grant_type: Option<String>,
    /// `client_id`, decoded.
    pub client_id: Option<String>,
    /// `client_secret`, decoded (wiped from memory when dropped).
    pub client_secret: Option<zeroize::Zeroizing<String>>,
    /// `scope`, decoded.
    pub scope: Option<String>,
}

impl fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenForm")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scope", &self.scope)
            .finish()
    }
}

/// A form-decoded name or value as text.
fn form_text(bytes: &[u8]) -> Result<String, TokenError> {
    String::from_utf8(canonical::form_decode(bytes))
        .map_err(|_| TokenError::InvalidRequest("parameters must be UTF-8"))
}

/// True when `headers` declare the body `application/x-www-form-urlencoded` (once, with no
/// parameter but `charset=utf-8`).
fn declares_form(headers: &HeaderMap) -> bool {
    let mut content_types = headers.get_all(CONTENT_TYPE);
    let content_type = content_types.next().and_then(|v| v.to_str().ok());
    let is_form = content_type.is_some_and(|value| {
        let mut parts = value.split(';').map(str::trim);
        let essence = parts.next().unwrap_or_default();
        essence.eq_ignore_ascii_case(FORM)
            && parts.all(|p| {
                p.split_once('=').is_some_and(|(name, value)| {
                    name.trim().eq_ignore_ascii_case("charset")
                        && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
                })
            })
    });
    is_form && content_types.next().is_none()
}

/// Reads the body as `application/x-www-form-urlencoded`. One of the four parameters served
/// here sent twice is refused (RFC 6749 §3.2); unknown ones are ignored (§4.4.2 via §3.2), even
/// repeated.
///
/// One pass over the body, each piece decoded once and compared with four fixed names, so the
/// cost is linear in the body's length whatever it holds (a scan of the names seen so far, as
/// this once did, made a form of 64k distinct names cost seconds).
pub fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, TokenError> {
    if !declares_form(headers) {
        return Err(TokenError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| TokenError::InvalidRequest("the form must be ASCII text"))?;
    let mut form = TokenForm::default();
    for piece in text.split('&').filter(|piece| !piece.is_empty()) {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        let name = form_text(name.as_bytes())?;
        let slot_taken = match name.as_str() {
            "grant_type" => form.grant_type.is_some(),
            "client_id" => form.client_id.is_some(),
            "client_secret" => form.client_secret.is_some(),
            "scope" => form.scope.is_some(),
            _ => continue,
        };
        if slot_taken {
            return Err(TokenError::InvalidRequest(
                "a parameter must not be sent more than once",
            ));
        }
        let value = form_text(value.as_bytes())?;
        match name.as_str() {
            "grant_type" => form.grant_type = Some(value),
            "client_id" => form.client_id = Some(value),
            "client_secret" => form.client_secret = Some(zeroize::Zeroizing::new(value)),
            _ => form.scope = Some(value),
        }
    }
    Ok(form)
}

/// The credentials of an `Authorization: Basic` header: `Ok(None)` without the header,
/// `invalid_client` for another scheme (an authentication method this endpoint does not take,
/// RFC 6749 §5.2), `invalid_request` for a Basic value that does not decode.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<ClientCredentials>, TokenError> {
    let mut values = headers.get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(TokenError::InvalidRequest(
            "the Authorization header must not be repeated",
        ));
    }
    let value = value.to_str().map_err(|_| TokenError::InvalidClient)?;
    let (scheme, encoded) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::InvalidClient);
    }
    let malformed = TokenError::InvalidRequest(
        "the Basic credentials must be base64 of client_id:client_secret",
    );
    let engine = base64::engine::general_purpose::STANDARD;
    let decoded = zeroize::Zeroizing::new(engine.decode(encoded.trim()).map_err(|_| malformed)?);
    let colon = decoded
        .iter()
        .position(|b| *b == b':')
        .ok_or(TokenError::InvalidRequest(
            "the Basic credentials must be base64 of client_id:client_secret",
        ))?;
    // Each part was form-urlencoded before it was joined (RFC 6749 §2.3.1).
    let id = form_text(&decoded[..colon])?;
    let secret = zeroize::Zeroizing::new(form_text(&decoded[colon + 1..])?);
    Ok(Some(ClientCredentials { id, secret }))
}

/// The request's credentials, sent one way and complete, and its scope.
fn read_request(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(ClientCredentials, Option<String>), TokenError> {
    let form = parse_form(headers, body)?;
    let basic = basic_credentials(headers)?;
    if basic.is_some() && (form.client_id.is_some() || form.client_secret.is_some()) {
        return Err(TokenError::InvalidRequest(
            "send the client credentials either as HTTP Basic or in the form, not both",
        ));
    }
    match form.grant_type.as_deref() {
        None => return Err(TokenError::InvalidRequest("grant_type is missing")),
        Some(CLIENT_CREDENTIALS) => {}
        Some(_) => return Err(TokenError::UnsupportedGrantType),
    }
    let credentials = match (basic, form.client_id, form.client_secret) {
        (Some(basic), _, _) => basic,
        (None, Some(id), Some(secret)) => ClientCredentials { id, secret },
        (None, None, _) => return Err(TokenError::InvalidRequest("client_id is missing")),
        (None, Some(_), None) => {
            return Err(TokenError::InvalidRequest("client_secret is missing"))
        }
    };
    if credentials.id.is_empty() {
        return Err(TokenError::InvalidRequest("client_id is missing"));
    }
    let scope = form.scope.filter(|scope| !scope.is_empty());
    Ok((credentials, scope))
}

/// True for text that can be an access key id (`signing.md` §1's `key-id`): anything else is
/// refused without a lookup.
fn may_be_key_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The key `id` names, from the instance's cache or one lookup: `None` for no key.
async fn find_key(
    state: &AppState,
    id: &str,
) -> Result<Option<std::sync::Arc<CachedKey>>, TokenError> {
    if !may_be_key_id(id) {
        return Ok(None);
    }
    let id = AccessKeyId::from(id);
    let lookup = state.key_cache.lookup(&id);
    metrics::record_key_cache(!matches!(lookup, Lookup::Miss));
    match lookup {
        Lookup::Known(key) => Ok(Some(key)),
        Lookup::Unknown => Ok(None),
        Lookup::Miss => {
            let master_keys = state.master_keys.clone();
            let lookup_id = id.clone();
            let loaded = db::run(&state.pool, move |conn| {
                verify::load_key(conn, &lookup_id, &master_keys)
            })
            .await
            .map_err(ApiError::from)?;
            state.key_cache.store(id, loaded.clone());
            Ok(loaded)
        }
    }
}

/// Counts a failed attempt of `client_id` and answers it: `invalid_client`, or `rate_limited`
/// once the id has failed more than its allowance this minute. Only failures are ever refused
/// this way: the credentials are checked first, so a correct one is served whatever failed
/// before it, and a flood of failures (for its id or for any others) locks nobody out.
fn refuse_failed_attempt(attempts: &FailedAttempts, client_id: &str) -> TokenError {
    match attempts.record_failure(client_id) {
        Ok(()) => TokenError::InvalidClient,
        Err(wait) => TokenError::RateLimited {
            retry_after: retry_after_seconds(wait),
        },
    }
}

/// `POST /oauth2/v2/token`: a bearer token for an access key's credentials (see the module
/// docs for the order of the checks). 200 with the token; 400 `invalid_request` or
/// `unsupported_grant_type`; 401 `invalid_client` with `WWW-Authenticate: Basic`; 408; 413;
/// 429 `rate_limited` with `Retry-After`; 500; 503.
#[utoipa::path(
    post,
    path = "/oauth2/v2/token",
    tag = "nscale",
    summary = "Issue a bearer token for an access key (OAuth2 client credentials, unsigned)",
    description = "The client is an access key: `client_id` is its id and `client_secret` its \
        secret, in the form or as HTTP Basic (each part form-urlencoded first), not both. The \
        token acts as the key (its organization and permissions) on every `/api/v1` route, as \
        `Authorization: Bearer <access_token>`, until it expires or the key is revoked. Issuing \
        spends one write of the key's rate limit; failed attempts for one client id past ten a \
        minute are answered 429 (a correct credential is always served). Every answer carries `Cache-Control: no-store` and `Pragma: no-cache`.",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token.", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"),
                ("Pragma" = String, description = "`no-cache`")),
            example = json!({"access_token": "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",
                "token_type": "Bearer", "expires_in": 3600, "scope": "identity:groups"})),
        (status = 400, description = "The request is malformed (`invalid_request`: not a form, a \
            parameter twice, credentials missing or sent both ways) or asks for another grant \
            (`unsupported_grant_type`).", body = NscaleErrorBody, examples(
            ("invalid_request" = (value = json!({"error": "invalid_request",
                "error_description": "send the client credentials either as HTTP Basic or in the \
                    form, not both"}))),
            ("unsupported_grant_type" = (value = json!({"error": "unsupported_grant_type",
                "error_description": "only grant_type=client_credentials is supported"}))),
        )),
        (status = 401, description = "Unknown client id, revoked key or wrong secret: one \
            answer for all three.", body = NscaleErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"usergroups\"`")),
            example = json!({"error": "invalid_client",
                "error_description": "client authentication failed"})),
        (status = 408, description = "The body did not arrive within the request timeout.",
            body = NscaleErrorBody, example = json!({"error": "invalid_request",
                "error_description": "request body was not received in time"})),
        (status = 413, description = "The body is over the endpoint's limit (4 KiB).", body = NscaleErrorBody,
            example = json!({"error": "request_entity_too_large",
                "error_description": "request body is too large"})),
        (status = 429, description = "A failed attempt past ten in a minute for this client id \
            (a correct credential is always served), or the key's writes are spent.", body = NscaleErrorBody,
            headers(("Retry-After" = String, description = "Whole seconds to wait.")),
            example = json!({"error": "rate_limited", "error_description": "too many requests"})),
        (status = 500, description = "Unexpected failure (logged with the request id).",
            body = NscaleErrorBody, example = json!({"error": "server_error",
                "error_description": "internal server error"})),
        (status = 503, description = "The database cannot serve now.", body = NscaleErrorBody,
            headers(("Retry-After" = String, description = "Whole seconds to wait.")),
            example = json!({"error": "temporarily_unavailable",
                "error_description": "service temporarily unavailable"})),
    ),
)]
pub async fn issue_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokenError> {
    let limits = &state.limits;
    // A token request is a few hundred bytes: its own limit, so an unsigned caller cannot make
    // the service read (and parse) a body the size of a signed write's.
    let body = read_body(
        req.headers(),
        payload.into_inner(),
        limits.body_limit.min(limits::TOKEN_BODY_MAX),
        limits.request_timeout,
    )
    .await?;
    let (credentials, scope) = read_request(req.headers(), &body)?;
    let attempts = &limits.failed_token_attempts;
    let key = find_key(&state, &credentials.id).await?;
    // Compared whatever the key's state, so a revoked or unknown key costs what a live one does.
    let secret_matches = bearer::secret_matches(
        &credentials.secret,
        key.as_deref().and_then(CachedKey::secret),
    );
    let key = match key {
        Some(key) if secret_matches && !key.revoked => key,
        _ => return Err(refuse_failed_attempt(attempts, &credentials.id)),
    };
    if let Decision::Refused { retry_after, .. } = limits
        .rate_limits
        .check(key.access_key_id.as_str(), RequestClass::Write)
    {
        return Err(TokenError::RateLimited {
            retry_after: retry_after_seconds(retry_after),
        });
    }
    let token = IssuedToken::generate().map_err(ApiError::from)?;
    let ttl = chrono::Duration::from_std(limits.token_ttl)
        .map_err(|e| ApiError::internal(format!("token lifetime out of range: {e}")))?;
    // Stored times are whole seconds; the extra second makes the lifetime at least
    // `expires_in` from the moment the answer is sent, never a fraction less.
    let expires_at = db::now() + ttl + chrono::Duration::seconds(1);
    let token_hash = token.hash();
    let key_id = key.access_key_id.clone();
    let issued = db::write(&state.pool, move |conn| {
        AccessToken::issue_for_live_key(conn, &token_hash, &key_id, expires_at)
    })
    .await
    .map_err(ApiError::from)?;
    if !issued {
        // Revoked since the cache read it: the next request reads it again.
        state.key_cache.forget(&key.access_key_id);
        return Err(refuse_failed_attempt(attempts, &credentials.id));
    }
    let mut response = HttpResponse::Ok()
        .content_type(JSON_UTF8)
        .json(TokenResponse {
            access_token: token.as_str().to_owned(),
            token_type: bearer::SCHEME,
            expires_in: limits.token_ttl.as_secs(),
            scope,
        });
    no_store(response.headers_mut());
    Ok(response)
}

/// Any other method on `/oauth2/v2/token`: 405 in this dialect's body, with `Allow` the
/// endpoint's methods (`POST`).
pub async fn token_method_not_allowed(allow: String) -> HttpResponse {
    let mut response = error_answer(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("only {allow} is allowed"),
    );
    let headers = response.headers_mut();
    no_store(headers);
    // Method names are always a valid header value.
    if let Ok(allow) = HeaderValue::try_from(allow) {
        headers.insert(header::ALLOW, allow);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers
    }

    #[test]
    fn the_form_may_name_its_charset_as_utf8_and_nothing_else() {
        let body = b"grant_type=client_credentials";
        let cases = [
            (FORM, true, "the plain type"),
            ("Application/X-WWW-Form-Urlencoded", true, "any case"),
            (
                "application/x-www-form-urlencoded; charset=UTF-8",
                true,
                "utf-8",
            ),
            (
                "application/x-www-form-urlencoded; charset=latin1",
                false,
                "another charset",
            ),
            ("application/json", false, "JSON"),
            ("multipart/form-data", false, "multipart"),
        ];

        for (content_type, accepted, why) in cases {
            let parsed = parse_form(&form_headers(content_type), body);
            assert_eq!(parsed.is_ok(), accepted, "{why}: {content_type}");
        }
    }

    #[test]
    fn form_values_are_decoded_as_html_forms_do_and_unknown_parameters_are_ignored() {
        let body = b"grant_type=client_credentials&scope=a+b%2Bc&audience=x";

        let form = parse_form(&form_headers(FORM), body).unwrap();

        assert_eq!(form.grant_type.as_deref(), Some(CLIENT_CREDENTIALS));
        assert_eq!(form.scope.as_deref(), Some("a b+c"));
    }

    #[test]
    fn basic_credentials_are_form_decoded_after_base64() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("OLAK%41:se%3Acret+x");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("basic {encoded}")).unwrap(),
        );

        let credentials = basic_credentials(&headers).unwrap().unwrap();

        assert_eq!(credentials.id, "OLAKA");
        assert_eq!(credentials.secret.as_str(), "se:cret x");
    }

    #[test]
    fn only_text_of_the_key_id_grammar_is_looked_up() {
        assert!(may_be_key_id("OLAKEXAMPLE1234567890"));
        assert!(!may_be_key_id(""));
        assert!(!may_be_key_id("OLAK EXAMPLE"));
        assert!(!may_be_key_id(&"A".repeat(129)));
    }
}
