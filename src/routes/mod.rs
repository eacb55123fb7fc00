//! The HTTP routes: one module per resource, handlers named verb_noun, request and response
//! types beside the handler that uses them. [`crate::server::configure`] holds the route table.

pub mod groups;
pub mod health;
pub mod input;
pub mod users;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

use crate::error::ApiError;
use crate::models::PageRequest;

/// The content type of every JSON answer, as the contract writes it.
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A JSON answer with the contract's content type.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(JSON_UTF8)
        .json(body)
}

/// One page of a list answer: `{"items", "page", "limit", "total", "totalPages"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The page number asked for.
    pub page: i64,
    /// The page size asked for.
    pub limit: i64,
    /// How many items match in all.
    pub total: i64,
    /// How many pages of `limit` items hold them; 0 when there are none.
    pub total_pages: i64,
}

impl<T> Page<T> {
    /// A page of `items` out of `total` matches.
    pub fn new(items: Vec<T>, request: PageRequest, total: i64) -> Self {
        Page {
            items,
            page: request.page,
            limit: request.limit,
            total,
            total_pages: (total + request.limit - 1) / request.limit,
        }
    }
}

/// Writes a stored time as the contract shows it: RFC 3339, UTC, whole seconds, `Z`.
pub fn rfc3339<S: Serializer>(time: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&time.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// Like [`rfc3339`], for a time that may be unset.
pub fn rfc3339_option<S: Serializer>(
    time: &Option<NaiveDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => rfc3339(time, serializer),
        None => serializer.serialize_none(),
    }
}

/// 404 for a path no route matches (`"Route not found"`).
pub async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("Route not found"))
}

/// A stored time as the contract's text (`2025-05-22T10:30:00Z`).
pub fn rfc3339_text(time: &NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
