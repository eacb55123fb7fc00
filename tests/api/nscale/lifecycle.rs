//! The nscale dialect's share of the lifecycle, after AIP-164: `showDeleted=true` on the list,
//! and `POST …/groups/{groupid}:undelete` (`docs/nscale.md`, "Deleted groups (AIP-164)").

use std::time::Duration;

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use usergroups::auth::PermissionSet;
use usergroups::group_roles::ADMINISTRATOR_ID;
use usergroups::Limits;

use super::groups::{
    assert_nscale_error, create_nscale_group, description, group_path, group_write, groups_path,
    nscale_id,
};
use crate::helpers::{spawn_app, spawn_app_with, unknown_id, TestApp};
use crate::lifecycle::{backdate_group_deletion, feed, purge};

/// `…/groups?showDeleted=true` of the app's organization.
fn with_deleted(app: &TestApp) -> String {
    format!("{}?showDeleted=true", groups_path(app))
}

/// `…/groups/{id}:undelete` of the app's organization.
fn undelete_path(app: &TestApp, id: &str) -> String {
    format!("{}:undelete", group_path(app, id))
}

/// Undeletes with the app's key (which holds every permission), no body.
async fn undelete(app: &TestApp, id: &str) -> crate::helpers::TestResponse {
    app.write("POST", &undelete_path(app, id)).send().await
}

/// The ids of a bare array of groupRead, in order.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a bare array")
        .iter()
        .map(nscale_id)
        .collect()
}

/// The groupRead of `id` in a bare array.
fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .expect("a bare array")
        .iter()
        .find(|g| nscale_id(g) == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {list}"))
}

fn time_of(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

/// Creates an Onlive group and returns its id.
async fn create_onlive_group(app: &TestApp, body: Value) -> String {
    let created = app.post("/api/v1/user-groups", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_deleted_group_is_listed_with_show_deleted_and_comes_back_whole_with_undelete() {
    let app = spawn_app_with(Limits {
        retention: Duration::from_secs(7 * 86_400),
        ..Limits::default()
    })
    .await;
    let key_id = app.credentials.access_key_id.as_str().to_owned();
    let created = create_nscale_group(
        &app,
        json!({"metadata": {"name": "bravo", "description": "the second",
                            "tags": [{"name": "team", "value": "b"}]},
               "spec": {"roleIDs": [ADMINISTRATOR_ID], "serviceAccountIDs": [key_id]}}),
    )
    .await;
    let id = nscale_id(&created);
    let live = nscale_id(&create_nscale_group(&app, group_write("alpha")).await);
    let last = nscale_id(&create_nscale_group(&app, group_write("charlie")).await);
    let deleted = app.delete(&group_path(&app, &id)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);

    let plain = app.get(&groups_path(&app)).await;
    let listed = app.get(&with_deleted(&app)).await;

    assert_eq!(ids(&plain.body), [live.clone(), last.clone()]);
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        ids(&listed.body),
        [live.clone(), id.clone(), last],
        "sorted by name as the live list is, deleted groups among the live ones"
    );
    let shown = &find(&listed.body, &id)["metadata"];
    assert_eq!(shown["provisioningStatus"], "deprovisioning");
    assert_eq!(shown["deletedBy"], key_id.as_str());
    let deletion_time = time_of(&shown["deletionTime"]);
    assert_eq!(
        deletion_time,
        time_of(&deleted.body["metadata"]["deletionTime"])
    );
    assert_eq!(
        time_of(&shown["purgeTime"]) - deletion_time,
        chrono::TimeDelta::days(7),
        "purgeTime is deletionTime plus the retention"
    );
    assert_eq!(find(&listed.body, &id)["spec"]["userIDs"], json!([]));
    let alive = &find(&listed.body, &live)["metadata"];
    for field in ["deletedBy", "purgeTime", "deletionTime"] {
        assert!(
            alive.get(field).is_none(),
            "{field} on a live group: {alive}"
        );
    }
    assert_eq!(alive["provisioningStatus"], "provisioned");

    let undeleted = undelete(&app, &id).await;

    assert_eq!(undeleted.status, StatusCode::OK, "{}", undeleted.body);
    let metadata = &undeleted.body["metadata"];
    for field in [
        "id",
        "name",
        "description",
        "tags",
        "creationTime",
        "createdBy",
    ] {
        assert_eq!(metadata[field], created["metadata"][field], "{field}");
    }
    assert_eq!(
        undeleted.body["spec"], created["spec"],
        "roles and accounts kept"
    );
    assert_eq!(metadata["provisioningStatus"], "provisioned");
    assert_eq!(
        metadata["modifiedTime"], deleted.body["metadata"]["modifiedTime"],
        "an undelete is no edit: the last modification stays the delete"
    );
    for field in ["deletionTime", "deletedBy", "purgeTime"] {
        assert!(metadata.get(field).is_none(), "{field}: {metadata}");
    }
    let read = app.get(&group_path(&app, &id)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body, undeleted.body);
    let relisted = app.get(&groups_path(&app)).await;
    assert_eq!(ids(&relisted.body).len(), 3);
    assert_eq!(find(&relisted.body, &id), &undeleted.body);
    let events = feed(&app).await;
    let of_group: Vec<&str> = events
        .iter()
        .filter(|e| e["resourceId"] == id.as_str())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        of_group,
        [
            "user-group.created",
            "user-group.deleted",
            "user-group.restored"
        ]
    );
    let restored = events.last().unwrap();
    assert_eq!(restored["actor"], key_id.as_str());
}

#[actix_web::test]
async fn show_deleted_false_or_absent_is_the_live_list() {
    let app = spawn_app().await;
    let live = nscale_id(&create_nscale_group(&app, group_write("kept")).await);
    let gone = nscale_id(&create_nscale_group(&app, group_write("gone")).await);
    app.delete(&group_path(&app, &gone)).await;

    let absent = app.get(&groups_path(&app)).await;
    let off = app
        .get(&format!("{}?showDeleted=false", groups_path(&app)))
        .await;
    let on = app.get(&with_deleted(&app)).await;

    assert_eq!(absent.status, StatusCode::OK, "{}", absent.body);
    assert_eq!(ids(&absent.body), std::slice::from_ref(&live));
    assert_eq!(off.body, absent.body);
    assert_eq!(ids(&on.body), [gone, live]);
}

#[actix_web::test]
async fn show_deleted_takes_only_true_or_false_and_the_list_no_other_parameter() {
    let app = spawn_app().await;
    let base = groups_path(&app);

    for query in [
        "showDeleted=TRUE",
        "showDeleted=1",
        "showDeleted=",
        "showDeleted=yes",
        "showDeleted",
        "showDeleted=true&showDeleted=true",
        "showDeleted=true&limit=5",
        "show_deleted=true",
        "limit=5",
    ] {
        let response = app.get(&format!("{base}?{query}")).await;
        assert_nscale_error(&response, 400, "invalid_request");
        assert!(
            description(&response).contains("showDeleted")
                || description(&response).contains("not a known query parameter"),
            "{query}: {}",
            response.body
        );
    }
    let allowed = app.get(&format!("{base}?showDeleted=true")).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
}

#[actix_web::test]
async fn undelete_is_409_while_a_live_group_holds_the_name_whichever_dialect_took_it() {
    let app = spawn_app().await;
    let first = nscale_id(&create_nscale_group(&app, group_write("shared")).await);
    app.delete(&group_path(&app, &first)).await;
    let taker = nscale_id(&create_nscale_group(&app, group_write("shared")).await);

    let through_nscale = undelete(&app, &first).await;

    assert_nscale_error(&through_nscale, 409, "conflict");
    assert_eq!(
        description(&through_nscale),
        "a live group of the organization already has this name"
    );
    let still = app.get(&with_deleted(&app)).await;
    let shown = &find(&still.body, &first)["metadata"];
    assert_eq!(
        shown["provisioningStatus"], "deprovisioning",
        "still deleted"
    );

    // The nscale taker goes, an Onlive group takes the name instead.
    app.delete(&group_path(&app, &taker)).await;
    create_onlive_group(&app, json!({"name": "shared"})).await;

    let through_onlive = undelete(&app, &first).await;

    assert_nscale_error(&through_onlive, 409, "conflict");
}

#[actix_web::test]
async fn undelete_is_409_while_a_live_group_holds_the_external_id() {
    let app = spawn_app().await;
    let first = create_onlive_group(&app, json!({"name": "first", "externalId": "EXT-1"})).await;
    app.delete(&format!("/api/v1/user-groups/{first}")).await;
    create_onlive_group(&app, json!({"name": "second", "externalId": "EXT-1"})).await;

    let refused = undelete(&app, &first).await;

    assert_nscale_error(&refused, 409, "conflict");
    assert!(
        description(&refused).to_lowercase().contains("external"),
        "{}",
        refused.body
    );
}

#[actix_web::test]
async fn undelete_is_404_for_a_live_unknown_purged_foreign_or_malformed_group() {
    let app = spawn_app().await;
    let live = nscale_id(&create_nscale_group(&app, group_write("live")).await);
    let purged = nscale_id(&create_nscale_group(&app, group_write("purged")).await);
    app.delete(&group_path(&app, &purged)).await;
    backdate_group_deletion(&app, &purged, 31);
    let (removed, _) = purge(&app, 30, 100).await;
    assert_eq!(removed.groups, 1);
    let (_, other) = app.other_organization();
    let created = app
        .write("POST", "/api/v1/user-groups")
        .credentials(&other)
        .json(&json!({"name": "theirs"}))
        .send()
        .await;
    let theirs = created.body["id"].as_str().unwrap().to_owned();
    let gone = app
        .write("DELETE", &format!("/api/v1/user-groups/{theirs}"))
        .credentials(&other)
        .send()
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);

    for (id, why) in [
        (live.as_str(), "live"),
        (&unknown_id(), "unknown"),
        (&purged, "purged"),
        (&theirs, "another organization's deleted group"),
        ("not-a-uuid", "not a UUID"),
        ("42", "a number"),
    ] {
        let response = undelete(&app, id).await;
        assert_nscale_error(&response, 404, "not_found");
        assert_eq!(description(&response), "group not found", "{why}");
    }
    let listed = app.get(&with_deleted(&app)).await;
    assert_eq!(
        ids(&listed.body),
        [live],
        "the purged group is listed no more"
    );
}

#[actix_web::test]
async fn a_default_key_is_refused_show_deleted_and_undelete() {
    let app = spawn_app().await;
    let id = nscale_id(&create_nscale_group(&app, group_write("g")).await);
    app.delete(&group_path(&app, &id)).await;
    let default_key = app.key_with(&PermissionSet::default_grant().to_string());

    let listed = app
        .call("GET", &with_deleted(&app))
        .credentials(&default_key)
        .send()
        .await;
    let undeleted = app
        .write("POST", &undelete_path(&app, &id))
        .credentials(&default_key)
        .send()
        .await;
    let live_list = app
        .call("GET", &groups_path(&app))
        .credentials(&default_key)
        .send()
        .await;

    for refused in [&listed, &undeleted] {
        assert_nscale_error(refused, 403, "forbidden");
        assert_eq!(description(refused), "operation is not allowed by rbac");
    }
    assert_eq!(live_list.status, StatusCode::OK, "{}", live_list.body);
    assert_eq!(live_list.body, json!([]));
}

#[actix_web::test]
async fn show_deleted_needs_read_deleted_besides_read_and_undelete_needs_restore() {
    let app = spawn_app().await;
    let id = nscale_id(&create_nscale_group(&app, group_write("g")).await);
    app.delete(&group_path(&app, &id)).await;
    let reader = app.key_with("user-groups:read");
    let deleted_reader = app.key_with("user-groups:read-deleted");
    let both = app.key_with("user-groups:read,user-groups:read-deleted");
    let restorer = app.key_with("user-groups:restore");
    let list_as = |key| app.call("GET", &with_deleted(&app)).credentials(key).send();

    let by_reader = list_as(&reader).await;
    let by_deleted_reader = list_as(&deleted_reader).await;
    let by_both = list_as(&both).await;
    let undelete_by_reader = app
        .write("POST", &undelete_path(&app, &id))
        .credentials(&both)
        .send()
        .await;
    let undelete_by_restorer = app
        .write("POST", &undelete_path(&app, &id))
        .credentials(&restorer)
        .send()
        .await;

    for refused in [&by_reader, &by_deleted_reader, &undelete_by_reader] {
        assert_nscale_error(refused, 403, "forbidden");
        assert_eq!(description(refused), "operation is not allowed by rbac");
    }
    assert_eq!(by_both.status, StatusCode::OK, "{}", by_both.body);
    assert_eq!(ids(&by_both.body), std::slice::from_ref(&id));
    assert_eq!(
        undelete_by_restorer.status,
        StatusCode::OK,
        "{}",
        undelete_by_restorer.body
    );
    assert_eq!(nscale_id(&undelete_by_restorer.body), id);
}

#[actix_web::test]
async fn another_organization_is_403_before_the_permission_on_both_routes() {
    let app = spawn_app().await;
    let (other, _) = app.other_organization();
    let nothing = app.key_with("users:read");
    let targets = [
        (
            "GET",
            format!("/api/v1/organizations/{other}/groups?showDeleted=true"),
        ),
        (
            "POST",
            format!(
                "/api/v1/organizations/{other}/groups/{}:undelete",
                unknown_id()
            ),
        ),
        (
            "POST",
            format!(
                "/api/v1/organizations/not-a-uuid/groups/{}:undelete",
                unknown_id()
            ),
        ),
    ];

    for (method, target) in targets {
        let response = app
            .write(method, &target)
            .credentials(&nothing)
            .send()
            .await;
        assert_nscale_error(&response, 403, "forbidden");
        assert_eq!(
            description(&response),
            "access to this organization is forbidden",
            "{method} {target}"
        );
    }
}

#[actix_web::test]
async fn undelete_takes_no_body_and_no_query() {
    let app = spawn_app().await;
    let id = nscale_id(&create_nscale_group(&app, group_write("g")).await);
    app.delete(&group_path(&app, &id)).await;

    let with_body = app
        .write("POST", &undelete_path(&app, &id))
        .json(&json!({}))
        .send()
        .await;
    let with_query = app
        .write("POST", &format!("{}?force=true", undelete_path(&app, &id)))
        .send()
        .await;

    assert_nscale_error(&with_body, 400, "invalid_request");
    assert_eq!(description(&with_body), "undelete takes no body");
    assert_nscale_error(&with_query, 400, "invalid_request");
    let still = app.get(&with_deleted(&app)).await;
    assert_eq!(
        find(&still.body, &id)["metadata"]["provisioningStatus"],
        "deprovisioning",
        "a refused undelete changes nothing"
    );
    let empty = undelete(&app, &id).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
}

#[actix_web::test]
async fn the_undelete_path_is_post_only_and_accepts_a_trailing_slash() {
    let app = spawn_app().await;
    let id = nscale_id(&create_nscale_group(&app, group_write("g")).await);
    app.delete(&group_path(&app, &id)).await;

    let get = app.get(&undelete_path(&app, &id)).await;
    let slashed = app
        .write("POST", &format!("{}/", undelete_path(&app, &id)))
        .send()
        .await;

    assert_nscale_error(&get, 405, "method_not_allowed");
    assert_eq!(get.headers.get("allow").unwrap(), "POST");
    assert_eq!(slashed.status, StatusCode::OK, "{}", slashed.body);
    assert_eq!(nscale_id(&slashed.body), id);
}

#[actix_web::test]
async fn an_onlive_deleted_group_undeleted_through_nscale_is_live_in_onlive_as_it_was() {
    let app = spawn_app().await;
    let id = create_onlive_group(
        &app,
        json!({"name": "Onlive Team", "externalId": "OT-1",
               "extraFields": {"department": "Sales"}}),
    )
    .await;
    let before = app.get(&format!("/api/v1/user-groups/{id}")).await;
    app.delete(&format!("/api/v1/user-groups/{id}")).await;

    let listed = app.get(&with_deleted(&app)).await;
    let undeleted = undelete(&app, &id).await;
    let after = app.get(&format!("/api/v1/user-groups/{id}")).await;

    let shown = &find(&listed.body, &id)["metadata"];
    assert_eq!(shown["name"], "Onlive Team");
    assert_eq!(shown["deletedBy"], app.credentials.access_key_id.as_str());
    assert_eq!(undeleted.status, StatusCode::OK, "{}", undeleted.body);
    assert_eq!(undeleted.body["metadata"]["name"], "Onlive Team");
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    for field in ["name", "externalId", "extraFields", "createdAt"] {
        assert_eq!(after.body[field], before.body[field], "{field}");
    }
    assert!(after.body.get("deletedAt").is_none(), "{}", after.body);
}

#[actix_web::test]
async fn the_deleted_part_of_the_list_is_bounded_on_its_own() {
    use usergroups::domain::{NewGroup, OrganizationId};
    let app = spawn_app().await;
    let max = usergroups::limits::NSCALE_GROUP_LIST_MAX;
    let groups: Vec<NewGroup> = (0..=max)
        .map(|i| NewGroup {
            name: format!("d{i}"),
            extra_fields: "{}".to_owned(),
            ..NewGroup::default()
        })
        .collect();
    NewGroup::insert_all(
        &mut app.connection(),
        &OrganizationId::from(app.organization_id.as_str()),
        &groups,
    )
    .unwrap();
    {
        use diesel::prelude::*;
        use usergroups::db::schema::user_groups;
        diesel::update(user_groups::table)
            .set(user_groups::deleted_at.eq(usergroups::db::now()))
            .execute(&mut *app.connection())
            .unwrap();
    }
    let live = nscale_id(&create_nscale_group(&app, group_write("live")).await);

    let plain = app.get(&groups_path(&app)).await;
    let with = app.get(&with_deleted(&app)).await;

    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
    assert_eq!(
        ids(&plain.body),
        [live],
        "the live list never counts deleted groups"
    );
    assert_nscale_error(&with, 400, "invalid_request");
    assert!(
        description(&with).contains("/api/v1/deleted-user-groups"),
        "{}",
        with.body
    );
}
