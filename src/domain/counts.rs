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
use crate::db::schema::live_counts;
use crate::db::DbConnection;

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
