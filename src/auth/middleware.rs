//! The authentication middleware wrapped around `/api/v1/`, and the [`Caller`] extractor the
//! handlers take. It reads the body once (413 over the limit, before anything else), verifies
//! the signature before any route or input is looked at (so routes are not revealed to unsigned
//! callers), and hands the verified identity and the body to the handler.

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;

use super::permission::Permission;
use super::verify::{Claim, Principal, SignedParts};
use crate::db;
use crate::error::ApiError;
use crate::server::AppState;

/// The verified caller of a `/api/v1/` route and the body it sent.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who is calling.
    pub principal: Principal,
    /// The request body, read once by the middleware (empty when none).
    pub body: Bytes,
}

impl Caller {
    /// The organization the caller acts for.
    pub fn organization_id(&self) -> &str {
        &self.principal.organization_id
    }

    /// 403 unless the caller's key holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.principal.permissions.contains(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(permission.denied_message()))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or_else(|| ApiError::internal("route outside the authentication middleware")),
        )
    }
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::invalid_field("body", format!("body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Authenticates every request under `/api/v1/` (see the module docs).
pub async fn authenticate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state is not configured"))?;
    match verify(&mut req, &state).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

async fn verify(req: &mut ServiceRequest, state: &AppState) -> Result<Caller, ApiError> {
    let body = read_body(req, state.limits.body_limit).await?;
    let skew = state.limits.signature_skew;
    let claim = Claim::from_headers(req.headers(), chrono::Utc::now(), skew)?;
    let parts = SignedParts {
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().unwrap_or_default().to_owned(),
        headers: req.headers().clone(),
        body: body.clone(),
    };
    let principal = db::run(&state.pool, move |conn| claim.verify(conn, &parts, skew)).await?;
    Ok(Caller { principal, body })
}
