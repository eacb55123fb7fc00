//! The nscale dialect's JSON shapes (`/api/v1/organizations/{organizationID}/…`): `groupWrite`,
//! `groupRead` and `roleRead` of the nscale Identity API, as `../shared/spec/nscale.md` gives
//! them. The server writes `GroupRead` and `RoleRead`; it reads a `groupWrite` field by field
//! (`routes::nscale::groups`), so that an unknown field, `spec.subjects` or a bad name each get
//! their own answer, but it accepts exactly what [`GroupWrite`] describes.
//!
//! Absent is not empty here: `description`, `tags`, `createdBy`, `modifiedTime`, `modifiedBy`,
//! `deletionTime`, `deletedBy` and `purgeTime` are left out when unset (never `null`), while
//! `spec.roleIDs` and `spec.serviceAccountIDs` are always present, and so is `spec.userIDs`
//! except on a group with more members than one read lists
//! ([`crate::limits::GROUP_MEMBERS_SHOWN_MAX`]), where it is left out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::timestamp;

/// A `{name, value}` pair stored with a group and shown only in this dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "server",
    schema(examples(json!({"name": "team", "value": "a"})))
)]
pub struct Tag {
    /// 1 to 255 characters.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 255))]
    pub name: String,
    /// Up to 255 characters.
    #[cfg_attr(feature = "server", schema(max_length = 255))]
    pub value: String,
}

/// The `metadata` of a `groupWrite`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupWriteMetadata {
    /// Required; a Kubernetes label value (`^[0-9A-Za-z](?:[0-9A-Za-z-_.]{0,61}[0-9A-Za-z])?$`),
    /// the group's `name` in the Onlive dialect too, so unique among the organization's live
    /// groups across both dialects (409).
    // The pattern is in the description, not a `pattern` keyword: the rule is checked by hand
    // (`routes::nscale::groups::is_label_value`), and a regex dialect would be one more thing
    // for client generators to disagree on.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 63))]
    pub name: String,
    /// Up to 2,000 characters; left out when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, max_length = 2000))]
    pub description: Option<String>,
    /// Up to 64 tags; left out when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, max_items = 64))]
    pub tags: Option<Vec<Tag>>,
}

/// The `spec` of a `groupWrite`. `subjects` is not supported (400: use `userIDs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupWriteSpec {
    /// Required (may be empty); ids of the built-in roles (`GET …/roles`), up to 16.
    #[serde(rename = "roleIDs")]
    #[cfg_attr(feature = "server", schema(max_items = 16))]
    pub role_ids: Vec<String>,
    /// Required (may be empty); ids of the organization's live access keys, up to 100.
    #[serde(rename = "serviceAccountIDs")]
    #[cfg_attr(feature = "server", schema(max_items = 100))]
    pub service_account_ids: Vec<String>,
    /// The group's members, user ids of the organization, up to 1,000: listed users join,
    /// members not listed leave. Left out on PUT: the membership is unchanged.
    #[serde(rename = "userIDs", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, max_items = 1000))]
    pub user_ids: Option<Vec<String>>,
}

/// `POST` and `PUT` of `/api/v1/organizations/{organizationID}/groups…`: a full replace of what
/// this dialect shows. Unknown fields are refused (400).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "server", schema(examples(json!({
    "metadata": {"name": "The-A-Team", "description": "An elite commando unit.",
                 "tags": [{"name": "team", "value": "a"}]},
    "spec": {"roleIDs": [], "serviceAccountIDs": [], "userIDs": []}
}))))]
pub struct GroupWrite {
    /// Name, description and tags.
    pub metadata: GroupWriteMetadata,
    /// Roles, service accounts and members.
    pub spec: GroupWriteSpec,
}

/// Where a group is in its life: `provisioned`, or `deprovisioning` on a deleted group's final
/// answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProvisioningStatus {
    /// A live group.
    Provisioned,
    /// A group just deleted (nscale's status for a resource with a deletion time).
    Deprovisioning,
}

/// A group's health: always `healthy` (a group has nothing that can fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The only status shown.
    Healthy,
}

/// The `metadata` of a `groupRead`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupReadMetadata {
    /// The group's id (the same UUID as in the Onlive dialect).
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub id: String,
    /// The name as stored: a label value when written here, any Onlive name otherwise.
    pub name: String,
    /// Left out when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, max_length = 2000))]
    pub description: Option<String>,
    /// Left out when unset (and on a group made in the Onlive dialect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub tags: Option<Vec<Tag>>,
    /// The owning organization.
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub organization_id: String,
    /// Creation time.
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub creation_time: DateTime<Utc>,
    /// The id of the access key that created the group, in either dialect; left out for a group
    /// made without one (before this field existed, or by `usergroups import`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub created_by: Option<String>,
    /// Time of the last change; left out until the group first changes after its creation.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "server",
        schema(value_type = String, format = DateTime, nullable = false)
    )]
    pub modified_time: Option<DateTime<Utc>>,
    /// The access key of the last change; left out as `modifiedTime` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub modified_by: Option<String>,
    /// Only on a deleted group: its delete's final answer, and the list with `showDeleted=true`.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "server",
        schema(value_type = String, format = DateTime, nullable = false)
    )]
    pub deletion_time: Option<DateTime<Utc>>,
    /// The access key id that deleted the group; only on a deleted group listed with
    /// `showDeleted=true`, and left out there too when it is not known (a group deleted before
    /// this was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false))]
    pub deleted_by: Option<String>,
    /// When the retention purge removes the deleted group for good (`deletionTime` plus the
    /// retention); only on a deleted group listed with `showDeleted=true`. Until then it can be
    /// undeleted.
    #[serde(
        default,
        with = "timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "server",
        schema(value_type = String, format = DateTime, nullable = false)
    )]
    pub purge_time: Option<DateTime<Utc>>,
    /// `provisioned`, or `deprovisioning` once deleted.
    pub provisioning_status: ProvisioningStatus,
    /// Always `healthy`.
    pub health_status: HealthStatus,
}

/// The `spec` of a `groupRead`: the three lists, present (`[]` when empty), except `userIDs`
/// on a group with more than 1,000 members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GroupReadSpec {
    /// Ids of built-in roles, as written.
    #[serde(rename = "roleIDs")]
    pub role_ids: Vec<String>,
    /// Ids of access keys of the organization, as written.
    #[serde(rename = "serviceAccountIDs")]
    pub service_account_ids: Vec<String>,
    /// The live users whose `userGroupId` is the group, sorted by id, when there are at most
    /// 1,000 of them. Left out on a group with more (one answer does not carry them all, and a
    /// part of them written back in a PUT would take the others out of the group; a PUT that
    /// leaves `userIDs` out keeps the members): list those page by page with
    /// `GET /api/v1/users?userGroupId={id}`.
    #[serde(rename = "userIDs", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(nullable = false, max_items = 1000))]
    pub user_ids: Option<Vec<String>>,
}

/// A group as this dialect shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(examples(json!({
    "metadata": {"id": "019388a0-0000-7000-8000-000000000001", "name": "The-A-Team",
                 "description": "An elite commando unit.",
                 "tags": [{"name": "team", "value": "a"}],
                 "organizationId": "123e4567-e89b-12d3-a456-426614174000",
                 "creationTime": "2025-05-22T10:30:00Z",
                 "createdBy": "AKIAIOSFODNN7EXAMPLE",
                 "provisioningStatus": "provisioned", "healthStatus": "healthy"},
    "spec": {"roleIDs": [], "serviceAccountIDs": [], "userIDs": []}
}))))]
pub struct GroupRead {
    /// Identity, name, times and status.
    pub metadata: GroupReadMetadata,
    /// Roles, service accounts and members.
    pub spec: GroupReadSpec,
}

/// The `metadata` of a built-in role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoleReadMetadata {
    /// The role's id, fixed for the product (the same on every installation).
    #[cfg_attr(feature = "server", schema(format = "uuid"))]
    pub id: String,
    /// `administrator`, `user` or `reader`.
    pub name: String,
    /// What the role is for.
    pub description: String,
    /// A fixed time (the catalogue's), since nscale's clients expect one on every resource.
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub creation_time: DateTime<Utc>,
    /// Always `provisioned`.
    pub provisioning_status: ProvisioningStatus,
    /// Always `healthy`.
    pub health_status: HealthStatus,
}

/// A built-in role, as `GET /api/v1/organizations/{organizationID}/roles` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RoleRead {
    /// The role's id, name and description.
    pub metadata: RoleReadMetadata,
}
