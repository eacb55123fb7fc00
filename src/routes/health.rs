//! Unsigned probes for load balancers and orchestrators.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::json_response;
use serde_json::json;

use crate::db;
use crate::error::ApiError;
use crate::server::AppState;

/// `GET /healthz`: 200 while the process serves HTTP; touches no database.
pub async fn healthz() -> HttpResponse {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the database answers a query, 503 when it cannot.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    db::run(&state.pool, db::ping).await?;
    Ok(json_response(StatusCode::OK, &json!({"status": "ready"})))
}
