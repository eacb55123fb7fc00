//! `/api/v1/user-groups`: create, list, get, partially update and soft-delete user groups.
//!
//! Each handler's `#[utoipa::path]` is its entry in the OpenAPI document: it lists the status
//! codes its doc comment names, and only those; the document adds the answers every signed
//! route shares (401, 408, 413, 429, 500, 503, and 415 for bodies) once, for all of them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::{self, CreateGroup, ErrorBody, UpdateGroup};
use crate::auth::Permission;
use crate::db;
use crate::domain::Position;
use crate::domain::{
    lifecycle, rules, view, Group, GroupChanges, GroupId, NewGroup, OrganizationId,
};
use crate::limits;
use crate::routes::conditional::{if_match, with_etag, Created};
use crate::routes::cursor::{List, Scope};
use crate::routes::input::{
    check_length, id_only, no_query, path_id, report_rule, require_json, JsonObject, Query,
};
use crate::routes::ApiError;
use crate::routes::Caller;
use crate::routes::{fit_page, json_response, list_start, next_cursor, page_of};
use crate::state::AppState;

/// The API's view of a stored group.
pub(super) fn group_body(group: Group) -> Result<api::Group, ApiError> {
    Ok(view::group(&group)?)
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
        if let Err(rule) = rules::group_description(text) {
            report_rule(&mut body.errors, "description", rule);
        }
    }
    let external_id = body.take_string("externalId");
    if let Some(Some(text)) = &external_id {
        check_length(
            &mut body.errors,
            "externalId",
            text,
            1,
            limits::GROUP_EXTERNAL_ID_MAX,
        );
    }
    let extra_fields = match body.take_object("extraFields") {
        Some(None) => {
            body.errors
                .add("extraFields", "extraFields must be a JSON object");
            None
        }
        Some(Some(json)) if json.len() > limits::EXTRA_FIELDS_MAX_BYTES => {
            body.errors.add(
                "extraFields",
                format!(
                    "extraFields must be at most {} bytes serialized",
                    limits::EXTRA_FIELDS_MAX_BYTES
                ),
            );
            None
        }
        other => other.flatten(),
    };
    (description, external_id, extra_fields)
}

/// The group a create body (`POST /api/v1/user-groups`) asks for, validated as the route
/// validates it: the 400 lists every bad field. The import command reads its lines with it, so
/// a line is accepted exactly when the API would accept it as a body.
pub fn new_group_from_body(body: &[u8]) -> Result<NewGroup, ApiError> {
    let mut body = JsonObject::parse(body)?;
    let name = take_name(&mut body, true);
    let (description, external_id, extra_fields) = take_optional_fields(&mut body);
    body.finish()?;
    Ok(NewGroup {
        name: name.unwrap_or_default(),
        description: description.flatten(),
        external_id: external_id.flatten(),
        extra_fields: extra_fields.unwrap_or_else(|| "{}".to_owned()),
        ..NewGroup::default()
    })
}

/// Reads `name` (not `null`; required on create) and applies the domain's name rule to it.
fn take_name(body: &mut JsonObject<'_>, required: bool) -> Option<String> {
    if required && !body.has("name") {
        body.errors.add("name", "name is required");
        return None;
    }
    match body.take_string("name")? {
        None => {
            body.errors.add("name", "name must be a string");
            None
        }
        Some(text) => match rules::group_name(&text) {
            Ok(name) => Some(name),
            Err(rule) => {
                report_rule(&mut body.errors, "name", rule);
                None
            }
        },
    }
}

/// `POST /api/v1/user-groups`: `{name, description?, externalId?, extraFields?}` → 201 with the
/// group. 400 for bad fields, 409 when a live group has the name or externalId.
#[utoipa::path(
    post,
    path = "/api/v1/user-groups",
    tag = "user-groups",
    summary = "Create a user group",
    security(("onlivesite" = [])),
    request_body(content = CreateGroup, content_type = "application/json"),
    responses(
        (status = 201, description = "The new group.", body = api::Group, example = json!({
            "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
            "description": "International sales team", "externalId": "SALES_TEAM_01",
            "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "extraFields": {"department": "Sales", "allowedFeatures": ["product_management"]},
            "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-22T10:30:00Z"})),
        (status = 400, description = "The body is not a JSON object, or fields are missing, \
            mistyped, unknown, empty or too long (every bad field is listed); or a query was sent.",
            body = ErrorBody, examples(
            ("empty name" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "name", "message": "name must not be empty"}]}))),
            ("unknown field" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "color", "message": "color is not a known field"}]}))),
        )),
        (status = 403, description = "The access key lacks `user-groups:write`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to write user groups"})),
        (status = 409, description = "A live group of the organization already has this `name` \
            or `externalId` (named in `errors`).", body = ErrorBody, examples(
            ("name taken" = (value = json!({"statusCode": 409,
                "message": "A user group with this name already exists",
                "errors": [{"field": "name",
                    "message": "A user group with this name already exists"}]}))),
            ("externalId taken" = (value = json!({"statusCode": 409,
                "message": "A user group with this externalId already exists",
                "errors": [{"field": "externalId",
                    "message": "A user group with this externalId already exists"}]}))),
        )),
    ),
)]
pub async fn create_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let mut new_group = new_group_from_body(&caller.body)?;
    new_group.created_by = Some(caller.principal.access_key_id.as_str().to_owned());
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    caller
        .create(&state, &req, move |conn| {
            let group = lifecycle::create_group(conn, &actor, &organization_id, &new_group)?;
            Created::of(&view::group(&group.value)?, group.version)
        })
        .await
}

/// `GET /api/v1/user-groups?page&limit&search&organizationId`: 200 with one page of the
/// organization's live groups, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/user-groups",
    tag = "user-groups",
    summary = "List user groups",
    description = "One page of the organization's live groups, newest first (`createdAt`, then \
        `id`). Unknown or repeated query parameters are a 400.",
    security(("onlivesite" = [])),
    params(
        ("page" = Option<i64>, Query, minimum = 1, example = 1,
            description = "The page number, from 1 (default 1). Skipping rows costs time in \
                their number, so a page may start at most 10,000 rows deep (page 501 at 20 a \
                page); deeper is a 400 that points to `cursor`. Not with `cursor`."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, example = 20,
            description = "Items per page, 1 to 100 (default 20). No answer is larger than \
                512 KiB: a page read by `cursor` then holds fewer items and its `nextCursor` \
                goes on after the last one; a page read by `page` whose items would pass the \
                bound is a 400 on `limit` naming the limit that fits."),
        ("search" = Option<String>, Query, max_length = 255, example = "sales",
            description = "A case-insensitive substring of the name or the description; `%` \
                and `_` are taken literally; at most 255 characters."),
        ("organizationId" = Option<String>, Query, format = "uuid",
            example = "123e4567-e89b-12d3-a456-426614174000",
            description = "The caller's organization; any other gives an empty page."),
        ("cursor" = Option<String>, Query, max_length = 100,
            description = "The `nextCursor` of the previous page: the page after it, at the \
                same cost at any depth, never skipping or repeating an item that stayed live \
                meanwhile. Send the same `search` (and `userGroupId`) as that page, any \
                `limit`, and no `page`; a cursor altered, of another list, organization or \
                filters, or issued before a master-key rotation is a 400 on `cursor`."),
    ),
    responses(
        (status = 200, description = "One page of groups.", body = api::Page<api::Group>,
            example = json!({"items": [{
                "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
                "description": "International sales team", "externalId": "SALES_TEAM_01",
                "organizationId": "123e4567-e89b-12d3-a456-426614174000",
                "extraFields": {"department": "Sales", "allowedFeatures": ["product_management"]},
                "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-22T10:35:00Z"}],
                "page": 1, "limit": 20, "total": 1, "totalPages": 1, "nextCursor": null})),
        (status = 400, description = "A bad `page` (or one too deep, or sent with `cursor`), \
            `limit` (or one whose page would pass the 512 KiB answer bound), `organizationId` or \
            `cursor`, a `search` over 255 characters, or an unknown or repeated parameter \
            (every bad one is listed).", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input", "errors": [
                {"field": "limit", "message": "limit must be a whole number from 1 to 100"}]})),
        (status = 403, description = "The access key lacks `user-groups:read`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to read user groups"})),
    ),
)]
pub async fn list_groups(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsRead)?;
    let mut query = Query::parse(
        &req,
        &["page", "limit", "search", "organizationId", "cursor"],
    );
    let page = query.page_request();
    let organization = query.uuid::<OrganizationId>("organizationId");
    let search = query.search();
    let cursor_text = query.cursor();
    query.finish()?;
    let organization_id = caller.organization_id().clone();
    let scope = Scope {
        list: List::Groups,
        organization_id: &organization_id,
        search: search.as_deref(),
        group_id: None,
    };
    let (page, start) = list_start(&state, &scope, page, cursor_text.as_deref())?;
    if organization.is_some_and(|org| org != organization_id) {
        return Ok(json_response(
            StatusCode::OK,
            &page_of::<api::Group>(Vec::new(), page, 0, None),
        ));
    }
    let listed = {
        let organization_id = organization_id.clone();
        let search = search.clone();
        let start = start.clone();
        db::run(&state.pool, move |conn| {
            Group::list(conn, &organization_id, search.as_deref(), page, &start)
        })
        .await?
    };
    let fitted = fit_page(listed, &start, group_body, |g: &Group| Position {
        sort_time: g.created_at,
        id: g.id.as_str().to_owned(),
    })?;
    let next = next_cursor(&state, &scope, page, fitted.next.as_ref())?;
    Ok(json_response(
        StatusCode::OK,
        &page_of(fitted.items, page, fitted.total, next),
    ))
}

/// `GET /api/v1/user-groups/{id}`: 200 with the group, 404 when missing, deleted or another
/// organization's.
#[utoipa::path(
    get,
    path = "/api/v1/user-groups/{id}",
    tag = "user-groups",
    summary = "Read a user group",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "550e8400-e29b-41d4-a716-446655440000",
        description = "The group's id (a hyphenated UUID, any case).")),
    responses(
        (status = 200, description = "The group.", body = api::Group),
        (status = 400, description = "The id is not a UUID, or a query was sent.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "id", "message": "id must be a UUID"}]})),
        (status = 403, description = "The access key lacks `user-groups:read`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to read user groups"})),
        (status = 404, description = "No live group of the organization has this id: missing, \
            deleted or another organization's.", body = ErrorBody,
            example = json!({"statusCode": 404, "message": "User group not found"})),
    ),
)]
pub async fn get_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsRead)?;
    let id: GroupId = id_only(&req)?;
    let organization_id = caller.organization_id().clone();
    let group = db::run(&state.pool, move |conn| {
        lifecycle::get_group(conn, &organization_id, &id)
    })
    .await?;
    Ok(with_etag(
        group_response(StatusCode::OK, group.value)?,
        group.version,
    ))
}

/// `PUT /api/v1/user-groups/{id}`: partial update; only the fields sent change (`null` clears
/// `description`/`externalId`, `extraFields` is replaced whole). 200 with the group; 404, 409.
#[utoipa::path(
    put,
    path = "/api/v1/user-groups/{id}",
    tag = "user-groups",
    summary = "Partially update a user group",
    description = "Only the fields sent change: `null` clears `description` or `externalId`, \
        `extraFields` is replaced whole, and `{}` only moves `updatedAt` (the time of this \
        change, in whole seconds, so it may equal `createdAt`).",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "550e8400-e29b-41d4-a716-446655440000",
        description = "The group's id (a hyphenated UUID, any case).")),
    request_body(content = UpdateGroup, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated group.", body = api::Group, example = json!({
            "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
            "description": null, "externalId": "SALES_TEAM_01",
            "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "extraFields": {"department": "Sales EMEA"},
            "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-22T10:35:00Z"})),
        (status = 400, description = "A bad id, or fields that are mistyped, unknown, `null` \
            where they cannot be, empty or too long (every bad field is listed).",
            body = ErrorBody, examples(
            ("null name" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "name", "message": "name must be a string"}]}))),
            ("bad id" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "id", "message": "id must be a UUID"}]}))),
        )),
        (status = 403, description = "The access key lacks `user-groups:write`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to write user groups"})),
        (status = 404, description = "No live group of the organization has this id.",
            body = ErrorBody,
            example = json!({"statusCode": 404, "message": "User group not found"})),
        (status = 409, description = "Another live group of the organization already has this \
            `name` or `externalId` (named in `errors`).", body = ErrorBody,
            example = json!({"statusCode": 409,
                "message": "A user group with this name already exists",
                "errors": [{"field": "name",
                    "message": "A user group with this name already exists"}]})),
    ),
)]
pub async fn update_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let mut body = JsonObject::parse(&caller.body)?;
    let id: Option<GroupId> = path_id(&req, &mut body.errors);
    let name = take_name(&mut body, false);
    let (description, external_id, extra_fields) = take_optional_fields(&mut body);
    body.finish()?;
    let id = id.ok_or_else(|| ApiError::internal("a bad id was not reported"))?;
    // Tags, roles and service accounts are the nscale dialect's: an Onlive PUT keeps them.
    let changes = GroupChanges {
        name,
        description,
        external_id,
        extra_fields,
        ..GroupChanges::default()
    };
    let if_match = if_match(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let group = caller
        .write(&state, move |conn| {
            lifecycle::update_group(conn, &actor, &organization_id, &id, &changes, &if_match)
        })
        .await?;
    Ok(with_etag(
        group_response(StatusCode::OK, group.value)?,
        group.version,
    ))
}

/// `DELETE /api/v1/user-groups/{id}`: soft delete. 200 with the final group and `deletedAt`;
/// 403 `"Cannot delete user group with active members"` (with `reason` and `activeMembers`)
/// while any live user is in it; 404 when missing or already deleted.
#[utoipa::path(
    delete,
    path = "/api/v1/user-groups/{id}",
    tag = "user-groups",
    summary = "Soft-delete a user group",
    description = "Sets `deletedAt` and returns the final group, `extraFields` included. The \
        group is never visible through the API again, and its name and `externalId` may be \
        reused. Refused while any live user is a member.",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "550e8400-e29b-41d4-a716-446655440000",
        description = "The group's id (a hyphenated UUID, any case).")),
    responses(
        (status = 200, description = "The final group, with `deletedAt` (equal to `updatedAt`).",
            body = api::Group, example = json!({
            "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
            "description": "International sales team", "externalId": "SALES_TEAM_01",
            "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "extraFields": {"department": "Sales", "allowedFeatures": ["product_management"]},
            "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-22T11:00:00Z",
            "deletedAt": "2025-05-22T11:00:00Z"})),
        (status = 400, description = "The id is not a UUID, or a query was sent.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "id", "message": "id must be a UUID"}]})),
        (status = 403, description = "The access key lacks `user-groups:delete`, or the group \
            still has active members (`reason` and `activeMembers` say so).", body = ErrorBody,
            examples(
            ("active members" = (value = json!({"statusCode": 403,
                "message": "Cannot delete user group with active members",
                "reason": "group_has_active_members", "activeMembers": 2}))),
            ("missing permission" = (value = json!({"statusCode": 403,
                "message": "Access key is not allowed to delete user groups"}))),
        )),
        (status = 404, description = "No live group of the organization has this id (missing, \
            already deleted or another organization's).", body = ErrorBody,
            example = json!({"statusCode": 404, "message": "User group not found"})),
    ),
)]
pub async fn delete_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsDelete)?;
    let id: GroupId = id_only(&req)?;
    let if_match = if_match(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let group = caller
        .write(&state, move |conn| {
            lifecycle::delete_group(conn, &actor, &organization_id, &id, &if_match)
        })
        .await?;
    Ok(with_etag(
        group_response(StatusCode::OK, group.value)?,
        group.version,
    ))
}
