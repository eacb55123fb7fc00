//! The verified caller of a `/api/v1/` route, as the handlers take it: the principal the
//! authentication middleware established, the body it read once, and, for an unsafe request,
//! the signature's use still to be recorded. Handlers never look at the credentials themselves.
//!
//! A handler's write goes through [`Caller::write`], which records the signature's use in the
//! write's own transaction: one commit per write. A refusal by the state of the data (403, 404,
//! 409, 400 on a group to join) rolls the write back but still commits the signature's use, as
//! the contract says; a 5xx rolls everything back, so the client may send the very same signed
//! request again. A request refused before its write (by the route table, a permission or its
//! input) has its signature recorded by the middleware afterwards.

use std::fmt;
use std::future::{ready, Ready};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use crate::auth::verify::{Principal, ReplayGuard};
use crate::auth::{AuthError, AuthFailure, Permission};
use crate::db::{self, DbConnection, StoreError, TransactionError};
use crate::domain::DomainError;
use crate::ids::OrganizationId;
use crate::state::AppState;

/// The signature's use an unsafe request still has to record, and whether its write transaction
/// took that over (so the middleware does not record it a second time).
#[derive(Debug)]
pub struct PendingGuard {
    guard: ReplayGuard,
    taken: AtomicBool,
}

impl PendingGuard {
    /// The use of `guard`, not yet taken by a write.
    pub fn new(guard: ReplayGuard) -> Self {
        PendingGuard {
            guard,
            taken: AtomicBool::new(false),
        }
    }

    /// The guard, unless a write transaction already took it.
    pub fn untaken(&self) -> Option<&ReplayGuard> {
        (!self.taken.load(Ordering::Acquire)).then_some(&self.guard)
    }

    /// Takes the guard over for a write transaction: the middleware no longer records it.
    pub fn take(&self) -> ReplayGuard {
        self.taken.store(true, Ordering::Release);
        self.guard.clone()
    }
}

/// The verified caller of a `/api/v1/` route and the body it sent.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who is calling.
    pub principal: Principal,
    /// The request body, read once by the middleware (empty when none).
    pub body: Bytes,
    /// For an unsafe request, the signature's use to record with its write.
    pub guard: Option<Arc<PendingGuard>>,
}

/// How a request's write transaction can end badly: the signature's use was refused, or the
/// domain refused or failed.
#[derive(Debug)]
pub(super) enum WriteError {
    Auth(AuthError),
    Domain(DomainError),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Auth(e) => e.fmt(f),
            WriteError::Domain(e) => e.fmt(f),
        }
    }
}

impl From<StoreError> for WriteError {
    fn from(error: StoreError) -> Self {
        WriteError::Domain(error.into())
    }
}

impl From<diesel::result::Error> for WriteError {
    fn from(error: diesel::result::Error) -> Self {
        WriteError::Domain(error.into())
    }
}

impl TransactionError for WriteError {
    fn is_retryable(&self) -> bool {
        match self {
            WriteError::Auth(AuthError::Store(e)) => e.is_retryable(),
            WriteError::Auth(AuthError::Refused(_)) => false,
            WriteError::Domain(e) => e.is_retryable(),
        }
    }

    fn commits(&self) -> bool {
        matches!(self, WriteError::Domain(e) if e.is_refusal())
    }
}

impl Caller {
    /// The organization the caller acts for.
    pub fn organization_id(&self) -> &OrganizationId {
        &self.principal.organization_id
    }

    /// Runs `work` as this request's write: one transaction that first records the signature's
    /// use (see the module docs).
    pub async fn write<T, F>(&self, state: &AppState, mut work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, DomainError> + Send + 'static,
    {
        let guard = self.guard.as_deref().map(PendingGuard::take);
        let written = db::write(&state.pool, move |conn| {
            if let Some(guard) = &guard {
                guard.record(conn).map_err(WriteError::Auth)?;
            }
            work(conn).map_err(WriteError::Domain)
        })
        .await;
        self.answer(state, written)
    }

    /// The answer of a write transaction's outcome; a revoked key is forgotten by the cache.
    pub(super) fn answer<T>(
        &self,
        state: &AppState,
        written: Result<T, WriteError>,
    ) -> Result<T, ApiError> {
        match written {
            Ok(value) => Ok(value),
            Err(WriteError::Auth(e)) => {
                if e == AuthError::Refused(AuthFailure::RevokedAccessKey) {
                    state.key_cache.forget(&self.principal.access_key_id);
                }
                Err(e.into())
            }
            Err(WriteError::Domain(e)) => Err(e.into()),
        }
    }

    /// 403 unless the caller's key holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.principal.permissions.contains(permission) {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied(permission))
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
