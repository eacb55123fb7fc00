//! `/api/v1/users`: create, list, get, partially update and soft-delete users. Membership of a
//! group is the user's `userGroupId`, set by create and update.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::input::{id_only, no_query, parse_uuid, path_id, require_json, JsonObject, Query};
use super::{json_response, page_of};
use crate::api;
use crate::auth::{Caller, Permission};
use crate::db;
use crate::error::ApiError;
use crate::models::user::USER_NOT_FOUND;
use crate::models::{NewUser, Role, User, UserChanges};
use crate::server::AppState;

const NAME_MAX: usize = 100;
const EMAIL_MAX: usize = 254;
const AVATAR_MAX: usize = 2_048;

/// The API's view of a stored user.
fn user_body(user: User) -> api::User {
    api::User {
        full_name: user.full_name(),
        id: user.id,
        first_name: user.first_name,
        last_name: user.last_name,
        email: user.email,
        role: user.role,
        avatar: user.avatar,
        organization_id: user.organization_id,
        user_group_id: user.user_group_id,
        created_at: user.created_at.and_utc(),
        updated_at: user.updated_at.and_utc(),
        deleted_at: user.deleted_at.map(|t| t.and_utc()),
    }
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
        if url.chars().count() > AVATAR_MAX {
            body.errors.add(
                "avatar",
                format!("avatar must be at most {AVATAR_MAX} characters"),
            );
        } else if !is_valid_avatar(url) {
            body.errors.add("avatar", "avatar must be an https URL");
        }
    }
    Some(avatar)
}

fn take_group_id(body: &mut JsonObject<'_>) -> Option<Option<String>> {
    match body.take_string("userGroupId")? {
        None => Some(None),
        Some(text) => match parse_uuid(&text) {
            Some(id) => Some(Some(id)),
            None => {
                body.errors.add("userGroupId", "userGroupId must be a UUID");
                None
            }
        },
    }
}

/// `POST /api/v1/users`: `{firstName, lastName, email, role?, avatar?, userGroupId?}` → 201 with
/// the user. 400 for bad fields or a `userGroupId` naming no live group of the organization;
/// 409 when a live user has the email (case-insensitively).
pub async fn create_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let mut body = JsonObject::parse(&caller.body)?;
    let first_name = body.take_trimmed("firstName", true, NAME_MAX);
    let last_name = body.take_trimmed("lastName", true, NAME_MAX);
    let email = body.take_trimmed("email", true, EMAIL_MAX);
    // An empty or too-long email already has its error: one entry per bad field.
    let email_length_ok = email
        .as_deref()
        .is_some_and(|email| (1..=EMAIL_MAX).contains(&email.chars().count()));
    if email_length_ok && email.as_deref().is_some_and(|email| !is_valid_email(email)) {
        body.errors
            .add("email", "email must be a valid email address");
    }
    let role = take_role(&mut body);
    let avatar = take_avatar(&mut body);
    let user_group_id = take_group_id(&mut body);
    body.finish()?;
    let new_user = NewUser {
        first_name: first_name.unwrap_or_default(),
        last_name: last_name.unwrap_or_default(),
        email: email.unwrap_or_default(),
        role: role.unwrap_or(Role::Creator),
        avatar: avatar.flatten(),
        user_group_id: user_group_id.flatten(),
    };
    let organization_id = caller.organization_id().to_owned();
    let user = db::run(&state.pool, move |conn| {
        new_user.insert(conn, &organization_id)
    })
    .await?;
    Ok(user_response(StatusCode::CREATED, user))
}

/// `GET /api/v1/users?page&limit&search&organizationId&userGroupId`: 200 with one page of the
/// organization's live users, newest first; `userGroupId` keeps the group's active members.
pub async fn list_users(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersRead)?;
    let mut query = Query::parse(
        &req,
        &["page", "limit", "search", "organizationId", "userGroupId"],
    );
    let page = query.page_request();
    let organization = query.uuid("organizationId");
    let group_id = query.uuid("userGroupId");
    let search = query.get("search").map(str::to_owned);
    query.finish()?;
    if organization.is_some_and(|org| org != caller.organization_id()) {
        return Ok(json_response(
            StatusCode::OK,
            &page_of::<api::User>(Vec::new(), page, 0),
        ));
    }
    let organization_id = caller.organization_id().to_owned();
    let (users, total) = db::run(&state.pool, move |conn| {
        User::list(
            conn,
            &organization_id,
            search.as_deref(),
            group_id.as_deref(),
            page,
        )
    })
    .await?;
    let items = users.into_iter().map(user_body).collect();
    Ok(json_response(
        StatusCode::OK,
        &page_of::<api::User>(items, page, total),
    ))
}

/// `GET /api/v1/users/{id}`: 200 with the user, 404 `"User not found"`.
pub async fn get_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersRead)?;
    let id = id_only(&req)?;
    let organization_id = caller.organization_id().to_owned();
    let user = db::run(&state.pool, move |conn| {
        User::find(conn, &organization_id, &id)
    })
    .await?
    .ok_or(ApiError::NotFound(USER_NOT_FOUND))?;
    Ok(user_response(StatusCode::OK, user))
}

/// `PUT /api/v1/users/{id}`: partial update of `firstName, lastName, role, avatar, userGroupId`
/// (`null` removes the avatar or the membership; `email` cannot change: 400). 200 with the user;
/// 403 when it would demote the organization's last live admin; 404.
pub async fn update_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersWrite)?;
    require_json(&req)?;
    no_query(&req)?;
    let mut body = JsonObject::parse(&caller.body)?;
    let id = path_id(&req, &mut body.errors);
    if body.has("email") {
        body.take("email");
        body.errors.add("email", "email cannot be changed");
    }
    let changes = UserChanges {
        first_name: body.take_trimmed("firstName", false, NAME_MAX),
        last_name: body.take_trimmed("lastName", false, NAME_MAX),
        role: take_role(&mut body),
        avatar: take_avatar(&mut body),
        user_group_id: take_group_id(&mut body),
    };
    body.finish()?;
    let id = id.ok_or_else(|| ApiError::internal("a bad id was not reported"))?;
    let organization_id = caller.organization_id().to_owned();
    let user = db::run(&state.pool, move |conn| {
        User::update(conn, &organization_id, &id, &changes)
    })
    .await?;
    Ok(user_response(StatusCode::OK, user))
}

/// `DELETE /api/v1/users/{id}`: soft delete. 200 with the final user and `deletedAt`; 403 for
/// the organization's last live admin; 404 when missing or already deleted.
pub async fn delete_user(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::UsersDelete)?;
    let id = id_only(&req)?;
    let organization_id = caller.organization_id().to_owned();
    let user = db::run(&state.pool, move |conn| {
        User::soft_delete(conn, &organization_id, &id)
    })
    .await?;
    Ok(user_response(StatusCode::OK, user))
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
