//! `GET /api/v1/events`: the change feed of the caller's organization ([`crate::domain::events`]),
//! oldest first, from a cursor.
//!
//! The cursor is the organization's sequence number of the last event seen, as plain decimal
//! text: a consumer sends the page's `nextCursor` back as `after`. It needs no tag, unlike the
//! lists' cursors, because it names no row and grants nothing: every read is limited to the
//! caller's organization, so any number is only a position within what the caller may read
//! anyway. Sequence numbers follow commit order (see the domain module), so a consumer that
//! follows `nextCursor` sees every event once, in order, however many instances write at once.
//! Events older than the retention are purged. A cursor the purge has overtaken is a 410
//! (`events_purged`, naming the last number purged), not a page that silently skips what was
//! purged; `after=0` (a new consumer) starts at the oldest event kept. The check costs a
//! query only when the page does not start right after the cursor.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::value::RawValue;

use crate::api::{ErrorBody, Event, EventPage};
use crate::auth::Permission;
use crate::db;
use crate::domain::events;
use crate::limits;
use crate::routes::input::Query;
use crate::routes::{fit_items, json_response, ApiError, Caller};
use crate::state::AppState;
use serde::Serialize;

/// `GET /api/v1/events?after&limit`: 200 with up to `limit` (1 to 100, default 20) of the
/// organization's events numbered above `after` (default 0: from the oldest kept), oldest first,
/// and the `nextCursor` to send as the next `after`. 400 for a bad parameter, 403 without
/// `events:read`, 410 when the retention purged events after `after`.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "lifecycle",
    summary = "Read the change feed",
    description = "The organization's changes of groups and users (created, updated, deleted, \
        restored, purged), in the order they committed, each with its actor and the resource as \
        it stood after the change. Follow `nextCursor` (send it as `after`) to see every change \
        exactly once. Needs `events:read`, which no key has by default.",
    security(("onlivesite" = [])),
    params(
        ("after" = Option<i64>, Query, minimum = 0, example = 0,
            description = "The `nextCursor` of the previous page: the sequence number after \
                which this page starts (default 0, the oldest event kept)."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, example = 20,
            description = "Events per page, 1 to 100 (default 20). No answer is larger \
                than 512 KiB: a page whose events would pass it holds fewer, and its \
                `nextCursor` goes on after the last one shown."),
    ),
    responses(
        (status = 200, description = "The events after `after`, oldest first.", body = EventPage,
            example = json!({"items": [{
                "sequence": 1, "type": "user-group.created", "occurredAt": "2025-05-22T10:30:00Z",
                "actor": "OLAKEXAMPLE1234567890",
                "resourceId": "550e8400-e29b-41d4-a716-446655440000",
                "resource": {"id": "550e8400-e29b-41d4-a716-446655440000",
                    "name": "Global Sales Team", "description": null, "externalId": null,
                    "organizationId": "123e4567-e89b-12d3-a456-426614174000",
                    "extraFields": {}, "createdAt": "2025-05-22T10:30:00Z",
                    "updatedAt": "2025-05-22T10:30:00Z"}}],
                "nextCursor": "1"})),
        (status = 400, description = "A bad `after` or `limit`, or an unknown or repeated \
            parameter.", body = ErrorBody,
            example = json!({"statusCode": 400, "message": "Invalid input", "errors": [
                {"field": "after", "message": "after must be a whole number of at least 0"}]})),
        (status = 403, description = "The access key lacks `events:read`.", body = ErrorBody,
            example = json!({"statusCode": 403,
                "message": "Access key is not allowed to read events"})),
        (status = 410, description = "The retention purged events after `after`: read the \
            current groups and users again and follow the feed from the number named.",
            body = ErrorBody, example = json!({"statusCode": 410,
                "message": "Events up to 41 were purged by the retention: read the current \
                    groups and users again, then follow the feed from after=41",
                "reason": "events_purged"})),
    ),
)]
pub async fn list_events(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::EventsRead)?;
    let mut query = Query::parse(&req, &["after", "limit"]);
    let after = query.integer("after", 0, 0, i64::MAX);
    let limit = query.integer("limit", 20, 1, limits::PAGE_LIMIT_MAX);
    query.finish()?;
    let organization_id = caller.organization_id().clone();
    let (listed, purged_through) = db::run(&state.pool, move |conn| {
        let listed = events::list_after(conn, &organization_id, after, limit)?;
        // Numbers have no gaps: a page that starts right after the cursor skipped nothing.
        let skipped = after > 0 && listed.first().is_none_or(|event| event.seq != after + 1);
        let purged_through = match skipped {
            true => events::purged_through(conn, &organization_id)?,
            false => 0,
        };
        Ok::<_, crate::domain::DomainError>((listed, purged_through))
    })
    .await?;
    if after < purged_through {
        return Err(ApiError::EventsPurged { purged_through });
    }
    // A page ends early where the answer would pass its bound; `nextCursor` goes on from the
    // last event shown.
    let fitted = fit_items(
        listed,
        |event| {
            Ok(Event {
                sequence: event.seq,
                event_type: event.event_type,
                occurred_at: event.occurred_at.and_utc(),
                actor: event.actor,
                resource_id: event.resource_id,
                resource: RawValue::from_string(event.resource)
                    .map_err(|e| ApiError::internal(format!("a stored event is not JSON: {e}")))?,
            })
        },
        |event| event.seq,
    )?;
    Ok(json_response(
        StatusCode::OK,
        &FittedEvents {
            items: fitted.items,
            next_cursor: fitted.last.unwrap_or(after).to_string(),
        },
    ))
}

/// An [`EventPage`] whose events are already written out (as many as fit in one answer).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FittedEvents {
    items: Vec<Box<RawValue>>,
    next_cursor: String,
}
