//! The five group routes, row by row of the contract's tables.

use actix_web::http::StatusCode;
use serde_json::{json, Value};
use usergroups::group_roles::{ADMINISTRATOR_ID, READER_ID};
use usergroups::ids::AccessKeyId;
use usergroups::models::AccessKey;

use crate::helpers::{spawn_app, unknown_id, TestApp, TestResponse};

/// `/api/v1/organizations/{org}/groups` of the app's organization.
pub fn groups_path(app: &TestApp) -> String {
    format!("/api/v1/organizations/{}/groups", app.organization_id)
}

/// One group of the app's organization.
pub fn group_path(app: &TestApp, id: &str) -> String {
    format!("{}/{id}", groups_path(app))
}

/// A groupWrite with a name, no roles, no service accounts and no members field.
pub fn group_write(name: &str) -> Value {
    json!({"metadata": {"name": name}, "spec": {"roleIDs": [], "serviceAccountIDs": []}})
}

/// A groupWrite that sets the members.
pub fn group_write_with_members(name: &str, members: &[&str]) -> Value {
    json!({"metadata": {"name": name},
           "spec": {"roleIDs": [], "serviceAccountIDs": [], "userIDs": members}})
}

/// Creates a group through the nscale dialect and returns its groupRead.
pub async fn create_nscale_group(app: &TestApp, body: Value) -> Value {
    let response = app.post(&groups_path(app), body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.body
}

/// The `metadata.id` of a groupRead.
pub fn nscale_id(group: &Value) -> String {
    group["metadata"]["id"].as_str().expect("an id").to_owned()
}

/// Asserts an answer is the dialect's error with this status and code.
#[track_caller]
pub fn assert_nscale_error(response: &TestResponse, status: u16, code: &str) {
    assert_eq!(response.status.as_u16(), status, "body: {}", response.body);
    let body = response.body.as_object().expect("a JSON object body");
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["error", "error_description"], "{}", response.body);
    assert_eq!(body["error"], code, "{}", response.body);
    assert!(
        !body["error_description"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{}",
        response.body
    );
    let content_type = response
        .headers
        .get("content-type")
        .expect("a content type");
    assert!(
        content_type
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{content_type:?}"
    );
    assert_eq!(response.headers.get("cache-control").unwrap(), "no-cache");
}

/// The `error_description` of an error answer.
pub fn description(response: &TestResponse) -> &str {
    response.body["error_description"]
        .as_str()
        .unwrap_or_default()
}

fn is_whole_second_utc(text: &str) -> bool {
    text.len() == 20 && text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

#[actix_web::test]
async fn creating_a_group_answers_201_with_a_group_read_that_leaves_unset_fields_out() {
    let app = spawn_app().await;

    let response = app
        .post(&groups_path(&app), group_write("The-A-Team"))
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let metadata = &response.body["metadata"];
    assert_eq!(metadata["name"], "The-A-Team");
    assert_eq!(metadata["organizationId"], app.organization_id.as_str());
    assert_eq!(
        metadata["createdBy"],
        app.credentials.access_key_id.as_str()
    );
    assert_eq!(metadata["provisioningStatus"], "provisioned");
    assert_eq!(metadata["healthStatus"], "healthy");
    assert!(is_whole_second_utc(
        metadata["creationTime"].as_str().unwrap()
    ));
    for absent in [
        "description",
        "tags",
        "modifiedTime",
        "modifiedBy",
        "deletionTime",
    ] {
        assert!(metadata.get(absent).is_none(), "{absent} in {metadata}");
    }
    assert_eq!(
        response.body["spec"],
        json!({"roleIDs": [], "serviceAccountIDs": [], "userIDs": []})
    );
}

#[actix_web::test]
async fn a_description_and_tags_written_are_shown_as_written() {
    let app = spawn_app().await;
    let body = json!({"metadata": {"name": "tagged", "description": "An elite unit.",
                                   "tags": [{"name": "team", "value": "a"}, {"name": "x", "value": ""}]},
                      "spec": {"roleIDs": [READER_ID], "serviceAccountIDs": []}});

    let group = create_nscale_group(&app, body).await;

    assert_eq!(group["metadata"]["description"], "An elite unit.");
    assert_eq!(
        group["metadata"]["tags"],
        json!([{"name": "team", "value": "a"}, {"name": "x", "value": ""}])
    );
    assert_eq!(group["spec"]["roleIDs"], json!([READER_ID]));
    let read = app.get(&group_path(&app, &nscale_id(&group))).await;
    assert_eq!(read.body, group);
}

#[actix_web::test]
async fn the_list_is_a_bare_array_of_live_groups_sorted_by_name_bytes() {
    let app = spawn_app().await;
    for name in ["b", "a", "B", "A-2", "A"] {
        create_nscale_group(&app, group_write(name)).await;
    }
    let deleted = create_nscale_group(&app, group_write("deleted")).await;
    app.delete(&group_path(&app, &nscale_id(&deleted))).await;

    let response = app.get(&groups_path(&app)).await;

    assert_eq!(response.status, StatusCode::OK);
    let names: Vec<&str> = response
        .body
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|g| g["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "A-2", "B", "a", "b"]);
}

#[actix_web::test]
async fn the_list_and_a_read_show_each_groups_members_sorted_by_id() {
    let app = spawn_app().await;
    let first = app.create_group("First").await;
    let second = app.create_group("Second").await;
    let first_id = first["id"].as_str().unwrap();
    let mut members = Vec::new();
    for i in 0..3 {
        let user = app
            .create_user(&format!("m{i}@example.com"), Some(first_id))
            .await;
        members.push(user["id"].as_str().unwrap().to_owned());
    }
    app.create_user("other@example.com", second["id"].as_str())
        .await;
    members.sort();

    let list = app.get(&groups_path(&app)).await;
    let read = app.get(&group_path(&app, first_id)).await;

    let listed = list.body.as_array().unwrap();
    assert_eq!(listed[0]["spec"]["userIDs"], json!(members));
    assert_eq!(listed[1]["spec"]["userIDs"].as_array().unwrap().len(), 1);
    assert_eq!(read.body["spec"]["userIDs"], json!(members));
}

#[actix_web::test]
async fn an_organization_with_more_live_groups_than_the_list_bound_is_refused_clearly() {
    use usergroups::domain::{NewGroup, OrganizationId};
    let app = spawn_app().await;
    let groups: Vec<NewGroup> = (0..=usergroups::limits::NSCALE_GROUP_LIST_MAX)
        .map(|i| NewGroup {
            name: format!("g{i}"),
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

    let response = app.get(&groups_path(&app)).await;

    assert_nscale_error(&response, 400, "invalid_request");
    assert!(
        description(&response).contains("/api/v1/user-groups"),
        "{}",
        response.body
    );
}

#[actix_web::test]
async fn a_missing_deleted_or_foreign_group_is_404() {
    let app = spawn_app().await;
    let deleted = create_nscale_group(&app, group_write("gone")).await;
    app.delete(&group_path(&app, &nscale_id(&deleted))).await;
    let (_, other) = app.other_organization();
    let foreign = app
        .call("POST", &groups_path(&app))
        .credentials(&other)
        .json(&group_write("x"))
        .send()
        .await;
    assert_nscale_error(&foreign, 403, "forbidden");
    let onlive_foreign = app
        .write("POST", "/api/v1/user-groups")
        .credentials(&other)
        .json(&json!({"name": "theirs"}))
        .send()
        .await;
    let theirs = onlive_foreign.body["id"].as_str().unwrap().to_owned();

    for id in [unknown_id(), nscale_id(&deleted), theirs] {
        for response in [
            app.get(&group_path(&app, &id)).await,
            app.put(&group_path(&app, &id), group_write("new")).await,
            app.delete(&group_path(&app, &id)).await,
        ] {
            assert_nscale_error(&response, 404, "not_found");
        }
    }
}

#[actix_web::test]
async fn a_groupid_that_is_not_a_uuid_is_404_not_400() {
    let app = spawn_app().await;

    for response in [
        app.get(&group_path(&app, "not-a-uuid")).await,
        app.put(&group_path(&app, "not-a-uuid"), group_write("x"))
            .await,
        app.delete(&group_path(&app, "42")).await,
    ] {
        assert_nscale_error(&response, 404, "not_found");
    }
}

#[actix_web::test]
async fn a_put_replaces_what_the_dialect_shows_and_records_who_changed_it() {
    let app = spawn_app().await;
    let group = create_nscale_group(
        &app,
        json!({"metadata": {"name": "before", "description": "d", "tags": [{"name": "a", "value": "b"}]},
               "spec": {"roleIDs": [READER_ID], "serviceAccountIDs": []}}),
    )
    .await;
    let editor = app.key_with("user-groups:read,user-groups:write");

    let response = app
        .write("PUT", &group_path(&app, &nscale_id(&group)))
        .credentials(&editor)
        .json(&json!({"metadata": {"name": "after"},
                      "spec": {"roleIDs": [ADMINISTRATOR_ID], "serviceAccountIDs": []}}))
        .send()
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let metadata = &response.body["metadata"];
    assert_eq!(metadata["name"], "after");
    assert!(metadata.get("description").is_none(), "{metadata}");
    assert!(metadata.get("tags").is_none(), "{metadata}");
    assert_eq!(metadata["modifiedBy"], editor.access_key_id.as_str());
    assert_eq!(
        metadata["createdBy"],
        app.credentials.access_key_id.as_str()
    );
    assert!(is_whole_second_utc(
        metadata["modifiedTime"].as_str().unwrap()
    ));
    assert_eq!(response.body["spec"]["roleIDs"], json!([ADMINISTRATOR_ID]));
}

#[actix_web::test]
async fn a_taken_name_is_409_on_create_and_on_put() {
    let app = spawn_app().await;
    create_nscale_group(&app, group_write("taken")).await;
    let other = create_nscale_group(&app, group_write("other")).await;

    let create = app.post(&groups_path(&app), group_write("taken")).await;
    let put = app
        .put(&group_path(&app, &nscale_id(&other)), group_write("taken"))
        .await;

    assert_nscale_error(&create, 409, "conflict");
    assert_nscale_error(&put, 409, "conflict");
}

#[actix_web::test]
async fn a_name_must_be_a_kubernetes_label_value() {
    let app = spawn_app().await;
    let cases = [
        ("a", true, "a single character"),
        (
            "The-A-Team_1.0",
            true,
            "letters, digits, dash, underscore and dot",
        ),
        (&"x".repeat(63), true, "63 characters"),
        (&"x".repeat(64), false, "64 characters"),
        ("", false, "empty"),
        ("-team", false, "starting with a dash"),
        ("team.", false, "ending with a dot"),
        ("Global Sales", false, "a space"),
        (" padded", false, "leading space (no trimming)"),
        ("équipe", false, "a non-ASCII letter"),
    ];
    for (name, accepted, why) in cases {
        let response = app.post(&groups_path(&app), group_write(name)).await;
        if accepted {
            assert_eq!(
                response.status,
                StatusCode::CREATED,
                "{why}: {}",
                response.body
            );
        } else {
            assert_nscale_error(&response, 400, "invalid_request");
            assert!(
                description(&response).contains("metadata.name"),
                "{why}: {}",
                response.body
            );
        }
    }
}

#[actix_web::test]
async fn unknown_fields_at_any_level_are_400_naming_them() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"metadata": {"name": "a"}, "spec": {"roleIDs": [], "serviceAccountIDs": []}, "kind": 1}),
            "kind",
        ),
        (
            json!({"metadata": {"name": "a", "colour": "red"}, "spec": {"roleIDs": [], "serviceAccountIDs": []}}),
            "metadata.colour",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"roleIDs": [], "serviceAccountIDs": [], "members": []}}),
            "spec.members",
        ),
    ];
    for (body, named) in cases {
        let response = app.post(&groups_path(&app), body).await;
        assert_nscale_error(&response, 400, "invalid_request");
        assert!(
            description(&response).contains(named),
            "{named}: {}",
            response.body
        );
    }
    assert_eq!(app.get(&groups_path(&app)).await.body, json!([]));
}

#[actix_web::test]
async fn spec_subjects_is_refused_with_a_pointer_to_user_ids() {
    let app = spawn_app().await;
    let body = json!({"metadata": {"name": "a"},
                      "spec": {"roleIDs": [], "serviceAccountIDs": [], "subjects": [{"id": "x"}]}});

    let response = app.post(&groups_path(&app), body).await;

    assert_nscale_error(&response, 400, "invalid_request");
    assert_eq!(
        description(&response),
        "subjects are not supported, use userIDs"
    );
}

#[actix_web::test]
async fn role_ids_and_service_account_ids_are_required_arrays() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"metadata": {"name": "a"}, "spec": {"serviceAccountIDs": []}}),
            "spec.roleIDs",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"roleIDs": []}}),
            "spec.serviceAccountIDs",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"roleIDs": "x", "serviceAccountIDs": []}}),
            "spec.roleIDs",
        ),
        (json!({"metadata": {"name": "a"}}), "spec"),
        (
            json!({"spec": {"roleIDs": [], "serviceAccountIDs": []}}),
            "metadata",
        ),
    ];
    for (body, named) in cases {
        let response = app.post(&groups_path(&app), body).await;
        assert_nscale_error(&response, 400, "invalid_request");
        assert!(
            description(&response).contains(named),
            "{named}: {}",
            response.body
        );
        assert!(
            !response.body.to_string().contains("metadata.metadata"),
            "a field named twice over: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_400_not_500() {
    let app = spawn_app().await;

    let response = app
        .write("POST", &groups_path(&app))
        .raw_body("{not json")
        .content_type(Some("application/json"))
        .send()
        .await;

    assert_nscale_error(&response, 400, "invalid_request");
}

#[actix_web::test]
async fn an_unknown_role_id_is_400_naming_it() {
    let app = spawn_app().await;
    let unknown = unknown_id();
    let body = json!({"metadata": {"name": "a"},
                      "spec": {"roleIDs": [READER_ID, unknown], "serviceAccountIDs": []}});

    let response = app.post(&groups_path(&app), body).await;

    assert_nscale_error(&response, 400, "invalid_request");
    assert_eq!(
        description(&response),
        format!("role ID {unknown} does not exist")
    );
}

#[actix_web::test]
async fn service_accounts_must_be_live_access_keys_of_the_organization() {
    let app = spawn_app().await;
    let live = app.key_with("user-groups:read");
    let revoked = app.key_with("user-groups:read");
    AccessKey::revoke(
        &mut app.connection(),
        &AccessKeyId::from(revoked.access_key_id.as_str()),
    )
    .unwrap();
    let (_, foreign) = app.other_organization();
    let with = |id: &str| json!({"metadata": {"name": "sa"}, "spec": {"roleIDs": [], "serviceAccountIDs": [id]}});

    for refused in [
        &revoked.access_key_id,
        &foreign.access_key_id,
        &"AKIANOSUCHKEY".to_owned(),
    ] {
        let response = app.post(&groups_path(&app), with(refused)).await;
        assert_nscale_error(&response, 400, "invalid_request");
        assert!(
            description(&response).contains(refused.as_str()),
            "{}",
            response.body
        );
    }
    let accepted = create_nscale_group(&app, with(&live.access_key_id)).await;
    assert_eq!(
        accepted["spec"]["serviceAccountIDs"],
        json!([live.access_key_id])
    );
}

#[actix_web::test]
async fn user_ids_set_the_members_on_create_and_replace_them_on_put() {
    let app = spawn_app().await;
    let mut users = Vec::new();
    for i in 0..3 {
        users.push(
            app.create_user(&format!("u{i}@example.com"), None).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (a, b, c) = (users[0].as_str(), users[1].as_str(), users[2].as_str());

    let group = create_nscale_group(&app, group_write_with_members("team", &[a, b])).await;
    let path = group_path(&app, &nscale_id(&group));
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(group["spec"]["userIDs"], json!(expected));

    let replaced = app
        .put(&path, group_write_with_members("team", &[b, c]))
        .await;
    let mut expected = vec![b, c];
    expected.sort();
    assert_eq!(
        replaced.body["spec"]["userIDs"],
        json!(expected),
        "{}",
        replaced.body
    );
    let left = app.get(&format!("/api/v1/users/{a}")).await;
    assert_eq!(left.body["userGroupId"], Value::Null);
    let joined = app.get(&format!("/api/v1/users/{c}")).await;
    assert_eq!(joined.body["userGroupId"], nscale_id(&group).as_str());

    let kept = app.put(&path, group_write("team")).await;
    assert_eq!(
        kept.body["spec"]["userIDs"],
        json!(expected),
        "omitted: unchanged"
    );

    let cleared = app.put(&path, group_write_with_members("team", &[])).await;
    assert_eq!(cleared.body["spec"]["userIDs"], json!([]));
    let deleted = app.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
}

#[actix_web::test]
async fn a_member_of_another_group_is_409_and_the_create_leaves_nothing_behind() {
    let app = spawn_app().await;
    let other = app.create_group("Other").await;
    let member = app.create_user("m@example.com", other["id"].as_str()).await;
    let member_id = member["id"].as_str().unwrap();

    let create = app
        .post(
            &groups_path(&app),
            group_write_with_members("new", &[member_id]),
        )
        .await;
    let existing = create_nscale_group(&app, group_write("existing")).await;
    let put = app
        .put(
            &group_path(&app, &nscale_id(&existing)),
            group_write_with_members("existing", &[member_id]),
        )
        .await;

    assert_nscale_error(&create, 409, "conflict");
    assert!(description(&create).contains(member_id), "{}", create.body);
    assert_nscale_error(&put, 409, "conflict");
    let names: Vec<Value> = app
        .get(&groups_path(&app))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["metadata"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("Other"), json!("existing")], "no group 'new'");
    let still = app.get(&format!("/api/v1/users/{member_id}")).await;
    assert_eq!(still.body["userGroupId"], other["id"]);
}

#[actix_web::test]
async fn an_unknown_deleted_or_foreign_user_id_is_400_naming_it() {
    let app = spawn_app().await;
    let deleted = app.create_user("d@example.com", None).await;
    let deleted_id = deleted["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/api/v1/users/{deleted_id}")).await;
    let (_, foreign_key) = app.other_organization();
    let foreign = app
        .write("POST", "/api/v1/users")
        .credentials(&foreign_key)
        .json(&json!({"firstName": "F", "lastName": "O", "email": "f@example.com"}))
        .send()
        .await;
    let foreign_id = foreign.body["id"].as_str().unwrap().to_owned();

    for id in [
        unknown_id(),
        deleted_id,
        foreign_id,
        "not-a-uuid".to_owned(),
    ] {
        let response = app
            .post(&groups_path(&app), group_write_with_members("g", &[&id]))
            .await;
        assert_nscale_error(&response, 400, "invalid_request");
        assert_eq!(
            description(&response),
            format!("user ID {id} does not exist")
        );
    }
}

#[actix_web::test]
async fn lists_and_strings_are_bounded() {
    let app = spawn_app().await;
    let many_tags: Vec<Value> = (0..=64)
        .map(|i| json!({"name": format!("t{i}"), "value": ""}))
        .collect();
    let many_users: Vec<String> = (0..=1000).map(|_| unknown_id()).collect();
    let cases = [
        (
            json!({"metadata": {"name": "a", "tags": many_tags}, "spec": {"roleIDs": [], "serviceAccountIDs": []}}),
            "metadata.tags",
        ),
        (
            json!({"metadata": {"name": "a", "description": "x".repeat(2001)}, "spec": {"roleIDs": [], "serviceAccountIDs": []}}),
            "metadata.description",
        ),
        (
            json!({"metadata": {"name": "a", "tags": [{"name": "x".repeat(256), "value": ""}]}, "spec": {"roleIDs": [], "serviceAccountIDs": []}}),
            "metadata.tags[0].name",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"roleIDs": [], "serviceAccountIDs": [], "userIDs": many_users}}),
            "spec.userIDs",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"roleIDs": [], "serviceAccountIDs": ["x".repeat(65)]}}),
            "spec.serviceAccountIDs",
        ),
    ];
    for (body, named) in cases {
        let response = app.post(&groups_path(&app), body).await;
        assert_nscale_error(&response, 400, "invalid_request");
        assert!(
            description(&response).contains(named),
            "{named}: {}",
            response.body
        );
        assert!(
            !response.body.to_string().contains("metadata.metadata"),
            "a field named twice over: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn deleting_a_group_answers_200_with_its_final_read() {
    let app = spawn_app().await;
    let group = create_nscale_group(&app, group_write("doomed")).await;

    let response = app.delete(&group_path(&app, &nscale_id(&group))).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let metadata = &response.body["metadata"];
    assert_eq!(metadata["provisioningStatus"], "deprovisioning");
    assert!(is_whole_second_utc(
        metadata["deletionTime"].as_str().unwrap()
    ));
    assert_eq!(
        metadata["modifiedBy"],
        app.credentials.access_key_id.as_str()
    );
    assert_eq!(response.body["spec"]["userIDs"], json!([]));
    let again = app.get(&group_path(&app, &nscale_id(&group))).await;
    assert_nscale_error(&again, 404, "not_found");
}

#[actix_web::test]
async fn deleting_a_group_with_an_active_member_is_refused() {
    let app = spawn_app().await;
    let user = app.create_user("a@example.com", None).await;
    let group = create_nscale_group(
        &app,
        group_write_with_members("busy", &[user["id"].as_str().unwrap()]),
    )
    .await;

    let response = app.delete(&group_path(&app, &nscale_id(&group))).await;

    assert_nscale_error(&response, 403, "forbidden");
    assert_eq!(
        description(&response),
        "cannot delete group with active members"
    );
}

#[actix_web::test]
async fn each_route_needs_its_permission() {
    let app = spawn_app().await;
    let group = create_nscale_group(&app, group_write("g")).await;
    let path = group_path(&app, &nscale_id(&group));
    let reader = app.key_with("user-groups:read");
    let writer = app.key_with("user-groups:write");
    let nothing = app.key_with("users:read");
    let cases = [
        ("GET", groups_path(&app), &nothing, None, "list needs read"),
        ("GET", path.clone(), &nothing, None, "get needs read"),
        (
            "POST",
            groups_path(&app),
            &reader,
            Some(group_write("n")),
            "create needs write",
        ),
        (
            "PUT",
            path.clone(),
            &reader,
            Some(group_write("n")),
            "replace needs write",
        ),
        ("DELETE", path.clone(), &writer, None, "delete needs delete"),
    ];
    for (method, target, key, body, why) in cases {
        let mut call = app.write(method, &target).credentials(key);
        if let Some(body) = body {
            call = call.json(&body);
        }
        let response = call.send().await;
        assert_nscale_error(&response, 403, "forbidden");
        assert_eq!(
            description(&response),
            "operation is not allowed by rbac",
            "{why}"
        );
    }
    let allowed = app.get(&path).await;
    assert_eq!(allowed.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_foreign_or_malformed_organization_is_403_before_the_permission_and_the_body() {
    let app = spawn_app().await;
    let (other, _) = app.other_organization();
    let reader = app.key_with("user-groups:read");
    let targets = [
        format!("/api/v1/organizations/{other}/groups"),
        format!("/api/v1/organizations/{}/groups", unknown_id()),
        "/api/v1/organizations/not-a-uuid/groups".to_owned(),
        format!("/api/v1/organizations/{other}/groups/{}", unknown_id()),
        format!("/api/v1/organizations/{other}/roles"),
    ];
    for target in targets {
        let read = app.get(&target).await;
        assert_nscale_error(&read, 403, "forbidden");
        let bad_body = app
            .write("POST", &target)
            .credentials(&reader)
            .raw_body("{not json")
            .content_type(None)
            .send()
            .await;
        assert!(
            bad_body.status == StatusCode::FORBIDDEN
                || bad_body.status == StatusCode::METHOD_NOT_ALLOWED,
            "{target}: {}",
            bad_body.status
        );
        if bad_body.status == StatusCode::FORBIDDEN {
            assert_ne!(description(&bad_body), "operation is not allowed by rbac");
        }
    }
}

#[actix_web::test]
async fn an_uppercase_organization_id_of_the_callers_own_is_accepted() {
    let app = spawn_app().await;

    let response = app
        .get(&format!(
            "/api/v1/organizations/{}/groups",
            app.organization_id.to_uppercase()
        ))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}
