//! The verified caller of a `/api/v1/` route, as the handlers take it: the principal the
//! authentication middleware established and the body it read once. Handlers never look at
//! the credentials themselves.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use crate::auth::verify::Principal;
use crate::auth::Permission;
use crate::ids::OrganizationId;

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
    pub fn organization_id(&self) -> &OrganizationId {
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
