//! The HTTP routes, one folder per dialect over the one domain core: [`onlive`] (the contract's
//! routes and the lifecycle's) and [`nscale`] (the nscale Identity group routes and the token
//! endpoint). Beside them, what both use: the verified [`Caller`] and its one-transaction
//! writes, [`ApiError`] (which each dialect words in its own body), input parsing, the list
//! cursors, the request headers of conditional and idempotent writes ([`conditional`]: `ETag`,
//! `If-Match`, `Idempotency-Key`), and the unsigned `health` and `metrics` routes.
//!
//! Each dialect registers its own routes (`onlive::configure`, `nscale::configure`) in the
//! [`Places`] the server gives it, each path built by [`resource`] from its methods and their
//! handlers, so a path's 405 names in `Allow` exactly the methods it has. Adding a dialect is a
//! new folder here with its own `configure` and its own error renderer; the server's route
//! assembly calls its `configure` beside the others.

pub mod caller;
pub mod conditional;
pub mod cursor;
pub mod error;
pub mod health;
pub mod input;
pub mod metrics;
pub mod nscale;
pub mod onlive;

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpResponse, Resource, Route};
use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::api::Page;
use crate::domain::{ListPage, PageRequest, Position, Start};
pub use caller::Caller;
pub use error::{ApiError, FieldErrors};

/// Where a dialect registers its routes: the server's route assembly gives the same two to each.
pub struct Places<'a> {
    /// Under `/api/v1` (a path here is relative to it), behind the authentication middleware,
    /// which answers before routing: an unsigned caller learns nothing of which routes exist.
    /// The nscale error middleware words every answer under `/api/v1/organizations`.
    pub signed: &'a mut web::ServiceConfig,
    /// At the root, unsigned (the nscale token endpoint, how a client gets its credential).
    pub unsigned: &'a mut web::ServiceConfig,
}

/// A resource at `paths` (one, or the forms with and without a trailing slash) that answers each method of `routes` with its handler (`(Method::GET,
/// web::to(get_group))`), and every other method with a 405 whose `Allow` names exactly those
/// methods, in their order (`GET, PUT, DELETE`): no `Allow` list is written by hand.
pub fn resource(paths: &[&str], routes: impl IntoIterator<Item = (Method, Route)>) -> Resource {
    resource_with_405(paths, routes, |allow| {
        web::to(move || {
            let allow = allow.clone();
            async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
        })
    })
}

/// [`resource`], with the other methods answered by the route `not_allowed` makes from the
/// `Allow` value (for a 405 that is not an [`ApiError`], such as the token endpoint's).
pub fn resource_with_405(
    paths: &[&str],
    routes: impl IntoIterator<Item = (Method, Route)>,
    not_allowed: impl FnOnce(String) -> Route,
) -> Resource {
    let mut resource = web::resource(paths.to_vec());
    let mut allow: Vec<String> = Vec::new();
    for (method, route) in routes {
        allow.push(method.to_string());
        resource = resource.route(route.method(method));
    }
    resource.default_service(not_allowed(allow.join(", ")))
}

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

/// `value` as its compact JSON text, written out once and kept as written.
pub fn raw_json(value: &impl Serialize) -> Result<Box<RawValue>, ApiError> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| ApiError::internal(format!("an answer is not JSON: {e}")))
}

/// Room kept in an answer for a page's fields around its items: four numbers and a cursor of
/// at most [`crate::limits::CURSOR_MAX`] characters, with their names.
const PAGE_ENVELOPE_BYTES: usize = 1024;

/// The items of a page written out, as many as fit in one answer.
pub struct FittedPage {
    /// The items kept, each as its JSON text.
    pub items: Vec<Box<RawValue>>,
    /// Where the next page starts: after the last item kept when the page ended early, else
    /// as the list said.
    pub next: Option<Position>,
    /// How many items match in all.
    pub total: i64,
}

/// Items written out, as many as fit in one answer ([`fit_items`]).
pub struct FittedItems<P> {
    /// The items kept, each as its JSON text.
    pub items: Vec<Box<RawValue>>,
    /// The position of the last item kept.
    pub last: Option<P>,
    /// True when items were left out.
    pub cut: bool,
}

/// Writes out `items` one by one with `view` while the answer stays within
/// [`crate::limits::ANSWER_MAX_BYTES`] (the first item always: no item comes near the bound).
/// `position` gives a row's place in its list's order.
pub fn fit_items<R, T: Serialize, P>(
    items: Vec<R>,
    mut view: impl FnMut(R) -> Result<T, ApiError>,
    position: impl Fn(&R) -> P,
) -> Result<FittedItems<P>, ApiError> {
    let budget = crate::limits::ANSWER_MAX_BYTES - PAGE_ENVELOPE_BYTES;
    let mut kept = Vec::with_capacity(items.len());
    let mut last = None;
    let mut size = 0;
    for row in items {
        let at = position(&row);
        let text = raw_json(&view(row)?)?;
        size += text.get().len() + 1;
        if size > budget && !kept.is_empty() {
            return Ok(FittedItems {
                items: kept,
                last,
                cut: true,
            });
        }
        kept.push(text);
        last = Some(at);
    }
    Ok(FittedItems {
        items: kept,
        last,
        cut: false,
    })
}

/// The items of `listed` written out with `view`, within one answer
/// ([`crate::limits::ANSWER_MAX_BYTES`]). When they do not all fit, a page read by `cursor`
/// ends early, its next page starting after its last item (`position` gives a row's place in
/// the list's order), so a client that follows `nextCursor` misses nothing; a page read by
/// `page` is a 400 on `limit` that names the limit that fits, since a short numbered page would
/// make the next page number skip the items left out.
pub fn fit_page<R, T: Serialize>(
    listed: ListPage<R>,
    start: &Start,
    view: impl FnMut(R) -> Result<T, ApiError>,
    position: impl Fn(&R) -> Position,
) -> Result<FittedPage, ApiError> {
    let FittedItems { items, last, cut } = fit_items(listed.items, view, position)?;
    if !cut {
        return Ok(FittedPage {
            items,
            next: listed.next,
            total: listed.total,
        });
    }
    match start {
        Start::After(_) => Ok(FittedPage {
            items,
            next: last,
            total: listed.total,
        }),
        Start::Offset => Err(ApiError::invalid_field(
            "limit",
            // Within the 160 characters an error message shows.
            format!(
                "this page would pass the answer bound ({} bytes): {} of its items fit; ask for \
                 limit={} or less, or page with cursor (its pages end at the bound)",
                crate::limits::ANSWER_MAX_BYTES,
                items.len(),
                items.len()
            ),
        )),
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
    Err(ApiError::RouteNotFound)
}

/// A stored time as the contract's text (`2025-05-22T10:30:00Z`).
pub fn rfc3339_text(time: &NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
