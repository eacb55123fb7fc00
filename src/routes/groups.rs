//! `/api/v1/user-groups`: create, list, get, partially update and soft-delete user groups.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::value::RawValue;

use super::input::{check_length, id_only, no_query, path_id, require_json, JsonObject, Query};
use super::{json_response, page_of};
use crate::api;
use crate::auth::{Caller, Permission};
use crate::db;
use crate::error::ApiError;
use crate::models::group::GROUP_NOT_FOUND;
use crate::models::{Group, GroupChanges, NewGroup};
use crate::server::AppState;

const NAME_MAX: usize = 255;
const DESCRIPTION_MAX: usize = 2_000;
const EXTERNAL_ID_MAX: usize = 255;
const EXTRA_FIELDS_MAX_BYTES: usize = 64 * 1024;

/// The API's view of a stored group.
fn group_body(group: Group) -> Result<api::Group, ApiError> {
    Ok(api::Group {
        extra_fields: RawValue::from_string(group.extra_fields).map_err(|e| {
            ApiError::internal(format!(
                "stored extraFields of {} is not JSON: {e}",
                group.id
            ))
        })?,
        id: group.id,
        name: group.name,
        description: group.description,
        external_id: group.external_id,
        organization_id: group.organization_id,
        created_at: group.created_at.and_utc(),
        updated_at: group.updated_at.and_utc(),
        deleted_at: group.deleted_at.map(|t| t.and_utc()),
    })
}

fn group_response(status: StatusCode, group: Group) -> Result<HttpResponse, ApiError> {
    Ok(json_response(status, &group_body(group)?))
}

/// Reads `description` and `externalId` (nullable, bounded) and `extraFields` (an object).
fn take_optional_fields(
    body: &mut JsonObject<'_>,
) -> (
    Option<Option<String>>,
    Option<Option<String>>,
    Option<String>,
) {
    let description = body.take_string("description");
    if let Some(Some(text)) = &description {
        check_length(&mut body.errors, "description", text, 0, DESCRIPTION_MAX);
    }
    let external_id = body.take_string("externalId");
    if let Some(Some(text)) = &external_id {
        check_length(&mut body.errors, "externalId", text, 1, EXTERNAL_ID_MAX);
    }
    let extra_fields = match body.take_object("extraFields") {
        Some(None) => {
            body.errors
                .add("extraFields", "extraFields must be a JSON object");
            None
        }
        Some(Some(json)) if json.len() > EXTRA_FIELDS_MAX_BYTES => {
            body.errors.add(
                "extraFields",
                "extraFields must be at most 65536 bytes serialized",
            );
            None
        }
        other => other.flatten(),
    };
    (description, external_id, extra_fields)
}

/// `POST /api/v1/user-groups`: `{name, description?, externalId?, extraFields?}` → 201 with the
/// group. 400 for bad fields, 409 when a live group has the name or externalId.
pub async fn create_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let mut body = JsonObject::parse(&caller.body)?;
    let name = body.take_trimmed("name", true, NAME_MAX);
    let (description, external_id, extra_fields) = take_optional_fields(&mut body);
    body.finish()?;
    let new_group = NewGroup {
        name: name.unwrap_or_default(),
        description: description.flatten(),
        external_id: external_id.flatten(),
        extra_fields: extra_fields.unwrap_or_else(|| "{}".to_owned()),
    };
    let organization_id = caller.organization_id().to_owned();
    let group = db::run(&state.pool, move |conn| {
        new_group.insert(conn, &organization_id)
    })
    .await?;
    group_response(StatusCode::CREATED, group)
}

/// `GET /api/v1/user-groups?page&limit&search&organizationId`: 200 with one page of the
/// organization's live groups, newest first.
pub async fn list_groups(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsRead)?;
    let mut query = Query::parse(&req, &["page", "limit", "search", "organizationId"]);
    let page = query.page_request();
    let organization = query.uuid("organizationId");
    let search = query.get("search").map(str::to_owned);
    query.finish()?;
    if organization.is_some_and(|org| org != caller.organization_id()) {
        return Ok(json_response(
            StatusCode::OK,
            &page_of::<api::Group>(Vec::new(), page, 0),
        ));
    }
    let organization_id = caller.organization_id().to_owned();
    let (groups, total) = db::run(&state.pool, move |conn| {
        Group::list(conn, &organization_id, search.as_deref(), page)
    })
    .await?;
    let items = groups
        .into_iter()
        .map(group_body)
        .collect::<Result<_, _>>()?;
    Ok(json_response(
        StatusCode::OK,
        &page_of::<api::Group>(items, page, total),
    ))
}

/// `GET /api/v1/user-groups/{id}`: 200 with the group, 404 when missing, deleted or another
/// organization's.
pub async fn get_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsRead)?;
    let id = id_only(&req)?;
    let organization_id = caller.organization_id().to_owned();
    let group = db::run(&state.pool, move |conn| {
        Group::find(conn, &organization_id, &id)
    })
    .await?
    .ok_or(ApiError::NotFound(GROUP_NOT_FOUND))?;
    group_response(StatusCode::OK, group)
}

/// `PUT /api/v1/user-groups/{id}`: partial update; only the fields sent change (`null` clears
/// `description`/`externalId`, `extraFields` is replaced whole). 200 with the group; 404, 409.
pub async fn update_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let mut body = JsonObject::parse(&caller.body)?;
    let id = path_id(&req, &mut body.errors);
    let name = body.take_trimmed("name", false, NAME_MAX);
    let (description, external_id, extra_fields) = take_optional_fields(&mut body);
    body.finish()?;
    let id = id.ok_or_else(|| ApiError::internal("a bad id was not reported"))?;
    let changes = GroupChanges {
        name,
        description,
        external_id,
        extra_fields,
    };
    let organization_id = caller.organization_id().to_owned();
    let group = db::run(&state.pool, move |conn| {
        Group::update(conn, &organization_id, &id, &changes)
    })
    .await?;
    group_response(StatusCode::OK, group)
}

/// `DELETE /api/v1/user-groups/{id}`: soft delete. 200 with the final group and `deletedAt`;
/// 403 `"Cannot delete user group with active members"` (with `reason` and `activeMembers`)
/// while any live user is in it; 404 when missing or already deleted.
pub async fn delete_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsDelete)?;
    let id = id_only(&req)?;
    let organization_id = caller.organization_id().to_owned();
    let group = db::run(&state.pool, move |conn| {
        Group::soft_delete(conn, &organization_id, &id)
    })
    .await?;
    group_response(StatusCode::OK, group)
}
