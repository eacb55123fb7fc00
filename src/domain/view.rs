//! The API's JSON of a group and of a user ([`crate::api`]), built from the rows in one place:
//! the Onlive routes answer with it, and the change feed stores it as each event's resource, so
//! an event shows a resource exactly as a read right after the change would have.

use serde_json::value::RawValue;

use super::{DomainError, Group, GroupId, User};
use crate::api;

/// The API's view of a group row.
pub fn group(group: &Group) -> Result<api::Group, DomainError> {
    Ok(api::Group {
        extra_fields: RawValue::from_string(group.extra_fields.clone()).map_err(|e| {
            DomainError::Internal(format!(
                "stored extraFields of {} is not JSON: {e}",
                group.id
            ))
        })?,
        id: group.id.as_str().to_owned(),
        name: group.name.clone(),
        description: group.description.clone(),
        external_id: group.external_id.clone(),
        organization_id: group.organization_id.as_str().to_owned(),
        created_at: group.created_at.and_utc(),
        updated_at: group.updated_at.and_utc(),
        deleted_at: group.deleted_at.map(|t| t.and_utc()),
    })
}

/// The API's view of a user row.
pub fn user(user: &User) -> api::User {
    api::User {
        full_name: user.full_name(),
        id: user.id.as_str().to_owned(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        role: user.role,
        avatar: user.avatar.clone(),
        organization_id: user.organization_id.as_str().to_owned(),
        user_group_id: user
            .user_group_id
            .as_ref()
            .map(|g| GroupId::as_str(g).to_owned()),
        created_at: user.created_at.and_utc(),
        updated_at: user.updated_at.and_utc(),
        deleted_at: user.deleted_at.map(|t| t.and_utc()),
    }
}
