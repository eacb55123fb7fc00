//! The Onlive dialect's words for every [`ApiError`]: the contract's error body (`api.md`),
//! `{"statusCode": …, "message": …}` plus `reason`, `errors` or `activeMembers` where they
//! apply, and the `WWW-Authenticate` challenge of its signing scheme. It is the answer of every
//! route outside the nscale prefix (`ApiError`'s `ResponseError` answers with [`answer`]).
//!
//! The field names of a 400 or 409 that the domain finds (`userGroupId`, `name`, `externalId`,
//! `email`, `page`) are the contract's; a refusal only the nscale routes can meet (unknown roles,
//! service accounts or users to set as members, the unpaged list's bounds) is still worded here,
//! in this dialect's own terms, so every error has an Onlive answer.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::api::ErrorBody;
use crate::auth::Permission;
use crate::domain::{AdminChange, DomainError, InvalidField, Resource, UniqueField};
use crate::routes::error::{ApiError, FieldError, FieldErrors};

/// The contract's 404 message for groups.
pub const GROUP_NOT_FOUND: &str = "User group not found";
/// The contract's 404 message for users.
pub const USER_NOT_FOUND: &str = "User not found";
/// The contract's 404 message for a path no route matches.
pub const ROUTE_NOT_FOUND: &str = "Route not found";

/// The whole Onlive answer to `error`: its status, the headers every dialect sends, the
/// signing scheme's challenge on a 401, and [`body`].
pub fn answer(error: &ApiError) -> HttpResponse {
    use actix_web::ResponseError;
    let mut response = HttpResponse::build(error.status_code());
    error.add_headers(&mut response);
    if let ApiError::Unauthorized(_) = error {
        response.insert_header((header::WWW_AUTHENTICATE, crate::auth::header::SCHEME));
    }
    response
        .content_type(crate::routes::JSON_UTF8)
        .json(body(error))
}

/// The contract's error body for `error`.
pub fn body(error: &ApiError) -> ErrorBody {
    use actix_web::ResponseError;
    let mut body = ErrorBody {
        status_code: error.status_code().as_u16(),
        message: String::new(),
        reason: None,
        active_members: None,
        errors: None,
        omitted_errors: None,
    };
    body.message = match error {
        ApiError::InvalidInput(errors) => invalid_input(&mut body, errors),
        ApiError::Unauthorized(failure) => {
            body.reason = Some(failure.reason().to_owned());
            "Invalid or missing authorization credentials".to_owned()
        }
        ApiError::PermissionDenied(permission) => denied(*permission).to_owned(),
        ApiError::ForeignOrganization => {
            body.reason = Some("foreign_organization".to_owned());
            "Access to this organization is forbidden".to_owned()
        }
        ApiError::RouteNotFound => ROUTE_NOT_FOUND.to_owned(),
        ApiError::MethodNotAllowed { .. } => "Method not allowed".to_owned(),
        ApiError::Domain(refusal) => domain(&mut body, refusal),
        ApiError::EventsPurged { purged_through } => {
            body.reason = Some("events_purged".to_owned());
            format!(
                "Events up to {purged_through} were purged by the retention: read the \
                 current groups and users again, then follow the feed from after={purged_through}"
            )
        }
        ApiError::PayloadTooLarge { .. } => "Request body is too large".to_owned(),
        ApiError::UnsupportedMediaType => "Content-Type must be application/json".to_owned(),
        ApiError::RequestTimeout { .. } => "Request body was not received in time".to_owned(),
        ApiError::TooManyRequests { .. } => {
            body.reason = Some("rate_limited".to_owned());
            "Too many requests".to_owned()
        }
        ApiError::Unavailable { .. } => UNAVAILABLE.to_owned(),
        ApiError::Outdated { found, known } => {
            body.reason = Some("upgrade_required".to_owned());
            outdated(*found, *known)
        }
        ApiError::Internal(_) => INTERNAL.to_owned(),
    };
    body
}

const UNAVAILABLE: &str = "Service temporarily unavailable";
const INTERNAL: &str = "Internal server error";

/// The 400's message, with `errors` listing the bad fields.
fn invalid_input(body: &mut ErrorBody, errors: &FieldErrors) -> String {
    body.errors = Some(errors.iter().cloned().collect());
    body.omitted_errors = (errors.omitted() > 0).then_some(errors.omitted());
    "Invalid input".to_owned()
}

/// The message of the 403 to a key without `permission`.
fn denied(permission: Permission) -> &'static str {
    match permission {
        Permission::UserGroupsRead => "Access key is not allowed to read user groups",
        Permission::UserGroupsWrite => "Access key is not allowed to write user groups",
        Permission::UserGroupsDelete => "Access key is not allowed to delete user groups",
        Permission::UsersRead => "Access key is not allowed to read users",
        Permission::UsersWrite => "Access key is not allowed to write users",
        Permission::UsersDelete => "Access key is not allowed to delete users",
        Permission::UserGroupsReadDeleted => {
            "Access key is not allowed to read deleted user groups"
        }
        Permission::UserGroupsRestore => "Access key is not allowed to restore user groups",
        Permission::UsersReadDeleted => "Access key is not allowed to read deleted users",
        Permission::UsersRestore => "Access key is not allowed to restore users",
        Permission::EventsRead => "Access key is not allowed to read events",
    }
}

/// The message of a 409: the taken value's field is listed in `errors` with the same message.
fn conflict(body: &mut ErrorBody, field: &str, message: String) -> String {
    body.errors = Some(vec![FieldError {
        field: field.to_owned(),
        message: message.clone(),
    }]);
    message
}

/// The message (and details) of a domain refusal.
fn domain(body: &mut ErrorBody, refusal: &DomainError) -> String {
    let one_field = |field: &str, message: String| {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        errors
    };
    match refusal {
        DomainError::NotFound(Resource::Group) => GROUP_NOT_FOUND.to_owned(),
        DomainError::NotFound(Resource::User) => USER_NOT_FOUND.to_owned(),
        DomainError::HasActiveMembers { count } => {
            body.reason = Some("group_has_active_members".to_owned());
            body.active_members = Some(*count);
            "Cannot delete user group with active members".to_owned()
        }
        DomainError::LastAdmin(AdminChange::Delete) => {
            "Cannot delete the organization's last admin user".to_owned()
        }
        DomainError::LastAdmin(AdminChange::Demote) => {
            "Cannot demote the organization's last admin user".to_owned()
        }
        DomainError::Taken(UniqueField::GroupName) => conflict(
            body,
            "name",
            "A user group with this name already exists".to_owned(),
        ),
        DomainError::Taken(UniqueField::GroupExternalId) => conflict(
            body,
            "externalId",
            "A user group with this externalId already exists".to_owned(),
        ),
        DomainError::Taken(UniqueField::UserEmail) => conflict(
            body,
            "email",
            "A user with this email already exists".to_owned(),
        ),
        DomainError::MemberOfAnotherGroup { user_id } => conflict(
            body,
            "userIds",
            format!("User {user_id} is a member of another user group"),
        ),
        DomainError::InvalidInput(fields) => {
            let mut errors = FieldErrors::new();
            for field in fields {
                match field {
                    InvalidField::GroupToJoin => errors.add(
                        "userGroupId",
                        format!("userGroupId must name an existing user group ({GROUP_NOT_FOUND})"),
                    ),
                    InvalidField::UnknownRole(id) => {
                        errors.add("roleIds", format!("role {id} does not exist"))
                    }
                    InvalidField::UnknownServiceAccount(id) => errors.add(
                        "serviceAccountIds",
                        format!("access key {id} does not exist or is revoked"),
                    ),
                    InvalidField::UnknownUser(id) => {
                        errors.add("userIds", format!("user {id} does not exist"))
                    }
                }
            }
            invalid_input(body, &errors)
        }
        DomainError::TooManyMembersToRemove { max } => invalid_input(
            body,
            &one_field(
                "userIds",
                format!(
                    "userIds would take over {max} members out of the group; one write takes \
                     out at most {max}: keep more, or use PUT /api/v1/users/{{id}} \
                     {{\"userGroupId\": null}}"
                ),
            ),
        ),
        DomainError::TooManyToList { max } => invalid_input(
            body,
            &one_field(
                "page",
                format!(
                    "the organization has more than {max} live groups, more than one answer \
                     lists; list them page by page with GET /api/v1/user-groups"
                ),
            ),
        ),
        DomainError::TooManyDeletedToList { max } => invalid_input(
            body,
            &one_field(
                "page",
                format!(
                    "the organization has more than {max} deleted groups, more than one answer \
                     lists; list them page by page with GET /api/v1/deleted-user-groups"
                ),
            ),
        ),
        DomainError::PageTooDeep { max_page } => invalid_input(
            body,
            &one_field(
                "page",
                format!(
                    "page must be at most {max_page} at this limit; page further with cursor \
                     (each page's nextCursor)"
                ),
            ),
        ),
        DomainError::PreconditionFailed => {
            body.reason = Some("precondition_failed".to_owned());
            "The resource was changed since the version named in If-Match".to_owned()
        }
        DomainError::IdempotencyKeyReused => {
            body.reason = Some("idempotency_key_reused".to_owned());
            "Idempotency-Key was already used for a different request".to_owned()
        }
        // Converted to `ApiError::Unavailable` and `ApiError::Internal` on the way up; worded
        // the same should one be built by hand.
        DomainError::Unavailable { .. } => UNAVAILABLE.to_owned(),
        DomainError::Outdated { found, known } => {
            body.reason = Some("upgrade_required".to_owned());
            outdated(*found, *known)
        }
        DomainError::Internal(_) => INTERNAL.to_owned(),
    }
}

/// The 503 of an instance older than the database's schema (`docs/deployment.md#upgrading`).
fn outdated(found: i64, known: i64) -> String {
    format!(
        "This instance runs an older release than the database's schema (generation {found}; \
         it knows {known}) and writes nothing until it is upgraded: send the request again \
         (another instance serves it) and upgrade this one"
    )
}

/// The answer outside the nscale prefix is the Onlive one; under it,
/// [`crate::routes::nscale::error::nscale_errors`] renders the dialect's own from the error
/// attached to this response. The impl lives here, with the Onlive words, so the neutral error
/// module knows no dialect.
impl actix_web::ResponseError for ApiError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        answer(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;
    use actix_web::http::StatusCode;
    use actix_web::ResponseError;

    fn answered(error: &ApiError) -> (StatusCode, serde_json::Value) {
        let response = answer(error);
        let status = response.status();
        let bytes = response.into_body().try_into_bytes().unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn a_group_with_active_members_is_a_403_with_its_reason_and_count() {
        let error = ApiError::from(DomainError::HasActiveMembers { count: 2 });

        assert_eq!(
            answered(&error),
            (
                StatusCode::FORBIDDEN,
                serde_json::json!({"statusCode": 403,
                    "message": "Cannot delete user group with active members",
                    "reason": "group_has_active_members", "activeMembers": 2})
            )
        );
        assert_eq!(error.reason(), Some("group_has_active_members"));
    }

    #[test]
    fn a_taken_name_is_a_409_listing_the_contracts_field() {
        let error = ApiError::from(DomainError::Taken(UniqueField::GroupName));

        assert_eq!(error.status_code(), StatusCode::CONFLICT);
        assert_eq!(
            answered(&error).1,
            serde_json::json!({"statusCode": 409,
                "message": "A user group with this name already exists",
                "errors": [{"field": "name",
                    "message": "A user group with this name already exists"}]})
        );
    }

    #[test]
    fn a_missing_permission_names_the_action_in_the_contracts_words() {
        let error = ApiError::PermissionDenied(Permission::UsersDelete);

        assert_eq!(
            answered(&error).1,
            serde_json::json!({"statusCode": 403,
                "message": "Access key is not allowed to delete users"})
        );
    }

    #[test]
    fn every_permission_has_its_own_message() {
        let mut messages: Vec<_> = Permission::ALL.iter().map(|p| denied(*p)).collect();
        messages.sort_unstable();
        messages.dedup();
        assert_eq!(messages.len(), Permission::ALL.len());
    }
}
