//! Unsigned probes for load balancers and orchestrators.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::json_response;

use crate::db;
use crate::error::ApiError;
use crate::server::AppState;

/// The body of a probe's 200 answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(examples(json!({"status": "ok"}), json!({"status": "ready"})))]
pub struct Status {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    #[schema(value_type = String)]
    pub status: &'static str,
}

/// `GET /healthz`: 200 while the process serves HTTP; touches no database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    summary = "Liveness probe (unsigned)",
    description = "200 while the process serves HTTP; touches no database.",
    responses(
        (status = 200, description = "The process serves HTTP.", body = Status,
            example = json!({"status": "ok"})),
    ),
)]
pub async fn healthz() -> HttpResponse {
    json_response(StatusCode::OK, &Status { status: "ok" })
}

/// `GET /readyz`: 200 when the database answers a query, 503 when it cannot.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "service",
    summary = "Readiness probe (unsigned)",
    description = "200 when the database answers a query, 503 when it cannot.",
    responses(
        (status = 200, description = "The database answers.", body = Status,
            example = json!({"status": "ready"})),
        (status = 500, response = crate::openapi::InternalError),
        (status = 503, response = crate::openapi::Unavailable),
    ),
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    db::run(&state.pool, db::ping).await?;
    Ok(json_response(StatusCode::OK, &Status { status: "ready" }))
}
