//! What can go wrong in the store, in the store's own terms: the database cannot serve now (a
//! client may retry), a unique index refused a row (the layer above knows which value that is),
//! or something unexpected (a bug, whose cause is logged and never shown). diesel's errors are
//! sorted into these three here, once, so no layer above matches on driver messages.

use std::fmt;

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

/// A failure of the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot serve now: unreachable, locked past the statement timeout, out of
    /// disk, or a transaction that lost a race (`retryable`: the same transaction may succeed if
    /// run again).
    #[error("database unavailable: {cause}")]
    Unavailable {
        /// What went wrong, for the log only.
        cause: String,
        /// A serialization failure or deadlock.
        retryable: bool,
    },
    /// A unique index refused the row: `constraint` names the index (PostgreSQL) or its columns
    /// (SQLite, `user_groups.organization_id, user_groups.name`).
    #[error("unique violation: {constraint}")]
    UniqueViolation {
        /// The index name, or the driver's message naming the columns.
        constraint: String,
    },
    /// The database's schema is of a newer generation than this release knows: a newer release
    /// migrated it, and this instance must be upgraded before it writes again (its writes could
    /// miss what the new schema requires). See `docs/deployment.md#upgrading`.
    #[error(
        "the database's schema is generation {found}, newer than this release knows ({known}): \
         upgrade this instance"
    )]
    Outdated {
        /// The generation the database records.
        found: i64,
        /// The newest generation this release knows ([`super::SCHEMA_GENERATION`]).
        known: i64,
    },
    /// Anything else: a bug or an unexpected failure.
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    /// The database cannot serve now; `cause` goes to the log.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        StoreError::Unavailable {
            cause: cause.to_string(),
            retryable: false,
        }
    }

    /// An unexpected failure; `cause` goes to the log.
    pub fn internal(cause: impl fmt::Display) -> Self {
        StoreError::Internal(cause.to_string())
    }

    /// True for a transaction that failed only because of concurrency and may be run again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable {
                retryable: true,
                ..
            }
        )
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(kind, info) => from_database_error(kind, info.as_ref()),
            DieselError::NotFound => StoreError::internal("a row expected to exist was not found"),
            DieselError::BrokenTransactionManager => {
                StoreError::unavailable("the connection broke inside a transaction")
            }
            other if is_unavailability(&other.to_string()) => StoreError::unavailable(other),
            other => StoreError::internal(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    /// No connection within the connection timeout: the database is unreachable or saturated.
    fn from(error: diesel::r2d2::PoolError) -> Self {
        StoreError::unavailable(error)
    }
}

fn from_database_error(kind: DatabaseErrorKind, info: &dyn DatabaseErrorInformation) -> StoreError {
    let message = info.message();
    match kind {
        DatabaseErrorKind::UniqueViolation => StoreError::UniqueViolation {
            constraint: info.constraint_name().unwrap_or(message).to_owned(),
        },
        DatabaseErrorKind::SerializationFailure => StoreError::Unavailable {
            cause: message.to_owned(),
            retryable: true,
        },
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::ReadOnlyTransaction => {
            StoreError::unavailable(message)
        }
        _ if message.contains("deadlock detected") => StoreError::Unavailable {
            cause: message.to_owned(),
            retryable: true,
        },
        _ if is_unavailability(message) => StoreError::unavailable(message),
        _ => StoreError::internal(format!("database error ({kind:?}): {message}")),
    }
}

/// SQLite after its busy timeout or with a full disk, PostgreSQL after a statement or lock
/// timeout, or a connection that broke under the query: the database cannot serve now, which is
/// the client's 503, not a bug. (Matched on the drivers' messages: diesel does not carry the
/// SQLSTATE through.)
fn is_unavailability(message: &str) -> bool {
    const SIGNS: [&str; 10] = [
        "database is locked",
        "database or disk is full",
        "disk I/O error",
        "statement timeout",
        "lock timeout",
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}
