//! `/api/v1/users`: create, list, get, partially update and soft-delete users. Membership of a
//! group is the user's `userGroupId`, set by create and update.
//!
//! Each handler's `#[utoipa::path]` is its entry in the OpenAPI document: it lists the status
//! codes its doc comment names, and only those; the document adds the answers every signed
//! route shares (401, 408, 413, 429, 500, 503, and 415 for bodies) once, for all of them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::{self, CreateUser, ErrorBody, UpdateUser};
use crate::auth::Permission;
use crate::db;
use crate::domain::Position;
use crate::domain::{
    lifecycle, view, GroupId, NewUser, OrganizationId, Role, User, UserChanges, UserId,
};
use crate::limits;
use crate::routes::conditional::{if_match, with_etag, Created};
use crate::routes::cursor::{List, Scope};
use crate::routes::input::{
    id_only, no_query, parse_uuid, path_id, require_json, JsonObject, Query,
};
use crate::routes::ApiError;
use crate::routes::Caller;
use crate::routes::{fit_page, json_response, list_start, next_cursor, page_of};
use crate::state::AppState;

/// The API's view of a stored user.
pub(super) fn user_body(user: User) -> api::User {
    view::user(&user)
}

fn user_response(status: StatusCode, user: User) -> HttpResponse {
    json_response(status, &user_body(user))
}

/// A plausible mailbox: `local@domain`, the local part without spaces or control characters
/// (at most 64 bytes), the domain made of at least two dot-separated labels of letters, digits
/// and inner hyphens. Deliverability is not the service's business.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(
                    c,
                    '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']'
                )
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// An `https://` URL with a host and no whitespace or control characters.
pub fn is_valid_avatar(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    !host.is_empty()
        && !host.starts_with(':')
        && url.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

fn take_role(body: &mut JsonObject<'_>) -> Option<Role> {
    match body.take_string("role")? {
        Some(name) => match name.parse() {
            Ok(role) => Some(role),
            Err(()) => {
                body.errors
                    .add("role", "role must be one of creator, editor, admin");
                None
            }
        },
        None => {
            body.errors
                .add("role", "role must be one of creator, editor, admin");
            None
        }
    }
}

fn take_avatar(body: &mut JsonObject<'_>) -> Option<Option<String>> {
    let avatar = body.take_string("avatar")?;
    if let Some(url) = &avatar {
        if url.chars().count() > limits::AVATAR_MAX {
            body.errors.add(
                "avatar",
                format!("avatar must be at most {} characters", limits::AVATAR_MAX),
            );
        } else if !is_valid_avatar(url) {
            body.errors.add("avatar", "avatar must be an https URL");
        }
    }
    Some(avatar)
}

fn take_group_id(body: &mut JsonObject<'_>) -> Option<Option<GroupId>> {
    match body.take_string("userGroupId")? {
        None => Some(None),
        Some(text) => match parse_uuid(&text) {
            Some(id) => Some(Some(GroupId::from(id))),
            None => {
                body.errors.add("userGroupId", "userGroupId must be a UUID");
                None
            }
        },
    }
}

/// The user a create body (`POST /api/v1/users`) asks for, validated as the route validates it
/// (all but `userGroupId` naming a live group, which only the write can check): the 400 lists
/// every bad field. The import command reads its lines with it.
pub fn new_user_from_body(body: &[u8]) -> Result<NewUser, ApiError> {
    let mut body = JsonObject::parse(body)?;
    let first_name = body.take_trimmed("firstName", true, limits::USER_NAME_MAX);
    let last_name = body.take_trimmed("lastName", true, limits::USER_NAME_MAX);
    let email = body.take_trimmed("email", true, limits::EMAIL_MAX);
    // An empty or too-long email already has its error: one entry per bad field.
    let email_length_ok = email
        .as_deref()
        .is_some_and(|email| (1..=limits::EMAIL_MAX).contains(&email.chars().count()));
    if email_length_ok && email.as_deref().is_some_and(|email| !is_valid_email(email)) {
        body.errors
            .add("email", "email must be a valid email address");
    }
    let role = take_role(&mut body);
    let avatar = take_avatar(&mut body);
    let user_group_id = take_group_id(&mut body);
    body.finish()?;
    Ok(NewUser {
        first_name: first_name.unwrap_or_default(),
        last_name: last_name.unwrap_or_default(),
        email: email.unwrap_or_default(),
        role: role.unwrap_or(Role::Creator),
        avatar: avatar.flatten(),
        user_group_id: user_group_id.flatten(),
    })
}

/// `POST /api/v1/users`: `{firstName, lastName, email, role?, avatar?, userGroupId?}` → 201 with
/// the user. 400 for bad fields or a `userGroupId` naming no live group of the organization;
/// 409 when a live user has the email (case-insensitively).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    summary = "Create a user",
    security(("onlivesite" = [])),
    request_body(content = CreateUser, content_type = "application/json"),
    responses(
        (status = 201, description = "The new user.", body = api::User, example = json!({
            "id": "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
            "firstName": "Ada", "lastName": "Lovelace",
            "fullName": "Ada Lovelace", "email": "ada@example.com", "role": "creator",
            "avatar": null, "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "userGroupId": "550e8400-e29b-41d4-a716-446655440000",
            "createdAt": "2025-05-22T10:40:00Z", "updatedAt": "2025-05-22T10:40:00Z"})),
        (status = 400, description = "The body is not a JSON object, or fields are missing, \
            mistyped, unknown, empty, too long or malformed (every bad field is listed); \
            `userGroupId` names no live group of the organization; or a query was sent.",
            body = ErrorBody, examples(
            ("bad email and role" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "email", "message": "email must be a valid email address"},
                    {"field": "role", "message": "role must be one of creator, editor, admin"}]}))),
            ("unknown group" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "userGroupId",
                    "message":
                        "userGroupId must name an existing user group (User group not found)"}]}))),
        )),
        (status = 403, description = "The access key lacks `users:write`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to write users"})),
        (status = 409, description = "A live user of the organization already has this email \
            (compared case-insensitively).", body = ErrorBody,
            example = json!({"statusCode": 409, "message": "A user with this email already exists",
                "errors": [{"field": "email",
                    "message": "A user with this email already exists"}]})),
    ),
)]
pub async fn create_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let new_user = new_user_from_body(&caller.body)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    caller
        .create(&state, &req, move |conn| {
            let user = lifecycle::create_user(conn, &actor, &organization_id, &new_user)?;
            Created::of(&view::user(&user.value), user.version)
        })
        .await
}

/// `GET /api/v1/users?page&limit&search&organizationId&userGroupId`: 200 with one page of the
/// organization's live users, newest first; `userGroupId` keeps the group's active members.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    summary = "List users",
    description = "One page of the organization's live users, newest first (`createdAt`, then \
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
        ("search" = Option<String>, Query, max_length = 255, example = "ada",
            description = "A case-insensitive substring of the full name or the email; `%` and \
                `_` are taken literally; at most 255 characters."),
        ("organizationId" = Option<String>, Query, format = "uuid",
            example = "123e4567-e89b-12d3-a456-426614174000",
            description = "The caller's organization; any other gives an empty page."),
        ("cursor" = Option<String>, Query, max_length = 100,
            description = "The `nextCursor` of the previous page: the page after it, at the \
                same cost at any depth, never skipping or repeating an item that stayed live \
                meanwhile. Send the same `search` (and `userGroupId`) as that page, any \
                `limit`, and no `page`; a cursor altered, of another list, organization or \
                filters, or issued before a master-key rotation is a 400 on `cursor`."),
        ("userGroupId" = Option<String>, Query, format = "uuid",
            example = "550e8400-e29b-41d4-a716-446655440000",
            description = "Only the active members of this group; a group that is unknown, \
                deleted or another organization's gives an empty page."),
    ),
    responses(
        (status = 200, description = "One page of users.", body = api::Page<api::User>,
            example = json!({"items": [{
            "id": "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
            "firstName": "Ada", "lastName": "Lovelace",
            "fullName": "Ada Lovelace", "email": "ada@example.com", "role": "creator",
            "avatar": null, "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "userGroupId": "550e8400-e29b-41d4-a716-446655440000",
            "createdAt": "2025-05-22T10:40:00Z", "updatedAt": "2025-05-22T10:40:00Z"}],
            "page": 1, "limit": 20, "total": 1, "totalPages": 1, "nextCursor": null})),
        (status = 400, description = "A bad `page` (or one too deep, or sent with `cursor`), \
            `limit`, `organizationId`, `userGroupId` or `cursor`, a `search` over 255 \
            characters, or an unknown or repeated parameter (every bad one is listed).",
            body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input", "errors": [
                {"field": "page", "message": "page must be a whole number of at least 1"},
                {"field": "userGroupId", "message": "userGroupId must be a UUID"}]})),
        (status = 403, description = "The access key lacks `users:read`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to read users"})),
    ),
)]
pub async fn list_users(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersRead)?;
    let mut query = Query::parse(
        &req,
        &[
            "page",
            "limit",
            "search",
            "organizationId",
            "userGroupId",
            "cursor",
        ],
    );
    let page = query.page_request();
    let organization = query.uuid::<OrganizationId>("organizationId");
    let group_id = query.uuid::<GroupId>("userGroupId");
    let search = query.search();
    let cursor_text = query.cursor();
    query.finish()?;
    let organization_id = caller.organization_id().clone();
    let scope = Scope {
        list: List::Users,
        organization_id: &organization_id,
        search: search.as_deref(),
        group_id: group_id.as_ref().map(GroupId::as_str),
    };
    let (page, start) = list_start(&state, &scope, page, cursor_text.as_deref())?;
    if organization.is_some_and(|org| org != organization_id) {
        return Ok(json_response(
            StatusCode::OK,
            &page_of::<api::User>(Vec::new(), page, 0, None),
        ));
    }
    let listed = {
        let organization_id = organization_id.clone();
        let search = search.clone();
        let group_id = group_id.clone();
        let start = start.clone();
        db::run(&state.pool, move |conn| {
            User::list(
                conn,
                &organization_id,
                search.as_deref(),
                group_id.as_ref(),
                page,
                &start,
            )
        })
        .await?
    };
    let fitted = fit_page(
        listed,
        &start,
        |user| Ok(user_body(user)),
        |u: &User| Position {
            sort_time: u.created_at,
            id: u.id.as_str().to_owned(),
        },
    )?;
    let next = next_cursor(&state, &scope, page, fitted.next.as_ref())?;
    Ok(json_response(
        StatusCode::OK,
        &page_of(fitted.items, page, fitted.total, next),
    ))
}

/// `GET /api/v1/users/{id}`: 200 with the user, 404 `"User not found"`.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    summary = "Read a user",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
        description = "The user's id (a hyphenated UUID, any case).")),
    responses(
        (status = 200, description = "The user.", body = api::User),
        (status = 400, description = "The id is not a UUID, or a query was sent.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "id", "message": "id must be a UUID"}]})),
        (status = 403, description = "The access key lacks `users:read`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to read users"})),
        (status = 404, description = "No live user of the organization has this id: missing, \
            deleted or another organization's.", body = ErrorBody,
            example = json!({"statusCode": 404, "message": "User not found"})),
    ),
)]
pub async fn get_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersRead)?;
    let id: UserId = id_only(&req)?;
    let organization_id = caller.organization_id().clone();
    let user = db::run(&state.pool, move |conn| {
        lifecycle::get_user(conn, &organization_id, &id)
    })
    .await?;
    Ok(with_etag(
        user_response(StatusCode::OK, user.value),
        user.version,
    ))
}

/// `PUT /api/v1/users/{id}`: partial update of `firstName, lastName, role, avatar, userGroupId`
/// (`null` removes the avatar or the membership; `email` cannot change: 400). 200 with the user;
/// 403 when it would demote the organization's last live admin; 404.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    tag = "users",
    summary = "Partially update a user",
    description = "Only the fields sent change: `null` removes the avatar or the membership \
        (`userGroupId`), and `{}` only moves `updatedAt`. `email` cannot change (400).",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
        description = "The user's id (a hyphenated UUID, any case).")),
    request_body(content = UpdateUser, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated user.", body = api::User, example = json!({
            "id": "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
            "firstName": "Ada", "lastName": "Lovelace",
            "fullName": "Ada Lovelace", "email": "ada@example.com", "role": "editor",
            "avatar": null, "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "userGroupId": null,
            "createdAt": "2025-05-22T10:40:00Z", "updatedAt": "2025-05-22T10:45:00Z"})),
        (status = 400, description = "A bad id; an `email` field; fields that are mistyped, \
            unknown, `null` where they cannot be, empty, too long or malformed (every bad field \
            is listed); or a `userGroupId` naming no live group of the organization.",
            body = ErrorBody, examples(
            ("email sent" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "email", "message": "email cannot be changed"}]}))),
            ("bad avatar" = (value = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "avatar", "message": "avatar must be an https URL"}]}))),
        )),
        (status = 403, description = "The access key lacks `users:write`, or the change would \
            leave the organization without a live admin.", body = ErrorBody, examples(
            ("last admin" = (value = json!({"statusCode": 403,
                "message": "Cannot demote the organization's last admin user"}))),
            ("missing permission" = (value = json!({"statusCode": 403,
                "message": "Access key is not allowed to write users"}))),
        )),
        (status = 404, description = "No live user of the organization has this id.",
            body = ErrorBody, example = json!({"statusCode": 404, "message": "User not found"})),
    ),
)]
pub async fn update_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let mut body = JsonObject::parse(&caller.body)?;
    let id: Option<UserId> = path_id(&req, &mut body.errors);
    if body.has("email") {
        body.take("email");
        body.errors.add("email", "email cannot be changed");
    }
    let changes = UserChanges {
        first_name: body.take_trimmed("firstName", false, limits::USER_NAME_MAX),
        last_name: body.take_trimmed("lastName", false, limits::USER_NAME_MAX),
        role: take_role(&mut body),
        avatar: take_avatar(&mut body),
        user_group_id: take_group_id(&mut body),
    };
    body.finish()?;
    let id = id.ok_or_else(|| ApiError::internal("a bad id was not reported"))?;
    let if_match = if_match(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let user = caller
        .write(&state, move |conn| {
            lifecycle::update_user(conn, &actor, &organization_id, &id, &changes, &if_match)
        })
        .await?;
    Ok(with_etag(
        user_response(StatusCode::OK, user.value),
        user.version,
    ))
}

/// `DELETE /api/v1/users/{id}`: soft delete. 200 with the final user and `deletedAt`; 403 for
/// the organization's last live admin; 404 when missing or already deleted.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "users",
    summary = "Soft-delete a user",
    description = "Sets `deletedAt` and returns the final user, which leaves its group and is \
        never visible through the API again; its email may be reused.",
    security(("onlivesite" = [])),
    params(("id" = String, Path, format = "uuid", example = "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
        description = "The user's id (a hyphenated UUID, any case).")),
    responses(
        (status = 200, description = "The final user, with `deletedAt` (equal to `updatedAt`).",
            body = api::User, example = json!({
            "id": "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
            "firstName": "Ada", "lastName": "Lovelace",
            "fullName": "Ada Lovelace", "email": "ada@example.com", "role": "creator",
            "avatar": null, "organizationId": "123e4567-e89b-12d3-a456-426614174000",
            "userGroupId": "550e8400-e29b-41d4-a716-446655440000",
            "createdAt": "2025-05-22T10:40:00Z", "updatedAt": "2025-05-22T11:00:00Z",
            "deletedAt": "2025-05-22T11:00:00Z"})),
        (status = 400, description = "The id is not a UUID, or a query was sent.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input",
                "errors": [{"field": "id", "message": "id must be a UUID"}]})),
        (status = 403, description = "The access key lacks `users:delete`, or the user is the \
            organization's last live admin.", body = ErrorBody, examples(
            ("last admin" = (value = json!({"statusCode": 403,
                "message": "Cannot delete the organization's last admin user"}))),
            ("missing permission" = (value = json!({"statusCode": 403,
                "message": "Access key is not allowed to delete users"}))),
        )),
        (status = 404, description = "No live user of the organization has this id (missing, \
            already deleted or another organization's).", body = ErrorBody,
            example = json!({"statusCode": 404, "message": "User not found"})),
    ),
)]
pub async fn delete_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersDelete)?;
    let id: UserId = id_only(&req)?;
    let if_match = if_match(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let user = caller
        .write(&state, move |conn| {
            lifecycle::delete_user(conn, &actor, &organization_id, &id, &if_match)
        })
        .await?;
    Ok(with_etag(
        user_response(StatusCode::OK, user.value),
        user.version,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails_pass_and_malformed_ones_do_not() {
        for good in [
            "ada@example.com",
            "a.b+tag@sub.example.org",
            "zoë@exämple.de",
        ] {
            assert!(is_valid_email(good), "{good}");
        }
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a da@example.com",
            "ada@exa_mple.com",
            "ada@-x.com",
            "a..b@example.com",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn only_https_urls_with_a_host_are_avatars() {
        assert!(is_valid_avatar("https://cdn.example.com/a.png"));
        assert!(!is_valid_avatar("http://cdn.example.com/a.png"));
        assert!(!is_valid_avatar("https:///a.png"));
        assert!(!is_valid_avatar("https://cdn.example.com/a b.png"));
        assert!(!is_valid_avatar("javascript:alert(1)"));
    }
}
