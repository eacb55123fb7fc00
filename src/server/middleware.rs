//! The middleware of every route: the request id ([`RequestId`], echoed or made, on every
//! answer and in the log line of every 5xx), the request metrics, and the access log. The
//! authentication middleware of `/api/v1` is its own module (`authenticate`).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};

use crate::metrics;
use crate::routes::ApiError;

/// The request id of the request being served (echoed from `x-request-id` or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is echoed when it is short printable ASCII; otherwise a new one is made.
fn usable_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (!text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| text.to_owned())
}

/// The id of the request with these headers: the client's, if usable, or a new one.
fn request_id_of(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(usable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The answer to a request target that is not a path (`OPTIONS *`): it matches no scope, so
/// the request-id middleware does not see it and the id is added here.
pub(super) async fn target_not_a_path(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    let mut response = ApiError::RouteNotFound.error_response();
    if let Ok(value) = HeaderValue::from_str(&request_id_of(req.headers())) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Gives every response an `x-request-id`, and logs the cause of every 5xx with it.
pub(super) async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id_of(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    // Handlers' errors arrive here as responses (with the error attached); only a failure of
    // the service machinery itself is an `Err`, and actix answers that one on its own.
    let mut response = next.call(req).await?;
    if response.status().is_server_error() {
        match response.response().error() {
            Some(cause) => log::error!("request {id} failed: {cause}"),
            None => log::error!("request {id} failed with {}", response.status()),
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// Counts and times every answer under its route's pattern (`/api/v1/user-groups/{id}`, one
/// series for the slash and no-slash forms), `unmatched` for a path no route matches, and counts
/// each 401 under its reason ([`crate::metrics`]).
///
/// The refusal is read here, from the error the authentication middleware answered with, rather
/// than recorded inside it: every 401 passes this point, whichever check made it.
pub(super) async fn request_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let response = next.call(req).await?;
    // `None` for a path that reaches no resource (the default services' 404s included).
    let route = response.request().match_pattern();
    let status = response.status();
    metrics::record_request(route, method.as_str(), status.as_u16(), started.elapsed());
    if let Some(ApiError::Unauthorized(failure)) = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        metrics::record_auth_refusal(failure.reason());
    }
    Ok(response)
}

/// Logs one line per answered request (target `usergroups::access`): the peer, method, path,
/// status and latency in the message, and the same as key-value pairs (`request_id`, `method`,
/// `path`, `status`, `latency_ms`, and `reason` for a 401, 403 or 429 that has one), which the
/// JSON log format turns into fields. The query string is left out: it may carry search terms.
pub(super) async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let peer = req
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |a| a.ip().to_string());
    let response = next.call(req).await?;
    let status = response.status().as_u16();
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let request_id = response
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let reason = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .and_then(ApiError::reason);
    // Escaped once for both the message and the fields: the text format writes the fields
    // unquoted after the message.
    let (method, path) = (log_safe(&method), log_safe(&path));
    let message = format!("{peer} \"{method} {path}\" {status} {latency_ms}ms");
    let request_id = log_safe(&request_id);
    let (request_id, method, path) = (request_id.as_ref(), method.as_ref(), path.as_ref());
    match reason {
        Some(reason) => log::info!(target: "usergroups::access",
            request_id, method, path, status, latency_ms, reason; "{message}"),
        None => log::info!(target: "usergroups::access",
            request_id, method, path, status, latency_ms; "{message}"),
    }
    Ok(response)
}

/// `text` as it may stand inside the access line's quoted request field: `"`, `\\`, spaces, control
/// characters and anything outside ASCII percent-encoded (as a path would be), so a request
/// cannot end the field early or forge a line; other text unchanged.
fn log_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let safe = |b: u8| b.is_ascii_graphic() && b != b'"' && b != b'\\';
    if text.bytes().all(safe) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for b in text.bytes() {
        if safe(b) {
            escaped.push(char::from(b));
        } else {
            escaped.push_str(&format!("%{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_a_backslash_or_a_control_character_cannot_break_out_of_the_access_lines_request_field(
    ) {
        assert_eq!(
            log_safe("/api/v1/users/a-b_c~%2F"),
            "/api/v1/users/a-b_c~%2F"
        );
        assert_eq!(
            log_safe("/x\" 200 0ms\nforged"),
            "/x%22%20200%200ms%0Aforged"
        );
        assert_eq!(log_safe("/a\\b\u{7f}é"), "/a%5Cb%7F%C3%A9");
    }
}
