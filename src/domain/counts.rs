//! How many live groups and users each organization has, so a list's `total` is one row read
//! instead of a count of every row. The count changes in the same transaction as the write that
//! changes the number of live rows (a create, a soft delete, a bulk import), as a plain
//! statement on that transaction's connection: it commits or rolls back with the write.
//!
//! Exact under concurrent writers on both backends: the change is `n = n + delta` computed by
//! the database under the row's lock (PostgreSQL's `ON CONFLICT … DO UPDATE` locks the row and
//! reads its latest committed value even in READ COMMITTED; SQLite has one writer at a time),
//! never a value read earlier and written back.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::{DomainError, OrganizationId, Resource};
use crate::db::schema::{live_counts, organizations, user_groups, users};
use crate::db::{self, DbConnection};

/// The `kind` column's value for a resource.
fn kind(resource: Resource) -> &'static str {
    match resource {
        Resource::Group => "group",
        Resource::User => "user",
    }
}

/// Adds `delta` (negative for a delete) to the organization's count of live `resource` rows.
/// Call it inside the write's transaction, after the write itself succeeded. (The column has no
/// `n >= 0` check: both backends check the row an upsert would insert, `n = delta`, before
/// they find the existing row it updates.)
pub fn adjust(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    resource: Resource,
    delta: i64,
) -> Result<(), DomainError> {
    if delta == 0 {
        return Ok(());
    }
    let row = (
        live_counts::organization_id.eq(organization_id),
        live_counts::kind.eq(kind(resource)),
        live_counts::n.eq(delta),
    );
    // The same upsert on each backend; the closure fixes its backend where each arm runs it.
    let upsert = || {
        diesel::insert_into(live_counts::table)
            .values(row)
            .on_conflict((live_counts::organization_id, live_counts::kind))
            .do_update()
            .set(live_counts::n.eq(live_counts::n + excluded(live_counts::n)))
    };
    match conn {
        DbConnection::Pg(c) => upsert().execute(c)?,
        DbConnection::Sqlite(c) => upsert().execute(c)?,
    };
    Ok(())
}

/// The organization's count of live `resource` rows (0 before its first create).
pub fn live(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    resource: Resource,
) -> Result<i64, DomainError> {
    Ok(live_counts::table
        .filter(live_counts::organization_id.eq(organization_id))
        .filter(live_counts::kind.eq(kind(resource)))
        .select(live_counts::n)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// What [`recount`] found for one organization: its live groups and users, and whether the
/// stored counts were wrong (and are now right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recounted {
    /// Live groups.
    pub groups: i64,
    /// Live users.
    pub users: i64,
    /// True when a stored count differed and was corrected.
    pub corrected: bool,
}

/// Sets the organization's counts to its live rows, in one write transaction: the repair of
/// counts that a writer which does not keep them (a release before them, serving beside the
/// upgrade) left wrong. See `docs/deployment.md#upgrading`.
///
/// Exact beside concurrent writers of this release: the count rows are locked first (created at
/// 0 if missing), so a write that already changed its count commits before the rows are
/// counted and is seen, and a write not yet at its count changes it after this commits, from
/// the corrected value. (A writer of an older release, which never touches the counts, makes
/// them wrong again: run this once none is left.)
pub fn recount(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
) -> Result<Recounted, DomainError> {
    db::write_transaction(conn, |conn| {
        let mut corrected = false;
        let mut live = [0_i64; 2];
        for (i, resource) in [Resource::Group, Resource::User].into_iter().enumerate() {
            let create = || {
                diesel::insert_into(live_counts::table)
                    .values((
                        live_counts::organization_id.eq(organization_id),
                        live_counts::kind.eq(kind(resource)),
                        live_counts::n.eq(0_i64),
                    ))
                    .on_conflict((live_counts::organization_id, live_counts::kind))
                    .do_nothing()
            };
            let stored = || {
                live_counts::table
                    .filter(live_counts::organization_id.eq(organization_id))
                    .filter(live_counts::kind.eq(kind(resource)))
                    .select(live_counts::n)
            };
            let stored: i64 = match conn {
                DbConnection::Pg(c) => {
                    create().execute(c)?;
                    stored().for_update().first(c)?
                }
                DbConnection::Sqlite(c) => {
                    create().execute(c)?;
                    stored().first(c)?
                }
            };
            let counted: i64 = match resource {
                Resource::Group => user_groups::table
                    .filter(super::live::groups::visible_to(organization_id))
                    .count()
                    .get_result(conn)?,
                Resource::User => users::table
                    .filter(super::live::users::visible_to(organization_id))
                    .count()
                    .get_result(conn)?,
            };
            if counted != stored {
                diesel::update(
                    live_counts::table
                        .filter(live_counts::organization_id.eq(organization_id))
                        .filter(live_counts::kind.eq(kind(resource))),
                )
                .set(live_counts::n.eq(counted))
                .execute(conn)?;
                corrected = true;
            }
            live[i] = counted;
        }
        Ok(Recounted {
            groups: live[0],
            users: live[1],
            corrected,
        })
    })
}

/// Every organization's id, in order: what a repair of all of them walks.
pub fn organization_ids(conn: &mut DbConnection) -> Result<Vec<OrganizationId>, DomainError> {
    Ok(organizations::table
        .select(organizations::id)
        .order(organizations::id.asc())
        .load(conn)?)
}
