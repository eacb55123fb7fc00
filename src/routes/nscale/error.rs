//! The nscale dialect's error body, `{"error": "<code>", "error_description": "<text>"}`, and
//! [`nscale_errors`], the one place every error under `/api/v1/organizations` takes that shape.
//!
//! The handlers, the authentication middleware and the route table answer with [`ApiError`]s,
//! whichever dialect the path belongs to; the middleware reads the error attached to a response
//! under the dialect's prefix and rewrites the answer's status, body and headers in the
//! dialect's words, so no handler carries a second copy of the answer table. The response keeps
//! its attached error, so the access log, the metrics and the 5xx log see the same cause.

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
use crate::routes::error::{GROUP_NOT_FOUND, USER_NOT_FOUND};
use crate::routes::ApiError;

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
    /// The HTTP status (the Onlive one, except where the dialect's table differs: none today).
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
        ApiError::InvalidInput(errors) => {
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
        ApiError::Forbidden {
            reason: Some("group_has_active_members"),
            ..
        } => "cannot delete group with active members".to_owned(),
        ApiError::Forbidden { message, .. } => message.to_string(),
        ApiError::NotFound(message) => match *message {
            GROUP_NOT_FOUND => "group not found".to_owned(),
            USER_NOT_FOUND => "user not found".to_owned(),
            _ => "route not found".to_owned(),
        },
        ApiError::MethodNotAllowed { .. } => "method not allowed".to_owned(),
        ApiError::Conflict { field: "name", .. } => {
            "a live group of the organization already has this name".to_owned()
        }
        ApiError::Conflict { message, .. } => lower_first(message),
        ApiError::PayloadTooLarge { limit } => {
            format!("request body is over the limit of {limit} bytes")
        }
        ApiError::UnsupportedMediaType => "content type must be application/json".to_owned(),
        ApiError::RequestTimeout { .. } => "request body was not received in time".to_owned(),
        ApiError::PreconditionFailed => {
            "the resource changed since the ETag given in If-Match".to_owned()
        }
        ApiError::IdempotencyKeyReused => {
            "this Idempotency-Key was used with another request".to_owned()
        }
        ApiError::EventsPurged { purged_through } => {
            format!("events up to {purged_through} were purged by the retention")
        }
        ApiError::TooManyRequests { .. } => "too many requests".to_owned(),
        ApiError::Unavailable { .. } => "service temporarily unavailable".to_owned(),
        ApiError::Outdated { found, known } => format!(
            "this instance runs an older release than the database's schema (generation \
             {found}; it knows {known}) and writes nothing until it is upgraded"
        ),
        ApiError::Internal(_) => "internal server error".to_owned(),
    };
    NscaleAnswer {
        status,
        code: code_of(status),
        description,
        challenge,
    }
}

/// The Onlive message with its first letter in lowercase, as the dialect writes its texts.
fn lower_first(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
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
    fn an_internal_error_stays_opaque() {
        let answer = describe(&ApiError::internal("password=hunter2"));
        assert_eq!(answer.description, "internal server error");
        assert_eq!(answer.code, "server_error");
    }
}
