//! The deleted listings and the restores of the Onlive dialect:
//! `GET /api/v1/deleted-user-groups`, `GET /api/v1/deleted-users` and
//! `POST /api/v1/deleted-…/{id}/restore`, over [`crate::domain::deleted`]. The plain routes keep
//! answering 404 for a deleted row; only these see it, and only with a permission no key holds
//! by default (`user-groups:read-deleted`, `users:read-deleted`, `user-groups:restore`,
//! `users:restore`).
//!
//! The listings page as the live lists do (`page`, `limit`, `search`, `cursor`), newest
//! deletion first; each item is the usual object with `deletedAt`, plus `deletedBy` and
//! `purgeAt`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use super::groups::group_body;
use super::users::user_body;
use crate::api::{self, DeletedGroup, DeletedUser, ErrorBody};
use crate::auth::Permission;
use crate::db;
use crate::domain::deleted::{self, deletion_position, Deleted};
use crate::domain::purge;
use crate::domain::{Group, GroupId, OrganizationId, User, UserId};
use crate::routes::conditional::with_etag;
use crate::routes::cursor::{List, Scope};
use crate::routes::input::{id_only, Query};
use crate::routes::{fit_page, json_response, list_start, next_cursor, page_of, ApiError, Caller};
use crate::state::AppState;

/// `deletedAt` plus the retention: when the purge removes the row.
fn purge_at(state: &AppState, deleted_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let deleted_at = deleted_at.unwrap_or_default().naive_utc();
    purge::purge_time(
        deleted_at,
        state.limits.retention_since,
        state.limits.retention,
    )
    .and_utc()
}

fn deleted_group_body(state: &AppState, deleted: Deleted<Group>) -> Result<DeletedGroup, ApiError> {
    let group = group_body(deleted.value)?;
    Ok(DeletedGroup {
        purge_at: purge_at(state, group.deleted_at),
        deleted_by: deleted.deleted_by,
        group,
    })
}

fn deleted_user_body(state: &AppState, deleted: Deleted<User>) -> DeletedUser {
    let user = user_body(deleted.value);
    DeletedUser {
        purge_at: purge_at(state, user.deleted_at),
        deleted_by: deleted.deleted_by,
        user,
    }
}

/// The list parameters every deleted listing takes: the page, the search and the cursor.
struct ListRequest {
    page: crate::domain::PageRequest,
    organization: Option<OrganizationId>,
    search: Option<String>,
    cursor: Option<String>,
}

fn list_request(req: &HttpRequest) -> Result<ListRequest, ApiError> {
    let mut query = Query::parse(
        req,
        &["page", "limit", "search", "organizationId", "cursor"],
    );
    let page = query.page_request();
    let organization = query.uuid::<OrganizationId>("organizationId");
    let search = query.search();
    let cursor = query.cursor();
    query.finish()?;
    Ok(ListRequest {
        page,
        organization,
        search,
        cursor,
    })
}

/// `GET /api/v1/deleted-user-groups?page&limit&search&organizationId&cursor`: 200 with one page
/// of the organization's soft-deleted groups not yet purged, newest deletion first. 400 for a
/// bad parameter, 403 without `user-groups:read-deleted`.
#[utoipa::path(
    get,
    path = "/api/v1/deleted-user-groups",
    tag = "lifecycle",
    summary = "List deleted user groups",
    description = "One page of the organization's soft-deleted groups that the retention purge \
        has not removed yet, newest deletion first (`deletedAt`, then `id`), each with \
        `deletedBy` and `purgeAt`. The parameters are those of the live list; a `cursor` is \
        valid only for this list. Needs `user-groups:read-deleted`, which no key has by default.",
    security(("onlivesite" = [])),
    params(
        ("page" = Option<i64>, Query, minimum = 1, example = 1,
            description = "The page number, from 1 (default 1); at most 10,000 rows deep."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, example = 20,
            description = "Items per page, 1 to 100 (default 20). No answer is larger than \
                512 KiB: a page read by `cursor` then holds fewer items and its `nextCursor` \
                goes on after the last one; a page read by `page` whose items would pass the \
                bound is a 400 on `limit` naming the limit that fits."),
        ("search" = Option<String>, Query, max_length = 255, example = "sales",
            description = "A case-insensitive substring of the name or the description."),
        ("organizationId" = Option<String>, Query, format = "uuid",
            example = "123e4567-e89b-12d3-a456-426614174000",
            description = "The caller's organization; any other gives an empty page."),
        ("cursor" = Option<String>, Query, max_length = 100,
            description = "The `nextCursor` of the previous page of this list."),
    ),
    responses(
        (status = 200, description = "One page of deleted groups.",
            body = api::Page<DeletedGroup>,
            example = json!({"items": [{
                "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
                "description": null, "externalId": null,
                "organizationId": "123e4567-e89b-12d3-a456-426614174000", "extraFields": {},
                "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-22T11:00:00Z",
                "deletedAt": "2025-05-22T11:00:00Z", "deletedBy": "OLAKEXAMPLE1234567890",
                "purgeAt": "2025-06-21T11:00:00Z"}],
                "page": 1, "limit": 20, "total": 1, "totalPages": 1, "nextCursor": null})),
        (status = 400, description = "A bad `page`, `limit`, `organizationId`, `search` or \
            `cursor`, or an unknown or repeated parameter.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input", "errors": [
                {"field": "limit", "message": "limit must be a whole number from 1 to 100"}]})),
        (status = 403, description = "The access key lacks `user-groups:read-deleted`.",
            body = ErrorBody, example = json!({"statusCode": 403,
                "message": "Access key is not allowed to read deleted user groups"})),
    ),
)]
pub async fn list_deleted_groups(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsReadDeleted)?;
    let request = list_request(&req)?;
    let organization_id = caller.organization_id().clone();
    let scope = Scope {
        list: List::DeletedGroups,
        organization_id: &organization_id,
        search: request.search.as_deref(),
        group_id: None,
    };
    let (page, start) = list_start(&state, &scope, request.page, request.cursor.as_deref())?;
    if request
        .organization
        .is_some_and(|org| org != organization_id)
    {
        return Ok(json_response(
            StatusCode::OK,
            &page_of::<DeletedGroup>(Vec::new(), page, 0, None),
        ));
    }
    let listed = {
        let organization_id = organization_id.clone();
        let search = request.search.clone();
        let start = start.clone();
        db::run(&state.pool, move |conn| {
            deleted::list_groups(conn, &organization_id, search.as_deref(), page, &start)
        })
        .await?
    };
    let fitted = fit_page(
        listed,
        &start,
        |deleted| deleted_group_body(&state, deleted),
        |d: &Deleted<_>| deletion_position(d.value.deleted_at, d.value.id.as_str()),
    )?;
    let next = next_cursor(&state, &scope, page, fitted.next.as_ref())?;
    Ok(json_response(
        StatusCode::OK,
        &page_of(fitted.items, page, fitted.total, next),
    ))
}

/// `GET /api/v1/deleted-users?page&limit&search&organizationId&cursor`: 200 with one page of the
/// organization's soft-deleted users not yet purged, newest deletion first. 400 for a bad
/// parameter, 403 without `users:read-deleted`.
#[utoipa::path(
    get,
    path = "/api/v1/deleted-users",
    tag = "lifecycle",
    summary = "List deleted users",
    description = "One page of the organization's soft-deleted users that the retention purge \
        has not removed yet, newest deletion first (`deletedAt`, then `id`), each with \
        `deletedBy` and `purgeAt`. Needs `users:read-deleted`, which no key has by default.",
    security(("onlivesite" = [])),
    params(
        ("page" = Option<i64>, Query, minimum = 1, example = 1,
            description = "The page number, from 1 (default 1); at most 10,000 rows deep."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, example = 20,
            description = "Items per page, 1 to 100 (default 20). No answer is larger than \
                512 KiB: a page read by `cursor` then holds fewer items and its `nextCursor` \
                goes on after the last one; a page read by `page` whose items would pass the \
                bound is a 400 on `limit` naming the limit that fits."),
        ("search" = Option<String>, Query, max_length = 255, example = "ada",
            description = "A case-insensitive substring of the full name or the email."),
        ("organizationId" = Option<String>, Query, format = "uuid",
            example = "123e4567-e89b-12d3-a456-426614174000",
            description = "The caller's organization; any other gives an empty page."),
        ("cursor" = Option<String>, Query, max_length = 100,
            description = "The `nextCursor` of the previous page of this list."),
    ),
    responses(
        (status = 200, description = "One page of deleted users.", body = api::Page<DeletedUser>,
            example = json!({"items": [{
                "id": "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f", "firstName": "Ada",
                "lastName": "Lovelace", "fullName": "Ada Lovelace", "email": "ada@example.com",
                "role": "creator", "avatar": null,
                "organizationId": "123e4567-e89b-12d3-a456-426614174000", "userGroupId": null,
                "createdAt": "2025-05-22T10:40:00Z", "updatedAt": "2025-05-22T11:00:00Z",
                "deletedAt": "2025-05-22T11:00:00Z", "deletedBy": "OLAKEXAMPLE1234567890",
                "purgeAt": "2025-06-21T11:00:00Z"}],
                "page": 1, "limit": 20, "total": 1, "totalPages": 1, "nextCursor": null})),
        (status = 400, description = "A bad `page`, `limit`, `organizationId`, `search` or \
            `cursor`, or an unknown or repeated parameter.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input", "errors": [
                {"field": "limit", "message": "limit must be a whole number from 1 to 100"}]})),
        (status = 403, description = "The access key lacks `users:read-deleted`.",
            body = ErrorBody, example = json!({"statusCode": 403,
                "message": "Access key is not allowed to read deleted users"})),
    ),
)]
pub async fn list_deleted_users(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersReadDeleted)?;
    let request = list_request(&req)?;
    let organization_id = caller.organization_id().clone();
    let scope = Scope {
        list: List::DeletedUsers,
        organization_id: &organization_id,
        search: request.search.as_deref(),
        group_id: None,
    };
    let (page, start) = list_start(&state, &scope, request.page, request.cursor.as_deref())?;
    if request
        .organization
        .is_some_and(|org| org != organization_id)
    {
        return Ok(json_response(
            StatusCode::OK,
            &page_of::<DeletedUser>(Vec::new(), page, 0, None),
        ));
    }
    let listed = {
        let organization_id = organization_id.clone();
        let search = request.search.clone();
        let start = start.clone();
        db::run(&state.pool, move |conn| {
            deleted::list_users(conn, &organization_id, search.as_deref(), page, &start)
        })
        .await?
    };
    let fitted = fit_page(
        listed,
        &start,
        |deleted| Ok(deleted_user_body(&state, deleted)),
        |d: &Deleted<_>| deletion_position(d.value.deleted_at, d.value.id.as_str()),
    )?;
    let next = next_cursor(&state, &scope, page, fitted.next.as_ref())?;
    Ok(json_response(
        StatusCode::OK,
        &page_of(fitted.items, page, fitted.total, next),
    ))
}

/// `POST /api/v1/deleted-user-groups/{id}/restore`: 200 with the live group, its fields and
/// `extraFields` as they were; 404 when it is missing, live or purged; 409 when a live group
/// now holds its name or externalId; 403 without `user-groups:restore`.
#[utoipa::path(
    post,
    path = "/api/v1/deleted-user-groups/{id}/restore",
    tag = "lifecycle",
    summary = "Restore a deleted user group",
    description = "Brings a soft-deleted group back, as it was (`extraFields` included), with \
        `updatedAt` the time of the restore; the plain routes see it again. No body. Needs \
        `user-groups:restore`, which no key has by default.",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "550e8400-e29b-41d4-a716-446655440000",
        description = "The deleted group's id.")),
    responses(
        (status = 200, description = "The restored group (with its `ETag`).", body = api::Group,
            example = json!({
            "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
            "description": "International sales team", "externalId": "SALES_TEAM_01",
            "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "extraFields": {"department": "Sales"},
            "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-23T09:00:00Z"})),
        (status = 400, description = "The id is not a UUID, or a query was sent.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "id", "message": "id must be a UUID"}]})),
        (status = 403, description = "The access key lacks `user-groups:restore`.",
            body = ErrorBody, example = json!({"statusCode": 403,
                "message": "Access key is not allowed to restore user groups"})),
        (status = 404, description = "No deleted group of the organization has this id: \
            missing, live, purged or another organization's.", body = ErrorBody,
            example = json!({"statusCode": 404, "message": "User group not found"})),
        (status = 409, description = "A live group now holds its `name` or `externalId` (named \
            in `errors`).", body = ErrorBody,
            example = json!({"statusCode": 409,
                "message": "A user group with this name already exists",
                "errors": [{"field": "name",
                    "message": "A user group with this name already exists"}]})),
    ),
)]
pub async fn restore_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UserGroupsRestore)?;
    let id: GroupId = id_only(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let group = caller
        .write(&state, move |conn| {
            deleted::restore_group(conn, &actor, &organization_id, &id)
        })
        .await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &group_body(group.value)?),
        group.version,
    ))
}

/// `POST /api/v1/deleted-users/{id}/restore`: 200 with the live user; its group is kept when it
/// is live, dropped (`userGroupId: null`) when it was deleted or purged meanwhile. 404 when it is
/// missing, live or purged; 409 when a live user now holds its email; 403 without
/// `users:restore`.
#[utoipa::path(
    post,
    path = "/api/v1/deleted-users/{id}/restore",
    tag = "lifecycle",
    summary = "Restore a deleted user",
    description = "Brings a soft-deleted user back, with `updatedAt` the time of the restore. It \
        rejoins its group if that group is live; if the group was deleted or purged meanwhile, \
        the user comes back without a group (`userGroupId: null`). No body. Needs \
        `users:restore`, which no key has by default.",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
        description = "The deleted user's id.")),
    responses(
        (status = 200, description = "The restored user (with its `ETag`).", body = api::User),
        (status = 400, description = "The id is not a UUID, or a query was sent.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "id", "message": "id must be a UUID"}]})),
        (status = 403, description = "The access key lacks `users:restore`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to restore users"})),
        (status = 404, description = "No deleted user of the organization has this id: \
            missing, live, purged or another organization's.", body = ErrorBody,
            example = json!({"statusCode": 404, "message": "User not found"})),
        (status = 409, description = "A live user now holds its email.", body = ErrorBody,
            example = json!({"statusCode": 409, "message": "A user with this email already exists",
                "errors": [{"field": "email",
                    "message": "A user with this email already exists"}]})),
    ),
)]
pub async fn restore_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersRestore)?;
    let id: UserId = id_only(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let user = caller
        .write(&state, move |conn| {
            deleted::restore_user(conn, &actor, &organization_id, &id)
        })
        .await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &user_body(user.value)),
        user.version,
    ))
}
