//! The change feed: every create, update, delete, restore and purge of a group or a user through
//! the API or the retention purge appends one event, as a plain statement in the transaction of
//! the change, so an event exists exactly when its change committed. The bulk import appends
//! none (`docs/lifecycle.md` says why): a consumer re-reads the lists after an import.
//!
//! Order: each organization has one row in `event_sequences`, and an event takes the next number
//! from it (`last = last + 1`, computed by the database under the row's lock). The lock is held
//! until the change commits, so a second writer of the same organization waits for the first to
//! commit before it gets the next number: sequence order is commit order, on PostgreSQL as on
//! SQLite (one writer at a time), whatever the number of instances. A reader that has seen event
//! `n` therefore never later finds a new event numbered `n` or less. The cost: writes of one
//! organization serialize for the short time between their event and their commit (the event is
//! appended last in each write, after the row locks are taken, so no lock waits on it).
//!
//! A purge appends events for several organizations in one transaction, always in the order of
//! their ids, so two purges never wait on each other's sequence rows in opposite orders.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use serde::Serialize;

use super::{DomainError, OrganizationId, Resource};
use crate::db::schema::{event_sequences, events};
use crate::db::{self, DbConnection};
use crate::ids::AccessKeyId;

/// The actor of the purge's events.
pub const RETENTION_ACTOR: &str = "system:retention";

/// Who made a change: an access key, or the service itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A request signed by this key.
    Key(AccessKeyId),
    /// The service (`system:retention` for the purge).
    System(&'static str),
}

impl Actor {
    /// The access key a change of a group is recorded under (`modifiedBy`): only a request
    /// changes a group; the service itself only purges.
    pub fn changed_by(&self) -> Result<&AccessKeyId, DomainError> {
        match self {
            Actor::Key(id) => Ok(id),
            Actor::System(name) => Err(DomainError::Internal(format!(
                "{name} cannot change a group"
            ))),
        }
    }

    /// The text the feed shows and `deletedBy` stores.
    pub fn as_str(&self) -> &str {
        match self {
            Actor::Key(id) => id.as_str(),
            Actor::System(name) => name,
        }
    }
}

/// What happened to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Created through the API (the bulk import appends no event).
    Created,
    /// Partially updated.
    Updated,
    /// Soft-deleted.
    Deleted,
    /// Brought back from the soft delete.
    Restored,
    /// Removed for good by the retention purge.
    Purged,
}

/// The event type the feed shows: `user-group.created`, `user.purged`, …
pub fn event_type(resource: Resource, change: Change) -> String {
    let resource = match resource {
        Resource::Group => "user-group",
        Resource::User => "user",
    };
    let change = match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Deleted => "deleted",
        Change::Restored => "restored",
        Change::Purged => "purged",
    };
    format!("{resource}.{change}")
}

/// One stored event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    /// The organization's sequence number: the feed's order and cursor.
    pub seq: i64,
    /// `user-group.created`, …
    pub event_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// The access key id, or `system:…`.
    pub actor: String,
    /// When the change was made (UTC, whole seconds).
    pub occurred_at: NaiveDateTime,
    /// The API's JSON of the resource after the change.
    pub resource: String,
}

#[derive(QueryableByName)]
struct Last {
    #[diesel(sql_type = BigInt)]
    last: i64,
}

/// Appends the event of `change` to `resource` (its API JSON, `view`) by `actor`, inside the
/// transaction open on `conn` (the caller's). Returns its sequence number.
///
/// The sequence row stays locked from this statement to the commit, so the statements after it
/// are few: on PostgreSQL the sequence step and the insert are one statement (a data-modifying
/// `WITH`), so the lock is held for that statement and the commit only; SQLite, which has one
/// writer anyway, takes two.
pub fn append(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    actor: &Actor,
    (resource, change): (Resource, Change),
    resource_id: &str,
    view: &impl Serialize,
) -> Result<i64, DomainError> {
    const PG: &str = "WITH next AS (INSERT INTO event_sequences (organization_id, last) \
        VALUES ($1, 1) ON CONFLICT (organization_id) \
        DO UPDATE SET last = event_sequences.last + 1 RETURNING last) \
        INSERT INTO events (organization_id, seq, event_type, resource_id, actor, occurred_at, \
        resource) SELECT $1, next.last, $2, $3, $4, $5, $6 FROM next RETURNING seq AS last";
    const SQLITE_NEXT: &str = "INSERT INTO event_sequences (organization_id, last) VALUES (?, 1) \
        ON CONFLICT (organization_id) DO UPDATE SET last = event_sequences.last + 1 RETURNING last";
    let json = serde_json::to_string(view)
        .map_err(|e| DomainError::Internal(format!("an event's resource: {e}")))?;
    let event_type = event_type(resource, change);
    let occurred_at = db::now();
    match conn {
        DbConnection::Pg(c) => {
            let last = diesel::sql_query(PG)
                .bind::<Text, _>(organization_id.as_str())
                .bind::<Text, _>(&event_type)
                .bind::<Text, _>(resource_id)
                .bind::<Text, _>(actor.as_str())
                .bind::<diesel::sql_types::Timestamp, _>(occurred_at)
                .bind::<Text, _>(&json)
                .get_result::<Last>(c)?;
            Ok(last.last)
        }
        DbConnection::Sqlite(c) => {
            let seq = diesel::sql_query(SQLITE_NEXT)
                .bind::<Text, _>(organization_id.as_str())
                .get_result::<Last>(c)?
                .last;
            diesel::insert_into(events::table)
                .values((
                    events::organization_id.eq(organization_id),
                    events::seq.eq(seq),
                    events::event_type.eq(&event_type),
                    events::resource_id.eq(resource_id),
                    events::actor.eq(actor.as_str()),
                    events::occurred_at.eq(occurred_at),
                    events::resource.eq(&json),
                ))
                .execute(c)?;
            Ok(seq)
        }
    }
}

/// One event for [`append_all`]: the change, the resource's id and its API JSON.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    /// What happened to which kind of resource.
    pub change: (Resource, Change),
    /// The resource's id.
    pub resource_id: String,
    /// The API's JSON of the resource after the change.
    pub json: String,
}

/// A view as the JSON an event stores.
pub fn event_json(view: &impl Serialize) -> Result<String, DomainError> {
    serde_json::to_string(view)
        .map_err(|e| DomainError::Internal(format!("an event's resource: {e}")))
}

/// Appends `pending`, in order, by `actor`, inside the transaction open on `conn`, as
/// [`append`] does one: numbers are taken from the sequence row a chunk at a time
/// (`last = last + n`, under the row's lock), and each chunk is one multi-row statement. So
/// the many events of one write (the users a membership change moves) cost a few statements,
/// not a round trip each, and the sequence row is locked for that short time only.
pub fn append_all(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    actor: &Actor,
    pending: &[PendingEvent],
) -> Result<(), DomainError> {
    const PG: &str = "WITH next AS (INSERT INTO event_sequences (organization_id, last) \
        VALUES ($1, $2) ON CONFLICT (organization_id) \
        DO UPDATE SET last = event_sequences.last + EXCLUDED.last RETURNING last) \
        INSERT INTO events (organization_id, seq, event_type, resource_id, actor, occurred_at, \
        resource) SELECT $1, next.last - $2 + t.ord, t.event_type, t.resource_id, $3, $4, \
        t.resource FROM next, unnest($5::text[], $6::text[], $7::text[]) WITH ORDINALITY \
        AS t(event_type, resource_id, resource, ord)";
    const SQLITE_RESERVE: &str = "INSERT INTO event_sequences (organization_id, last) \
        VALUES (?, ?) ON CONFLICT (organization_id) \
        DO UPDATE SET last = event_sequences.last + excluded.last RETURNING last";
    let occurred_at = db::now();
    for chunk in pending.chunks(super::INSERT_CHUNK) {
        let n = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
        let types: Vec<String> = chunk
            .iter()
            .map(|e| event_type(e.change.0, e.change.1))
            .collect();
        match &mut *conn {
            DbConnection::Pg(c) => {
                let ids: Vec<&str> = chunk.iter().map(|e| e.resource_id.as_str()).collect();
                let jsons: Vec<&str> = chunk.iter().map(|e| e.json.as_str()).collect();
                diesel::sql_query(PG)
                    .bind::<Text, _>(organization_id.as_str())
                    .bind::<BigInt, _>(n)
                    .bind::<Text, _>(actor.as_str())
                    .bind::<diesel::sql_types::Timestamp, _>(occurred_at)
                    .bind::<Array<Text>, _>(&types)
                    .bind::<Array<Text>, _>(&ids)
                    .bind::<Array<Text>, _>(&jsons)
                    .execute(c)?;
            }
            DbConnection::Sqlite(c) => {
                let last = diesel::sql_query(SQLITE_RESERVE)
                    .bind::<Text, _>(organization_id.as_str())
                    .bind::<BigInt, _>(n)
                    .get_result::<Last>(c)?
                    .last;
                let rows: Vec<_> = chunk
                    .iter()
                    .zip(&types)
                    .zip(last - n + 1..)
                    .map(|((event, event_type), seq)| {
                        (
                            events::organization_id.eq(organization_id),
                            events::seq.eq(seq),
                            events::event_type.eq(event_type),
                            events::resource_id.eq(&event.resource_id),
                            events::actor.eq(actor.as_str()),
                            events::occurred_at.eq(occurred_at),
                            events::resource.eq(&event.json),
                        )
                    })
                    .collect();
                diesel::insert_into(events::table).values(rows).execute(c)?;
            }
        }
    }
    Ok(())
}

/// The last sequence number of the organization's events that the purge removed, 0 when none
/// was: events are numbered without gaps (a rolled-back write rolls its number back too) and
/// purged oldest first, so that is one below the oldest event kept or, when none is kept, the
/// last number given.
pub fn purged_through(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
) -> Result<i64, DomainError> {
    let oldest: Option<i64> = events::table
        .filter(events::organization_id.eq(organization_id))
        .select(diesel::dsl::min(events::seq))
        .get_result(conn)?;
    if let Some(oldest) = oldest {
        return Ok(oldest - 1);
    }
    let last: Option<i64> = event_sequences::table
        .filter(event_sequences::organization_id.eq(organization_id))
        .select(event_sequences::last)
        .get_result(conn)
        .optional()?;
    Ok(last.unwrap_or(0))
}

/// Up to `limit` of the organization's events numbered above `after`, in order.
pub fn list_after(
    conn: &mut DbConnection,
    organization_id: &OrganizationId,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, DomainError> {
    Ok(events::table
        .filter(events::organization_id.eq(organization_id))
        .filter(events::seq.gt(after))
        .order(events::seq.asc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_name_the_resource_then_the_change() {
        assert_eq!(
            event_type(Resource::Group, Change::Created),
            "user-group.created"
        );
        assert_eq!(event_type(Resource::User, Change::Purged), "user.purged");
        assert_eq!(Actor::System(RETENTION_ACTOR).as_str(), "system:retention");
    }
}
