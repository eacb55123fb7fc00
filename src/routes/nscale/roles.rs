//! `GET /api/v1/organizations/{organizationID}/roles`: the built-in roles, with ids fixed for the
//! product ([`crate::group_roles`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use super::error::NscaleErrorBody;
use super::groups::{check_organization, require};
use crate::api::nscale::{HealthStatus, ProvisioningStatus, RoleRead, RoleReadMetadata};
use crate::auth::Permission;
use crate::group_roles::{BUILTIN_ROLES, CATALOGUE_TIME};
use crate::routes::input::no_query;
use crate::routes::{json_response, ApiError, Caller};

/// The catalogue as the listing shows it.
pub fn role_reads() -> Result<Vec<RoleRead>, ApiError> {
    let creation_time: DateTime<Utc> = CATALOGUE_TIME
        .parse()
        .map_err(|e| ApiError::internal(format!("the catalogue's time is no time: {e}")))?;
    Ok(BUILTIN_ROLES
        .iter()
        .map(|role| RoleRead {
            metadata: RoleReadMetadata {
                id: role.id.to_owned(),
                name: role.name.to_owned(),
                description: role.description.to_owned(),
                creation_time,
                provisioning_status: ProvisioningStatus::Provisioned,
                health_status: HealthStatus::Healthy,
            },
        })
        .collect())
}

/// `GET /api/v1/organizations/{organizationID}/roles`: 200, a bare array of the built-in roles
/// (`administrator`, `user`, `reader`); 403 for another organization or without
/// `user-groups:read`.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{organizationID}/roles",
    operation_id = "nscale_list_roles",
    tag = "nscale",
    summary = "List the built-in roles (nscale)",
    description = "The roles a group's `spec.roleIDs` may name; their ids are the same on every \
        installation.",
    security(("onlivesite" = []), ("oauth2" = [])),
    params(("organizationID" = String, Path, format = "uuid",
        description = "The caller's organization; any other (or no UUID) is a 403.")),
    responses(
        (status = 200, description = "The built-in roles.", body = Vec<RoleRead>,
            example = json!([{"metadata": {"id": "1f3a0c6e-8b52-4f0d-9a3e-6c1d2b7e4a03",
                "name": "reader",
                "description": "Reads the organization's resources and changes nothing.",
                "creationTime": "2026-12-03T00:00:00Z", "provisioningStatus": "provisioned",
                "healthStatus": "healthy"}}])),
        (status = 403, description = "Another organization, or the key lacks \
            `user-groups:read`.", body = NscaleErrorBody),
    ),
)]
pub async fn list_roles(req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    check_organization(&req, &caller)?;
    require(&caller, Permission::UserGroupsRead)?;
    no_query(&req)?;
    Ok(json_response(StatusCode::OK, &role_reads()?))
}
