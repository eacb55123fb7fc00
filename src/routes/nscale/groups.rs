//! The six group routes of the nscale dialect (`/api/v1/organizations/{organizationID}/groups`):
//! list (with `showDeleted`), create, get, replace, soft-delete and undelete (AIP-164), over the
//! same domain operations as the Onlive routes. This module reads a `groupWrite`, writes a `groupRead`, and checks what only this
//! dialect has (the organization in the path, the label-value name, the tags); every rule about
//! groups and their members is the domain's.
//!
//! Each handler checks, in the contract's order: the organization in the path (403), the
//! permission (403), the content type (415), the body (400), the group in the path (404), then
//! the state of the data (403, 404, 409). Errors are [`ApiError`]s, which
//! [`super::error::nscale_errors`] answers in the dialect's body.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::value::RawValue;

use super::error::NscaleErrorBody;
use crate::api::nscale::{
    GroupRead, GroupReadMetadata, GroupReadSpec, GroupWrite, HealthStatus, ProvisioningStatus, Tag,
};
use crate::auth::Permission;
use crate::db;
use crate::domain::deleted::{self, Listed};
use crate::domain::group::Members;
use crate::domain::lifecycle::{self, IfMatch};
use crate::domain::purge;
use crate::domain::{
    group, rules, DomainError, Group, GroupChanges, GroupId, NewGroup, OrganizationId, Resource,
    UserId,
};
use crate::limits;
use crate::routes::input::{
    no_query, parse_uuid, report_rule, require_json, Field, JsonObject, Query,
};
use crate::routes::{json_response, raw_json, ApiError, Caller, FieldErrors};
use crate::state::AppState;

/// The description of the 400 for a body with `spec.subjects`.
pub const SUBJECTS_NOT_SUPPORTED: &str = "subjects are not supported, use userIDs";

/// 403 unless `{organizationID}` is the caller's organization. A path value that is not a UUID
/// is refused the same way: to the caller it is just another organization that is not its own.
pub fn check_organization(req: &HttpRequest, caller: &Caller) -> Result<(), ApiError> {
    let asked = req.match_info().get("organizationID").and_then(parse_uuid);
    if asked.as_deref() == Some(caller.organization_id().as_str()) {
        Ok(())
    } else {
        Err(ApiError::ForeignOrganization)
    }
}

/// 403 (worded "operation is not allowed by rbac" by [`super::error`]) unless the caller's key
/// holds `permission`.
pub fn require(caller: &Caller, permission: Permission) -> Result<(), ApiError> {
    caller.require(permission)
}

/// `{groupid}` as a group id; anything that is not a UUID names no group (404).
fn group_id(req: &HttpRequest) -> Result<GroupId, ApiError> {
    req.match_info()
        .get("groupid")
        .and_then(parse_uuid)
        .map(GroupId::from)
        .ok_or(ApiError::not_found(Resource::Group))
}

/// True for a Kubernetes label value: `^[0-9A-Za-z](?:[0-9A-Za-z-_.]{0,61}[0-9A-Za-z])?$`.
/// By hand, in one pass over at most 63 bytes.
pub fn is_label_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    match bytes {
        [] => false,
        [only] => edge(only),
        [first, middle @ .., last] => {
            bytes.len() <= limits::LABEL_VALUE_MAX
                && edge(first)
                && edge(last)
                && middle.iter().all(inner)
        }
    }
}

/// A `groupWrite`, read and checked.
#[derive(Debug)]
struct Written {
    name: String,
    description: Option<String>,
    /// The tags as their stored JSON text.
    tags: Option<String>,
    role_ids: Vec<String>,
    service_account_ids: Vec<String>,
    user_ids: Option<Vec<UserId>>,
}

/// The members of a nested object, its errors reported with `prefix.` before field and message.
fn nested<'a>(
    outer: &mut JsonObject<'a>,
    prefix: &str,
    required: bool,
) -> Result<Option<JsonObject<'a>>, ApiError> {
    match outer.take(prefix) {
        Field::Absent if required => {
            outer.errors.add(prefix, format!("{prefix} is required"));
            Ok(None)
        }
        Field::Absent => Ok(None),
        Field::Value(raw) if raw.get().starts_with('{') => {
            Ok(Some(JsonObject::parse(raw.get().as_bytes())?))
        }
        Field::Null | Field::Value(_) => {
            outer
                .errors
                .add(prefix, format!("{prefix} must be a JSON object"));
            Ok(None)
        }
    }
}

/// Moves the errors of a finished nested object into `errors`, each named `prefix.field`.
fn merge(errors: &mut FieldErrors, prefix: &str, finished: Result<(), ApiError>) {
    if let Err(ApiError::InvalidInput(inner)) = finished {
        for error in inner.iter() {
            errors.add(
                format!("{prefix}.{}", error.field),
                format!("{prefix}.{}", error.message),
            );
        }
    }
}

/// A JSON array of strings of at most `max` entries, each an id: 1 to
/// [`limits::LISTED_ID_MAX`] printable ASCII characters (anything else can be no id of this
/// service, and is refused before it reaches a query).
fn take_ids(
    object: &mut JsonObject<'_>,
    prefix: &str,
    name: &str,
    required: bool,
    max: usize,
) -> Option<Vec<String>> {
    let field = format!("{prefix}.{name}");
    let raw = match object.take(name) {
        Field::Absent | Field::Null if !required => return None,
        Field::Absent => {
            object
                .errors
                .add(field.clone(), format!("{field} is required"));
            return None;
        }
        Field::Null => {
            object
                .errors
                .add(field.clone(), format!("{field} must be an array"));
            return None;
        }
        Field::Value(raw) => raw,
    };
    let Ok(ids) = serde_json::from_str::<Vec<String>>(raw.get()) else {
        object.errors.add(
            field.clone(),
            format!("{field} must be an array of strings"),
        );
        return None;
    };
    if ids.len() > max {
        object.errors.add(
            field.clone(),
            format!("{field} must hold at most {max} ids"),
        );
        return None;
    }
    let usable = |id: &String| {
        (1..=limits::LISTED_ID_MAX).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
    };
    if let Some(bad) = ids.iter().find(|id| !usable(id)) {
        let shown: String = bad.chars().take(limits::LISTED_ID_MAX).collect();
        object.errors.add(
            field.clone(),
            format!(
                "{field} holds {shown:?}, which is no id (1 to {} printable ASCII characters)",
                limits::LISTED_ID_MAX
            ),
        );
        return None;
    }
    Some(ids)
}

/// `metadata.tags`: at most [`limits::GROUP_TAGS_MAX`] `{name, value}` pairs, as stored JSON.
fn take_tags(metadata: &mut JsonObject<'_>) -> Option<String> {
    // Named within `metadata`: `merge` puts the `metadata.` before field and message.
    const FIELD: &str = "tags";
    let raw = match metadata.take("tags") {
        Field::Absent | Field::Null => return None,
        Field::Value(raw) => raw,
    };
    let tags = match serde_json::from_str::<Vec<Tag>>(raw.get()) {
        Ok(tags) => tags,
        Err(_) => {
            metadata.errors.add(
                FIELD,
                format!("{FIELD} must be an array of {{\"name\", \"value\"}} string pairs"),
            );
            return None;
        }
    };
    if tags.len() > limits::GROUP_TAGS_MAX {
        metadata.errors.add(
            FIELD,
            format!("{FIELD} must hold at most {} tags", limits::GROUP_TAGS_MAX),
        );
        return None;
    }
    for (index, tag) in tags.iter().enumerate() {
        for (part, text, min) in [("name", &tag.name, 1), ("value", &tag.value, 0)] {
            if let Err(rule) = rules::check_text(text, min, limits::GROUP_TAG_TEXT_MAX) {
                report_rule(
                    &mut metadata.errors,
                    &format!("{FIELD}[{index}].{part}"),
                    rule,
                );
            }
        }
    }
    serde_json::to_string(&tags).ok()
}

/// Reads a `groupWrite` body: unknown fields anywhere are a 400 naming them, `spec.subjects`
/// its own 400, and every other bad field is reported at once.
fn read_group_write(body: &[u8]) -> Result<Written, ApiError> {
    let mut top = JsonObject::parse(body)?;
    let mut metadata = nested(&mut top, "metadata", true)?;
    let mut spec = nested(&mut top, "spec", true)?;
    if spec.as_ref().is_some_and(|spec| spec.has("subjects")) {
        return Err(ApiError::invalid_field(
            "spec.subjects",
            SUBJECTS_NOT_SUPPORTED,
        ));
    }
    let mut errors = FieldErrors::new();

    let (mut name, mut description, mut tags) = (None, None, None);
    if let Some(metadata) = metadata.as_mut() {
        if !metadata.has("name") {
            metadata.errors.add("name", "name is required");
        }
        match metadata.take_string("name") {
            None => {}
            Some(None) => metadata.errors.add("name", "name must be a string"),
            Some(Some(text)) if !is_label_value(&text) => metadata.errors.add(
                "name",
                "name must be a label value: 1 to 63 letters, digits, '-', '_' or '.', \
                 beginning and ending with a letter or digit",
            ),
            Some(Some(text)) => match rules::group_name(&text) {
                Ok(valid) => name = Some(valid),
                Err(rule) => report_rule(&mut metadata.errors, "name", rule),
            },
        }
        if let Some(Some(text)) = metadata.take_string("description") {
            match rules::group_description(&text) {
                Ok(()) => description = Some(text),
                Err(rule) => report_rule(&mut metadata.errors, "description", rule),
            }
        }
        tags = take_tags(metadata);
    }
    let (mut role_ids, mut service_account_ids, mut user_ids) = (None, None, None);
    if let Some(spec) = spec.as_mut() {
        role_ids = take_ids(spec, "spec", "roleIDs", true, limits::GROUP_ROLE_IDS_MAX);
        service_account_ids = take_ids(
            spec,
            "spec",
            "serviceAccountIDs",
            true,
            limits::GROUP_SERVICE_ACCOUNT_IDS_MAX,
        );
        user_ids = take_ids(
            spec,
            "spec",
            "userIDs",
            false,
            limits::GROUP_MEMBERS_SET_MAX,
        );
    }
    // Top-level problems first, then each part's, in the body's order.
    if let Err(ApiError::InvalidInput(inner)) = top.finish() {
        for error in inner.iter() {
            errors.add(error.field.clone(), error.message.clone());
        }
    }
    if let Some(metadata) = metadata {
        merge(&mut errors, "metadata", metadata.finish());
    }
    if let Some(spec) = spec {
        // take_ids names its errors in full already; finish adds only unknown fields.
        if let Err(ApiError::InvalidInput(inner)) = spec.finish() {
            for error in inner.iter() {
                if error.field.starts_with("spec.") {
                    errors.add(error.field.clone(), error.message.clone());
                } else {
                    errors.add(
                        format!("spec.{}", error.field),
                        format!("spec.{}", error.message),
                    );
                }
            }
        }
    }
    errors.into_result(())?;
    match (name, role_ids, service_account_ids) {
        (Some(name), Some(role_ids), Some(service_account_ids)) => Ok(Written {
            name,
            description,
            tags,
            role_ids,
            service_account_ids,
            // An id is compared as the service writes it: a UUID in lowercase.
            user_ids: user_ids.map(|ids| {
                ids.into_iter()
                    .map(|id| UserId::from(parse_uuid(&id).unwrap_or(id)))
                    .collect()
            }),
        }),
        _ => Err(ApiError::internal("a bad groupWrite was not reported")),
    }
}

/// The dialect's view of a stored group and its members: `spec.userIDs` lists them (sorted by
/// id), or is left out when there are more than one read lists.
pub fn group_read(group: Group, members: Members) -> Result<GroupRead, ApiError> {
    let tags = group
        .tags
        .as_deref()
        .map(serde_json::from_str::<Vec<Tag>>)
        .transpose()
        .map_err(|e| {
            ApiError::internal(format!("stored tags of {} are not tags: {e}", group.id))
        })?;
    let role_ids = group.role_id_list()?;
    let service_account_ids = group.service_account_id_list()?;
    let deleted = group.deleted_at.is_some();
    Ok(GroupRead {
        metadata: GroupReadMetadata {
            id: group.id.into_inner(),
            name: group.name,
            description: group.description,
            tags,
            organization_id: group.organization_id.into_inner(),
            creation_time: group.created_at.and_utc(),
            created_by: group.created_by,
            modified_time: group.modified_at.map(|t| t.and_utc()),
            modified_by: group.modified_by,
            deletion_time: group.deleted_at.map(|t| t.and_utc()),
            deleted_by: None,
            purge_time: None,
            provisioning_status: if deleted {
                ProvisioningStatus::Deprovisioning
            } else {
                ProvisioningStatus::Provisioned
            },
            health_status: HealthStatus::Healthy,
        },
        spec: GroupReadSpec {
            role_ids,
            service_account_ids,
            user_ids: match members {
                Members::Listed(ids) => Some(ids.into_iter().map(UserId::into_inner).collect()),
                Members::MoreThan(_) => None,
            },
        },
    })
}

/// The dialect's view of a listed group: a live one with its members, a deleted one (which has
/// none) with `deletedBy` and `purgeTime` besides its `deletionTime`.
fn listed_read(
    state: &AppState,
    listed: Listed<Group>,
    members: &mut HashMap<GroupId, Members>,
) -> Result<GroupRead, ApiError> {
    match listed {
        Listed::Live(group) => {
            let listed = members
                .remove(&group.id)
                .unwrap_or(Members::Listed(Vec::new()));
            group_read(group, listed)
        }
        Listed::Deleted(deleted) => {
            let mut read = group_read(deleted.value, Members::Listed(Vec::new()))?;
            read.metadata.purge_time = read.metadata.deletion_time.map(|deleted_at| {
                purge::purge_time(
                    deleted_at.naive_utc(),
                    state.limits.retention_since,
                    state.limits.retention,
                )
                .and_utc()
            });
            read.metadata.deleted_by = deleted.deleted_by;
            Ok(read)
        }
    }
}

/// The list's one query parameter, `showDeleted` (`true` or `false`, absent meaning `false`),
/// with the 400 of any other parameter, a repeated one or another value. `showDeleted=true`
/// needs `user-groups:read-deleted` (403), checked before the other parameters' 400.
fn show_deleted(req: &HttpRequest, caller: &Caller) -> Result<bool, ApiError> {
    let mut query = Query::parse(req, &["showDeleted"]);
    let show = match query.get("showDeleted") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            query
                .errors
                .add("showDeleted", "showDeleted must be true or false");
            false
        }
    };
    if show {
        require(caller, Permission::UserGroupsReadDeleted)?;
    }
    query.finish()?;
    Ok(show)
}

/// `GET /api/v1/organizations/{organizationID}/groups[?showDeleted=true]`: 200, a bare array of
/// every live group of the organization (and with `showDeleted=true` every soft-deleted one the
/// purge has not removed yet), sorted by name (bytes) then id; 400 when it has more than
/// [`limits::NSCALE_GROUP_LIST_MAX`] live (or deleted) groups (the list is unpaged), or for a
/// bad query; 403.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{organizationID}/groups",
    operation_id = "nscale_list_groups",
    tag = "nscale",
    summary = "List the organization's groups (nscale)",
    description = "Every live group of the organization, sorted by `metadata.name` in byte \
        order, then id; unpaged, as nscale's. An organization with more than 1,000 live groups \
        (or groups whose answer would pass 512 KiB) is answered 400: list those page by page \
        with `GET /api/v1/user-groups`. A group of more than 1,000 members is listed without \
        `spec.userIDs`. \
        With `showDeleted=true` (AIP-164), the soft-deleted groups the retention purge has not \
        removed yet are listed too, in the same order, each with `deletionTime`, \
        `provisioningStatus: deprovisioning`, `deletedBy`, `purgeTime` and no members; this \
        needs `user-groups:read-deleted` besides `user-groups:read`, and more than 1,000 deleted \
        groups is a 400 pointing to `GET /api/v1/deleted-user-groups`.",
    security(("onlivesite" = []), ("oauth2" = [])),
    params(
        ("organizationID" = String, Path, format = "uuid",
            description = "The caller's organization; any other (or no UUID) is a 403."),
        ("showDeleted" = Option<bool>, Query,
            description = "`true` lists the soft-deleted groups too (needs \
                `user-groups:read-deleted`); `false` or absent lists the live ones only. Any \
                other value, or any other parameter, is a 400."),
    ),
    responses(
        (status = 200, description = "Every live group (and, with `showDeleted=true`, every \
            deleted one not yet purged).", body = Vec<GroupRead>,
            example = json!([{"metadata": {"id": "019388a0-0000-7000-8000-000000000001",
                "name": "The-A-Team", "organizationId": "123e4567-e89b-12d3-a456-426614174000",
                "creationTime": "2025-05-22T10:30:00Z", "createdBy": "AKIAIOSFODNN7EXAMPLE",
                "provisioningStatus": "provisioned", "healthStatus": "healthy"},
                "spec": {"roleIDs": [], "serviceAccountIDs": [],
                    "userIDs": ["019388a0-0000-7000-8000-0000000000a1"]}},
                {"metadata": {"id": "019388a0-0000-7000-8000-000000000002",
                "name": "The-B-Team", "organizationId": "123e4567-e89b-12d3-a456-426614174000",
                "creationTime": "2025-05-22T10:30:00Z", "createdBy": "AKIAIOSFODNN7EXAMPLE",
                "modifiedTime": "2025-05-23T09:00:00Z", "modifiedBy": "AKIAIOSFODNN7EXAMPLE",
                "deletionTime": "2025-05-23T09:00:00Z", "deletedBy": "AKIAIOSFODNN7EXAMPLE",
                "purgeTime": "2025-06-22T09:00:00Z",
                "provisioningStatus": "deprovisioning", "healthStatus": "healthy"},
                "spec": {"roleIDs": [], "serviceAccountIDs": [], "userIDs": []}}])),
        (status = 400, description = "More live (or deleted) groups than one answer lists \
            (over 1,000, or over the 512 KiB answer bound with their members), or a bad query: `showDeleted` not `true` or `false`, repeated, or another parameter.",
            body = NscaleErrorBody, example = json!({"error": "invalid_request",
                "error_description": "showDeleted must be true or false"})),
        (status = 403, description = "Another organization, or the key lacks \
            `user-groups:read` (or `user-groups:read-deleted` for `showDeleted=true`).",
            body = NscaleErrorBody,
            example = json!({"error": "forbidden",
                "error_description": "operation is not allowed by rbac"})),
    ),
)]
pub async fn list_groups(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_organization(&req, &caller)?;
    require(&caller, Permission::UserGroupsRead)?;
    let show_deleted = show_deleted(&req, &caller)?;
    let organization_id = caller.organization_id().clone();
    let (listed, mut members) = db::run(&state.pool, move |conn| {
        let max = limits::NSCALE_GROUP_LIST_MAX;
        let listed = if show_deleted {
            deleted::list_all_groups(conn, &organization_id, max)?
        } else {
            Group::list_all(conn, &organization_id, max)?
                .into_iter()
                .map(Listed::Live)
                .collect()
        };
        // Deleted groups have no active member: only the live ones are asked about.
        let ids: Vec<GroupId> = listed
            .iter()
            .filter_map(|listed| match listed {
                Listed::Live(group) => Some(group.id.clone()),
                Listed::Deleted(_) => None,
            })
            .collect();
        let members = group::members_of_each_up_to(conn, &ids, limits::GROUP_MEMBERS_SHOWN_MAX)?;
        Ok::<_, ApiError>((listed, members))
    })
    .await?;
    // Each group is written out once, and the answer refused as soon as it passes the bound.
    let mut reads: Vec<Box<RawValue>> = Vec::with_capacity(listed.len());
    let mut size = 2;
    for listed in listed {
        let read = raw_json(&listed_read(&state, listed, &mut members)?)?;
        size += read.get().len() + 1;
        if size > limits::ANSWER_MAX_BYTES {
            return Err(ApiError::invalid_field(
                "organizationID",
                format!(
                    "the organization's groups make an answer larger than one answer carries \
                     ({} bytes); list them page by page with GET /api/v1/user-groups",
                    limits::ANSWER_MAX_BYTES
                ),
            ));
        }
        reads.push(read);
    }
    Ok(json_response(StatusCode::OK, &reads))
}

/// The members a groupRead shows of the organization's group `id` (checked by the caller).
fn shown_members(conn: &mut db::DbConnection, id: &GroupId) -> Result<Members, DomainError> {
    group::members_up_to(conn, id, limits::GROUP_MEMBERS_SHOWN_MAX)
}

/// One group and its members, read in one hop.
async fn read_one(
    state: &AppState,
    organization_id: OrganizationId,
    id: GroupId,
) -> Result<(Group, Members), ApiError> {
    db::run(&state.pool, move |conn| {
        let group = Group::get(conn, &organization_id, &id)?;
        let members = shown_members(conn, &id)?;
        Ok::<_, ApiError>((group, members))
    })
    .await
}

/// `POST /api/v1/organizations/{organizationID}/groups`: groupWrite → 201 groupRead. 400 for
/// bad fields (unknown roles, service accounts or users named), 403, 409 when the name is taken
/// or a listed user is in another group. The group and its members are one transaction.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{organizationID}/groups",
    operation_id = "nscale_create_group",
    tag = "nscale",
    summary = "Create a group (nscale)",
    security(("onlivesite" = []), ("oauth2" = [])),
    params(("organizationID" = String, Path, format = "uuid",
        description = "The caller's organization; any other (or no UUID) is a 403.")),
    request_body(content = GroupWrite, content_type = "application/json"),
    responses(
        (status = 201, description = "The new group.", body = GroupRead),
        (status = 400, description = "The body is no groupWrite: not JSON, unknown or bad \
            fields (named), `spec.subjects`, an unknown role, service account or user id.",
            body = NscaleErrorBody, example = json!({"error": "invalid_request",
                "error_description": "subjects are not supported, use userIDs"})),
        (status = 403, description = "Another organization, or the key lacks \
            `user-groups:write`.", body = NscaleErrorBody),
        (status = 409, description = "A live group of the organization has this name, or a \
            listed user is a member of another group.", body = NscaleErrorBody),
    ),
)]
pub async fn create_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_organization(&req, &caller)?;
    require(&caller, Permission::UserGroupsWrite)?;
    require_json(&req)?;
    let written = read_group_write(&caller.body)?;
    no_query(&req)?;
    let new_group = NewGroup {
        name: written.name,
        description: written.description,
        external_id: None,
        extra_fields: "{}".to_owned(),
        tags: written.tags,
        role_ids: written.role_ids,
        service_account_ids: written.service_account_ids,
        created_by: Some(caller.principal.access_key_id.as_str().to_owned()),
    };
    let members = written.user_ids;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let (group, members) = caller
        .write(&state, move |conn| {
            let (group, members) = lifecycle::create_group_with_members(
                conn,
                &actor,
                &organization_id,
                &new_group,
                members.as_deref(),
            )?;
            Ok((group.value, members))
        })
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &group_read(group, Members::Listed(members))?,
    ))
}

/// `GET /api/v1/organizations/{organizationID}/groups/{groupid}`: 200 groupRead; 403; 404 when
/// missing, deleted, another organization's or no UUID.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{organizationID}/groups/{groupid}",
    operation_id = "nscale_get_group",
    tag = "nscale",
    summary = "Read a group (nscale)",
    security(("onlivesite" = []), ("oauth2" = [])),
    params(
        ("organizationID" = String, Path, format = "uuid",
            description = "The caller's organization; any other (or no UUID) is a 403."),
        ("groupid" = String, Path, description = "The group's id (a UUID; anything else is a 404)."),
    ),
    responses(
        (status = 200, description = "The group. `spec.userIDs` is left out when it has more \
            than 1,000 live members (list those with `GET /api/v1/users?userGroupId=`).",
            body = GroupRead),
        (status = 403, description = "Another organization, or the key lacks \
            `user-groups:read`.", body = NscaleErrorBody),
        (status = 404, description = "No live group of the organization has this id.",
            body = NscaleErrorBody, example = json!({"error": "not_found",
                "error_description": "group not found"})),
    ),
)]
pub async fn get_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_organization(&req, &caller)?;
    require(&caller, Permission::UserGroupsRead)?;
    no_query(&req)?;
    let id = group_id(&req)?;
    let (group, members) = read_one(&state, caller.organization_id().clone(), id).await?;
    Ok(json_response(StatusCode::OK, &group_read(group, members)?))
}

/// `PUT /api/v1/organizations/{organizationID}/groups/{groupid}`: groupWrite, a full replace of
/// what this dialect shows (`externalId` and `extraFields` kept; `userIDs` left out keeps the
/// members) → 200 groupRead; 400, 403, 404, 409. One transaction.
#[utoipa::path(
    put,
    path = "/api/v1/organizations/{organizationID}/groups/{groupid}",
    operation_id = "nscale_update_group",
    tag = "nscale",
    summary = "Replace a group (nscale)",
    description = "A full replace of `metadata` and `spec`: a description or tags left out are \
        cleared; `spec.userIDs` left out keeps the members (so a groupRead written back \
        without it, as a group of more than 1,000 members is shown, keeps them). One write \
        takes at most 1,000 members out of the group. The Onlive-only `externalId` and \
        `extraFields` are kept.",
    security(("onlivesite" = []), ("oauth2" = [])),
    params(
        ("organizationID" = String, Path, format = "uuid",
            description = "The caller's organization; any other (or no UUID) is a 403."),
        ("groupid" = String, Path, description = "The group's id (a UUID; anything else is a 404)."),
    ),
    request_body(content = GroupWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "The group as replaced.", body = GroupRead),
        (status = 400, description = "The body is no groupWrite (see POST), or \
            `spec.userIDs` would take more than 1,000 members out of the group in one write \
            (refused before anything changes; take at most 1,000 out per write, or members one \
            by one with `PUT /api/v1/users/{id}`).", body = NscaleErrorBody),
        (status = 403, description = "Another organization, or the key lacks \
            `user-groups:write`.", body = NscaleErrorBody),
        (status = 404, description = "No live group of the organization has this id.",
            body = NscaleErrorBody),
        (status = 409, description = "Another live group has this name, or a listed user is a \
            member of another group.", body = NscaleErrorBody),
    ),
)]
pub async fn update_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_organization(&req, &caller)?;
    require(&caller, Permission::UserGroupsWrite)?;
    require_json(&req)?;
    let written = read_group_write(&caller.body)?;
    no_query(&req)?;
    let id = group_id(&req)?;
    let changes = GroupChanges {
        name: Some(written.name),
        description: Some(written.description),
        tags: Some(written.tags),
        role_ids: Some(written.role_ids),
        service_account_ids: Some(written.service_account_ids),
        members: written.user_ids,
        ..GroupChanges::default()
    };
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let (group, members) = caller
        .write(&state, move |conn| {
            let group = lifecycle::update_group(
                conn,
                &actor,
                &organization_id,
                &id,
                &changes,
                &IfMatch::Any,
            )?;
            Ok((group.value, shown_members(conn, &id)?))
        })
        .await?;
    Ok(json_response(StatusCode::OK, &group_read(group, members)?))
}

/// `DELETE /api/v1/organizations/{organizationID}/groups/{groupid}`: soft delete → 200 with the
/// final groupRead (`deletionTime` set, `provisioningStatus: deprovisioning`); 403 "cannot
/// delete group with active members"; 404.
#[utoipa::path(
    delete,
    path = "/api/v1/organizations/{organizationID}/groups/{groupid}",
    operation_id = "nscale_delete_group",
    tag = "nscale",
    summary = "Delete a group (nscale)",
    description = "Soft delete: the group is never visible again and its name may be reused. \
        Refused while any live user is a member.",
    security(("onlivesite" = []), ("oauth2" = [])),
    params(
        ("organizationID" = String, Path, format = "uuid",
            description = "The caller's organization; any other (or no UUID) is a 403."),
        ("groupid" = String, Path, description = "The group's id (a UUID; anything else is a 404)."),
    ),
    responses(
        (status = 200, description = "The final group, with `metadata.deletionTime`.",
            body = GroupRead),
        (status = 403, description = "Another organization, the key lacks \
            `user-groups:delete`, or the group has active members.", body = NscaleErrorBody,
            example = json!({"error": "forbidden",
                "error_description": "cannot delete group with active members"})),
        (status = 404, description = "No live group of the organization has this id.",
            body = NscaleErrorBody),
    ),
)]
pub async fn delete_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_organization(&req, &caller)?;
    require(&caller, Permission::UserGroupsDelete)?;
    no_query(&req)?;
    let id = group_id(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let group = caller
        .write(&state, move |conn| {
            lifecycle::delete_group(conn, &actor, &organization_id, &id, &IfMatch::Any)
                .map(|group| group.value)
        })
        .await?;
    // A deleted group has no active member: the delete refuses otherwise.
    Ok(json_response(
        StatusCode::OK,
        &group_read(group, Members::Listed(Vec::new()))?,
    ))
}

/// `POST /api/v1/organizations/{organizationID}/groups/{groupid}:undelete` (AIP-164's Undelete):
/// brings a soft-deleted group back → 200 with its live groupRead; 400 for a body or a query;
/// 403; 404 when it is missing, live, purged, another organization's or no UUID; 409 when a live
/// group now holds its name or externalId. One transaction, with the `user-group.restored`
/// event.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{organizationID}/groups/{groupid}:undelete",
    operation_id = "nscale_undelete_group",
    tag = "nscale",
    summary = "Undelete a group (nscale)",
    description = "AIP-164's Undelete: brings a soft-deleted group that the retention purge has \
        not removed yet back to life, with its name, description, tags, `roleIDs` and \
        `serviceAccountIDs` as they were (and the Onlive-only `externalId` and `extraFields`); \
        `spec.userIDs` are its live members now. A group deleted through either dialect can be \
        undeleted. No body (an empty one at most) and no query. Needs `user-groups:restore`, \
        which no key has by default.",
    security(("onlivesite" = []), ("oauth2" = [])),
    params(
        ("organizationID" = String, Path, format = "uuid",
            description = "The caller's organization; any other (or no UUID) is a 403."),
        ("groupid" = String, Path,
            description = "The deleted group's id (a UUID; anything else is a 404)."),
    ),
    responses(
        (status = 200, description = "The group, live again.", body = GroupRead),
        (status = 400, description = "A body or a query was sent.", body = NscaleErrorBody,
            example = json!({"error": "invalid_request",
                "error_description": "undelete takes no body"})),
        (status = 403, description = "Another organization, or the key lacks \
            `user-groups:restore`.", body = NscaleErrorBody,
            example = json!({"error": "forbidden",
                "error_description": "operation is not allowed by rbac"})),
        (status = 404, description = "No deleted group of the organization has this id: \
            missing, live, purged, another organization's, or no UUID.",
            body = NscaleErrorBody, example = json!({"error": "not_found",
                "error_description": "group not found"})),
        (status = 409, description = "A live group of the organization now holds its name (or \
            its Onlive `externalId`).", body = NscaleErrorBody,
            example = json!({"error": "conflict",
                "error_description": "a live group of the organization already has this name"})),
    ),
)]
pub async fn undelete_group(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_organization(&req, &caller)?;
    require(&caller, Permission::UserGroupsRestore)?;
    if !caller.body.is_empty() {
        return Err(ApiError::invalid_field("body", "undelete takes no body"));
    }
    no_query(&req)?;
    let id = group_id(&req)?;
    let (actor, organization_id) = (caller.actor(), caller.organization_id().clone());
    let (group, members) = caller
        .write(&state, move |conn| {
            let group = deleted::restore_group(conn, &actor, &organization_id, &id)?;
            Ok((group.value, shown_members(conn, &id)?))
        })
        .await?;
    Ok(json_response(StatusCode::OK, &group_read(group, members)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_follow_the_kubernetes_rule() {
        let cases = [
            ("a", true, "one alphanumeric character"),
            ("The-A-Team", true, "letters and dashes"),
            ("a.b_c-9", true, "every allowed inner character"),
            (&"x".repeat(63), true, "63 characters"),
            (&"x".repeat(64), false, "64 characters"),
            ("", false, "empty"),
            ("-a", false, "starts with a dash"),
            ("a.", false, "ends with a dot"),
            ("a b", false, "a space"),
            ("é", false, "a non-ASCII letter"),
            ("_", false, "one non-alphanumeric character"),
        ];
        for (text, expected, why) in cases {
            assert_eq!(is_label_value(text), expected, "{why}");
        }
    }
}
