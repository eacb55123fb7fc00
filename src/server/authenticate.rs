//! The authentication middleware wrapped around `/api/v1/`: it turns a request into the
//! [`Caller`] the handlers take, or answers for them. In the contract's order, it:
//!
//! 1. reads the body once: 413 over the limit, before anything else, and 408 when the client
//!    stops sending it for longer than the request timeout;
//! 2. verifies the signature before any route or input is looked at, so routes are not
//!    revealed to unsigned callers (401). Everything but the key runs before any database work
//!    (the headers, the date window, the string to sign); the key comes from the instance's
//!    cache, and only when the cache has nothing fresh from one lookup on a pooled connection.
//!    A request with `Authorization: Bearer` presents a token of `POST /oauth2/v2/token`
//!    instead: a token that cannot be one is refused before any query, any other is checked by
//!    one statement (token, expiry and the key's revocation at once), never cached;
//! 3. counts the verified request against its access key's rate limit (429 over it, with
//!    `Retry-After`). Only now, so an unsigned or forged flood never spends a real key's budget;
//!    and before routing, so 429 wins over 404/405, 403, 415 and 400;
//! 4. hands the verified identity, the body and (for an unsafe request) the signature's use to
//!    the handler, whose write records that use in its own transaction; the handler's reads
//!    count against its organization's share of the pool (`db::as_tenant`);
//! 5. records the signature's use itself when the request was refused before its write (429,
//!    an unknown route, a permission, its input): a replayed or revoked request then still gets
//!    its 401, as the contract's order wants, and a refused request still spends its signature.
//!    A 5xx leaves it unrecorded, so the client may send the same request again.
//!
//! Every answer to a verified request carries `X-RateLimit-Limit` (the limit per minute of its
//! class, reads or writes) and `X-RateLimit-Remaining`, unless that class has no limit.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use actix_web::{Error, HttpMessage, ResponseError};

use std::sync::Arc;

use crate::auth::bearer;
use crate::auth::key_cache::Lookup;
use crate::auth::verify::{self, Claim, ReplayGuard, SignedParts};
use crate::auth::{AuthError, AuthFailure};
use crate::db;
use crate::metrics;
use crate::rate_limit::{Decision, RequestClass};
use crate::routes::caller::PendingGuard;
use crate::routes::input::read_body;
use crate::routes::{ApiError, Caller};
use crate::state::AppState;

/// The limit per minute of the request's class (reads or writes).
pub const RATE_LIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// How many more requests of that class the key may make right now.
pub const RATE_LIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");

/// Authenticates every request under `/api/v1/` (see the module docs).
pub async fn authenticate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state is not configured"))?;
    let caller = match verify(&mut req, &state).await {
        Ok(caller) => caller,
        Err(e) => return Ok(req.error_response(e).map_into_boxed_body()),
    };
    let decision = state.limits.rate_limits.check(
        caller.principal.access_key_id.as_str(),
        RequestClass::of(req.method()),
    );
    let guard = caller.guard.clone();
    let mut response = match decision {
        Decision::Refused { retry_after, .. } => {
            let retry_after = whole_seconds_at_least_one(retry_after);
            req.error_response(ApiError::TooManyRequests { retry_after })
                .map_into_boxed_body()
        }
        Decision::Allowed { .. } | Decision::Unlimited => {
            // The handler's reads take their places in the organization's share of the pool, so
            // one organization cannot hold every connection or core (`db::as_tenant`).
            let organization = caller.organization_id().clone();
            req.extensions_mut().insert(caller);
            db::as_tenant(organization.as_str(), next.call(req))
                .await?
                .map_into_boxed_body()
        }
    };
    let refused_before_its_write = guard
        .as_deref()
        .and_then(PendingGuard::untaken)
        .filter(|_| response.status().is_client_error());
    if let Some(guard) = refused_before_its_write {
        if let Err(e) = record_alone(&state, guard.clone()).await {
            let request = response.request().clone();
            return Ok(ServiceResponse::new(
                request,
                ApiError::from(e).error_response(),
            ));
        }
    }
    add_rate_limit_headers(response.headers_mut(), decision);
    Ok(response)
}

/// Records the signature's use of a request refused before its write, in a write of its own.
async fn record_alone(state: &AppState, guard: ReplayGuard) -> Result<(), AuthError> {
    let key = guard.access_key_id().clone();
    let recorded = db::write(&state.pool, move |conn| guard.record(conn)).await;
    if recorded == Err(AuthError::Refused(AuthFailure::RevokedAccessKey)) {
        state.key_cache.forget(&key);
    }
    recorded
}

/// `Retry-After` is whole seconds: round up, so a client that waits that long is served.
fn whole_seconds_at_least_one(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

fn add_rate_limit_headers(headers: &mut HeaderMap, decision: Decision) {
    let (limit, remaining) = match decision {
        Decision::Unlimited => return,
        Decision::Allowed { limit, remaining } => (limit, remaining),
        Decision::Refused { limit, .. } => (limit, 0),
    };
    headers.insert(RATE_LIMIT_LIMIT, HeaderValue::from(limit));
    headers.insert(RATE_LIMIT_REMAINING, HeaderValue::from(remaining));
}

async fn verify(req: &mut ServiceRequest, state: &AppState) -> Result<Caller, ApiError> {
    let limits = &state.limits;
    let payload = req.take_payload();
    let body = read_body(
        req.headers(),
        payload,
        limits.body_limit,
        limits.request_timeout,
    )
    .await?;
    if let Some(token) = bearer::token_of(req.headers())? {
        // Never cached: revoking the key must end its tokens at once on every instance, and the
        // one statement that checks the token also checks the key.
        let token_hash = bearer::token_hash(token);
        let principal = db::run(&state.pool, move |conn| {
            bearer::verify(conn, &token_hash, db::now())
        })
        .await?;
        // No replay guard: a bearer request carries no signature to replay, and the token is
        // the credential whatever the request.
        return Ok(Caller {
            principal,
            body,
            guard: None,
        });
    }
    let skew = state.limits.signature_skew;
    let claim = Claim::from_headers(req.headers(), chrono::Utc::now(), skew)?;
    let string_to_sign = claim.string_to_sign(&SignedParts {
        method: req.method(),
        path: req.uri().path(),
        query: req.uri().query().unwrap_or_default(),
        headers: req.headers(),
        body: &body,
    });
    let id = claim.access_key_id();
    let lookup = state.key_cache.lookup(id);
    metrics::record_key_cache(!matches!(lookup, Lookup::Miss));
    let key = match lookup {
        Lookup::Known(key) => key,
        Lookup::Unknown => return Err(AuthFailure::UnknownAccessKey.into()),
        Lookup::Miss => {
            let master_keys = state.master_keys.clone();
            let lookup_id = id.clone();
            let loaded = db::run(&state.pool, move |conn| {
                verify::load_key(conn, &lookup_id, &master_keys)
            })
            .await?;
            state.key_cache.store(id.clone(), loaded.clone());
            loaded.ok_or(AuthFailure::UnknownAccessKey)?
        }
    };
    let principal = claim.check(&key, &string_to_sign)?;
    let guard = claim
        .replay_guard(req.method())
        .map(|guard| Arc::new(PendingGuard::new(guard)));
    Ok(Caller {
        principal,
        body,
        guard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        let cases = [
            (
                Duration::ZERO,
                1,
                "a bucket refilling right now still says 1",
            ),
            (Duration::from_millis(1), 1, "a fraction rounds up"),
            (Duration::from_secs(1), 1, "a whole second stays"),
            (
                Duration::from_millis(1_001),
                2,
                "just past a second rounds up",
            ),
            (Duration::from_secs(60), 60, "a whole minute stays"),
        ];

        for (wait, expected, why) in cases {
            assert_eq!(whole_seconds_at_least_one(wait), expected, "{why}");
        }
    }

    #[test]
    fn an_unlimited_class_carries_no_rate_limit_headers_and_a_refusal_has_none_remaining() {
        let mut unlimited = HeaderMap::new();
        add_rate_limit_headers(&mut unlimited, Decision::Unlimited);
        let mut refused = HeaderMap::new();
        add_rate_limit_headers(
            &mut refused,
            Decision::Refused {
                limit: 100,
                retry_after: Duration::from_secs(1),
            },
        );

        assert!(unlimited.is_empty());
        assert_eq!(refused.get(RATE_LIMIT_LIMIT).unwrap(), "100");
        assert_eq!(refused.get(RATE_LIMIT_REMAINING).unwrap(), "0");
    }
}
