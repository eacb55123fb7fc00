//! Users and their membership: a user belongs to at most one group through `user_group_id`.
//! Users are soft-deleted like groups, and the organization always keeps one live admin.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::dsl::sql;
use diesel::sql_types::{Bool, Text, Timestamp};

use super::{
    contains_pattern, counts, fold_case, group, paged, search_uses_index, trigram_phrase,
    AdminChange, DomainError, GroupId, InvalidField, ListPage, OrganizationId, PageRequest,
    Position, Resource, Role, RowLock, Start, UserId, Window,
};
use crate::db::schema::{organizations, users};
use crate::db::{self, DbConnection};

/// A user row, as the API shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// UUID v7.
    pub id: UserId,
    /// The owning organization.
    pub organization_id: OrganizationId,
    /// Trimmed, 1 to 100 characters.
    pub first_name: String,
    /// Trimmed, 1 to 100 characters.
    pub last_name: String,
    /// As given; unique among the organization's live users, compared case-insensitively.
    pub email: String,
    /// `creator`, `editor` or `admin`.
    pub role: Role,
    /// An https URL.
    pub avatar: Option<String>,
    /// The group the user belongs to, if any.
    pub user_group_id: Option<GroupId>,
    /// Creation time (UTC, whole seconds).
    pub created_at: NaiveDateTime,
    /// Time of the last change.
    pub updated_at: NaiveDateTime,
    /// Set once, by the soft delete.
    pub deleted_at: Option<NaiveDateTime>,
}

impl User {
    /// `firstName lastName`, as the API shows it.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The fields a client sets when creating a user, already validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Trimmed first name.
    pub first_name: String,
    /// Trimmed last name.
    pub last_name: String,
    /// Validated address.
    pub email: String,
    /// The role (default creator).
    pub role: Role,
    /// Optional https URL.
    pub avatar: Option<String>,
    /// Optional group to join.
    pub user_group_id: Option<GroupId>,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New avatar, or `Some(None)` to remove it.
    pub avatar: Option<Option<String>>,
    /// New group, or `Some(None)` to leave the current one.
    pub user_group_id: Option<Option<GroupId>>,
}

/// The row as written: the user plus the case-folded copies search and uniqueness use.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true, treat_none_as_default_value = false)]
struct UserRow<'a> {
    id: &'a UserId,
    organization_id: &'a OrganizationId,
    first_name: &'a str,
    last_name: &'a str,
    full_name_folded: String,
    email: &'a str,
    email_folded: String,
    role: Role,
    avatar: Option<&'a str>,
    user_group_id: Option<&'a GroupId>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

impl<'a> From<&'a User> for UserRow<'a> {
    fn from(user: &'a User) -> Self {
        UserRow {
            id: &user.id,
            organization_id: &user.organization_id,
            first_name: &user.first_name,
            last_name: &user.last_name,
            full_name_folded: fold_case(&user.full_name()),
            email: &user.email,
            email_folded: fold_case(&user.email),
            role: user.role,
            avatar: user.avatar.as_deref(),
            user_group_id: user.user_group_id.as_ref(),
            created_at: user.created_at,
            updated_at: user.updated_at,
            deleted_at: user.deleted_at,
        }
    }
}

pub use super::live::users::{not_deleted, visible_to};

/// Takes the shared lock on the group a user is joining, so a concurrent delete of that group
/// either sees this member or happens before and makes this write fail.
fn lock_group_to_join(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    group_id: &GroupId,
) -> Result<(), DomainError> {
    group::lock_live(conn, organization_id, group_id, RowLock::Shared)?
        .map(|_| ())
        .ok_or(DomainError::InvalidInput(vec![InvalidField::GroupToJoin]))
}

/// Refuses a change that would leave the organization without a live admin: `user` is an admin
/// about to be deleted or demoted.
fn ensure_another_admin(
    conn: &mut DbConnection,
    user: &User,
    change: AdminChange,
) -> Result<(), DomainError> {
    lock_organization(conn, &user.organization_id)?;
    let other_admins: i64 = users::table
        .filter(visible_to(&user.organization_id))
        .filter(users::role.eq(Role::Admin))
        .filter(users::id.ne(&user.id))
        .count()
        .get_result(conn)?;
    if other_admins == 0 {
        return Err(DomainError::LastAdmin(change));
    }
    Ok(())
}

impl NewUser {
    /// Inserts the user for `organization_id`, joining its group under the group's shared lock.
    pub fn insert(
        &self,
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
    ) -> Result<User, DomainError> {
        db::write_transaction(conn, |conn| {
            if let Some(group_id) = &self.user_group_id {
                lock_group_to_join(conn, organization_id, group_id)?;
            }
            let now = db::now();
            let user = User {
                id: UserId::new(),
                organization_id: organization_id.clone(),
                first_name: self.first_name.clone(),
                last_name: self.last_name.clone(),
                email: self.email.clone(),
                role: self.role,
                avatar: self.avatar.clone(),
                user_group_id: self.user_group_id.clone(),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            diesel::insert_into(users::table)
                .values(UserRow::from(&user))
                .execute(conn)?;
            counts::adjust(conn, organization_id, Resource::User, 1)?;
            Ok(user)
        })
    }
}

impl NewUser {
    /// Inserts `users` for `organization_id` and counts them, as plain statements on `conn`, for
    /// a caller that holds the transaction (the bulk import). Each group joined is checked and
    /// share-locked once, as [`NewUser::insert`] does for one user; rows go in multi-row
    /// statements of [`super::INSERT_CHUNK`]. A taken email or a group that is not live fails
    /// the call.
    pub fn insert_all(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        users: &[NewUser],
    ) -> Result<(), DomainError> {
        let mut joined = std::collections::HashSet::new();
        for group_id in users.iter().filter_map(|u| u.user_group_id.as_ref()) {
            if joined.insert(group_id) {
                lock_group_to_join(conn, organization_id, group_id)?;
            }
        }
        let now = db::now();
        let rows: Vec<User> = users
            .iter()
            .map(|new| User {
                id: UserId::new(),
                organization_id: organization_id.clone(),
                first_name: new.first_name.clone(),
                last_name: new.last_name.clone(),
                email: new.email.clone(),
                role: new.role,
                avatar: new.avatar.clone(),
                user_group_id: new.user_group_id.clone(),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            })
            .collect();
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            // Multi-row inserts are backend-specific in diesel (SQLite's has no DEFAULT), so
            // the statement is run on each backend's own connection.
            let insert = || {
                diesel::insert_into(users::table)
                    .values(chunk.iter().map(UserRow::from).collect::<Vec<_>>())
            };
            match conn {
                DbConnection::Pg(c) => insert().execute(c)?,
                DbConnection::Sqlite(c) => insert().execute(c)?,
            };
        }
        let added = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        counts::adjust(conn, organization_id, Resource::User, added)
    }
}

impl User {
    /// The organization's live user `id`, if any.
    pub fn find(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &UserId,
    ) -> Result<Option<User>, DomainError> {
        Ok(users::table
            .filter(users::id.eq(id))
            .filter(visible_to(organization_id))
            .select(User::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// One page of the organization's live users, newest first, with the total count and where
    /// the next page starts. `search` matches a case-insensitive substring of the full name or
    /// the email; `group_id` keeps only the group's active members.
    ///
    /// The costs are those of [`super::Group::list`]; with `group_id`, `total` counts the group's
    /// live members through their index (time linear in the group's size, not the
    /// organization's).
    pub fn list(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        search: Option<&str>,
        group_id: Option<&GroupId>,
        page: PageRequest,
        start: &Start,
    ) -> Result<ListPage<User>, DomainError> {
        let search = search.filter(|s| !s.is_empty());
        let phrase = search
            .filter(|s| matches!(conn, DbConnection::Sqlite(_)) && search_uses_index(s))
            .map(trigram_phrase);
        let filtered = || {
            let mut query = match &phrase {
                // The same rows as `visible_to`, but with `+` the organization's creation index
                // is off limits: otherwise SQLite (without statistics) may walk every live row
                // of the organization newest first and probe the trigram matches for each, when
                // a selective search has only a few matches to fetch by rowid and sort.
                Some(_) => users::table
                    .filter(
                        sql::<Bool>("+users.organization_id = ")
                            .bind::<Text, _>(organization_id)
                            .and(not_deleted()),
                    )
                    .into_boxed(),
                None => users::table
                    .filter(visible_to(organization_id))
                    .into_boxed(),
            };
            if let Some(search) = search {
                let pattern = contains_pattern(search);
                query = query.filter(
                    users::full_name_folded
                        .like(pattern.clone())
                        .escape('\\')
                        .or(users::email_folded.like(pattern).escape('\\')),
                );
            }
            if let Some(phrase) = &phrase {
                query = query.filter(
                    sql::<Bool>(
                        "users.rowid IN (SELECT rowid FROM users_search \
                         WHERE users_search MATCH ",
                    )
                    .bind::<Text, _>(phrase.clone())
                    .sql(")"),
                );
            }
            if let Some(group_id) = group_id {
                query = query.filter(users::user_group_id.eq(group_id.clone()));
            }
            query
        };
        // Unfiltered, the total is the organization's live count, one row; filtered, the exact
        // count costs a second indexed query, made only when the page does not show the total.
        let known_total = match (search, group_id) {
            (None, None) => Some(counts::live(conn, organization_id, Resource::User)?),
            _ => None,
        };
        let count = |conn: &mut DbConnection| Ok(filtered().count().get_result(conn)?);
        let load = |conn: &mut DbConnection, window: Window<'_>| {
            let newest_first = filtered().limit(page.limit + 1);
            let mut query = if search.is_some() && matches!(conn, DbConnection::Pg(_)) {
                // The same order, in words the creation index cannot serve: a prepared
                // search's generic plan cannot tell a selective pattern from a common one, and
                // would walk the organization's rows newest first, filtering each, rather than
                // collect the trigram index's matches and sort them.
                newest_first.order((
                    sql::<Timestamp>("users.created_at + interval '0 second'").desc(),
                    users::id.desc(),
                ))
            } else {
                newest_first.order((users::created_at.desc(), users::id.desc()))
            }
            .select(User::as_select());
            query = match window {
                Window::Offset(offset) => query.offset(offset),
                Window::After(after) => query.filter(
                    sql::<Bool>("(users.created_at, users.id) < (")
                        .bind::<Timestamp, _>(after.sort_time)
                        .sql(", ")
                        .bind::<Text, _>(after.id.clone())
                        .sql(")"),
                ),
            };
            Ok(query.load(conn)?)
        };
        paged(conn, page, start, known_total, count, load, |u: &User| {
            Position {
                sort_time: u.created_at,
                id: u.id.as_str().to_owned(),
            }
        })
    }

    /// Applies a partial update to the organization's live user `id` in one transaction: joining
    /// a group takes that group's shared lock; demoting the last live admin is refused.
    pub fn update(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &UserId,
        changes: &UserChanges,
    ) -> Result<User, DomainError> {
        db::write_transaction(conn, |conn| {
            let mut user = lock_live(conn, organization_id, id)?
                .ok_or(DomainError::NotFound(Resource::User))?;
            let changes = changes.clone();
            if let Some(Some(group_id)) = &changes.user_group_id {
                lock_group_to_join(conn, organization_id, group_id)?;
            }
            if let Some(role) = changes.role {
                if user.is_admin() && role != Role::Admin {
                    ensure_another_admin(conn, &user, AdminChange::Demote)?;
                }
                user.role = role;
            }
            if let Some(first_name) = changes.first_name {
                user.first_name = first_name;
            }
            if let Some(last_name) = changes.last_name {
                user.last_name = last_name;
            }
            if let Some(avatar) = changes.avatar {
                user.avatar = avatar;
            }
            if let Some(group_id) = changes.user_group_id {
                user.user_group_id = group_id;
            }
            user.updated_at = db::now();
            diesel::update(users::table.find(id))
                .set(UserRow::from(&user))
                .execute(conn)?;
            Ok(user)
        })
    }

    /// Soft-deletes the organization's live user `id`; the last live admin cannot be deleted.
    pub fn soft_delete(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &UserId,
    ) -> Result<User, DomainError> {
        db::write_transaction(conn, |conn| {
            let mut user = lock_live(conn, organization_id, id)?
                .ok_or(DomainError::NotFound(Resource::User))?;
            if user.is_admin() {
                ensure_another_admin(conn, &user, AdminChange::Delete)?;
            }
            let now = db::now();
            diesel::update(users::table.find(id))
                .set((users::updated_at.eq(now), users::deleted_at.eq(now)))
                .execute(conn)?;
            counts::adjust(conn, organization_id, Resource::User, -1)?;
            user.updated_at = now;
            user.deleted_at = Some(now);
            Ok(user)
        })
    }
}

/// Serializes, per organization, the writes that could remove its last admin (a delete or a
/// demotion): each takes this lock before counting the admins that would remain.
///
/// `FOR NO KEY UPDATE`, not `FOR UPDATE`: every insert of a row that references the
/// organization (an event, a user, a group) has its foreign key checked with `FOR KEY SHARE` on
/// this row, which `FOR UPDATE` blocks and `FOR NO KEY UPDATE` does not. With `FOR UPDATE`, an
/// admin's delete holding this row and waiting for the organization's count row, and a delete
/// holding that count row and checking its event's foreign key here, deadlocked (a third of 47
/// concurrent deletes with admins among them answered 503). Two admin removals still exclude
/// each other, which is all the last-admin rule needs.
fn lock_organization(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
) -> Result<(), DomainError> {
    if let DbConnection::Pg(c) = conn {
        organizations::table
            .find(organization_id)
            .select(organizations::id)
            .for_no_key_update()
            .first::<OrganizationId>(c)
            .optional()?;
    }
    Ok(())
}

/// The organization's live user `id`, locked for update until the end of the transaction.
fn lock_live(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &UserId,
) -> Result<Option<User>, DomainError> {
    let query = || {
        users::table
            .filter(users::id.eq(id))
            .filter(visible_to(organization_id))
    };
    let user = match conn {
        DbConnection::Pg(c) => query()
            .select(User::as_select())
            .for_update()
            .get_result(c)
            .optional()?,
        DbConnection::Sqlite(c) => query().select(User::as_select()).get_result(c).optional()?,
    };
    Ok(user)
}
