//! The nscale dialect's error body, `{"error": "<code>", "error_description": "<text>"}`.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

/// The body of every non-2xx answer of the dialect (RFC 6749 §5.2 for the token endpoint).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
