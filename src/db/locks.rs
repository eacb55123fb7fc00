//! The row locks that make check-then-act writes atomic on PostgreSQL. On SQLite every write
//! transaction already holds the database's single write lock (`BEGIN IMMEDIATE`), so the same
//! reads need no lock clause there.

use diesel::prelude::*;

use super::schema::{organizations, user_groups, users};
use super::DbConnection;
use crate::error::ApiError;
use crate::models::group::{visible_to, Group};
use crate::models::user::{visible_to as user_visible_to, User};

/// The advisory lock key under which instances apply migrations and the first-run setup.
pub const MIGRATION_LOCK: i64 = 0x7573_6572_6772_7073; // "usergrps"

/// How strongly a row is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// `FOR UPDATE`: the row is about to change (update, delete).
    Exclusive,
    /// `FOR SHARE`: the row must stay as it is until commit (a user joining the group).
    Shared,
}

/// The organization's live group `id`, locked until the end of the transaction. A group deleted
/// by a transaction that committed while this one waited is not returned.
pub fn live_group(
    conn: &mut DbConnection,
    organization_id: &str,
    id: &str,
    lock: RowLock,
) -> Result<Option<Group>, ApiError> {
    // A closure, not a value: the selection's backend is fixed where each arm uses it.
    let query = || {
        user_groups::table
            .filter(user_groups::id.eq(id))
            .filter(visible_to(organization_id))
    };
    let group = match (conn, lock) {
        (DbConnection::Pg(c), RowLock::Exclusive) => query()
            .select(Group::as_select())
            .for_update()
            .first(c)
            .optional()?,
        (DbConnection::Pg(c), RowLock::Shared) => query()
            .select(Group::as_select())
            .for_share()
            .first(c)
            .optional()?,
        (DbConnection::Sqlite(c), _) => query().select(Group::as_select()).first(c).optional()?,
    };
    Ok(group)
}

/// Serializes, per organization, the writes that could remove its last admin (a delete or a
/// demotion): each takes this lock before counting the admins that would remain.
pub fn organization(conn: &mut DbConnection, organization_id: &str) -> Result<(), ApiError> {
    if let DbConnection::Pg(c) = conn {
        organizations::table
            .find(organization_id)
            .select(organizations::id)
            .for_update()
            .first::<String>(c)
            .optional()?;
    }
    Ok(())
}

/// The organization's live user `id`, locked for update until the end of the transaction.
pub fn live_user(
    conn: &mut DbConnection,
    organization_id: &str,
    id: &str,
) -> Result<Option<User>, ApiError> {
    let query = || {
        users::table
            .filter(users::id.eq(id))
            .filter(user_visible_to(organization_id))
    };
    let user = match conn {
        DbConnection::Pg(c) => query()
            .select(User::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConnection::Sqlite(c) => query().select(User::as_select()).first(c).optional()?,
    };
    Ok(user)
}
