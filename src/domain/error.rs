//! The one error type of the domain core: what an operation on groups and users can end in, in
//! the domain's terms, with no HTTP status and no answer text (its `Display` is for logs only).
//! The routes carry it unchanged inside their neutral `ApiError` (`routes::error`), and each
//! dialect words it in its own renderer (`routes::onlive::error`, `routes::nscale::error`), so
//! a rule is stated once and worded as each dialect words it.

use crate::db::{StoreError, TransactionError};

/// A kind of record the domain knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A user group.
    Group,
    /// A user.
    User,
}

/// A value that must be unique among an organization's live records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    /// A group's name (compared exactly).
    GroupName,
    /// A group's external id (compared exactly).
    GroupExternalId,
    /// A user's email (compared case-insensitively).
    UserEmail,
}

/// A field of a change that the state of the data makes invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidField {
    /// The group a user is to join is not a live group of the organization.
    GroupToJoin,
    /// A role id that names no built-in role.
    UnknownRole(String),
    /// An access key id that is no live key of the organization (unknown, another
    /// organization's, or revoked).
    UnknownServiceAccount(String),
    /// A user id that is no live user of the organization.
    UnknownUser(String),
}

/// A change to an admin that the last-admin rule governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminChange {
    /// Deleting the user.
    Delete,
    /// Giving the user another role.
    Demote,
}

/// Everything an operation of the domain core can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The record does not exist for this organization: missing, deleted, or another
    /// organization's (the three are one answer, so organizations stay invisible to each other).
    #[error("{0:?} not found")]
    NotFound(Resource),
    /// A group cannot be deleted while it has active members.
    #[error("the group has {count} active member(s)")]
    HasActiveMembers {
        /// How many live users are in the group.
        count: i64,
    },
    /// The change would leave the organization without a live admin.
    #[error("the change ({0:?}) would leave the organization without a live admin")]
    LastAdmin(AdminChange),
    /// A live record of the organization already holds this unique value.
    #[error("{0:?} is taken")]
    Taken(UniqueField),
    /// A user to put into a group is a live member of another group: a user is in at most one.
    #[error("user {user_id} is a member of another group")]
    MemberOfAnotherGroup {
        /// The first such user, by id.
        user_id: crate::ids::UserId,
    },
    /// A write would take more than `max` members out of a group at once
    /// ([`crate::limits::GROUP_MEMBERS_REMOVED_MAX`]): refused before it changed anything.
    #[error("more than {max} members to take out of the group in one write")]
    TooManyMembersToRemove {
        /// The most members one write takes out of a group.
        max: usize,
    },
    /// An unpaged list would hold more than `max` records.
    #[error("more than {max} records to list")]
    TooManyToList {
        /// The most an unpaged list holds.
        max: usize,
    },
    /// An unpaged list that shows deleted records would hold more than `max` deleted ones.
    #[error("more than {max} deleted records to list")]
    TooManyDeletedToList {
        /// The most deleted records an unpaged list holds.
        max: usize,
    },
    /// Fields of the change refer to something that is not there.
    #[error("invalid input: {0:?}")]
    InvalidInput(Vec<InvalidField>),
    /// The write was conditional on a version of the record (`If-Match`) that is no longer its
    /// version: nothing changed.
    #[error("the record changed since the version the write was conditional on")]
    PreconditionFailed,
    /// An idempotency key was used again for another request (another body, method or path).
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    /// An offset page deeper than [`crate::limits::PAGE_OFFSET_MAX`] rows (keyset paging has
    /// no such bound).
    #[error("page too deep (at most page {max_page} at this limit)")]
    PageTooDeep {
        /// The deepest page this limit allows.
        max_page: i64,
    },
    /// The store cannot serve now (`retryable`: the same transaction may succeed if run again).
    #[error("unavailable: {cause}")]
    Unavailable {
        /// What went wrong, for the log only.
        cause: String,
        /// A transaction that lost a race.
        retryable: bool,
    },
    /// A newer release migrated the database: this instance writes nothing until it is
    /// upgraded ([`StoreError::Outdated`]).
    #[error("the database's schema is generation {found}; this release knows {known}")]
    Outdated {
        /// The generation the database records.
        found: i64,
        /// The newest generation this release knows.
        known: i64,
    },
    /// Anything unexpected; the cause is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for DomainError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable { cause, retryable } => {
                DomainError::Unavailable { cause, retryable }
            }
            StoreError::UniqueViolation { constraint } => match taken_field(&constraint) {
                Some(field) => DomainError::Taken(field),
                None => DomainError::Internal(format!("unexpected unique violation: {constraint}")),
            },
            StoreError::Outdated { found, known } => DomainError::Outdated { found, known },
            StoreError::Internal(cause) => DomainError::Internal(cause),
        }
    }
}

impl From<diesel::result::Error> for DomainError {
    fn from(error: diesel::result::Error) -> Self {
        StoreError::from(error).into()
    }
}

impl DomainError {
    /// True for a refusal by the state of the data (missing, taken, members, last admin, a
    /// group that cannot be joined): the request was understood and answered, and its
    /// signature stays used. False for the store's failures.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            DomainError::Unavailable { .. }
                | DomainError::Outdated { .. }
                | DomainError::Internal(_)
        )
    }
}

impl TransactionError for DomainError {
    fn is_retryable(&self) -> bool {
        matches!(
            self,
            DomainError::Unavailable {
                retryable: true,
                ..
            }
        )
    }
}

/// Names the taken value from the index that refused it: PostgreSQL reports the index name
/// (`user_groups_live_name`), SQLite the columns (`user_groups.organization_id, user_groups.name`).
/// The indexes are the migrations' partial unique indexes over live rows.
fn taken_field(index: &str) -> Option<UniqueField> {
    if index.contains("external_id") {
        Some(UniqueField::GroupExternalId)
    } else if index.contains("email") {
        Some(UniqueField::UserEmail)
    } else if index.contains("user_groups") && index.contains("name") {
        Some(UniqueField::GroupName)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backends_report_of_a_unique_index_names_the_taken_field() {
        let cases = [
            ("user_groups_live_name", UniqueField::GroupName),
            (
                "user_groups.organization_id, user_groups.name",
                UniqueField::GroupName,
            ),
            ("user_groups_live_external_id", UniqueField::GroupExternalId),
            (
                "users.organization_id, users.email_folded",
                UniqueField::UserEmail,
            ),
        ];
        for (index, field) in cases {
            let error = DomainError::from(StoreError::UniqueViolation {
                constraint: index.to_owned(),
            });
            assert_eq!(error, DomainError::Taken(field), "{index}");
        }
    }

    #[test]
    fn an_unknown_unique_index_is_an_internal_error_not_a_conflict() {
        let error = DomainError::from(StoreError::UniqueViolation {
            constraint: "access_keys_pkey".to_owned(),
        });
        assert!(matches!(error, DomainError::Internal(_)));
    }
}
