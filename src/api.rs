//! The JSON shapes of the API, in one place: the server writes them, the client reads them, and
//! the OpenAPI document describes them. Times are RFC 3339 UTC with whole seconds and a `Z`.
//!
//! Requests are described here for clients; the server reads request bodies field by field
//! (`routes::input`) so that every bad field can be reported at once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// UUID v7, lowercase.
    pub id: String,
    /// 1 to 255 characters, unique among the organization's live groups.
    pub name: String,
    /// Up to 2,000 characters.
    pub description: Option<String>,
    /// The caller's own identifier, unique among the organization's live groups when set.
    pub external_id: Option<String>,
    /// The owning organization.
    pub organization_id: String,
    /// Any JSON object, returned with its key order and number text as sent.
    pub extra_fields: Box<RawValue>,
    /// Creation time.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    #[serde(with = "timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Present only on the answer of the soft delete; equals `updated_at`.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A user; `user_group_id` is its membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// UUID v7, lowercase.
    pub id: String,
    /// 1 to 100 characters.
    pub first_name: String,
    /// 1 to 100 characters.
    pub last_name: String,
    /// `first_name last_name`.
    pub full_name: String,
    /// Unique among the organization's live users, case-insensitively.
    pub email: String,
    /// `creator`, `editor` or `admin`.
    pub role: String,
    /// An https URL.
    pub avatar: Option<String>,
    /// The owning organization.
    pub organization_id: String,
    /// The group the user belongs to, if any.
    pub user_group_id: Option<String>,
    /// Creation time.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    #[serde(with = "timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Present only on the answer of the soft delete; equals `updated_at`.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page, newest first.
    pub items: Vec<T>,
    /// The page number (from 1).
    pub page: i64,
    /// The page size (1 to 100).
    pub limit: i64,
    /// How many items match in all.
    pub total: i64,
    /// How many pages of `limit` items hold them; 0 when there are none.
    pub total_pages: i64,
}

/// One bad field of a request (in a 400 or 409 answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field as the client named it (`name`, `extraFields`, `page`, `id`, …).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    pub status_code: u16,
    /// The contract's message.
    pub message: String,
    /// A machine-readable cause: the 401 reasons of the signing scheme, or
    /// `group_has_active_members`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a group that still has members: how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_members: Option<i64>,
    /// Every bad field (400), or the field holding a taken value (409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// `POST /api/v1/user-groups`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroup {
    /// Required; trimmed, 1 to 255 characters.
    pub name: String,
    /// Up to 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Up to 255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A JSON object (default `{}`), up to 64 KiB serialized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_fields: Option<Box<RawValue>>,
}

/// `PUT /api/v1/user-groups/{id}`: only the fields set change; `Some(None)` clears.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGroup {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new description, or `Some(None)` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub description: Option<Option<String>>,
    /// A new external id, or `Some(None)` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub external_id: Option<Option<String>>,
    /// A replacement object (replaced whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_fields: Option<Box<RawValue>>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    /// Required; trimmed, 1 to 100 characters.
    pub first_name: String,
    /// Required; trimmed, 1 to 100 characters.
    pub last_name: String,
    /// Required; a valid address up to 254 characters.
    pub email: String,
    /// `creator` (default), `editor` or `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// An https URL up to 2,048 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// A live group of the organization to join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_group_id: Option<String>,
}

/// `PUT /api/v1/users/{id}`: only the fields set change; `Some(None)` clears. The email
/// cannot change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUser {
    /// A new first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// A new last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// A new role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A new avatar, or `Some(None)` to remove it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub avatar: Option<Option<String>>,
    /// A group to join, or `Some(None)` to leave the current one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
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
