//! `GET /metrics`: what [`crate::metrics`] recorded, in the Prometheus text format, unsigned
//! like the probes (a scraper holds no access key). `usergroups serve` answers it on the main
//! address, or only on `--metrics-bind` when that is set.

use actix_web::{web, HttpResponse};

use super::ApiError;
use crate::metrics;
use crate::state::AppState;

/// The start of an answer, for the document.
const EXAMPLE: &str = "# HELP usergroups_http_requests_total Answered HTTP requests, by matched \
route pattern, method and status.\n# TYPE usergroups_http_requests_total counter\n\
usergroups_http_requests_total{route=\"/api/v1/user-groups/{id}\",method=\"GET\",status=\"200\"} 12\n";

/// `GET /metrics`: 200 with every metric of [`crate::metrics`] and the pool's gauges as they
/// are now, in the Prometheus text format (version 0.0.4); 500 only if the text cannot be
/// written.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    summary = "Prometheus metrics (unsigned)",
    description = "The Prometheus text exposition (version 0.0.4) of this instance: requests by \
        route pattern, method and status with their latencies, authentication refusals by \
        reason, database pool waits and gauges, write commits and retries. Served on the main \
        address unless the server was started with a separate metrics address, and then only \
        there.",
    responses(
        (status = 200, description = "The metrics of this instance.",
            content_type = "text/plain; version=0.0.4; charset=utf-8", body = String,
            example = json!(EXAMPLE)),
    ),
)]
pub async fn get_metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = metrics::render(state.pool.gauges())
        .map_err(|e| ApiError::internal(format!("the metrics could not be written: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .body(text))
}
