//! Cross-organization isolation: another organization's groups and users answer exactly as ids
//! that do not exist (same status, same body), lists never show them, and nothing done through
//! one organization's key changes, blocks or counts another organization's rows. They run the
//! same database statements as ids that do not exist, too, so the time of an answer tells
//! nothing either.

use actix_web::http::StatusCode;
use serde_json::{json, Value};
use usergroups::auth::signer::Credentials;

use crate::helpers::{
    id_of, ids_of, spawn_app, spawn_app_with_statement_log, unknown_id, StatementLog, TestApp,
    TestResponse,
};

/// A request signed by `credentials`, with an optional JSON body.
async fn send_as(
    app: &TestApp,
    credentials: &Credentials,
    method: &str,
    target: &str,
    body: Option<&Value>,
) -> TestResponse {
    let mut call = app.call(method, target).credentials(credentials);
    if let Some(body) = body {
        call = call.json(body);
    }
    call.send().await
}

/// The second organization of an app: its id, its key, a group and a member of that group
/// (an admin, so the last-admin rule would show if it leaked).
struct Other {
    organization_id: String,
    credentials: Credentials,
    group: Value,
    user: Value,
}

impl Other {
    async fn create(app: &TestApp) -> Other {
        let (organization_id, credentials) = app.other_organization();
        let group = send_as(
            app,
            &credentials,
            "POST",
            "/api/v1/user-groups",
            Some(&json!({"name": "Sales"})),
        )
        .await;
        assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
        let user = send_as(
            app,
            &credentials,
            "POST",
            "/api/v1/users",
            Some(
                &json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com",
                         "role": "admin", "userGroupId": group.body["id"]}),
            ),
        )
        .await;
        assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
        Other {
            organization_id,
            credentials,
            group: group.body,
            user: user.body,
        }
    }

    fn group_id(&self) -> String {
        id_of(&self.group)
    }

    fn user_id(&self) -> String {
        id_of(&self.user)
    }

    /// Asserts, through the other organization's own key, that its rows are as they were made.
    async fn assert_untouched(&self, app: &TestApp) {
        let group = send_as(
            app,
            &self.credentials,
            "GET",
            &format!("/api/v1/user-groups/{}", self.group_id()),
            None,
        )
        .await;
        let user = send_as(
            app,
            &self.credentials,
            "GET",
            &format!("/api/v1/users/{}", self.user_id()),
            None,
        )
        .await;
        assert_eq!(group.body, self.group);
        assert_eq!(user.body, self.user);
    }
}

/// One request, written with `{id}` where the id under test goes.
struct Probe {
    what: &'static str,
    method: &'static str,
    target: String,
    body: Option<Value>,
    /// The status an id that does not exist gets.
    status: u16,
}

impl Probe {
    fn new(
        what: &'static str,
        method: &'static str,
        target: impl Into<String>,
        body: Option<Value>,
        status: u16,
    ) -> Probe {
        Probe {
            what,
            method,
            target: target.into(),
            body,
            status,
        }
    }

    /// Sends the probe with `id` in place of `{id}`, signed with the app's own key.
    async fn send(&self, app: &TestApp, id: &str) -> TestResponse {
        let target = self.target.replace("{id}", id);
        let body = self
            .body
            .as_ref()
            .map(|body| serde_json::from_str(&body.to_string().replace("{id}", id)).expect("JSON"));
        send_as(app, &app.credentials, self.method, &target, body.as_ref()).await
    }
}

/// Asserts that every probe answers the same for `foreign_id` as for an id that does not exist.
async fn assert_answers_as_missing(app: &TestApp, probes: &[Probe], foreign_id: &str) {
    for probe in probes {
        let missing = probe.send(app, &unknown_id()).await;
        let foreign = probe.send(app, foreign_id).await;

        assert_eq!(
            missing.status.as_u16(),
            probe.status,
            "{}: {}",
            probe.what,
            missing.body
        );
        assert_eq!(
            foreign.status, missing.status,
            "{}: {}",
            probe.what, foreign.body
        );
        assert_eq!(foreign.body, missing.body, "{}", probe.what);
    }
}

#[actix_web::test]
async fn another_organizations_group_answers_as_a_group_that_does_not_exist() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    let probes = [
        Probe::new("get a group", "GET", "/api/v1/user-groups/{id}", None, 404),
        Probe::new(
            "update a group",
            "PUT",
            "/api/v1/user-groups/{id}",
            Some(json!({"name": "Taken over"})),
            404,
        ),
        Probe::new(
            "delete a group (that has a member)",
            "DELETE",
            "/api/v1/user-groups/{id}",
            None,
            404,
        ),
    ];

    assert_answers_as_missing(&app, &probes, &other.group_id()).await;

    other.assert_untouched(&app).await;
}

#[actix_web::test]
async fn another_organizations_user_answers_as_a_user_that_does_not_exist() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    let probes = [
        Probe::new("get a user", "GET", "/api/v1/users/{id}", None, 404),
        Probe::new(
            "update a user",
            "PUT",
            "/api/v1/users/{id}",
            Some(json!({"firstName": "Mallory"})),
            404,
        ),
        Probe::new(
            "demote a user (their organization's last admin)",
            "PUT",
            "/api/v1/users/{id}",
            Some(json!({"role": "creator"})),
            404,
        ),
        Probe::new(
            "delete a user (their organization's last admin)",
            "DELETE",
            "/api/v1/users/{id}",
            None,
            404,
        ),
    ];

    assert_answers_as_missing(&app, &probes, &other.user_id()).await;

    other.assert_untouched(&app).await;
}

#[actix_web::test]
async fn joining_another_organizations_group_answers_as_joining_a_group_that_does_not_exist() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    let own = id_of(&app.create_user("grace@example.com", None).await);
    let probes = [
        Probe::new(
            "create a user in the group",
            "POST",
            "/api/v1/users",
            Some(
                json!({"firstName": "Eve", "lastName": "Spy", "email": "eve@example.com", "userGroupId": "{id}"}),
            ),
            400,
        ),
        Probe::new(
            "move a user into the group",
            "PUT",
            format!("/api/v1/users/{own}"),
            Some(json!({"userGroupId": "{id}"})),
            400,
        ),
    ];

    assert_answers_as_missing(&app, &probes, &other.group_id()).await;

    let own_users = app.get("/api/v1/users").await;
    assert_eq!(ids_of(&own_users.body), [own.as_str()]);
    assert_eq!(own_users.body["items"][0]["userGroupId"], Value::Null);
    // Nobody joined the other organization's group, so once its member leaves it can go.
    let left = send_as(
        &app,
        &other.credentials,
        "PUT",
        &format!("/api/v1/users/{}", other.user_id()),
        Some(&json!({"userGroupId": null})),
    )
    .await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    let deleted = send_as(
        &app,
        &other.credentials,
        "DELETE",
        &format!("/api/v1/user-groups/{}", other.group_id()),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
}

#[actix_web::test]
async fn listing_by_another_organizations_id_answers_as_an_unknown_organization() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    app.create_group("Own group").await;
    app.create_user("grace@example.com", None).await;
    let probes = [
        Probe::new(
            "list groups of the organization",
            "GET",
            "/api/v1/user-groups?organizationId={id}",
            None,
            200,
        ),
        Probe::new(
            "list users of the organization",
            "GET",
            "/api/v1/users?organizationId={id}",
            None,
            200,
        ),
    ];

    assert_answers_as_missing(&app, &probes, &other.organization_id).await;

    let page = probes[1].send(&app, &other.organization_id).await;
    assert_eq!(page.body["items"], json!([]));
}

#[actix_web::test]
async fn listing_users_by_another_organizations_group_answers_as_an_unknown_group() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    app.create_user("grace@example.com", None).await;
    let probes = [Probe::new(
        "list the members of the group",
        "GET",
        "/api/v1/users?userGroupId={id}",
        None,
        200,
    )];

    assert_answers_as_missing(&app, &probes, &other.group_id()).await;

    let page = probes[0].send(&app, &other.group_id()).await;
    assert_eq!(page.body["total"], 0);
}

#[actix_web::test]
async fn lists_show_only_the_callers_own_groups_and_users() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    let own_group = id_of(&app.create_group("Support").await);
    let own_user = id_of(&app.create_user("grace@example.com", Some(&own_group)).await);

    let groups = app.get("/api/v1/user-groups").await;
    let users = app.get("/api/v1/users").await;
    let their_groups = send_as(&app, &other.credentials, "GET", "/api/v1/user-groups", None).await;
    let their_users = send_as(&app, &other.credentials, "GET", "/api/v1/users", None).await;

    assert_eq!(ids_of(&groups.body), [own_group.as_str()]);
    assert_eq!(groups.body["total"], 1);
    assert_eq!(ids_of(&users.body), [own_user.as_str()]);
    assert_eq!(users.body["total"], 1);
    assert_eq!(ids_of(&their_groups.body), [other.group_id()]);
    assert_eq!(ids_of(&their_users.body), [other.user_id()]);
}

#[actix_web::test]
async fn searches_that_match_another_organizations_rows_do_not_show_them() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    let own_group = id_of(&app.create_group("Sales Europe").await);
    let own_user = id_of(&app.create_user("ada@example.org", None).await);

    // Both organizations have a group named "Sales..." and a user "Ada Lovelace" at ada@example...
    let groups = app.get("/api/v1/user-groups?search=sales").await;
    let users_by_name = app.get("/api/v1/users?search=lovelace").await;
    let users_by_email = app.get("/api/v1/users?search=ada@example").await;

    assert_eq!(ids_of(&groups.body), [own_group]);
    assert_eq!(ids_of(&users_by_name.body), [own_user.as_str()]);
    assert_eq!(ids_of(&users_by_email.body), [own_user]);
    assert_eq!(users_by_email.body["total"], 1);
    other.assert_untouched(&app).await;
}

#[actix_web::test]
async fn another_organizations_names_and_emails_do_not_conflict() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;

    let group = app
        .post("/api/v1/user-groups", json!({"name": other.group["name"]}))
        .await;
    let user = app
        .post(
            "/api/v1/users",
            json!({"firstName": "Ada", "lastName": "Lovelace", "email": other.user["email"].as_str().unwrap().to_uppercase()}),
        )
        .await;

    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    other.assert_untouched(&app).await;
}

#[actix_web::test]
async fn another_organizations_admin_does_not_count_as_another_admin() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    assert_eq!(other.user["role"], "admin");
    let own_admin = id_of(
        &app.create_user_with_role("grace@example.com", None, "admin")
            .await,
    );

    let deleted = app.delete(&format!("/api/v1/users/{own_admin}")).await;
    let demoted = app
        .put(
            &format!("/api/v1/users/{own_admin}"),
            json!({"role": "editor"}),
        )
        .await;

    deleted.assert_error(403);
    assert_eq!(
        deleted.message(),
        "Cannot delete the organization's last admin user"
    );
    demoted.assert_error(403);
    assert_eq!(
        demoted.message(),
        "Cannot demote the organization's last admin user"
    );
}

#[actix_web::test]
async fn an_organizations_admins_do_not_protect_another_organizations_last_admin_either() {
    let app = spawn_app().await;
    app.create_user_with_role("first@example.com", None, "admin")
        .await;
    app.create_user_with_role("second@example.com", None, "admin")
        .await;
    let other = Other::create(&app).await;

    let deleted = send_as(
        &app,
        &other.credentials,
        "DELETE",
        &format!("/api/v1/users/{}", other.user_id()),
        None,
    )
    .await;

    deleted.assert_error(403);
    assert_eq!(
        deleted.message(),
        "Cannot delete the organization's last admin user"
    );
}

#[actix_web::test]
async fn another_organizations_member_does_not_block_deleting_an_own_group() {
    let app = spawn_app().await;
    let other = Other::create(&app).await;
    let own_group = id_of(&app.create_group("Sales").await);

    let response = app
        .delete(&format!("/api/v1/user-groups/{own_group}"))
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    other.assert_untouched(&app).await;
}

/// One signed request (with a nonce, as a write), its answer and the statements it ran.
async fn answer_and_statements(
    app: &TestApp,
    log: &StatementLog,
    method: &str,
    target: &str,
    body: Option<&Value>,
) -> (TestResponse, Vec<String>) {
    let mut call = app.write(method, target);
    if let Some(body) = body {
        call = call.json(body);
    }
    // Both requests of a pair find the key in the instance's cache, as every request but the
    // first of a second does.
    assert_eq!(app.get("/api/v1/user-groups").await.status, StatusCode::OK);
    log.take();
    let answer = call.send().await;
    (answer, log.take())
}

/// Another organization's ids must cost what unknown ids cost, or the time of an answer would
/// tell an attacker which ids exist. Timing requests in a test measures the machine more than
/// the code, so this checks what the time is made of instead: on every route that takes an id,
/// both kinds of id run the same statements, in the same order and the same transactions, and
/// get the same answer. What remains is the database looking a key up in an index and finding
/// a row it then filters out, or finding none: the same lookup either way.
#[actix_web::test]
async fn another_organizations_ids_run_the_same_statements_as_ids_that_do_not_exist() {
    let (app, log) = spawn_app_with_statement_log().await;
    let other = Other::create(&app).await;
    let rename = json!({"name": "Renamed"});
    let first_name = json!({"firstName": "Mallory"});
    let routes: Vec<(&str, String, String, Option<&Value>)> = vec![
        (
            "GET",
            format!("/api/v1/user-groups/{}", other.group_id()),
            format!("/api/v1/user-groups/{}", unknown_id()),
            None,
        ),
        (
            "PUT",
            format!("/api/v1/user-groups/{}", other.group_id()),
            format!("/api/v1/user-groups/{}", unknown_id()),
            Some(&rename),
        ),
        (
            "DELETE",
            format!("/api/v1/user-groups/{}", other.group_id()),
            format!("/api/v1/user-groups/{}", unknown_id()),
            None,
        ),
        (
            "GET",
            format!("/api/v1/users/{}", other.user_id()),
            format!("/api/v1/users/{}", unknown_id()),
            None,
        ),
        (
            "PUT",
            format!("/api/v1/users/{}", other.user_id()),
            format!("/api/v1/users/{}", unknown_id()),
            Some(&first_name),
        ),
        (
            "DELETE",
            format!("/api/v1/users/{}", other.user_id()),
            format!("/api/v1/users/{}", unknown_id()),
            None,
        ),
    ];

    for (method, foreign_target, missing_target, body) in routes {
        let table = if missing_target.contains("user-groups") {
            "user_groups"
        } else {
            "users"
        };
        let (missing, missing_statements) =
            answer_and_statements(&app, &log, method, &missing_target, body).await;
        let (foreign, foreign_statements) =
            answer_and_statements(&app, &log, method, &foreign_target, body).await;

        assert_eq!(
            missing.status,
            StatusCode::NOT_FOUND,
            "{method}: {}",
            missing.body
        );
        assert_eq!(foreign.status, missing.status, "{method}: {}", foreign.body);
        assert_eq!(foreign.body, missing.body, "{method}");
        assert!(
            missing_statements.iter().any(|s| s.contains(table)),
            "{method}: no statement on {table} was logged: {missing_statements:#?}"
        );
        assert_eq!(
            foreign_statements, missing_statements,
            "{method} on {table}"
        );
    }
    other.assert_untouched(&app).await;
}
