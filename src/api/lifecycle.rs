//! The JSON shapes of the lifecycle routes: a deleted group or user as the deleted listings show
//! it (the usual object plus who deleted it and when it will be purged), and the change feed's
//! events and pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{timestamp, Group, User};

/// A soft-deleted group: the group as it was deleted, `deletedAt` included, plus `deletedBy`
/// and `purgeAt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", schema(examples(json!({
    "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
    "description": "International sales team", "externalId": "SALES_TEAM_01",
    "organizationId": "123e4567-e89b-12d3-a456-426614174000",
    "extraFields": {"department": "Sales"},
    "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-22T11:00:00Z",
    "deletedAt": "2025-05-22T11:00:00Z", "deletedBy": "OLAKEXAMPLE1234567890",
    "purgeAt": "2025-06-21T11:00:00Z"
}))))]
pub struct DeletedGroup {
    /// The group, with `deletedAt`.
    #[serde(flatten)]
    pub group: Group,
    /// The access key id that deleted it; `null` for a group deleted before this was recorded.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub deleted_by: Option<String>,
    /// When the retention purge removes it for good (`deletedAt` plus the retention).
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub purge_at: DateTime<Utc>,
}

/// A soft-deleted user: the user as it was deleted, `deletedAt` included, plus `deletedBy` and
/// `purgeAt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", schema(examples(json!({
    "id": "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f", "firstName": "Ada", "lastName": "Lovelace",
    "fullName": "Ada Lovelace", "email": "ada@example.com", "role": "creator", "avatar": null,
    "organizationId": "123e4567-e89b-12d3-a456-426614174000",
    "userGroupId": "550e8400-e29b-41d4-a716-446655440000",
    "createdAt": "2025-05-22T10:40:00Z", "updatedAt": "2025-05-22T11:00:00Z",
    "deletedAt": "2025-05-22T11:00:00Z", "deletedBy": "OLAKEXAMPLE1234567890",
    "purgeAt": "2025-06-21T11:00:00Z"
}))))]
pub struct DeletedUser {
    /// The user, with `deletedAt`.
    #[serde(flatten)]
    pub user: User,
    /// The access key id that deleted it; `null` for a user deleted before this was recorded.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub deleted_by: Option<String>,
    /// When the retention purge removes it for good (`deletedAt` plus the retention).
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub purge_at: DateTime<Utc>,
}

/// One change of a group or user, as the change feed shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", schema(examples(json!({
    "sequence": 42, "type": "user-group.created", "occurredAt": "2025-05-22T10:30:00Z",
    "actor": "OLAKEXAMPLE1234567890", "resourceId": "550e8400-e29b-41d4-a716-446655440000",
    "resource": {"id": "550e8400-e29b-41d4-a716-446655440000", "name": "Global Sales Team",
        "description": null, "externalId": null,
        "organizationId": "123e4567-e89b-12d3-a456-426614174000", "extraFields": {},
        "createdAt": "2025-05-22T10:30:00Z", "updatedAt": "2025-05-22T10:30:00Z"}
}))))]
pub struct Event {
    /// The organization's sequence number of the event: events are in this order, which is
    /// the order their changes committed in.
    #[cfg_attr(feature = "server", schema(minimum = 1))]
    pub sequence: i64,
    /// `user-group.created`, `user-group.updated`, `user-group.deleted`,
    /// `user-group.restored`, `user-group.purged`, or the same for `user.`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the change was made.
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub occurred_at: DateTime<Utc>,
    /// The access key id that made the change, or `system:retention` for the purge.
    pub actor: String,
    /// The id of the group or user.
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub resource_id: String,
    /// The group or user as it stood after the change (its usual JSON; for a purge, as it was
    /// when purged).
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub resource: Box<RawValue>,
}

/// One page of the change feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", schema(examples(json!({
    "items": [], "nextCursor": "42"
}))))]
pub struct EventPage {
    /// The events after the cursor, oldest first.
    pub items: Vec<Event>,
    /// The `after` of the next request: the last event's sequence number, or the request's own
    /// `after` when there was none (poll again with it).
    pub next_cursor: String,
}
