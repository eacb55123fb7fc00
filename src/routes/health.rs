//! Unsigned probes for load balancers and orchestrators.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::json_response;

use super::ApiError;
use crate::db;
use crate::secrets::SealedSummary;
use crate::state::AppState;

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

/// `GET /readyz`: 200 when the database answers a query, its schema is not newer than this
/// release knows, and this instance holds the master key of every stored secret; 503 otherwise
/// (an instance started with another master key than its peers would refuse every signature,
/// and one older than the schema refuses every write: it must leave the load balancer's
/// rotation).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "service",
    summary = "Readiness probe (unsigned)",
    description = "200 when the database answers a query and this instance holds the master key \
        that sealed every stored access-key secret; 503 when the database cannot be reached or \
        a secret is sealed under a master key this instance lacks, or (reason \
        `upgrade_required`) a newer release migrated the database past what this instance knows.",
    responses(
        (status = 200, description = "The database answers and every secret can be opened.", body = Status,
            example = json!({"status": "ready"})),
    ),
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let keyring = state.master_keys.clone();
    db::run(&state.pool, move |conn| {
        db::ping(conn)?;
        // An instance older than the database's schema writes nothing: out of the rotation.
        db::check_generation(conn)?;
        let summary = SealedSummary::of(conn)?;
        // `Keyring::key` rereads the key files, so a rotation made by another instance is
        // picked up here rather than reported.
        let missing: Vec<&String> = summary
            .by_fingerprint
            .keys()
            .filter(|fingerprint| keyring.key(fingerprint).is_none())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ApiError::unavailable(format!(
                "not ready: secrets are sealed with master key(s) {missing:?}, which this \
                 instance lacks; every instance must share one master key"
            )))
        }
    })
    .await?;
    Ok(json_response(StatusCode::OK, &Status { status: "ready" }))
}
