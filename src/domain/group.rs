//! User groups. A group is soft-deleted: `deleted_at` is set once, the row stays, and every
//! read filters it out through [`visible_to`]. A group with active members is not deleted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::dsl::sql;
use diesel::sql_types::{Bool, Text, Timestamp};

use std::collections::{HashMap, HashSet};

use super::{
    contains_pattern, counts, fold_case, paged, search_uses_index, trigram_phrase, DomainError,
    GroupId, InvalidField, ListPage, OrganizationId, PageRequest, Position, Resource, RowLock,
    Start, UserId, Window,
};
use crate::db::schema::{access_keys, user_groups, users};
use crate::db::{self, DbConnection};
use crate::group_roles;
use crate::ids::AccessKeyId;
use crate::limits;

/// A group row, as the API shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_groups)]
pub struct Group {
    /// UUID v7.
    pub id: GroupId,
    /// The owning organization.
    pub organization_id: OrganizationId,
    /// Trimmed, 1 to 255 characters, unique among the organization's live groups.
    pub name: String,
    /// Free text, up to 2,000 characters.
    pub description: Option<String>,
    /// The caller's own identifier, unique among the organization's live groups when set.
    pub external_id: Option<String>,
    /// A JSON object, stored as compact text exactly as the client wrote its values.
    pub extra_fields: String,
    /// Creation time (UTC, whole seconds).
    pub created_at: NaiveDateTime,
    /// Time of the last change; equals `deleted_at` on a deleted group.
    pub updated_at: NaiveDateTime,
    /// Set once, by the soft delete.
    pub deleted_at: Option<NaiveDateTime>,
    /// A JSON array of `{name, value}` objects (the nscale dialect's tags), as the dialect wrote
    /// it; `None` when unset.
    pub tags: Option<String>,
    /// A JSON array of built-in role ids ([`crate::group_roles`]); `[]` by default.
    pub role_ids: String,
    /// A JSON array of the organization's access key ids; `[]` by default.
    pub service_account_ids: String,
    /// The access key that created the group; `None` for a group made without one (before the
    /// column existed, or by the import).
    pub created_by: Option<String>,
    /// Time of the last change after creation (an update or the delete); `None` until then.
    pub modified_at: Option<NaiveDateTime>,
    /// The access key of that change.
    pub modified_by: Option<String>,
}

impl Group {
    /// `role_ids` as a list.
    pub fn role_id_list(&self) -> Result<Vec<String>, DomainError> {
        id_list(&self.role_ids, "role_ids", &self.id)
    }

    /// `service_account_ids` as a list.
    pub fn service_account_id_list(&self) -> Result<Vec<String>, DomainError> {
        id_list(&self.service_account_ids, "service_account_ids", &self.id)
    }
}

/// A stored JSON array of ids; a column that is not one is a bug, reported as internal.
fn id_list(text: &str, column: &str, id: &GroupId) -> Result<Vec<String>, DomainError> {
    serde_json::from_str(text)
        .map_err(|e| DomainError::Internal(format!("stored {column} of {id} is not a list: {e}")))
}

/// A list of ids as its stored JSON text.
fn id_text(ids: &[String]) -> String {
    // A list of strings always serializes; the fallback is never taken.
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// The fields a client sets when creating a group, already validated.
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    /// Trimmed name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Optional external id.
    pub external_id: Option<String>,
    /// Compact JSON object text.
    pub extra_fields: String,
    /// Optional tags, as the JSON text of the dialect that shows them.
    pub tags: Option<String>,
    /// Built-in role ids, checked by [`NewGroup::insert`] against [`crate::group_roles`].
    pub role_ids: Vec<String>,
    /// Access key ids, checked by [`NewGroup::insert`] against the organization's live keys.
    pub service_account_ids: Vec<String>,
    /// The access key creating the group, if any.
    pub created_by: Option<String>,
}

impl NewGroup {
    /// The row this creates, with a new id, at `now`.
    fn row(&self, organization_id: &OrganizationId, now: NaiveDateTime) -> Group {
        Group {
            id: GroupId::new(),
            organization_id: organization_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            external_id: self.external_id.clone(),
            extra_fields: self.extra_fields.clone(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            tags: self.tags.clone(),
            role_ids: id_text(&self.role_ids),
            service_account_ids: id_text(&self.service_account_ids),
            created_by: self.created_by.clone(),
            modified_at: None,
            modified_by: None,
        }
    }
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct GroupChanges {
    /// New name.
    pub name: Option<String>,
    /// New description, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// New external id, or `Some(None)` to clear it.
    pub external_id: Option<Option<String>>,
    /// Replacement `extraFields` (compact JSON object text).
    pub extra_fields: Option<String>,
    /// Replacement tags (JSON text), or `Some(None)` to clear them.
    pub tags: Option<Option<String>>,
    /// Replacement role ids, checked as on create.
    pub role_ids: Option<Vec<String>>,
    /// Replacement access key ids, checked as on create.
    pub service_account_ids: Option<Vec<String>>,
    /// The members the group is to have, exactly: see [`set_members`]. `None` leaves them.
    pub members: Option<Vec<UserId>>,
}

/// The row as written: the editable columns plus the case-folded copies search uses.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = user_groups, treat_none_as_null = true, treat_none_as_default_value = false)]
struct GroupRow<'a> {
    id: &'a GroupId,
    organization_id: &'a OrganizationId,
    name: &'a str,
    name_folded: String,
    description: Option<&'a str>,
    description_folded: Option<String>,
    external_id: Option<&'a str>,
    extra_fields: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
    tags: Option<&'a str>,
    role_ids: &'a str,
    service_account_ids: &'a str,
    created_by: Option<&'a str>,
    modified_at: Option<NaiveDateTime>,
    modified_by: Option<&'a str>,
}

impl<'a> From<&'a Group> for GroupRow<'a> {
    fn from(group: &'a Group) -> Self {
        GroupRow {
            id: &group.id,
            organization_id: &group.organization_id,
            name: &group.name,
            name_folded: fold_case(&group.name),
            description: group.description.as_deref(),
            description_folded: group.description.as_deref().map(fold_case),
            external_id: group.external_id.as_deref(),
            extra_fields: &group.extra_fields,
            created_at: group.created_at,
            updated_at: group.updated_at,
            deleted_at: group.deleted_at,
            tags: group.tags.as_deref(),
            role_ids: &group.role_ids,
            service_account_ids: &group.service_account_ids,
            created_by: group.created_by.as_deref(),
            modified_at: group.modified_at,
            modified_by: group.modified_by.as_deref(),
        }
    }
}

pub use super::live::groups::{not_deleted, visible_to};

impl NewGroup {
    /// Inserts the group for `organization_id`; a taken name or externalId is a 409, a role
    /// or access key id that is not there a [`DomainError::InvalidInput`] naming it.
    pub fn insert(
        &self,
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
    ) -> Result<Group, DomainError> {
        self.insert_with_members(conn, organization_id, None)
            .map(|(group, _)| group)
    }

    /// [`NewGroup::insert`], and then, when `members` is given, [`set_members`] on the new
    /// group: one transaction (a savepoint inside the caller's), so a refused member leaves no
    /// group behind. Returns the group and its members, sorted by id.
    pub fn insert_with_members(
        &self,
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        members: Option<&[UserId]>,
    ) -> Result<(Group, Vec<UserId>), DomainError> {
        db::write_transaction(conn, |conn| {
            check_role_ids(&self.role_ids)?;
            check_service_accounts(conn, organization_id, &self.service_account_ids)?;
            let group = self.row(organization_id, db::now());
            diesel::insert_into(user_groups::table)
                .values(GroupRow::from(&group))
                .execute(conn)?;
            counts::adjust(conn, organization_id, Resource::Group, 1)?;
            let members = match members {
                Some(members) => set_members(conn, organization_id, &group.id, members)?.after,
                None => Vec::new(),
            };
            Ok((group, members))
        })
    }
}

impl NewGroup {
    /// Inserts `groups` for `organization_id` and counts them, as plain statements on `conn`:
    /// for a caller that holds the transaction (the bulk import), so a batch commits or rolls
    /// back with everything else that caller writes. Rows go in multi-row statements of
    /// [`super::INSERT_CHUNK`]; a taken name or externalId fails the call (which row is for the
    /// caller to find, if it needs to).
    pub fn insert_all(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        groups: &[NewGroup],
    ) -> Result<(), DomainError> {
        let now = db::now();
        let rows: Vec<Group> = groups
            .iter()
            .map(|new| new.row(organization_id, now))
            .collect();
        for chunk in rows.chunks(super::INSERT_CHUNK) {
            // Multi-row inserts are backend-specific in diesel (SQLite's has no DEFAULT), so
            // the statement is run on each backend's own connection.
            let insert = || {
                diesel::insert_into(user_groups::table)
                    .values(chunk.iter().map(GroupRow::from).collect::<Vec<_>>())
            };
            match conn {
                DbConnection::Pg(c) => insert().execute(c)?,
                DbConnection::Sqlite(c) => insert().execute(c)?,
            };
        }
        let added = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        counts::adjust(conn, organization_id, Resource::Group, added)
    }
}

impl Group {
    /// The organization's live group `id`; [`DomainError::NotFound`] when there is none.
    pub fn get(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &GroupId,
    ) -> Result<Group, DomainError> {
        Group::find(conn, organization_id, id)?.ok_or(DomainError::NotFound(Resource::Group))
    }

    /// The organization's live group `id`, if any.
    pub fn find(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &GroupId,
    ) -> Result<Option<Group>, DomainError> {
        Ok(user_groups::table
            .filter(user_groups::id.eq(id))
            .filter(visible_to(organization_id))
            .select(Group::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// One page of the organization's live groups, newest first, with the total count and
    /// where the next page starts. `search` matches a case-insensitive substring of the name or
    /// the description.
    ///
    /// What each part costs, whatever the organization's size:
    /// - without `search`, `total` is the organization's live count ([`counts`]), one row;
    /// - with `search`, candidates come from the trigram index (SQLite FTS5, PostgreSQL
    ///   `pg_trgm` GIN) and each is checked with the exact `LIKE`, so `total` and the page cost
    ///   time linear in the candidates, not in the organization's rows; a search of fewer than
    ///   three characters has no trigram and reads the organization's live rows once;
    /// - the page itself is an index range from `start` (keyset), or an offset bounded by
    ///   [`crate::limits::PAGE_OFFSET_MAX`].
    pub fn list(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        search: Option<&str>,
        page: PageRequest,
        start: &Start,
    ) -> Result<ListPage<Group>, DomainError> {
        let search = search.filter(|s| !s.is_empty());
        // The FTS5 index exists on SQLite only; PostgreSQL's planner takes its GIN indexes for
        // the LIKE filters by itself.
        let phrase = search
            .filter(|s| matches!(conn, DbConnection::Sqlite(_)) && search_uses_index(s))
            .map(trigram_phrase);
        let filtered = || {
            let mut query = match &phrase {
                // The same rows as `visible_to`, but with `+` the organization's creation index
                // is off limits: otherwise SQLite (without statistics) may walk every live row
                // of the organization newest first and probe the trigram matches for each, when
                // a selective search has only a few matches to fetch by rowid and sort.
                Some(_) => user_groups::table
                    .filter(
                        sql::<Bool>("+user_groups.organization_id = ")
                            .bind::<Text, _>(organization_id)
                            .and(not_deleted()),
                    )
                    .into_boxed(),
                None => user_groups::table
                    .filter(visible_to(organization_id))
                    .into_boxed(),
            };
            if let Some(search) = search {
                let pattern = contains_pattern(search);
                query = query.filter(
                    user_groups::name_folded
                        .like(pattern.clone())
                        .escape('\\')
                        .or(user_groups::description_folded.like(pattern).escape('\\')),
                );
            }
            if let Some(phrase) = &phrase {
                query = query.filter(
                    sql::<Bool>(
                        "user_groups.rowid IN (SELECT rowid FROM user_groups_search \
                         WHERE user_groups_search MATCH ",
                    )
                    .bind::<Text, _>(phrase.clone())
                    .sql(")"),
                );
            }
            query
        };
        // Unfiltered, the total is the organization's live count, one row; filtered, the exact
        // count costs a second indexed query, made only when the page does not show the total.
        let known_total = match search {
            None => Some(counts::live(conn, organization_id, Resource::Group)?),
            Some(_) => None,
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
                    sql::<Timestamp>("user_groups.created_at + interval '0 second'").desc(),
                    user_groups::id.desc(),
                ))
            } else {
                newest_first.order((user_groups::created_at.desc(), user_groups::id.desc()))
            }
            .select(Group::as_select());
            query = match window {
                Window::Offset(offset) => query.offset(offset),
                Window::After(after) => query.filter(
                    sql::<Bool>("(user_groups.created_at, user_groups.id) < (")
                        .bind::<Timestamp, _>(after.sort_time)
                        .sql(", ")
                        .bind::<Text, _>(after.id.clone())
                        .sql(")"),
                ),
            };
            Ok(query.load(conn)?)
        };
        paged(conn, page, start, known_total, count, load, |g: &Group| {
            Position {
                sort_time: g.created_at,
                id: g.id.as_str().to_owned(),
            }
        })
    }

    /// Applies a partial update to the organization's live group `id`, in one transaction under
    /// the group's row lock (so it cannot revive a group deleted meanwhile), recording `by` and
    /// the time as the group's last modification. New role and access key ids are checked as
    /// on create; new members are set by [`set_members`] in the same transaction, whose
    /// [`Membership`] is returned when the changes set them.
    pub fn update(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &GroupId,
        changes: &GroupChanges,
        by: &AccessKeyId,
    ) -> Result<(Group, Option<Membership>), DomainError> {
        db::write_transaction(conn, |conn| {
            let mut group = lock_live(conn, organization_id, id, RowLock::Exclusive)?
                .ok_or(DomainError::NotFound(Resource::Group))?;
            let changes = changes.clone();
            if let Some(name) = changes.name {
                group.name = name;
            }
            if let Some(description) = changes.description {
                group.description = description;
            }
            if let Some(external_id) = changes.external_id {
                group.external_id = external_id;
            }
            if let Some(extra_fields) = changes.extra_fields {
                group.extra_fields = extra_fields;
            }
            if let Some(tags) = changes.tags {
                group.tags = tags;
            }
            if let Some(role_ids) = changes.role_ids {
                check_role_ids(&role_ids)?;
                group.role_ids = id_text(&role_ids);
            }
            if let Some(service_account_ids) = changes.service_account_ids {
                check_service_accounts(conn, organization_id, &service_account_ids)?;
                group.service_account_ids = id_text(&service_account_ids);
            }
            let now = db::now();
            group.updated_at = now;
            group.modified_at = Some(now);
            group.modified_by = Some(by.as_str().to_owned());
            diesel::update(user_groups::table.find(id))
                .set(GroupRow::from(&group))
                .execute(conn)?;
            let membership = match &changes.members {
                Some(members) => Some(set_members(conn, organization_id, id, members)?),
                None => None,
            };
            Ok((group, membership))
        })
    }

    /// The organization's live groups, every one, sorted by name (bytes) then id: the unpaged
    /// list of the nscale dialect. More than `max` is [`DomainError::TooManyToList`], found by
    /// reading at most `max + 1` rows, so the cost is bounded whatever the organization's size.
    pub fn list_all(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        max: usize,
    ) -> Result<Vec<Group>, DomainError> {
        let bound = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
        let mut groups: Vec<Group> = user_groups::table
            .filter(visible_to(organization_id))
            .select(Group::as_select())
            .limit(bound)
            .load(conn)?;
        if groups.len() > max {
            return Err(DomainError::TooManyToList { max });
        }
        // Sorted here, not by the database: PostgreSQL would order names by the column's
        // collation, and the order promised is the bytes'.
        groups.sort_unstable_by(|a, b| {
            (a.name.as_bytes(), a.id.as_str()).cmp(&(b.name.as_bytes(), b.id.as_str()))
        });
        Ok(groups)
    }

    /// Soft-deletes the organization's live group `id`, refusing while it has active members.
    ///
    /// The count and the write happen under the group's exclusive row lock (PostgreSQL) or the
    /// database write lock (SQLite), and every write that puts a user into a group takes the
    /// group's shared lock first: so a delete and a join racing each other never both succeed.
    ///
    /// The delete is the group's last change: `by` and the time are recorded as its
    /// modification.
    pub fn soft_delete(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &GroupId,
        by: &AccessKeyId,
    ) -> Result<Group, DomainError> {
        db::write_transaction(conn, |conn| {
            let mut group = lock_live(conn, organization_id, id, RowLock::Exclusive)?
                .ok_or(DomainError::NotFound(Resource::Group))?;
            let active_members: i64 = users::table
                .filter(users::user_group_id.eq(id))
                .filter(super::live::users::not_deleted())
                .count()
                .get_result(conn)?;
            if active_members > 0 {
                return Err(DomainError::HasActiveMembers {
                    count: active_members,
                });
            }
            let now = db::now();
            diesel::update(user_groups::table.find(id))
                .set((
                    user_groups::updated_at.eq(now),
                    user_groups::deleted_at.eq(now),
                    user_groups::modified_at.eq(now),
                    user_groups::modified_by.eq(by.as_str()),
                ))
                .execute(conn)?;
            counts::adjust(conn, organization_id, Resource::Group, -1)?;
            group.updated_at = now;
            group.deleted_at = Some(now);
            group.modified_at = Some(now);
            group.modified_by = Some(by.as_str().to_owned());
            Ok(group)
        })
    }
}

/// The organization's live group `id`, locked until the end of the transaction. A group deleted
/// by a transaction that committed while this one waited is not returned.
pub fn lock_live(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    id: &GroupId,
    lock: RowLock,
) -> Result<Option<Group>, DomainError> {
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
            .get_result(c)
            .optional()?,
        (DbConnection::Pg(c), RowLock::Shared) => query()
            .select(Group::as_select())
            .for_share()
            .get_result(c)
            .optional()?,
        (DbConnection::Sqlite(c), _) => query()
            .select(Group::as_select())
            .get_result(c)
            .optional()?,
    };
    Ok(group)
}

/// Refuses role ids that name no built-in role ([`crate::group_roles`]), each named.
pub fn check_role_ids(role_ids: &[String]) -> Result<(), DomainError> {
    let unknown: Vec<InvalidField> = role_ids
        .iter()
        .filter(|id| group_roles::by_id(id).is_none())
        .map(|id| InvalidField::UnknownRole(id.clone()))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(DomainError::InvalidInput(unknown))
    }
}

/// Refuses access key ids that are not live (unrevoked) keys of the organization, each named:
/// a group's service accounts are the organization's own, usable keys. One query for the list.
pub fn check_service_accounts(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    ids: &[String],
) -> Result<(), DomainError> {
    if ids.is_empty() {
        return Ok(());
    }
    let live: HashSet<String> = access_keys::table
        .filter(access_keys::organization_id.eq(organization_id))
        .filter(access_keys::revoked_at.is_null())
        .filter(access_keys::id.eq_any(ids))
        .select(access_keys::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let unknown: Vec<InvalidField> = ids
        .iter()
        .filter(|id| !live.contains(*id))
        .map(|id| InvalidField::UnknownServiceAccount(id.clone()))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(DomainError::InvalidInput(unknown))
    }
}

/// A group's live members before and after a write that set them, each sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// The members the write found.
    pub before: Vec<UserId>,
    /// The members it left.
    pub after: Vec<UserId>,
}

/// Makes `members` exactly the live members of the organization's live group `group_id`:
/// listed users join, members not listed leave. Returns the members before and after.
///
/// It locks as a join does: the group's shared lock first (so a delete racing this either sees
/// the new members or deletes first and this finds no group: [`DomainError::NotFound`]), and
/// on PostgreSQL the listed users' rows for update (so a user cannot be moved into another
/// group between the check and the write). A listed id that is no live user of the
/// organization is a [`DomainError::InvalidInput`] naming it; a user who is a live member of
/// another group is [`DomainError::MemberOfAnotherGroup`] (a user is in at most one group, and
/// leaves it only by being moved explicitly). More than
/// [`limits::GROUP_MEMBERS_REMOVED_MAX`] members to take out is
/// [`DomainError::TooManyMembersToRemove`], found before anything is written by reading at
/// most that many members past the listed ones: the cost of a refusal does not grow with the
/// group, and the cost of a write is linear in the (bounded) number of users it moves.
pub fn set_members(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    group_id: &GroupId,
    members: &[UserId],
) -> Result<Membership, DomainError> {
    db::write_transaction(conn, |conn| {
        lock_live(conn, organization_id, group_id, RowLock::Shared)?
            .ok_or(DomainError::NotFound(Resource::Group))?;
        let mut wanted: Vec<UserId> = members.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let max_removed = limits::GROUP_MEMBERS_REMOVED_MAX;
        let before = match members_up_to(conn, group_id, max_removed + wanted.len())? {
            Members::Listed(before) => before,
            Members::MoreThan(_) => {
                return Err(DomainError::TooManyMembersToRemove { max: max_removed })
            }
        };
        let leaving: Vec<&UserId> = before
            .iter()
            .filter(|id| wanted.binary_search(id).is_err())
            .collect();
        if leaving.len() > max_removed {
            return Err(DomainError::TooManyMembersToRemove { max: max_removed });
        }
        let query = || {
            users::table
                .filter(super::live::users::visible_to(organization_id))
                .filter(users::id.eq_any(&wanted))
                .select((users::id, users::user_group_id))
        };
        let found: Vec<(UserId, Option<GroupId>)> = match conn {
            DbConnection::Pg(c) => query().for_update().load(c)?,
            DbConnection::Sqlite(c) => query().load(c)?,
        };
        let found: HashMap<UserId, Option<GroupId>> = found.into_iter().collect();
        let unknown: Vec<InvalidField> = wanted
            .iter()
            .filter(|id| !found.contains_key(*id))
            .map(|id| InvalidField::UnknownUser(id.as_str().to_owned()))
            .collect();
        if !unknown.is_empty() {
            return Err(DomainError::InvalidInput(unknown));
        }
        if let Some(user_id) = wanted
            .iter()
            .find(|id| matches!(found.get(*id), Some(Some(other)) if other != group_id))
        {
            return Err(DomainError::MemberOfAnotherGroup {
                user_id: user_id.clone(),
            });
        }
        let now = db::now();
        // By id, as read above: the members that leave are known and few. Still members of
        // this group: on PostgreSQL one moved elsewhere by a write that committed since the
        // read is re-checked after its row lock and left where it is.
        for chunk in leaving.chunks(super::INSERT_CHUNK) {
            diesel::update(
                users::table
                    .filter(users::id.eq_any(chunk))
                    .filter(users::user_group_id.eq(group_id))
                    .filter(super::live::users::not_deleted()),
            )
            .set((
                users::user_group_id.eq(None::<GroupId>),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        }
        let joining: Vec<&UserId> = wanted
            .iter()
            .filter(|id| matches!(found.get(*id), Some(None)))
            .collect();
        for chunk in joining.chunks(super::INSERT_CHUNK) {
            diesel::update(users::table.filter(users::id.eq_any(chunk)))
                .set((users::user_group_id.eq(group_id), users::updated_at.eq(now)))
                .execute(conn)?;
        }
        Ok(Membership {
            before,
            after: wanted,
        })
    })
}

/// A group's live members as a read shows them: every one, or only that there are more than a
/// bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// Every live member, sorted by id.
    Listed(Vec<UserId>),
    /// More live members than this many.
    MoreThan(usize),
}

/// The live members of the group `group_id`, when there are at most `max`: read through the
/// index of members by group without an order, so at most `max + 1` rows are read whatever
/// the group's size (an order by id would read them all to sort them), and sorted here.
/// The caller has checked that the group is its organization's.
pub fn members_up_to(
    conn: &mut DbConnection,
    group_id: &GroupId,
    max: usize,
) -> Result<Members, DomainError> {
    let bound = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
    let mut ids: Vec<UserId> = users::table
        .filter(users::user_group_id.eq(group_id))
        .filter(super::live::users::not_deleted())
        .select(users::id)
        .limit(bound)
        .load(conn)?;
    if ids.len() > max {
        return Ok(Members::MoreThan(max));
    }
    ids.sort_unstable();
    Ok(Members::Listed(ids))
}

/// Members read at once for a list of groups before each group is read on its own (about
/// 1 MB of ids): a list of small groups costs one query, and a list holding large groups at
/// most one bounded read per group.
const MEMBERS_READ_AT_ONCE: i64 = 20_000;

/// [`members_up_to`] for each of the organization's groups `group_ids`: one query for all of
/// them when their members together are few, else one bounded read per group. So the cost is
/// bounded by the number of groups times `max`, never by the size of a group.
pub fn members_of_each_up_to(
    conn: &mut DbConnection,
    group_ids: &[GroupId],
    max: usize,
) -> Result<HashMap<GroupId, Members>, DomainError> {
    let mut shown: HashMap<GroupId, Members> = HashMap::new();
    if group_ids.is_empty() {
        return Ok(shown);
    }
    let mut rows: Vec<(UserId, Option<GroupId>)> = Vec::new();
    for chunk in group_ids.chunks(super::INSERT_CHUNK) {
        let room = MEMBERS_READ_AT_ONCE + 1 - i64::try_from(rows.len()).unwrap_or(i64::MAX);
        if room <= 0 {
            break;
        }
        rows.extend(
            users::table
                .filter(users::user_group_id.eq_any(chunk))
                .filter(super::live::users::not_deleted())
                .select((users::id, users::user_group_id))
                .limit(room)
                .load::<(UserId, Option<GroupId>)>(conn)?,
        );
    }
    if i64::try_from(rows.len()).unwrap_or(i64::MAX) > MEMBERS_READ_AT_ONCE {
        for id in group_ids {
            shown.insert(id.clone(), members_up_to(conn, id, max)?);
        }
        return Ok(shown);
    }
    let mut members: HashMap<GroupId, Vec<UserId>> = HashMap::new();
    for (user_id, group_id) in rows {
        if let Some(group_id) = group_id {
            members.entry(group_id).or_default().push(user_id);
        }
    }
    for id in group_ids {
        let mut list = members.remove(id).unwrap_or_default();
        let read = if list.len() > max {
            Members::MoreThan(max)
        } else {
            list.sort_unstable();
            Members::Listed(list)
        };
        shown.insert(id.clone(), read);
    }
    Ok(shown)
}
