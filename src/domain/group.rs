//! User groups. A group is soft-deleted: `deleted_at` is set once, the row stays, and every
//! read filters it out through [`visible_to`]. A group with active members is not deleted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::dsl::sql;
use diesel::sql_types::{Bool, Text, Timestamp};

use super::{
    checked_offset, contains_pattern, counts, fold_case, must_count_first, next_position,
    search_uses_index, total_from_last_page, trigram_phrase, DomainError, GroupId, ListPage,
    OrganizationId, PageRequest, Position, Resource, RowLock, Start,
};
use crate::db::schema::{user_groups, users};
use crate::db::{self, DbConnection};

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
}

/// The fields a client sets when creating a group, already validated.
#[derive(Debug, Clone)]
pub struct NewGroup {
    /// Trimmed name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Optional external id.
    pub external_id: Option<String>,
    /// Compact JSON object text.
    pub extra_fields: String,
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
        }
    }
}

/// The one filter every read of groups uses: the organization's live groups.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn visible_to<'a>(organization_id: &'a OrganizationId) -> _ {
    user_groups::organization_id
        .eq(organization_id)
        .and(user_groups::deleted_at.is_null())
}

impl NewGroup {
    /// Inserts the group for `organization_id`; a taken name or externalId is a 409.
    pub fn insert(
        &self,
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
    ) -> Result<Group, DomainError> {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            let group = Group {
                id: GroupId::new(),
                organization_id: organization_id.clone(),
                name: self.name.clone(),
                description: self.description.clone(),
                external_id: self.external_id.clone(),
                extra_fields: self.extra_fields.clone(),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            diesel::insert_into(user_groups::table)
                .values(GroupRow::from(&group))
                .execute(conn)?;
            counts::adjust(conn, organization_id, Resource::Group, 1)?;
            Ok(group)
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
            .map(|new| Group {
                id: GroupId::new(),
                organization_id: organization_id.clone(),
                name: new.name.clone(),
                description: new.description.clone(),
                external_id: new.external_id.clone(),
                extra_fields: new.extra_fields.clone(),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            })
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
                            .and(user_groups::deleted_at.is_null()),
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
        // Filtered, the exact count costs a second indexed query; it is skipped when the page
        // itself shows the total (see `total_from_last_page`).
        let total = match search {
            None => Some(counts::live(conn, organization_id, Resource::Group)?),
            Some(_) if must_count_first(start, page) => Some(filtered().count().get_result(conn)?),
            Some(_) => None,
        };
        let newest_first = filtered().limit(page.limit + 1);
        let mut query = if search.is_some() && matches!(conn, DbConnection::Pg(_)) {
            // The same order, in words the creation index cannot serve: a prepared search's
            // generic plan cannot tell a selective pattern from a common one, and would walk
            // the organization's rows newest first, filtering each, rather than collect the
            // trigram index's matches and sort them.
            newest_first.order((
                sql::<Timestamp>("user_groups.created_at + interval '0 second'").desc(),
                user_groups::id.desc(),
            ))
        } else {
            newest_first.order((user_groups::created_at.desc(), user_groups::id.desc()))
        }
        .select(Group::as_select());
        match start {
            Start::Offset => match total {
                // Not counted yet: the offset exists and is within the bound.
                None => query = query.offset(page.offset().unwrap_or(0)),
                Some(total) => match checked_offset(page, total)? {
                    Some(offset) => query = query.offset(offset),
                    None => {
                        return Ok(ListPage {
                            items: Vec::new(),
                            total,
                            next: None,
                        })
                    }
                },
            },
            Start::After(after) => {
                query = query.filter(
                    sql::<Bool>("(user_groups.created_at, user_groups.id) < (")
                        .bind::<Timestamp, _>(after.created_at)
                        .sql(", ")
                        .bind::<Text, _>(after.id.clone())
                        .sql(")"),
                );
            }
        }
        let mut items = query.load(conn)?;
        let next = next_position(&mut items, page.limit, |g| Position {
            created_at: g.created_at,
            id: g.id.as_str().to_owned(),
        });
        let total = match total.or_else(|| total_from_last_page(start, page, items.len(), &next)) {
            Some(total) => total,
            None => filtered().count().get_result(conn)?,
        };
        if matches!(start, Start::Offset) {
            // A page past the end (counted only now) is empty, and deeper than the bound is
            // refused, exactly as when the count comes first.
            checked_offset(page, total)?;
        }
        Ok(ListPage { items, total, next })
    }

    /// Applies a partial update to the organization's live group `id`, in one transaction under
    /// the group's row lock (so it cannot revive a group deleted meanwhile).
    pub fn update(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &GroupId,
        changes: &GroupChanges,
    ) -> Result<Group, DomainError> {
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
            group.updated_at = db::now();
            diesel::update(user_groups::table.find(id))
                .set(GroupRow::from(&group))
                .execute(conn)?;
            Ok(group)
        })
    }

    /// Soft-deletes the organization's live group `id`, refusing while it has active members.
    ///
    /// The count and the write happen under the group's exclusive row lock (PostgreSQL) or the
    /// database write lock (SQLite), and every write that puts a user into a group takes the
    /// group's shared lock first: so a delete and a join racing each other never both succeed.
    pub fn soft_delete(
        conn: &mut DbConnection,
        organization_id: &OrganizationId,
        id: &GroupId,
    ) -> Result<Group, DomainError> {
        db::write_transaction(conn, |conn| {
            let mut group = lock_live(conn, organization_id, id, RowLock::Exclusive)?
                .ok_or(DomainError::NotFound(Resource::Group))?;
            let active_members: i64 = users::table
                .filter(users::user_group_id.eq(id))
                .filter(users::deleted_at.is_null())
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
                ))
                .execute(conn)?;
            counts::adjust(conn, organization_id, Resource::Group, -1)?;
            group.updated_at = now;
            group.deleted_at = Some(now);
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
