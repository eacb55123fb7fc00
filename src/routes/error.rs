//! The one error type of the HTTP API and its mapping to the contract's error body:
//! `{"statusCode": …, "message": …}` plus `reason`, `errors` or `activeMembers` where they apply.
//!
//! Which variant to use:
//! - input the client can fix (bad JSON, a bad field, a bad query): [`ApiError::InvalidInput`]
//!   listing every bad field, built with [`FieldErrors`];
//! - a resource the caller cannot see: [`ApiError::NotFound`], whether it is missing, deleted or
//!   another organization's, so the three are indistinguishable from outside;
//! - the state of the data refusing the change: [`ApiError::Forbidden`] or [`ApiError::Conflict`];
//! - the database unreachable, locked or overloaded: [`ApiError::Unavailable`] (503), which a
//!   client may retry;
//! - the transport, before any input is looked at: [`ApiError::PayloadTooLarge`] (413),
//!   [`ApiError::RequestTimeout`] (408, the body did not arrive in time) and
//!   [`ApiError::TooManyRequests`] (429, the access key is over its rate limit);
//! - anything else: [`ApiError::Internal`]. Its cause is logged with the request id by the
//!   request-id middleware; the client only ever sees an opaque message.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::api::ErrorBody;
use crate::auth::verify::{AuthError, AuthFailure};
use crate::db::StoreError;
use crate::domain::{AdminChange, DomainError, InvalidField, Resource, UniqueField};
use crate::limits;

pub use crate::api::FieldError;

/// The contract's 404 message for groups.
pub const GROUP_NOT_FOUND: &str = "User group not found";
/// The contract's 404 message for users.
pub const USER_NOT_FOUND: &str = "User not found";

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

/// Everything a request can fail with; each variant is one row of the contract's status table.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the bad fields are listed (up to a bound).
    #[error("invalid input: {0:?}")]
    InvalidInput(FieldErrors),
    /// 401: the signature checks failed, with the reason code of `signing.md`.
    #[error("unauthorized: {}", .0.reason())]
    Unauthorized(AuthFailure),
    /// 403: a missing permission or the state of the data refuses the change.
    #[error("forbidden: {message}")]
    Forbidden {
        /// The contract's message.
        message: Cow<'static, str>,
        /// A machine-readable code, where the contract gives one.
        reason: Option<&'static str>,
        /// For a group that still has members: how many.
        active_members: Option<i64>,
    },
    /// 404: the resource or route does not exist for this caller.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 405: the route exists, the method does not; `allow` lists the methods that do.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The value of the `Allow` header.
        allow: &'static str,
    },
    /// 409: a live row of the organization already holds this unique value (or a user to put
    /// into a group is in another one).
    #[error("conflict: {message}")]
    Conflict {
        /// The contract's message.
        message: Cow<'static, str>,
        /// The field holding the taken value.
        field: &'static str,
    },
    /// 412: a conditional write (`If-Match`) found another version of the resource.
    #[error("precondition failed")]
    PreconditionFailed,
    /// 422: an `Idempotency-Key` was used before for another request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
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

    /// A 400 about one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        ApiError::InvalidInput(errors)
    }

    /// The answer's machine-readable `reason`, where it has one (401, 429, some 403s): for
    /// the access log.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ApiError::Unauthorized(failure) => Some(failure.reason()),
            ApiError::Forbidden { reason, .. } => *reason,
            ApiError::TooManyRequests { .. } => Some("rate_limited"),
            ApiError::PreconditionFailed => Some("precondition_failed"),
            ApiError::IdempotencyKeyReused => Some("idempotency_key_reused"),
            ApiError::EventsPurged { .. } => Some("events_purged"),
            _ => None,
        }
    }

    /// A 403 with the contract's message and no further detail.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Forbidden {
            message: message.into(),
            reason: None,
            active_members: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
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

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut body = ErrorBody {
            status_code: status.as_u16(),
            message: String::new(),
            reason: None,
            active_members: None,
            errors: None,
            omitted_errors: None,
        };
        body.message = match self {
            ApiError::InvalidInput(errors) => {
                body.errors = Some(errors.shown.clone());
                body.omitted_errors = (errors.omitted > 0).then_some(errors.omitted);
                "Invalid input".to_owned()
            }
            ApiError::Unauthorized(failure) => {
                body.reason = Some(failure.reason().to_owned());
                "Invalid or missing authorization credentials".to_owned()
            }
            ApiError::Forbidden {
                message,
                reason,
                active_members,
            } => {
                body.reason = reason.map(str::to_owned);
                body.active_members = *active_members;
                message.to_string()
            }
            ApiError::NotFound(message) => (*message).to_owned(),
            ApiError::MethodNotAllowed { .. } => "Method not allowed".to_owned(),
            ApiError::Conflict { message, field } => {
                body.errors = Some(vec![FieldError {
                    field: (*field).to_owned(),
                    message: message.to_string(),
                }]);
                message.to_string()
            }
            ApiError::PreconditionFailed => {
                body.reason = Some("precondition_failed".to_owned());
                "The resource was changed since the version named in If-Match".to_owned()
            }
            ApiError::IdempotencyKeyReused => {
                body.reason = Some("idempotency_key_reused".to_owned());
                "Idempotency-Key was already used for a different request".to_owned()
            }
            ApiError::EventsPurged { purged_through } => {
                body.reason = Some("events_purged".to_owned());
                format!(
                    "Events up to {purged_through} were purged by the retention: read the \
                     current groups and users again, then follow the feed from after={purged_through}"
                )
            }
            ApiError::PayloadTooLarge { .. } => "Request body is too large".to_owned(),
            ApiError::UnsupportedMediaType => "Content-Type must be application/json".to_owned(),
            ApiError::RequestTimeout { .. } => "Request body was not received in time".to_owned(),
            ApiError::TooManyRequests { .. } => {
                body.reason = Some("rate_limited".to_owned());
                "Too many requests".to_owned()
            }
            ApiError::Unavailable { .. } => "Service temporarily unavailable".to_owned(),
            ApiError::Outdated { found, known } => {
                body.reason = Some("upgrade_required".to_owned());
                format!(
                    "This instance runs an older release than the database's schema \
                     (generation {found}; it knows {known}) and writes nothing until it is \
                     upgraded: send the request again (another instance serves it) and upgrade \
                     this one"
                )
            }
            ApiError::Internal(_) => "Internal server error".to_owned(),
        };
        let mut response = HttpResponse::build(status);
        match self {
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, *allow));
            }
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, crate::auth::header::SCHEME));
            }
            ApiError::Unavailable { .. } => {
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
        response.content_type(crate::routes::JSON_UTF8).json(body)
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

/// The Onlive answer of each domain error: the contract's status, message and details.
impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotFound(Resource::Group) => ApiError::NotFound(GROUP_NOT_FOUND),
            DomainError::NotFound(Resource::User) => ApiError::NotFound(USER_NOT_FOUND),
            DomainError::HasActiveMembers { count } => ApiError::Forbidden {
                message: "Cannot delete user group with active members".into(),
                reason: Some("group_has_active_members"),
                active_members: Some(count),
            },
            DomainError::LastAdmin(AdminChange::Delete) => {
                ApiError::forbidden("Cannot delete the organization's last admin user")
            }
            DomainError::LastAdmin(AdminChange::Demote) => {
                ApiError::forbidden("Cannot demote the organization's last admin user")
            }
            DomainError::Taken(UniqueField::GroupName) => ApiError::Conflict {
                message: "A user group with this name already exists".into(),
                field: "name",
            },
            DomainError::Taken(UniqueField::GroupExternalId) => ApiError::Conflict {
                message: "A user group with this externalId already exists".into(),
                field: "externalId",
            },
            DomainError::Taken(UniqueField::UserEmail) => ApiError::Conflict {
                message: "A user with this email already exists".into(),
                field: "email",
            },
            DomainError::InvalidInput(fields) => {
                let mut errors = FieldErrors::new();
                for field in fields {
                    match field {
                        InvalidField::GroupToJoin => errors.add(
                            "userGroupId",
                            format!(
                                "userGroupId must name an existing user group ({GROUP_NOT_FOUND})"
                            ),
                        ),
                        // The three below come only from the nscale dialect's fields, which
                        // name them (nscale.md: "role ID … does not exist").
                        InvalidField::UnknownRole(id) => {
                            errors.add("spec.roleIDs", format!("role ID {id} does not exist"))
                        }
                        InvalidField::UnknownServiceAccount(id) => errors.add(
                            "spec.serviceAccountIDs",
                            format!("service account ID {id} does not exist or is revoked"),
                        ),
                        InvalidField::UnknownUser(id) => {
                            errors.add("spec.userIDs", format!("user ID {id} does not exist"))
                        }
                    }
                }
                ApiError::InvalidInput(errors)
            }
            DomainError::MemberOfAnotherGroup { user_id } => ApiError::Conflict {
                message: format!("User {user_id} is a member of another user group").into(),
                field: "userIDs",
            },
            DomainError::TooManyMembersToRemove { max } => ApiError::invalid_field(
                "spec.userIDs",
                format!(
                    "spec.userIDs would take over {max} members out of the group; one write \
                     takes out at most {max}: keep more, or use PUT /api/v1/users/{{id}} \
                     {{\"userGroupId\": null}}"
                ),
            ),
            DomainError::TooManyToList { max } => ApiError::invalid_field(
                "organizationID",
                format!(
                    "the organization has more than {max} live groups, more than one answer \
                     lists; list them page by page with GET /api/v1/user-groups"
                ),
            ),
            DomainError::TooManyDeletedToList { max } => ApiError::invalid_field(
                "showDeleted",
                format!(
                    "the organization has more than {max} deleted groups, more than one answer \
                     lists; list them page by page with GET /api/v1/deleted-user-groups"
                ),
            ),
            DomainError::PageTooDeep { max_page } => ApiError::invalid_field(
                "page",
                format!(
                    "page must be at most {max_page} at this limit; page further with cursor \
                     (each page's nextCursor)"
                ),
            ),
            DomainError::PreconditionFailed => ApiError::PreconditionFailed,
            DomainError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            DomainError::Unavailable { cause, .. } => ApiError::Unavailable { cause },
            DomainError::Outdated { found, known } => ApiError::Outdated { found, known },
            DomainError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

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
