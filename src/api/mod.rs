//! The JSON shapes of the API, in one place: the server writes them, the client reads them, and
//! the OpenAPI document describes them. Times are RFC 3339 UTC with whole seconds and a `Z`.
//!
//! Requests are described here for clients; the server reads request bodies field by field
//! (`routes::input`) so that every bad field can be reported at once.
//!
//! The `ToSchema` derives and `schema(...)` attributes feed the OpenAPI document
//! (`crate::openapi`): ids are `uuid` strings, times `date-time` strings, `extraFields` a
//! free-form object, and the examples are the contract's. Only the server serves that document,
//! so they sit under `cfg_attr(feature = "server", …)` and the client builds without utoipa.
//!
//! [`nscale`] holds the second dialect's shapes (`groupWrite`, `groupRead`, `roleRead`).

use crate::role::Role;

pub mod lifecycle;

use chrono::{DateTime, Utc};
pub use lifecycle::{DeletedGroup, DeletedUser, Event, EventPage};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub mod nscale;

/// RFC 3339 UTC with whole seconds (`2025-05-22T10:30:00Z`), as every time in the API.
pub mod timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a time in the API's format.
    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&time.to_rfc3339_opts(SecondsFormat::Secs, true))
    }

    /// Reads any RFC 3339 time.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(deserializer)
    }

    /// The same for a time that may be absent.
    pub mod option {
        use super::*;

        /// Writes a time in the API's format, or `null`.
        pub fn serialize<S: Serializer>(
            time: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match time {
                Some(time) => super::serialize(time, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Reads an RFC 3339 time or `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<DateTime<Utc>>::deserialize(deserializer)
        }
    }
}

/// A user group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", schema(examples(json!({
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "name": "Global Sales Team",
    "description": "International sales team",
    "externalId": "SALES_TEAM_01",
    "organizationId": "123e4567-e89b-12d3-a456-426614174000",
    "extraFields": {"department": "Sales", "allowedFeatures": ["product_management"]},
    "createdAt": "2025-05-22T10:30:00Z",
    "updatedAt": "2025-05-22T10:35:00Z"
}))))]
pub struct Group {
    /// UUID v7, lowercase.
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub id: String,
    /// 1 to 255 characters, unique among the organization's live groups.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 255))]
    pub name: String,
    /// Up to 2,000 characters; `null` when unset.
    #[cfg_attr(feature = "server", schema(required = true, max_length = 2000))]
    pub description: Option<String>,
    /// The caller's own identifier, unique among the organization's live groups when set;
    /// `null` when unset.
    #[cfg_attr(
        feature = "server",
        schema(required = true, min_length = 1, max_length = 255)
    )]
    pub external_id: Option<String>,
    /// The owning organization.
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub organization_id: String,
    /// Any JSON object (`{}` by default), returned with its key order and number text as sent.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub extra_fields: Box<RawValue>,
    /// Creation time.
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// Time of the last change (whole seconds, so it may equal `createdAt`).
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub updated_at: DateTime<Utc>,
    /// Present only on the answer of the soft delete; equals `updatedAt`.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A user; `userGroupId` is its membership of at most one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", schema(examples(json!({
    "id": "01970e6c-8a2b-7c3d-9e4f-5a6b7c8d9e0f",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "fullName": "Ada Lovelace",
    "email": "ada@example.com",
    "role": "creator",
    "avatar": null,
    "organizationId": "123e4567-e89b-12d3-a456-426614174000",
    "userGroupId": "550e8400-e29b-41d4-a716-446655440000",
    "createdAt": "2025-05-22T10:40:00Z",
    "updatedAt": "2025-05-22T10:40:00Z"
}))))]
pub struct User {
    /// UUID v7, lowercase.
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub id: String,
    /// 1 to 100 characters.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 100))]
    pub first_name: String,
    /// 1 to 100 characters.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 100))]
    pub last_name: String,
    /// `firstName lastName`.
    pub full_name: String,
    /// Unique among the organization's live users, case-insensitively.
    #[cfg_attr(feature = "server", schema(format = Email, max_length = 254))]
    pub email: String,
    /// `creator`, `editor` or `admin`.
    pub role: Role,
    /// An https URL; `null` when unset.
    #[cfg_attr(
        feature = "server",
        schema(required = true, format = "uri", max_length = 2048)
    )]
    pub avatar: Option<String>,
    /// The owning organization.
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub organization_id: String,
    /// The group the user belongs to; `null` when it belongs to none.
    #[cfg_attr(feature = "server", schema(required = true, format = "uuid"))]
    pub user_group_id: Option<String>,
    /// Creation time.
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// Time of the last change (whole seconds, so it may equal `createdAt`).
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub updated_at: DateTime<Utc>,
    /// Present only on the answer of the soft delete; equals `updatedAt`.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page, newest first (`createdAt`, then `id`).
    pub items: Vec<T>,
    /// The page number (from 1); on a page asked for by `cursor`, the number of pages before
    /// it plus one, as counted when the first page was read.
    #[cfg_attr(feature = "server", schema(minimum = 1, examples(1)))]
    pub page: i64,
    /// The page size (1 to 100).
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100, examples(20)))]
    pub limit: i64,
    /// How many items match in all.
    #[cfg_attr(feature = "server", schema(minimum = 0, examples(57)))]
    pub total: i64,
    /// How many pages of `limit` items hold them; 0 when there are none.
    #[cfg_attr(feature = "server", schema(minimum = 0, examples(3)))]
    pub total_pages: i64,
    /// The `cursor` that asks for the page after this one, with the same filters; `null` on
    /// the last page. Opaque: send it back as it is.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(required = true, max_length = 100))]
    pub next_cursor: Option<String>,
}

/// One bad field of a request (in a 400 or 409 answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "server",
    schema(examples(json!({"field": "name", "message": "name must not be empty"})))
)]
pub struct FieldError {
    /// The field as the client named it (`name`, `extraFields`, `page`, `id`, …).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "server", schema(examples(
    json!({"statusCode": 404, "message": "User group not found"}),
    json!({"statusCode": 400, "message": "Invalid input",
           "errors": [{"field": "name", "message": "name must not be empty"}]}),
    json!({"statusCode": 401, "message": "Invalid or missing authorization credentials",
           "reason": "signature_mismatch"})
)))]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    #[cfg_attr(feature = "server", schema(minimum = 400, maximum = 599))]
    pub status_code: u16,
    /// The contract's message.
    pub message: String,
    /// A machine-readable cause: on 401 the failed signature check (`missing_authorization`,
    /// `malformed_authorization`, `missing_date`, `malformed_date`, `request_expired`,
    /// `request_from_future`, `unknown_access_key`, `revoked_access_key`,
    /// `signature_mismatch`, `replayed_request`); on the 403 of a group delete,
    /// `group_has_active_members`; on 412, `precondition_failed`; on 422,
    /// `idempotency_key_reused`; on 429, `rate_limited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub reason: Option<String>,
    /// For a group that still has members: how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, minimum = 1))]
    pub active_members: Option<i64>,
    /// The bad fields (400: every one, up to 50), or the field holding a taken value (409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, max_items = 50))]
    pub errors: Option<Vec<FieldError>>,
    /// On a 400 with more bad fields than `errors` lists: how many more were found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, minimum = 1))]
    pub omitted_errors: Option<usize>,
}

/// `POST /api/v1/user-groups`. Unknown fields are refused (400).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "server", schema(examples(json!({
    "name": "Global Sales Team",
    "description": "International sales team",
    "externalId": "SALES_TEAM_01",
    "extraFields": {"department": "Sales", "allowedFeatures": ["product_management"]}
}))))]
pub struct CreateGroup {
    /// Required; stored trimmed, 1 to 255 characters, unique among the organization's live
    /// groups (409), compared exactly.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 255))]
    pub name: String,
    /// Up to 2,000 characters; `null` is the same as leaving it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(max_length = 2000))]
    pub description: Option<String>,
    /// 1 to 255 characters, unique among the organization's live groups (409); `null` is the
    /// same as leaving it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 255))]
    pub external_id: Option<String>,
    /// Any JSON object (default `{}`), up to 64 KiB serialized, nested at most 32 levels deep,
    /// with no key repeated within an object and no string that is not Unicode (an escaped lone
    /// surrogate); not `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub extra_fields: Option<Box<RawValue>>,
}

/// `PUT /api/v1/user-groups/{id}`: a partial update. A field left out keeps its value (`None`
/// here); `null` clears `description` or `externalId` (`Some(None)` here); `name` and
/// `extraFields` cannot be `null`. `{}` is accepted and only moves `updatedAt`. Unknown fields
/// are refused (400).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "server", schema(examples(json!({
    "description": null,
    "extraFields": {"department": "Sales EMEA"}
}))))]
pub struct UpdateGroup {
    /// A new name (trimmed, 1 to 255 characters); not `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(nullable = false, min_length = 1, max_length = 255)
    )]
    pub name: Option<String>,
    /// A new description (up to 2,000 characters), or `null` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, max_length = 2000))]
    pub description: Option<Option<String>>,
    /// A new external id (1 to 255 characters), or `null` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[cfg_attr(
        feature = "server",
        schema(value_type = Option<String>, min_length = 1, max_length = 255)
    )]
    pub external_id: Option<Option<String>>,
    /// A replacement object, replacing the old one whole, under the same rules as on create
    /// (64 KiB, 32 levels, no repeated key, Unicode strings); not `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub extra_fields: Option<Box<RawValue>>,
}

/// `POST /api/v1/users`. Unknown fields are refused (400).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "server", schema(examples(json!({
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "role": "creator",
    "userGroupId": "550e8400-e29b-41d4-a716-446655440000"
}))))]
pub struct CreateUser {
    /// Required; trimmed, 1 to 100 characters.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 100))]
    pub first_name: String,
    /// Required; trimmed, 1 to 100 characters.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 100))]
    pub last_name: String,
    /// Required; a valid address up to 254 characters, unique among the organization's live
    /// users compared case-insensitively (409).
    #[cfg_attr(feature = "server", schema(format = Email, min_length = 1, max_length = 254))]
    pub email: String,
    /// `creator` (default), `editor` or `admin`; not `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub role: Option<Role>,
    /// An https URL up to 2,048 characters; `null` is the same as leaving it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(format = "uri", max_length = 2048))]
    pub avatar: Option<String>,
    /// A live group of the organization to join (else 400 on this field); `null` is the same
    /// as leaving it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub user_group_id: Option<String>,
}

/// `PUT /api/v1/users/{id}`: a partial update. A field left out keeps its value (`None` here);
/// `null` removes the avatar or the membership (`Some(None)` here); `firstName`, `lastName` and
/// `role` cannot be `null`. The email cannot change: any `email` field is a 400, and so is any
/// other unknown field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "server", schema(examples(json!({"role": "editor", "userGroupId": null}))))]
pub struct UpdateUser {
    /// A new first name (trimmed, 1 to 100 characters); not `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(nullable = false, min_length = 1, max_length = 100)
    )]
    pub first_name: Option<String>,
    /// A new last name (trimmed, 1 to 100 characters); not `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "server",
        schema(nullable = false, min_length = 1, max_length = 100)
    )]
    pub last_name: Option<String>,
    /// A new role; not `null`. Demoting the organization's last live admin is a 403.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub role: Option<Role>,
    /// A new avatar (an https URL up to 2,048 characters), or `null` to remove it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[cfg_attr(
        feature = "server",
        schema(value_type = Option<String>, format = "uri", max_length = 2048)
    )]
    pub avatar: Option<Option<String>>,
    /// A live group of the organization to join, or `null` to leave the current one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = "uuid"))]
    pub user_group_id: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
