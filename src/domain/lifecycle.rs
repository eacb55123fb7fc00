//! The writes of groups and users as every dialect makes them: the core operation of
//! [`super::group`] or [`super::user`] (which keeps the rules), and around it, in the same
//! transaction, what the lifecycle adds:
//!
//! - the record's `version`, which every write increments (a strong ETag; `updatedAt` has whole
//!   seconds and cannot tell two writes in one second apart);
//! - a write's condition on that version ([`IfMatch`]), checked under the record's row lock (the
//!   core operation then takes the same lock again, which its own transaction already holds), so
//!   a conditional write and any other write cannot interleave between the check and the change;
//! - `deleted_by`, the actor of a soft delete;
//! - the change feed's event ([`super::events`]), appended last.
//!
//! Locks, on PostgreSQL, are taken in one order by every write, so two writes of one
//! organization wait for each other at most, and never each for the other:
//!
//! 1. groups: the group written (`FOR UPDATE`), then the group a user joins (`FOR SHARE`);
//! 2. users: the user written, or the users a membership moves;
//! 3. the organization's row (`FOR NO KEY UPDATE`), by a write that could remove the last admin
//!    (see `user::lock_organization`, and why it must not be `FOR UPDATE`);
//! 4. the organization's live count row ([`super::counts`]);
//! 5. the organization's event sequence row ([`super::events`]), last, just before the commit.
//!
//! A deadlock or serialization failure that still happens (another process on the database, a
//! purge) is retried by [`crate::db::write_transaction`] and never reaches the client.
//!
//! A dialect calls these rather than the core operations, so that no write of any dialect can
//! skip the version, the actor or the event. Each opens a transaction, or, inside the caller's
//! (a request's write, with its replay guard), runs as part of it without a savepoint of its
//! own: every refusal it can end in comes either before it writes anything (a missing record, a
//! failed condition) or from the core operation, which rolls its own savepoint back. A savepoint
//! here would cost two more round trips, one of them while the organization's event sequence is
//! locked (see [`super::events`]).

use diesel::prelude::*;

use super::events::{self, Actor, Change};
use super::{
    group, user, view, DomainError, Group, GroupChanges, GroupId, NewGroup, NewUser,
    OrganizationId, Resource, RowLock, User, UserChanges, UserId,
};
use crate::db::schema::{user_groups, users};
use crate::db::{self, DbConnection};

/// Runs `work` in the transaction open on `conn`, or in a new write transaction if none is.
fn in_write<T>(
    conn: &mut DbConnection,
    mut work: impl FnMut(&mut DbConnection) -> Result<T, DomainError>,
) -> Result<T, DomainError> {
    if db::in_transaction(conn) {
        work(conn)
    } else {
        db::write_transaction(conn, work)
    }
}

/// A record with the version its last write left.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    /// The record.
    pub value: T,
    /// Starts at 1; every write adds 1.
    pub version: i64,
}

/// What a write requires of the record's current version (HTTP's `If-Match`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IfMatch {
    /// Any live record (no condition, or `*`).
    #[default]
    Any,
    /// One of these versions; an empty list matches nothing.
    OneOf(Vec<i64>),
}

impl IfMatch {
    /// `Ok` when `version` satisfies the condition, else [`DomainError::PreconditionFailed`].
    pub fn check(&self, version: i64) -> Result<(), DomainError> {
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::OneOf(versions) if versions.contains(&version) => Ok(()),
            IfMatch::OneOf(_) => Err(DomainError::PreconditionFailed),
        }
    }
}

/// The live group's version, locked for update until the end of the transaction.
fn lock_group_version(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &GroupId,
) -> Result<i64, DomainError> {
    let query = || {
        user_groups::table
            .filter(user_groups::id.eq(id))
            .filter(group::visible_to(organization_id))
            .select(user_groups::version)
    };
    let version = match conn {
        DbConnection::Pg(c) => query().for_update().get_result(c).optional()?,
        // The write transaction already holds SQLite's single write lock.
        DbConnection::Sqlite(c) => query().get_result(c).optional()?,
    };
    version.ok_or(DomainError::NotFound(Resource::Group))
}

/// The live user's version, locked for update until the end of the transaction.
fn lock_user_version(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &UserId,
) -> Result<i64, DomainError> {
    let query = || {
        users::table
            .filter(users::id.eq(id))
            .filter(user::visible_to(organization_id))
            .select(users::version)
    };
    let version = match conn {
        DbConnection::Pg(c) => query().for_update().get_result(c).optional()?,
        DbConnection::Sqlite(c) => query().get_result(c).optional()?,
    };
    version.ok_or(DomainError::NotFound(Resource::User))
}

/// Adds 1 to the group's version and, for a soft delete, records who deleted it.
fn bump_group(
    conn: &mut DbConnection,
    id: &GroupId,
    deleted_by: Option<&Actor>,
) -> Result<(), DomainError> {
    let target = user_groups::table.find(id);
    match deleted_by {
        None => diesel::update(target)
            .set(user_groups::version.eq(user_groups::version + 1))
            .execute(conn)?,
        Some(actor) => diesel::update(target)
            .set((
                user_groups::version.eq(user_groups::version + 1),
                user_groups::deleted_by.eq(actor.as_str()),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Adds 1 to the user's version and, for a soft delete, records who deleted it.
fn bump_user(
    conn: &mut DbConnection,
    id: &UserId,
    deleted_by: Option<&Actor>,
) -> Result<(), DomainError> {
    let target = users::table.find(id);
    match deleted_by {
        None => diesel::update(target)
            .set(users::version.eq(users::version + 1))
            .execute(conn)?,
        Some(actor) => diesel::update(target)
            .set((
                users::version.eq(users::version + 1),
                users::deleted_by.eq(actor.as_str()),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Appends the event of `change` to `group`.
pub(super) fn group_event(
    conn: &mut DbConnection,
    actor: &Actor,
    change: Change,
    group: &Group,
) -> Result<(), DomainError> {
    events::append(
        conn,
        &group.organization_id,
        actor,
        (Resource::Group, change),
        group.id.as_str(),
        &view::group(group)?,
    )
    .map(|_| ())
}

/// Appends the event of `change` to `user`.
pub(super) fn user_event(
    conn: &mut DbConnection,
    actor: &Actor,
    change: Change,
    user: &User,
) -> Result<(), DomainError> {
    events::append(
        conn,
        &user.organization_id,
        actor,
        (Resource::User, change),
        user.id.as_str(),
        &view::user(user),
    )
    .map(|_| ())
}

/// The organization's live group `id` with its version.
pub fn get_group(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &GroupId,
) -> Result<Versioned<Group>, DomainError> {
    let found = user_groups::table
        .filter(user_groups::id.eq(id))
        .filter(group::visible_to(organization_id))
        .select((Group::as_select(), user_groups::version))
        .get_result::<(Group, i64)>(conn)
        .optional()?;
    let (value, version) = found.ok_or(DomainError::NotFound(Resource::Group))?;
    Ok(Versioned { value, version })
}

/// The organization's live user `id` with its version.
pub fn get_user(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &UserId,
) -> Result<Versioned<User>, DomainError> {
    let found = users::table
        .filter(users::id.eq(id))
        .filter(user::visible_to(organization_id))
        .select((User::as_select(), users::version))
        .get_result::<(User, i64)>(conn)
        .optional()?;
    let (value, version) = found.ok_or(DomainError::NotFound(Resource::User))?;
    Ok(Versioned { value, version })
}

/// Creates the group ([`NewGroup::insert`]) and its event.
pub fn create_group(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    new: &NewGroup,
) -> Result<Versioned<Group>, DomainError> {
    in_write(conn, |conn| {
        let value = new.insert(conn, organization_id)?;
        group_event(conn, actor, Change::Created, &value)?;
        Ok(Versioned { value, version: 1 })
    })
}

/// Creates the group with its members ([`NewGroup::insert_with_members`]), and the events of
/// the group and of each user who joined it. Returns the group and its members, sorted by id.
pub fn create_group_with_members(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    new: &NewGroup,
    members: Option<&[UserId]>,
) -> Result<(Versioned<Group>, Vec<UserId>), DomainError> {
    in_write(conn, |conn| {
        let (value, joined) = new.insert_with_members(conn, organization_id, members)?;
        group_event(conn, actor, Change::Created, &value)?;
        membership_changed(conn, actor, organization_id, &joined)?;
        Ok((Versioned { value, version: 1 }, joined))
    })
}

/// The users whose membership of a group changes from `before` to `after` (both sorted): those
/// in one list and not the other.
fn moved(before: &[UserId], after: &[UserId]) -> Vec<UserId> {
    let mut moved: Vec<UserId> = before
        .iter()
        .filter(|id| after.binary_search(id).is_err())
        .chain(after.iter().filter(|id| before.binary_search(id).is_err()))
        .cloned()
        .collect();
    moved.sort_unstable();
    moved
}

/// A membership set through a group (the nscale dialect's `spec.userIDs`) changes the users who
/// joined or left it: each gets its version step and its `user.updated` event, as if it had been
/// moved through its own route.
fn membership_changed(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    users_moved: &[UserId],
) -> Result<(), DomainError> {
    // A group's members may be many (a PUT of `userIDs: []` empties it, up to
    // `limits::GROUP_MEMBERS_REMOVED_MAX`): their versions step, they are read back and their
    // events are written a chunk at a time.
    let mut pending = Vec::with_capacity(users_moved.len());
    for chunk in users_moved.chunks(super::INSERT_CHUNK) {
        // A write its request has stopped waiting for goes no further: it rolls back now
        // rather than hold the writer to its end.
        db::within_request_deadline()?;
        diesel::update(users::table.filter(users::id.eq_any(chunk)))
            .set(users::version.eq(users::version + 1))
            .execute(conn)?;
        let moved: Vec<User> = users::table
            .filter(users::id.eq_any(chunk))
            .filter(user::visible_to(organization_id))
            .order(users::id.asc())
            .select(User::as_select())
            .load(conn)?;
        pending.extend(
            moved
                .iter()
                .map(|user| {
                    Ok::<_, DomainError>(events::PendingEvent {
                        change: (Resource::User, Change::Updated),
                        resource_id: user.id.as_str().to_owned(),
                        json: events::event_json(&view::user(user))?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    // The events last, together: the organization's sequence is locked from the first of
    // them to the commit.
    events::append_all(conn, organization_id, actor, &pending)
}

/// Updates the group ([`Group::update`]) if its version satisfies `if_match`.
pub fn update_group(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    id: &GroupId,
    changes: &GroupChanges,
    if_match: &IfMatch,
) -> Result<Versioned<Group>, DomainError> {
    in_write(conn, |conn| {
        let version = lock_group_version(conn, organization_id, id)?;
        if_match.check(version)?;
        let (value, membership) =
            Group::update(conn, organization_id, id, changes, actor.changed_by()?)?;
        bump_group(conn, id, None)?;
        group_event(conn, actor, Change::Updated, &value)?;
        if let Some(membership) = membership {
            membership_changed(
                conn,
                actor,
                organization_id,
                &moved(&membership.before, &membership.after),
            )?;
        }
        Ok(Versioned {
            value,
            version: version + 1,
        })
    })
}

/// Soft-deletes the group ([`Group::soft_delete`]) if its version satisfies `if_match`,
/// recording `actor` as `deleted_by`.
pub fn delete_group(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    id: &GroupId,
    if_match: &IfMatch,
) -> Result<Versioned<Group>, DomainError> {
    in_write(conn, |conn| {
        let version = lock_group_version(conn, organization_id, id)?;
        if_match.check(version)?;
        let value = Group::soft_delete(conn, organization_id, id, actor.changed_by()?)?;
        bump_group(conn, id, Some(actor))?;
        group_event(conn, actor, Change::Deleted, &value)?;
        Ok(Versioned {
            value,
            version: version + 1,
        })
    })
}

/// Creates the user ([`NewUser::insert`]) and its event.
pub fn create_user(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    new: &NewUser,
) -> Result<Versioned<User>, DomainError> {
    in_write(conn, |conn| {
        let value = new.insert(conn, organization_id)?;
        user_event(conn, actor, Change::Created, &value)?;
        Ok(Versioned { value, version: 1 })
    })
}

/// Updates the user ([`User::update`]) if its version satisfies `if_match`.
pub fn update_user(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    id: &UserId,
    changes: &UserChanges,
    if_match: &IfMatch,
) -> Result<Versioned<User>, DomainError> {
    in_write(conn, |conn| {
        // Groups before users (the order in the module docs): the group joined is share-locked
        // before the user's row, as a membership set through the group locks them. Whether it
        // may be joined is still decided, and refused, by `User::update`.
        if let Some(Some(group_id)) = &changes.user_group_id {
            group::lock_live(conn, organization_id, group_id, RowLock::Shared)?;
        }
        let version = lock_user_version(conn, organization_id, id)?;
        if_match.check(version)?;
        let value = User::update(conn, organization_id, id, changes)?;
        bump_user(conn, id, None)?;
        user_event(conn, actor, Change::Updated, &value)?;
        Ok(Versioned {
            value,
            version: version + 1,
        })
    })
}

/// Soft-deletes the user ([`User::soft_delete`]) if its version satisfies `if_match`,
/// recording `actor` as `deleted_by`.
pub fn delete_user(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    id: &UserId,
    if_match: &IfMatch,
) -> Result<Versioned<User>, DomainError> {
    in_write(conn, |conn| {
        let version = lock_user_version(conn, organization_id, id)?;
        if_match.check(version)?;
        let value = User::soft_delete(conn, organization_id, id)?;
        bump_user(conn, id, Some(actor))?;
        user_event(conn, actor, Change::Deleted, &value)?;
        Ok(Versioned {
            value,
            version: version + 1,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_matches_any_version_it_lists_and_no_other() {
        assert_eq!(IfMatch::Any.check(7), Ok(()));
        assert_eq!(IfMatch::OneOf(vec![3, 7]).check(7), Ok(()));
        assert_eq!(
            IfMatch::OneOf(vec![3]).check(7),
            Err(DomainError::PreconditionFailed)
        );
        assert_eq!(
            IfMatch::OneOf(Vec::new()).check(1),
            Err(DomainError::PreconditionFailed)
        );
    }

    #[test]
    fn the_users_moved_by_a_new_membership_are_those_who_joined_and_those_who_left() {
        let ids: Vec<UserId> = (1..=4)
            .map(|n| UserId::from(format!("u{n}").as_str()))
            .collect();
        let before = vec![ids[0].clone(), ids[1].clone(), ids[2].clone()];
        let after = vec![ids[1].clone(), ids[3].clone()];

        assert_eq!(
            moved(&before, &after),
            vec![ids[0].clone(), ids[2].clone(), ids[3].clone()]
        );
        assert!(moved(&after, &after).is_empty());
    }
}
