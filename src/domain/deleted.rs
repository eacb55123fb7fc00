//! Soft-deleted groups and users: the listings of the rows still within the retention (newest
//! deletion first) and their restore. Dialect-neutral, like the rest of the domain: the Onlive
//! routes map these to `/api/v1/deleted-…`, and another dialect may map them to its own paths.
//!
//! The listings page exactly as the live lists do ([`super::PageRequest`], [`super::Start`],
//! the keyset [`super::Position`], whose time is here the deletion's), with the order
//! `deleted_at` descending, then `id` descending, served by the partial indexes over deleted
//! rows. A search reads the organization's deleted rows (the trigram indexes cover live rows
//! only); the retention bounds how many there are.
//!
//! A restore takes the same locks as the other writes: the deleted row's exclusive lock (so a
//! restore and the purge of the same row, or two restores, cannot both succeed), and for a user
//! whose group is live the group's shared lock (as a user joining it does), so a restore into a
//! group racing that group's delete never leaves the deleted group with an active member. A user
//! whose group is deleted or purged is restored without a group.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamp};

use super::events::{Actor, Change};
use super::lifecycle::{group_event, user_event, Versioned};
use super::{
    contains_pattern, counts, group, paged, DomainError, Group, GroupId, ListPage, OrganizationId,
    PageRequest, Position, Resource, RowLock, Start, User, UserId, Window,
};
use crate::db::schema::{user_groups, users};
use crate::db::{self, DbConnection};

/// A soft-deleted record, with who deleted it.
#[derive(Debug, Clone)]
pub struct Deleted<T> {
    /// The record as it was deleted (`deleted_at` set).
    pub value: T,
    /// The actor of the soft delete (an access key id); `None` for a row deleted before this
    /// was recorded.
    pub deleted_by: Option<String>,
}

impl<T> Deleted<T> {
    fn new((value, deleted_by): (T, Option<String>)) -> Self {
        Deleted { value, deleted_by }
    }
}

/// The keyset position of a deleted row: its deletion time, then its id.
pub fn deletion_position(deleted_at: Option<NaiveDateTime>, id: &str) -> Position {
    Position {
        sort_time: deleted_at.unwrap_or_default(),
        id: id.to_owned(),
    }
}

/// One page of the organization's deleted groups, newest deletion first. `search` matches a
/// case-insensitive substring of the name or the description, as in [`Group::list`].
pub fn list_groups(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    search: Option<&str>,
    page: PageRequest,
    start: &Start,
) -> Result<ListPage<Deleted<Group>>, DomainError> {
    let search = search.filter(|s| !s.is_empty());
    let filtered = || {
        let mut query = user_groups::table
            .filter(user_groups::organization_id.eq(organization_id))
            .filter(user_groups::deleted_at.is_not_null())
            .into_boxed();
        if let Some(search) = search {
            let pattern = contains_pattern(search);
            query = query.filter(
                user_groups::name_folded
                    .like(pattern.clone())
                    .escape('\\')
                    .or(user_groups::description_folded.like(pattern).escape('\\')),
            );
        }
        query
    };
    let count = |conn: &mut DbConnection| Ok(filtered().count().get_result(conn)?);
    let load = |conn: &mut DbConnection, window: Window<'_>| {
        let mut query = filtered()
            .limit(page.limit + 1)
            .order((user_groups::deleted_at.desc(), user_groups::id.desc()))
            .select((Group::as_select(), user_groups::deleted_by));
        query = match window {
            Window::Offset(offset) => query.offset(offset),
            Window::After(after) => query.filter(
                sql::<Bool>("(user_groups.deleted_at, user_groups.id) < (")
                    .bind::<Timestamp, _>(after.sort_time)
                    .sql(", ")
                    .bind::<Text, _>(after.id.clone())
                    .sql(")"),
            ),
        };
        Ok(query
            .load::<(Group, Option<String>)>(conn)?
            .into_iter()
            .map(Deleted::new)
            .collect())
    };
    paged(
        conn,
        page,
        start,
        None,
        count,
        load,
        |g: &Deleted<Group>| deletion_position(g.value.deleted_at, g.value.id.as_str()),
    )
}

/// A group of an unpaged listing that may show deleted groups: live, or soft-deleted and not
/// yet purged (with who deleted it).
#[derive(Debug, Clone)]
pub enum Listed<T> {
    /// A live record.
    Live(T),
    /// A soft-deleted record the purge has not removed yet.
    Deleted(Deleted<T>),
}

impl<T> Listed<T> {
    /// The record, live or deleted.
    pub fn value(&self) -> &T {
        match self {
            Listed::Live(value) => value,
            Listed::Deleted(deleted) => &deleted.value,
        }
    }
}

/// Every group of the organization, live and soft-deleted (the rows the purge has not removed
/// yet, as [`list_groups`] shows them, so every group listed can be restored), unpaged, sorted
/// as [`Group::list_all`] sorts: by the name's bytes, then the id.
///
/// Each kind is bounded on its own by `max`: more than `max` live groups is
/// [`DomainError::TooManyToList`] (as the live list alone), more than `max` deleted ones
/// [`DomainError::TooManyDeletedToList`]; each is found by reading at most `max + 1` rows. So
/// an answer holds at most `2 * max` groups, and whether the live part fits never depends on
/// how many were deleted.
pub fn list_all_groups(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    max: usize,
) -> Result<Vec<Listed<Group>>, DomainError> {
    let live = Group::list_all(conn, organization_id, max)?;
    let bound = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
    let deleted: Vec<(Group, Option<String>)> = user_groups::table
        .filter(user_groups::organization_id.eq(organization_id))
        .filter(user_groups::deleted_at.is_not_null())
        .select((Group::as_select(), user_groups::deleted_by))
        .limit(bound)
        .load(conn)?;
    if deleted.len() > max {
        return Err(DomainError::TooManyDeletedToList { max });
    }
    let mut listed: Vec<Listed<Group>> = live
        .into_iter()
        .map(Listed::Live)
        .chain(
            deleted
                .into_iter()
                .map(|d| Listed::Deleted(Deleted::new(d))),
        )
        .collect();
    // In Rust, not the database, for the reason [`Group::list_all`] gives (collations).
    listed.sort_unstable_by(|a, b| {
        let (a, b) = (a.value(), b.value());
        (a.name.as_bytes(), a.id.as_str()).cmp(&(b.name.as_bytes(), b.id.as_str()))
    });
    Ok(listed)
}

/// One page of the organization's deleted users, newest deletion first. `search` matches a
/// case-insensitive substring of the full name or the email, as in [`User::list`].
pub fn list_users(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    search: Option<&str>,
    page: PageRequest,
    start: &Start,
) -> Result<ListPage<Deleted<User>>, DomainError> {
    let search = search.filter(|s| !s.is_empty());
    let filtered = || {
        let mut query = users::table
            .filter(users::organization_id.eq(organization_id))
            .filter(users::deleted_at.is_not_null())
            .into_boxed();
        if let Some(search) = search {
            let pattern = contains_pattern(search);
            query = query.filter(
                users::full_name_folded
                    .like(pattern.clone())
                    .escape('\\')
                    .or(users::email_folded.like(pattern).escape('\\')),
            );
        }
        query
    };
    let count = |conn: &mut DbConnection| Ok(filtered().count().get_result(conn)?);
    let load = |conn: &mut DbConnection, window: Window<'_>| {
        let mut query = filtered()
            .limit(page.limit + 1)
            .order((users::deleted_at.desc(), users::id.desc()))
            .select((User::as_select(), users::deleted_by));
        query = match window {
            Window::Offset(offset) => query.offset(offset),
            Window::After(after) => query.filter(
                sql::<Bool>("(users.deleted_at, users.id) < (")
                    .bind::<Timestamp, _>(after.sort_time)
                    .sql(", ")
                    .bind::<Text, _>(after.id.clone())
                    .sql(")"),
            ),
        };
        Ok(query
            .load::<(User, Option<String>)>(conn)?
            .into_iter()
            .map(Deleted::new)
            .collect())
    };
    paged(conn, page, start, None, count, load, |u: &Deleted<User>| {
        deletion_position(u.value.deleted_at, u.value.id.as_str())
    })
}

/// The organization's deleted group `id` and its version, locked for update.
fn lock_deleted_group(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &GroupId,
) -> Result<(Group, i64), DomainError> {
    let query = || {
        user_groups::table
            .filter(user_groups::id.eq(id))
            .filter(user_groups::organization_id.eq(organization_id))
            .filter(user_groups::deleted_at.is_not_null())
    };
    // The selection's backend is fixed where each arm uses it.
    let found = match conn {
        DbConnection::Pg(c) => query()
            .select((Group::as_select(), user_groups::version))
            .for_update()
            .get_result(c)
            .optional()?,
        DbConnection::Sqlite(c) => query()
            .select((Group::as_select(), user_groups::version))
            .get_result(c)
            .optional()?,
    };
    found.ok_or(DomainError::NotFound(Resource::Group))
}

/// The organization's deleted user `id` and its version, locked for update.
fn lock_deleted_user(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &UserId,
) -> Result<(User, i64), DomainError> {
    let query = || {
        users::table
            .filter(users::id.eq(id))
            .filter(users::organization_id.eq(organization_id))
            .filter(users::deleted_at.is_not_null())
    };
    // The selection's backend is fixed where each arm uses it.
    let found = match conn {
        DbConnection::Pg(c) => query()
            .select((User::as_select(), users::version))
            .for_update()
            .get_result(c)
            .optional()?,
        DbConnection::Sqlite(c) => query()
            .select((User::as_select(), users::version))
            .get_result(c)
            .optional()?,
    };
    found.ok_or(DomainError::NotFound(Resource::User))
}

/// Brings the organization's deleted group `id` back, with its fields and `extraFields` as they
/// were. [`DomainError::NotFound`] when it is missing, live or purged;
/// [`DomainError::Taken`] when a live group now holds its name or external id (the partial
/// unique indexes refuse the row).
pub fn restore_group(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    id: &GroupId,
) -> Result<Versioned<Group>, DomainError> {
    db::write_transaction(conn, |conn| {
        let (mut group, version) = lock_deleted_group(conn, organization_id, id)?;
        let now = db::now();
        diesel::update(user_groups::table.find(id))
            .set((
                user_groups::deleted_at.eq(None::<NaiveDateTime>),
                user_groups::deleted_by.eq(None::<String>),
                user_groups::updated_at.eq(now),
                user_groups::version.eq(user_groups::version + 1),
            ))
            .execute(conn)?;
        counts::adjust(conn, organization_id, Resource::Group, 1)?;
        group.deleted_at = None;
        group.updated_at = now;
        group_event(conn, actor, Change::Restored, &group)?;
        Ok(Versioned {
            value: group,
            version: version + 1,
        })
    })
}

/// Brings the organization's deleted user `id` back. Its group is kept when that group is live
/// (taking the group's shared lock, as joining it does); a group deleted or purged meanwhile is
/// dropped (`user_group_id` becomes null), since a deleted group may have no active member.
/// [`DomainError::Taken`] when a live user now holds its email.
pub fn restore_user(
    conn: &mut DbConnection,
    actor: &Actor,
    organization_id: &OrganizationId,
    id: &UserId,
) -> Result<Versioned<User>, DomainError> {
    db::write_transaction(conn, |conn| {
        let (mut user, version) = lock_deleted_user(conn, organization_id, id)?;
        if let Some(group_id) = user.user_group_id.clone() {
            let live = group::lock_live(conn, organization_id, &group_id, RowLock::Shared)?;
            if live.is_none() {
                user.user_group_id = None;
            }
        }
        let now = db::now();
        diesel::update(users::table.find(id))
            .set((
                users::deleted_at.eq(None::<NaiveDateTime>),
                users::deleted_by.eq(None::<String>),
                users::updated_at.eq(now),
                users::user_group_id.eq(user.user_group_id.clone()),
                users::version.eq(users::version + 1),
            ))
            .execute(conn)?;
        counts::adjust(conn, organization_id, Resource::User, 1)?;
        user.deleted_at = None;
        user.updated_at = now;
        user_event(conn, actor, Change::Restored, &user)?;
        Ok(Versioned {
            value: user,
            version: version + 1,
        })
    })
}
