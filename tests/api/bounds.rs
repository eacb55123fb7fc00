//! What one key can make the service do to everyone else: no answer larger than the documented
//! bound ([`limits::ANSWER_MAX_BYTES`]) however large a group or a page's items, shown in each
//! dialect in the documented way; and no membership write that holds the writer for longer as
//! the group grows ([`limits::GROUP_MEMBERS_REMOVED_MAX`]). Large memberships are made through
//! the domain, as the bulk import makes them, not request by request.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usergroups::db;
use usergroups::domain::{DomainError, GroupId, NewUser, OrganizationId, Role};
use usergroups::limits;

use crate::helpers::{count, id_of, ids_of, spawn_app, TestApp, TestResponse};

/// `/api/v1/organizations/{org}/groups` of the app's organization.
fn nscale_groups(app: &TestApp) -> String {
    format!("/api/v1/organizations/{}/groups", app.organization_id)
}

/// A groupWrite naming `name`, with `userIDs` only when `members` is given.
fn group_write(name: &str, members: Option<&[String]>) -> Value {
    let mut spec = json!({"roleIDs": [], "serviceAccountIDs": []});
    if let Some(members) = members {
        spec["userIDs"] = json!(members);
    }
    json!({"metadata": {"name": name}, "spec": spec})
}

/// A new group (created through the Onlive dialect) with `members` new users in it, made in one
/// transaction as the import makes them. Returns the group's id.
async fn group_with_members(app: &TestApp, name: &str, members: usize) -> String {
    let id = id_of(&app.create_group(name).await);
    let group = GroupId::from(id.as_str());
    let organization = OrganizationId::from(app.organization_id.as_str());
    let users: Vec<NewUser> = (0..members)
        .map(|i| NewUser {
            first_name: "Member".to_owned(),
            last_name: i.to_string(),
            email: format!("{name}-{i}@example.com"),
            role: Role::Creator,
            avatar: None,
            user_group_id: Some(group.clone()),
        })
        .collect();
    let mut conn = app.connection();
    db::write_transaction(&mut conn, |conn| {
        NewUser::insert_all(conn, &organization, &users)
    })
    .map_err(|e: DomainError| e.to_string())
    .unwrap();
    id
}

/// The size of an answer's JSON body as the service writes it (compact).
fn answer_size(response: &TestResponse) -> usize {
    serde_json::to_vec(&response.body).unwrap().len()
}

/// How many live members the Onlive users list counts in the group.
async fn member_count(app: &TestApp, group_id: &str) -> i64 {
    let page = app
        .get(&format!("/api/v1/users?userGroupId={group_id}&limit=1"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body["total"].as_i64().unwrap()
}

/// An `extraFields` object of about 60 KB, under the contract's 64 KiB.
fn large_extra_fields() -> Value {
    json!({"notes": "x".repeat(60_000)})
}

/// Creates `n` groups whose `extraFields` are about 60 KB each; returns their ids, oldest first.
async fn large_groups(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let response = app
            .post(
                "/api/v1/user-groups",
                json!({"name": format!("large {i}"), "extraFields": large_extra_fields()}),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        ids.push(id_of(&response.body));
    }
    ids
}

// --- Answers ----------------------------------------------------------------------------

#[actix_web::test]
async fn a_group_of_fifteen_thousand_members_is_read_in_a_few_kib_without_its_member_list() {
    let app = spawn_app().await;
    let large = group_with_members(&app, "large", 15_000).await;
    let full = group_with_members(&app, "full", limits::GROUP_MEMBERS_SHOWN_MAX).await;
    let large_path = format!("{}/{large}", nscale_groups(&app));

    let read = app.get(&large_path).await;
    let listed = app.get(&nscale_groups(&app)).await;
    let full_read = app.get(&format!("{}/{full}", nscale_groups(&app))).await;

    assert_eq!(read.status, 200, "{}", read.body);
    assert!(
        answer_size(&read) < 4 * 1024,
        "{} bytes",
        answer_size(&read)
    );
    assert_eq!(
        read.body["spec"]["userIDs"],
        Value::Null,
        "left out, not cut"
    );
    assert_eq!(read.body["spec"]["roleIDs"], json!([]));
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(answer_size(&listed) < limits::ANSWER_MAX_BYTES);
    let listed_large = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["id"] == large);
    assert_eq!(listed_large.unwrap()["spec"]["userIDs"], Value::Null);
    assert_eq!(
        full_read.body["spec"]["userIDs"].as_array().unwrap().len(),
        limits::GROUP_MEMBERS_SHOWN_MAX,
        "a group at the bound is listed whole"
    );
    // The documented way to its members: the Onlive users list, page by page.
    assert_eq!(member_count(&app, &large).await, 15_000);
}

#[actix_web::test]
async fn writing_back_a_group_read_without_its_member_list_keeps_every_member() {
    let app = spawn_app().await;
    let large = group_with_members(&app, "large", limits::GROUP_MEMBERS_SHOWN_MAX + 1).await;
    let path = format!("{}/{large}", nscale_groups(&app));
    let read = app.get(&path).await;
    let mut written = read.body.clone();
    written["metadata"] = json!({"name": "renamed"});

    let replaced = app.put(&path, written).await;

    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["metadata"]["name"], "renamed");
    assert_eq!(replaced.body["spec"]["userIDs"], Value::Null);
    assert_eq!(
        member_count(&app, &large).await,
        limits::GROUP_MEMBERS_SHOWN_MAX as i64 + 1
    );
}

#[actix_web::test]
async fn an_nscale_list_whose_groups_pass_the_answer_bound_is_refused_pointing_to_the_paged_list() {
    let app = spawn_app().await;
    // 14 groups of 1,000 members list 14,000 ids: about 550 KB.
    for i in 0..14 {
        group_with_members(&app, &format!("g{i}"), 1_000).await;
    }

    let listed = app.get(&nscale_groups(&app)).await;

    assert_eq!(listed.status, 400, "{} bytes", answer_size(&listed));
    assert_eq!(listed.body["error"], "invalid_request");
    let description = listed.body["error_description"].as_str().unwrap();
    assert!(description.contains("/api/v1/user-groups"), "{description}");
}

#[actix_web::test]
async fn a_numbered_page_past_the_answer_bound_is_refused_naming_the_limit_that_fits() {
    let app = spawn_app().await;
    large_groups(&app, 12).await;

    let refused = app.get("/api/v1/user-groups?limit=100").await;

    refused.assert_error(400);
    assert_eq!(refused.error_fields(), ["limit"]);
    let message = refused.body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.ends_with('…'), "shown whole: {message}");
    let fits = (1..=12)
        .find(|n| message.contains(&format!("limit={n} ")))
        .expect("the message names a limit");
    let page = app.get(&format!("/api/v1/user-groups?limit={fits}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(ids_of(&page.body).len(), fits);
    assert!(answer_size(&page) <= limits::ANSWER_MAX_BYTES);
}

#[actix_web::test]
async fn pages_read_by_cursor_end_at_the_answer_bound_and_their_cursors_miss_nothing() {
    let app = spawn_app().await;
    let mut created = large_groups(&app, 12).await;
    created.reverse();
    let first = app.get("/api/v1/user-groups?limit=1").await;
    let mut seen = ids_of(&first.body);
    let mut cursor = first.body["nextCursor"].as_str().map(str::to_owned);
    let mut pages = 0;

    while let Some(next) = cursor {
        let page = app
            .get(&format!("/api/v1/user-groups?limit=100&cursor={next}"))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(answer_size(&page) <= limits::ANSWER_MAX_BYTES);
        seen.extend(ids_of(&page.body));
        cursor = page.body["nextCursor"].as_str().map(str::to_owned);
        pages += 1;
    }

    assert_eq!(seen, created, "every group once, in order");
    assert!(pages >= 2, "11 groups of 60 KB take more than one answer");
}

#[actix_web::test]
async fn the_deleted_groups_page_as_the_live_ones_within_the_answer_bound() {
    let app = spawn_app().await;
    let mut created = large_groups(&app, 12).await;
    for id in &created {
        app.delete(&format!("/api/v1/user-groups/{id}")).await;
    }
    created.reverse();

    let refused = app.get("/api/v1/deleted-user-groups?limit=100").await;
    let first = app.get("/api/v1/deleted-user-groups?limit=1").await;
    let mut seen = ids_of(&first.body);
    let mut cursor = first.body["nextCursor"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let page = app
            .get(&format!(
                "/api/v1/deleted-user-groups?limit=100&cursor={next}"
            ))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(answer_size(&page) <= limits::ANSWER_MAX_BYTES);
        seen.extend(ids_of(&page.body));
        cursor = page.body["nextCursor"].as_str().map(str::to_owned);
    }

    refused.assert_error(400);
    assert_eq!(refused.error_fields(), ["limit"]);
    assert_eq!(seen, created);
}

#[actix_web::test]
async fn the_change_feed_ends_a_page_at_the_answer_bound_and_goes_on_from_there() {
    let app = spawn_app().await;
    large_groups(&app, 12).await;
    let mut seen = Vec::new();
    let mut after = 0;
    let mut pages = 0;

    loop {
        let page = app
            .get(&format!("/api/v1/events?limit=100&after={after}"))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(answer_size(&page) <= limits::ANSWER_MAX_BYTES);
        let items = page.body["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        seen.extend(items.iter().map(|e| e["sequence"].as_i64().unwrap()));
        after = page.body["nextCursor"].as_str().unwrap().parse().unwrap();
        pages += 1;
    }

    assert_eq!(
        seen,
        (1..=12).collect::<Vec<i64>>(),
        "every event once, in order"
    );
    assert!(pages >= 2);
}

// --- Membership writes -------------------------------------------------------------------

#[actix_web::test]
async fn emptying_a_group_of_more_members_than_one_write_takes_out_is_refused_and_changes_nothing()
{
    let app = spawn_app().await;
    let large = group_with_members(&app, "large", 5_000).await;
    let path = format!("{}/{large}", nscale_groups(&app));
    let events = |app: &TestApp| count(&mut app.connection(), "SELECT COUNT(*) AS n FROM events");
    let events_before = events(&app);

    let refused = app.put(&path, group_write("large", Some(&[]))).await;

    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["error"], "invalid_request");
    let description = refused.body["error_description"].as_str().unwrap();
    assert!(description.contains("spec.userIDs"), "{description}");
    assert!(
        description.contains("PUT /api/v1/users/{id}"),
        "{description}"
    );
    assert_eq!(member_count(&app, &large).await, 5_000, "nobody left");
    assert_eq!(events(&app), events_before, "no event");
    let group = app.get(&format!("/api/v1/user-groups/{large}")).await;
    assert_eq!(
        group.body["name"], "large",
        "the rest of the write is not kept either"
    );
    assert_eq!(group.headers.get("etag").unwrap(), "\"1\"");
}

#[actix_web::test]
async fn a_write_that_takes_out_as_many_members_as_the_bound_allows_is_done() {
    let app = spawn_app().await;
    let full = group_with_members(&app, "full", limits::GROUP_MEMBERS_REMOVED_MAX).await;
    let path = format!("{}/{full}", nscale_groups(&app));

    let emptied = app.put(&path, group_write("full", Some(&[]))).await;

    assert_eq!(emptied.status, 200, "{}", emptied.body);
    assert_eq!(emptied.body["spec"]["userIDs"], json!([]));
    assert_eq!(member_count(&app, &full).await, 0);
    let moved = count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM events WHERE event_type = 'user.updated'",
    );
    assert_eq!(moved, limits::GROUP_MEMBERS_REMOVED_MAX as i64);
}

/// The fastest of three sends of a PUT emptying the group at `path`, and the last answer.
async fn fastest_emptying(app: &TestApp, path: &str, name: &str) -> (Duration, TestResponse) {
    let mut fastest = Duration::MAX;
    let mut answer = None;
    for _ in 0..3 {
        let call = app.write("PUT", path).json(&group_write(name, Some(&[])));
        let started = Instant::now();
        let response = call.send().await;
        fastest = fastest.min(started.elapsed());
        answer = Some(response);
    }
    (fastest, answer.expect("three sends"))
}

#[actix_web::test]
async fn refusing_to_empty_a_group_costs_no_more_at_twenty_thousand_members_than_at_two_thousand() {
    let app = spawn_app().await;
    let small = group_with_members(&app, "small", 2_000).await;
    let large = group_with_members(&app, "large", 20_000).await;

    let (small_time, small_answer) =
        fastest_emptying(&app, &format!("{}/{small}", nscale_groups(&app)), "small").await;
    let (large_time, large_answer) =
        fastest_emptying(&app, &format!("{}/{large}", nscale_groups(&app)), "large").await;

    assert_eq!(small_answer.status, 400, "{}", small_answer.body);
    assert_eq!(large_answer.status, 400, "{}", large_answer.body);
    assert_eq!(member_count(&app, &large).await, 20_000);
    let ratio = large_time.as_secs_f64() / small_time.as_secs_f64();
    // A bounded count costs the same at any size; moving every member cost 10x or more.
    assert!(
        ratio < 4.0,
        "10x the members took {ratio:.1}x the time ({small_time:?} -> {large_time:?})"
    );
}
