//! The nscale dialect's error body, `{"error": "<code>", "error_description": "<text>"}`, and
//! [`nscale_errors`], the one place every error under `/api/v1/organizations` takes that shape.
//!
//! The handlers, the authentication middleware and the route table answer with [`ApiError`]s,
//! whichever dialect the path belongs to. An `ApiError` is the problem itself (a domain refusal,
//! a missing permission, an authentication, transport or store failure), not an answer: the
//! middleware reads the error attached to a response under the dialect's prefix and [`describe`]
//! words every variant in the dialect's own terms (its field names such as `spec.roleIDs`,
//! its lowercase texts), never by reading the Onlive answer's texts. The response keeps its
//! attached error, so the access log, the metrics and the 5xx log see the same cause.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, CacheControl, CacheDirective, HeaderValue, TryIntoHeaderValue,
};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::AuthFailure;
use crate::domain::{AdminChange, DomainError, InvalidField, Resource, UniqueField};
use crate::routes::{ApiError, FieldErrors};

/// The body of every non-2xx answer of the dialect (RFC 6749 §5.2 for the token endpoint).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"error": "forbidden",
    "error_description": "operation is not allowed by rbac"})))]
pub struct NscaleErrorBody {
    /// The machine-readable code (`invalid_request`, `access_denied`, `forbidden`, …).
    pub error: String,
    /// What went wrong, for a person.
    pub error_description: String,
}

/// An answer in the dialect's error shape, with `Cache-Control: no-cache`.
pub fn error_answer(
    status: StatusCode,
    code: &str,
    description: impl Into<String>,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .content_type(crate::routes::JSON_UTF8)
        .json(NscaleErrorBody {
            error: code.to_owned(),
            error_description: description.into(),
        })
}

/// The path prefix of the dialect's group and role routes.
pub const PREFIX: &str = "/api/v1/organizations";

/// True for a path under [`PREFIX`] (the prefix itself included).
pub fn is_nscale_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// How the dialect words one error: status, code, description, and the `WWW-Authenticate`
/// challenge of a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NscaleAnswer {
    /// The HTTP status: the problem's, the same in every dialect.
    pub status: StatusCode,
    /// The `error` code of the dialect's table.
    pub code: &'static str,
    /// The `error_description`.
    pub description: String,
    /// For a 401, the `WWW-Authenticate` value.
    pub challenge: Option<&'static str>,
}

/// The dialect's code for a status, from nscale.md's Errors table; a status the table has no
/// row for (408) gets the code of its class.
pub fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "access_denied",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        412 => "precondition_failed",
        413 => "request_entity_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "temporarily_unavailable",
        400..=499 => "invalid_request",
        _ => "server_error",
    }
}

/// The dialect's answer to `error`.
pub fn describe(error: &ApiError) -> NscaleAnswer {
    let status = error.status_code();
    let mut challenge = None;
    let description = match error {
        ApiError::InvalidInput(errors) => listed(errors),
        ApiError::Unauthorized(failure) => match failure {
            AuthFailure::MissingAuthorization => {
                challenge = Some("Bearer");
                "authorization header missing".to_owned()
            }
            AuthFailure::MalformedAuthorization => {
                challenge = Some("Bearer error=\"invalid_request\"");
                "authorization header malformed".to_owned()
            }
            AuthFailure::InvalidToken => {
                challenge = Some("Bearer error=\"invalid_token\"");
                "token validation failed".to_owned()
            }
            // A signed request (this dialect's routes take the Onlive signature too): the same
            // challenge, and the signing scheme's reason, which its client needs to find what
            // it signed differently.
            signature => {
                challenge = Some("Bearer error=\"invalid_token\"");
                format!("signature validation failed: {}", signature.reason())
            }
        },
        ApiError::PermissionDenied(_) => "operation is not allowed by rbac".to_owned(),
        ApiError::ForeignOrganization => "access to this organization is forbidden".to_owned(),
        ApiError::RouteNotFound => "route not found".to_owned(),
        ApiError::MethodNotAllowed { .. } => "method not allowed".to_owned(),
        ApiError::Domain(refusal) => domain(refusal),
        ApiError::PayloadTooLarge { limit } => {
            format!("request body is over the limit of {limit} bytes")
        }
        ApiError::UnsupportedMediaType => "content type must be application/json".to_owned(),
        ApiError::RequestTimeout { .. } => "request body was not received in time".to_owned(),
        ApiError::EventsPurged { purged_through } => {
            format!("events up to {purged_through} were purged by the retention")
        }
        ApiError::TooManyRequests { .. } => "too many requests".to_owned(),
        ApiError::Unavailable { .. } => UNAVAILABLE.to_owned(),
        ApiError::Outdated { found, known } => outdated(*found, *known),
        ApiError::Internal(_) => INTERNAL.to_owned(),
    };
    NscaleAnswer {
        status,
        code: code_of(status),
        description,
        challenge,
    }
}

const UNAVAILABLE: &str = "service temporarily unavailable";
const INTERNAL: &str = "internal server error";

/// A 400's description: every listed message, `; `-separated, and how many more there were.
fn listed(errors: &FieldErrors) -> String {
    let mut text = errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if errors.omitted() > 0 {
        text.push_str(&format!(" (and {} more)", errors.omitted()));
    }
    text
}

/// The description of a domain refusal, in the dialect's words and field names. A 400 is
/// collected as the dialect's parser collects its own (bounded, each message cut alike).
fn domain(refusal: &DomainError) -> String {
    let one_field = |field: &str, message: String| {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        listed(&errors)
    };
    match refusal {
        DomainError::NotFound(Resource::Group) => "group not found".to_owned(),
        DomainError::NotFound(Resource::User) => "user not found".to_owned(),
        DomainError::HasActiveMembers { .. } => {
            "cannot delete group with active members".to_owned()
        }
        // No route of the dialect changes a user; worded for completeness.
        DomainError::LastAdmin(AdminChange::Delete) => {
            "cannot delete the organization's last admin user".to_owned()
        }
        DomainError::LastAdmin(AdminChange::Demote) => {
            "cannot demote the organization's last admin user".to_owned()
        }
        DomainError::Taken(UniqueField::GroupName) => {
            "a live group of the organization already has this name".to_owned()
        }
        DomainError::Taken(UniqueField::GroupExternalId) => {
            "a user group with this externalId already exists".to_owned()
        }
        DomainError::Taken(UniqueField::UserEmail) => {
            "a user with this email already exists".to_owned()
        }
        DomainError::MemberOfAnotherGroup { user_id } => {
            format!("user {user_id} is a member of another user group")
        }
        DomainError::InvalidInput(fields) => {
            let mut errors = FieldErrors::new();
            for field in fields {
                match field {
                    // nscale.md: "role ID … does not exist".
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
                    // No route of the dialect moves a user; worded for completeness.
                    InvalidField::GroupToJoin => {
                        errors.add("group", "the group to join does not exist")
                    }
                }
            }
            listed(&errors)
        }
        DomainError::TooManyMembersToRemove { max } => one_field(
            "spec.userIDs",
            format!(
                "spec.userIDs would take over {max} members out of the group; one write \
                 takes out at most {max}: keep more, or use PUT /api/v1/users/{{id}} \
                 {{\"userGroupId\": null}}"
            ),
        ),
        DomainError::TooManyToList { max } => one_field(
            "organizationID",
            format!(
                "the organization has more than {max} live groups, more than one answer \
                 lists; list them page by page with GET /api/v1/user-groups"
            ),
        ),
        DomainError::TooManyDeletedToList { max } => one_field(
            "showDeleted",
            format!(
                "the organization has more than {max} deleted groups, more than one answer \
                 lists; list them page by page with GET /api/v1/deleted-user-groups"
            ),
        ),
        DomainError::PageTooDeep { max_page } => one_field(
            "page",
            format!(
                "page must be at most {max_page} at this limit; page further with cursor \
                 (each page's nextCursor)"
            ),
        ),
        DomainError::PreconditionFailed => {
            "the resource changed since the ETag given in If-Match".to_owned()
        }
        DomainError::IdempotencyKeyReused => {
            "this Idempotency-Key was used with another request".to_owned()
        }
        // Converted to `ApiError::Unavailable` and `ApiError::Internal` on the way up; worded
        // the same should one be built by hand.
        DomainError::Unavailable { .. } => UNAVAILABLE.to_owned(),
        DomainError::Outdated { found, known } => outdated(*found, *known),
        DomainError::Internal(_) => INTERNAL.to_owned(),
    }
}

/// The 503 of an instance older than the database's schema, in the dialect's words.
fn outdated(found: i64, known: i64) -> String {
    format!(
        "this instance runs an older release than the database's schema (generation {found}; \
         it knows {known}) and writes nothing until it is upgraded"
    )
}

/// Rewrites every non-2xx answer under [`PREFIX`] in the dialect's shape: the status, body and
/// `Content-Type` from [`describe`] (or, for an answer with no [`ApiError`] attached, from its
/// status alone), `Cache-Control: no-cache`, and for a 401 the Bearer challenge. Every other
/// header stays (`Retry-After`, `Allow`, the rate-limit headers; the request id is added
/// outside). Wrapped on the `/api/v1` scope outside the authentication middleware, so its 401,
/// 413 and 429 pass here too; other paths pass untouched.
pub async fn nscale_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let ours = is_nscale_path(req.path());
    let response = next.call(req).await?.map_into_boxed_body();
    if !ours || response.status().is_success() || response.status().is_redirection() {
        return Ok(response);
    }
    let answer = match response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        Some(error) => describe(error),
        None => NscaleAnswer {
            status: response.status(),
            code: code_of(response.status()),
            description: response
                .status()
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase(),
            challenge: None,
        },
    };
    let body = serde_json::to_vec(&NscaleErrorBody {
        error: answer.code.to_owned(),
        error_description: answer.description,
    })
    .map_err(|e| ApiError::internal(format!("cannot write an error body: {e}")))?;
    let (request, response) = response.into_parts();
    // `set_body` keeps the attached error, which the outer middlewares read.
    let mut response = response.set_body(BoxBody::new(body));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::routes::JSON_UTF8),
    );
    if let Ok(value) = CacheControl(vec![CacheDirective::NoCache]).try_into_value() {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.remove(header::CONTENT_LENGTH);
    match answer.challenge {
        Some(challenge) => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        None => headers.remove(header::WWW_AUTHENTICATE).for_each(drop),
    }
    Ok(ServiceResponse::new(request, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_under_the_prefix_are_the_dialects() {
        assert!(is_nscale_path("/api/v1/organizations"));
        assert!(is_nscale_path("/api/v1/organizations/x/groups"));
        assert!(!is_nscale_path("/api/v1/organizationsx"));
        assert!(!is_nscale_path("/api/v1/user-groups"));
    }

    #[test]
    fn every_status_of_the_table_has_its_code() {
        let table = [
            (400, "invalid_request"),
            (401, "access_denied"),
            (403, "forbidden"),
            (404, "not_found"),
            (405, "method_not_allowed"),
            (409, "conflict"),
            (413, "request_entity_too_large"),
            (415, "unsupported_media_type"),
            (429, "rate_limited"),
            (500, "server_error"),
            (503, "temporarily_unavailable"),
        ];
        for (status, code) in table {
            assert_eq!(
                code_of(StatusCode::from_u16(status).unwrap()),
                code,
                "{status}"
            );
        }
    }

    #[test]
    fn a_group_with_active_members_is_a_403_in_the_dialects_words() {
        let answer = describe(&ApiError::from(DomainError::HasActiveMembers { count: 2 }));

        assert_eq!(
            answer,
            NscaleAnswer {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                description: "cannot delete group with active members".to_owned(),
                challenge: None,
            }
        );
    }

    #[test]
    fn unknown_members_are_named_by_the_dialects_fields() {
        let answer = describe(&ApiError::from(DomainError::InvalidInput(vec![
            InvalidField::UnknownRole("r".to_owned()),
            InvalidField::UnknownUser("u".to_owned()),
        ])));

        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.code, "invalid_request");
        assert_eq!(
            answer.description,
            "role ID r does not exist; user ID u does not exist"
        );
    }

    #[test]
    fn a_missing_permission_is_the_dialects_rbac_refusal() {
        let answer = describe(&ApiError::PermissionDenied(
            crate::auth::Permission::UserGroupsDelete,
        ));

        assert_eq!(answer.code, "forbidden");
        assert_eq!(answer.description, "operation is not allowed by rbac");
    }

    #[test]
    fn an_internal_error_stays_opaque() {
        let answer = describe(&ApiError::internal("password=hunter2"));
        assert_eq!(answer.description, "internal server error");
        assert_eq!(answer.code, "server_error");
    }
}
