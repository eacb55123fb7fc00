//! The one error type of the HTTP API, [`ApiError`]: what went wrong, in neutral terms, for
//! every dialect to word in its own body. No variant carries a dialect's message text or field
//! name, except [`ApiError::InvalidInput`], whose [`FieldErrors`] a dialect's own parser fills
//! with its own field names; everything else (a domain refusal, a missing permission, a
//! resource or route not found, the transport, authentication and store failures) is the
//! problem itself, and the dialect's renderer says it: [`crate::routes::onlive::error`] the
//! contract's `{"statusCode", "message", …}` body, [`crate::routes::nscale::error`] the
//! `{"error", "error_description"}` body. Neither reads the other's words.
//!
//! The status of each problem is the same in every dialect ([`ApiError::status_code`]), and so
//! are the headers that are not a dialect's words (`Allow`, `Retry-After`, `Connection`); the
//! `ResponseError` answer is the Onlive one, the default outside the nscale prefix, whose
//! middleware renders its own answer from the error attached to the response.
//!
//! Which variant to use:
//! - input the client can fix (bad JSON, a bad field, a bad query): [`ApiError::InvalidInput`]
//!   listing every bad field, built with [`FieldErrors`] in the dialect's own field names;
//! - a resource the caller cannot see: [`ApiError::not_found`], whether it is missing, deleted
//!   or another organization's, so the three are indistinguishable from outside; a path no route
//!   matches: [`ApiError::RouteNotFound`];
//! - a key without the route's permission: [`ApiError::PermissionDenied`]; a path naming
//!   another organization: [`ApiError::ForeignOrganization`];
//! - the state of the data refusing the change: [`ApiError::Domain`], the [`DomainError`]
//!   itself (converted with `?`);
//! - the database unreachable, locked or overloaded: [`ApiError::Unavailable`] (503), which a
//!   client may retry;
//! - the transport, before any input is looked at: [`ApiError::PayloadTooLarge`] (413),
//!   [`ApiError::RequestTimeout`] (408, the body did not arrive in time) and
//!   [`ApiError::TooManyRequests`] (429, the access key is over its rate limit);
//! - anything else: [`ApiError::Internal`]. Its cause is logged with the request id by the
//!   request-id middleware; the client only ever sees an opaque message.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponseBuilder;

use crate::auth::verify::{AuthError, AuthFailure};
use crate::auth::Permission;
use crate::db::StoreError;
use crate::domain::{DomainError, Resource};
use crate::limits;

pub use crate::api::FieldError;

/// Collects the bad fields of a request, so a 400 lists them all at once, up to a bound: a body
/// of a million unknown members must not be answered with a million entries (the answer would
/// outgrow the request, and building it would cost more than the request did). Past
/// [`limits::FIELD_ERRORS_SHOWN`] entries only a count is kept, and each entry's field name and
/// message are cut to a few dozen characters, so a 400 stays within a few KiB whatever the input.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors {
    shown: Vec<FieldError>,
    omitted: usize,
}

impl FieldErrors {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is bad.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        if self.shown.len() >= limits::FIELD_ERRORS_SHOWN {
            self.omitted += 1;
            return;
        }
        self.shown.push(FieldError {
            field: shortened(field.into(), limits::FIELD_NAME_SHOWN),
            message: shortened(message.into(), limits::FIELD_MESSAGE_SHOWN),
        });
    }

    /// `Ok(value)` when nothing was recorded, else the 400 listing the bad fields.
    pub fn into_result<T>(self, value: T) -> Result<T, ApiError> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::InvalidInput(self))
        }
    }

    /// True when no field was recorded as bad.
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    /// The entries the answer lists, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.shown.iter()
    }

    /// How many further problems were found and left out of the list.
    pub fn omitted(&self) -> usize {
        self.omitted
    }
}

/// `text` itself when it has at most `max` characters, else its first `max - 1` and `…`.
/// Linear in `max`, not in the text, once the cut is found.
fn shortened(mut text: String, max: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max) {
        let keep = text[..cut]
            .char_indices()
            .last()
            .map_or(0, |(last, _)| last);
        text.truncate(keep);
        text.push('…');
    }
    text
}

/// Everything a request can fail with, as the problem itself; each variant is one row of the
/// contract's status table, worded by each dialect's renderer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the bad fields are listed (up to a bound), in the words
    /// of the dialect whose parser found them.
    #[error("invalid input: {0:?}")]
    InvalidInput(FieldErrors),
    /// 401: the credentials were refused, with the reason code of `signing.md`.
    #[error("unauthorized: {}", .0.reason())]
    Unauthorized(AuthFailure),
    /// 403: the caller's access key does not hold the route's permission.
    #[error("permission denied: {0}")]
    PermissionDenied(Permission),
    /// 403: the path names an organization that is not the caller's.
    #[error("foreign organization")]
    ForeignOrganization,
    /// 404: no route matches the path.
    #[error("route not found")]
    RouteNotFound,
    /// 405: the route exists, the method does not; `allow` lists the methods that do.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The value of the `Allow` header, derived from the route's methods
        /// ([`crate::routes::resource`]).
        allow: String,
    },
    /// What the domain refused (a record not found, a group with active members, the last
    /// admin, a taken unique value, a field naming something that is not there, a bound, a
    /// failed `If-Match`, a reused `Idempotency-Key`). The store's failures are not kept here:
    /// converted with `From`, they become [`ApiError::Unavailable`] and [`ApiError::Internal`].
    #[error(transparent)]
    Domain(DomainError),
    /// 410: the change feed's events after the cursor were purged by the retention, up to and
    /// including `purged_through`: following on would skip them without a word.
    #[error("events up to {purged_through} were purged")]
    EventsPurged {
        /// The last sequence number the purge removed.
        purged_through: i64,
    },
    /// 413: the body is over the configured limit.
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: POST or PUT without a JSON content type.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 408: the client stopped sending the body before it was complete.
    #[error("request timeout: the body did not arrive within {seconds} s")]
    RequestTimeout {
        /// The configured request timeout, in seconds.
        seconds: u64,
    },
    /// 429: the access key is over its rate limit for this kind of request.
    #[error("too many requests: retry after {retry_after} s")]
    TooManyRequests {
        /// Whole seconds until the key's next request would be served (at least 1), sent as
        /// `Retry-After`.
        retry_after: u64,
    },
    /// 503: the database cannot serve now. (Whether a transaction is worth running again is
    /// the store's and the domain's to decide, below this answer.)
    #[error("service unavailable: {cause}")]
    Unavailable {
        /// What went wrong, for the log only.
        cause: String,
    },
    /// 503 `upgrade_required`: a newer release migrated the database, and this instance stops
    /// writing until it is upgraded (`docs/deployment.md#upgrading`).
    #[error(
        "upgrade required: the database's schema is generation {found}, this release knows {known}"
    )]
    Outdated {
        /// The generation the database records.
        found: i64,
        /// The newest generation this release knows.
        known: i64,
    },
    /// 500: a bug or an unexpected failure; the cause goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 503 whose cause is logged.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        ApiError::Unavailable {
            cause: cause.to_string(),
        }
    }

    /// A 500 whose cause is logged.
    pub fn internal(cause: impl fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// A 400 about one field, in the words of the dialect that read it.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        ApiError::InvalidInput(errors)
    }

    /// A 404 for a record of this kind that the caller cannot see.
    pub fn not_found(resource: Resource) -> Self {
        ApiError::Domain(DomainError::NotFound(resource))
    }

    /// The answer's machine-readable cause, where it has one (401, 429, some 403s, 410, 412,
    /// 422): for the access log. The same codes as the Onlive body's `reason`.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ApiError::Unauthorized(failure) => Some(failure.reason()),
            ApiError::ForeignOrganization => Some("foreign_organization"),
            ApiError::Domain(DomainError::HasActiveMembers { .. }) => {
                Some("group_has_active_members")
            }
            ApiError::Domain(DomainError::PreconditionFailed) => Some("precondition_failed"),
            ApiError::Domain(DomainError::IdempotencyKeyReused) => Some("idempotency_key_reused"),
            ApiError::TooManyRequests { .. } => Some("rate_limited"),
            ApiError::EventsPurged { .. } => Some("events_purged"),
            ApiError::Outdated { .. } | ApiError::Domain(DomainError::Outdated { .. }) => {
                Some("upgrade_required")
            }
            _ => None,
        }
    }

    /// Adds the headers of the answer that are no dialect's words: `Allow` on a 405,
    /// `Retry-After` on a 503 and a 429, `Connection: close` on a 408.
    pub fn add_headers(&self, response: &mut HttpResponseBuilder) {
        match self {
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::Unavailable { .. } | ApiError::Domain(DomainError::Unavailable { .. }) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::RequestTimeout { .. } => {
                // The rest of the body may still come; the connection is not worth keeping.
                response.insert_header((header::CONNECTION, "close"));
            }
            _ => {}
        }
    }
}

/// The status of each domain outcome, the same in every dialect.
fn domain_status(error: &DomainError) -> StatusCode {
    match error {
        DomainError::NotFound(_) => StatusCode::NOT_FOUND,
        DomainError::HasActiveMembers { .. } | DomainError::LastAdmin(_) => StatusCode::FORBIDDEN,
        DomainError::Taken(_) | DomainError::MemberOfAnotherGroup { .. } => StatusCode::CONFLICT,
        DomainError::InvalidInput(_)
        | DomainError::TooManyMembersToRemove { .. }
        | DomainError::TooManyToList { .. }
        | DomainError::TooManyDeletedToList { .. }
        | DomainError::PageTooDeep { .. } => StatusCode::BAD_REQUEST,
        DomainError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        DomainError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        DomainError::Unavailable { .. } | DomainError::Outdated { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// The answer's status, the same in every dialect (each dialect words the body: the Onlive
    /// renderer implements `ResponseError` with it, the nscale one rewrites under its prefix).
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::PermissionDenied(_) | ApiError::ForeignOrganization => StatusCode::FORBIDDEN,
            ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Domain(error) => domain_status(error),
            ApiError::EventsPurged { .. } => StatusCode::GONE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } | ApiError::Outdated { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> Self {
        ApiError::Unauthorized(failure)
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Refused(failure) => ApiError::Unauthorized(failure),
            AuthError::Store(store) => store.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable { cause, .. } => ApiError::Unavailable { cause },
            // Only the domain knows which value an index guards; one reaching here is a bug.
            StoreError::UniqueViolation { constraint } => {
                ApiError::internal(format!("unexpected unique violation: {constraint}"))
            }
            StoreError::Outdated { found, known } => ApiError::Outdated { found, known },
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// A domain outcome as it is: the refusals stay [`ApiError::Domain`] for each dialect to word;
/// the store's failures become the 503 and the 500 every other layer's failures are.
impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Unavailable { cause, .. } => ApiError::Unavailable { cause },
            DomainError::Outdated { found, known } => ApiError::Outdated { found, known },
            DomainError::Internal(cause) => ApiError::Internal(cause),
            refusal => ApiError::Domain(refusal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use actix_web::ResponseError;

    fn body_of(error: ApiError) -> serde_json::Value {
        let bytes = error.error_response().into_body().try_into_bytes().unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_400_lists_a_bounded_number_of_short_entries_and_counts_the_rest() {
        let mut errors = FieldErrors::new();
        let long_name = "x".repeat(10_000);
        for _ in 0..1_000 {
            errors.add(
                long_name.clone(),
                format!("{long_name} is not a known field"),
            );
        }
        let body = body_of(errors.into_result(()).unwrap_err());

        let listed = body["errors"].as_array().unwrap();
        assert_eq!(listed.len(), limits::FIELD_ERRORS_SHOWN);
        assert_eq!(body["omittedErrors"], 1_000 - limits::FIELD_ERRORS_SHOWN);
        let field = listed[0]["field"].as_str().unwrap();
        assert_eq!(field.chars().count(), limits::FIELD_NAME_SHOWN);
        assert!(field.ends_with('…'));
        let message = listed[0]["message"].as_str().unwrap();
        assert_eq!(message.chars().count(), limits::FIELD_MESSAGE_SHOWN);
    }

    #[test]
    fn short_names_and_messages_are_listed_whole() {
        let mut errors = FieldErrors::new();
        errors.add("name", "name must not be empty");

        assert_eq!(
            body_of(errors.into_result(()).unwrap_err()),
            serde_json::json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "name", "message": "name must not be empty"}]})
        );
    }

    #[test]
    fn an_internal_error_keeps_its_cause_out_of_the_answer() {
        let error = ApiError::internal("connection string postgres://user:hunter2@db");

        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body_of(error),
            serde_json::json!({"statusCode": 500, "message": "Internal server error"})
        );
    }

    #[test]
    fn too_many_requests_is_a_429_with_its_reason_and_retry_after() {
        let response = ApiError::TooManyRequests { retry_after: 7 }.error_response();

        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
        assert_eq!(
            body_of(ApiError::TooManyRequests { retry_after: 7 }),
            serde_json::json!({"statusCode": 429, "message": "Too many requests", "reason": "rate_limited"})
        );
    }

    #[test]
    fn a_body_that_stalls_is_a_408_that_closes_the_connection() {
        let response = ApiError::RequestTimeout { seconds: 10 }.error_response();

        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers().get(header::CONNECTION).unwrap(), "close");
        assert_eq!(
            body_of(ApiError::RequestTimeout { seconds: 10 }),
            serde_json::json!({"statusCode": 408, "message": "Request body was not received in time"})
        );
    }

    #[test]
    fn an_unavailable_database_is_a_503_the_client_may_retry() {
        let response = ApiError::unavailable("timed out").error_response();

        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }
}
