//! The HTTP routes, one folder per dialect over the one domain core: [`onlive`] (the contract's
//! routes and the lifecycle's) and [`nscale`] (the nscale Identity group routes and the token
//! endpoint). Beside them, what both use: the verified [`Caller`] and its one-transaction
//! writes, [`ApiError`] (which each dialect words in its own body), input parsing, the list
//! cursors, the lifecycle's request headers (`ETag`, `If-Match`, `Idempotency-Key`), and the
//! unsigned `health` and `metrics` routes. [`crate::server::configure`] holds the route table.

pub mod caller;
pub mod cursor;
pub mod error;
pub mod health;
pub mod input;
pub mod lifecycle;
pub mod metrics;
pub mod nscale;
pub mod onlive;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::api::Page;
use crate::domain::PageRequest;
pub use caller::Caller;
pub use error::{ApiError, FieldErrors};

/// The content type of every JSON answer, as the contract writes it.
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A JSON answer with the contract's content type.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(JSON_UTF8)
        .json(body)
}

/// One page of `items` out of `total` matches, with the cursor of the next page if any.
pub fn page_of<T>(
    items: Vec<T>,
    request: PageRequest,
    total: i64,
    next_cursor: Option<String>,
) -> Page<T> {
    Page {
        items,
        page: request.page,
        limit: request.limit,
        total,
        total_pages: (total + request.limit - 1) / request.limit,
        next_cursor,
    }
}

/// Where a list request starts: its `cursor` read for `scope` (the page it names, and the
/// position after which it starts), or the `page` it asked for.
pub fn list_start(
    state: &crate::state::AppState,
    scope: &cursor::Scope<'_>,
    page: PageRequest,
    cursor_text: Option<&str>,
) -> Result<(PageRequest, crate::domain::Start), ApiError> {
    match cursor_text {
        None => Ok((page, crate::domain::Start::Offset)),
        Some(text) => {
            let cursor = cursor::decode(&state.master_keys, scope, text)?;
            Ok((
                PageRequest {
                    page: cursor.page,
                    limit: page.limit,
                },
                crate::domain::Start::After(cursor.after),
            ))
        }
    }
}

/// The `nextCursor` of a page numbered `page` whose successor starts after `next`.
pub fn next_cursor(
    state: &crate::state::AppState,
    scope: &cursor::Scope<'_>,
    page: PageRequest,
    next: Option<&crate::domain::Position>,
) -> Result<Option<String>, ApiError> {
    next.map(|after| {
        cursor::encode(
            &state.master_keys,
            scope,
            page.page.saturating_add(1),
            after,
        )
    })
    .transpose()
}

/// 404 for a path no route matches (`"Route not found"`).
pub async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("Route not found"))
}

/// A stored time as the contract's text (`2025-05-22T10:30:00Z`).
pub fn rfc3339_text(time: &NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
