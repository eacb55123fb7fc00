//! `GET /api/v1/user-groups?cursor=`: keyset paging. Following `nextCursor` visits every live
//! group once, newest first, even while others create and delete; a cursor the service did not
//! issue for this list, organization and search is a 400 on `cursor`; and `total` is exact
//! however the writes interleave.

use actix_web::http::StatusCode;
use futures_util::future::join_all;
use serde_json::Value;

use crate::helpers::{count, group_path, id_of, ids_of, spawn_app, TestApp};

/// Follows `nextCursor` from `first` (a list target) to the last page, returning every page.
async fn every_page(app: &TestApp, first: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut response = app.get(first).await;
    loop {
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        let next = response.body["nextCursor"].as_str().map(str::to_owned);
        pages.push(response.body);
        let Some(cursor) = next else {
            return pages;
        };
        let separator = if first.contains('?') { '&' } else { '?' };
        let target = format!("{}{separator}cursor={cursor}", first.replace("page=1&", ""));
        response = app.get(&target).await;
    }
}

async fn create_groups(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(id_of(&app.create_group(&format!("{prefix} {i}")).await));
    }
    ids
}

#[actix_web::test]
async fn following_next_cursor_lists_every_group_once_newest_first_and_ends_with_null() {
    let app = spawn_app().await;
    let mut ids = create_groups(&app, "Group", 7).await;
    ids.reverse();

    let pages = every_page(&app, "/api/v1/user-groups?limit=3").await;

    let listed: Vec<String> = pages.iter().flat_map(ids_of).collect();
    assert_eq!(listed, ids);
    assert_eq!(pages.len(), 3);
    let numbers: Vec<&Value> = pages.iter().map(|p| &p["page"]).collect();
    assert_eq!(numbers, [1, 2, 3], "a cursor page knows its number");
    assert!(pages
        .iter()
        .all(|p| p["total"] == 7 && p["totalPages"] == 3));
    assert!(pages[2]["nextCursor"].is_null());
}

#[actix_web::test]
async fn a_full_last_page_has_no_next_cursor() {
    let app = spawn_app().await;
    create_groups(&app, "Group", 4).await;

    let last = app.get("/api/v1/user-groups?limit=2&page=2").await;
    let exact = app.get("/api/v1/user-groups?limit=4").await;

    assert_eq!(ids_of(&last.body).len(), 2);
    assert!(last.body["nextCursor"].is_null(), "{}", last.body);
    assert!(exact.body["nextCursor"].is_null(), "{}", exact.body);
}

#[actix_web::test]
async fn a_cursor_keeps_its_search_and_may_change_the_limit() {
    let app = spawn_app().await;
    for name in ["Sales 1", "Support", "Sales 2", "Sales 3"] {
        app.create_group(name).await;
    }

    let first = app.get("/api/v1/user-groups?search=sales&limit=1").await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let rest = app
        .get(&format!(
            "/api/v1/user-groups?search=sales&limit=5&cursor={cursor}"
        ))
        .await;

    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first.body), ["Sales 3"]);
    assert_eq!(names(&rest.body), ["Sales 2", "Sales 1"]);
    assert_eq!(rest.body["total"], 3);
    assert!(rest.body["nextCursor"].is_null());
}

#[actix_web::test]
async fn a_cursor_that_is_altered_invented_foreign_or_for_another_search_is_a_400_on_cursor() {
    let app = spawn_app().await;
    create_groups(&app, "Group", 3).await;
    let cursor = app.get("/api/v1/user-groups?limit=1").await.body["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut altered = cursor.clone().into_bytes();
    altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let (_, other_key) = app.other_organization();
    let other_org_cursor = {
        for i in 0..2 {
            app.write("POST", "/api/v1/user-groups")
                .credentials(&other_key)
                .json(&serde_json::json!({"name": format!("Theirs {i}")}))
                .send()
                .await;
        }
        app.call("GET", "/api/v1/user-groups?limit=1")
            .credentials(&other_key)
            .send()
            .await
            .body["nextCursor"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let cases = [
        ("an altered cursor", format!("cursor={altered}")),
        ("an invented cursor", "cursor=AAAAAAAAAAAAAAAA".to_owned()),
        ("not base64 at all", "cursor=%25%25%25".to_owned()),
        ("an empty cursor", "cursor=".to_owned()),
        ("a very long cursor", format!("cursor={}", "A".repeat(5000))),
        (
            "another organization's cursor",
            format!("cursor={other_org_cursor}"),
        ),
        (
            "a cursor of the unfiltered list sent with a search",
            format!("cursor={cursor}&search=group"),
        ),
    ];

    for (what, query) in cases {
        let response = app.get(&format!("/api/v1/user-groups?{query}")).await;

        response.assert_error(400);
        assert_eq!(response.message(), "Invalid input", "{what}");
        assert_eq!(
            response.error_fields(),
            ["cursor"],
            "{what}: {}",
            response.body
        );
    }
}

#[actix_web::test]
async fn a_cursor_of_the_groups_list_is_refused_by_the_users_list() {
    let app = spawn_app().await;
    create_groups(&app, "Group", 2).await;
    let cursor = app.get("/api/v1/user-groups?limit=1").await.body["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = app.get(&format!("/api/v1/users?cursor={cursor}")).await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["cursor"]);
}

#[actix_web::test]
async fn page_and_cursor_together_are_a_400_naming_page() {
    let app = spawn_app().await;
    create_groups(&app, "Group", 2).await;
    let cursor = app.get("/api/v1/user-groups?limit=1").await.body["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = app
        .get(&format!("/api/v1/user-groups?page=2&cursor={cursor}"))
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), ["page"]);
}

#[actix_web::test]
async fn paging_by_cursor_while_others_create_and_delete_never_skips_or_repeats_a_steady_group() {
    let app = spawn_app().await;
    let steady = create_groups(&app, "Steady", 12).await;
    let doomed = create_groups(&app, "Doomed", 6).await;
    let mut seen: Vec<String> = Vec::new();
    let mut response = app.get("/api/v1/user-groups?limit=4").await;
    let mut round = 0;

    loop {
        seen.extend(ids_of(&response.body));
        let Some(cursor) = response.body["nextCursor"].as_str().map(str::to_owned) else {
            break;
        };
        // Between pages: a new group (newer than every page, so never listed again) and the
        // delete of a group the pages may or may not have reached yet.
        app.create_group(&format!("Newcomer {round}")).await;
        if let Some(id) = doomed.get(round) {
            let deleted = app.delete(&group_path(id)).await;
            assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        }
        round += 1;
        response = app
            .get(&format!("/api/v1/user-groups?limit=4&cursor={cursor}"))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }

    for id in &steady {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "a group live throughout is listed exactly once"
        );
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no group is listed twice");
}

#[actix_web::test]
async fn total_is_exact_after_concurrent_creates_and_deletes() {
    let app = spawn_app().await;
    let existing = create_groups(&app, "Existing", 20).await;

    let creates = (0..30).map(|i| {
        let app = &app;
        async move { app.create_group(&format!("Concurrent {i}")).await }
    });
    let deletes = existing[..15].iter().map(|id| {
        let app = &app;
        async move { app.delete(&group_path(id)).await.status }
    });
    let (_, statuses) = futures_util::future::join(join_all(creates), join_all(deletes)).await;
    // A second delete of each races the first one, and must not count twice.
    let again = join_all(existing[..15].iter().map(|id| {
        let app = &app;
        async move { app.delete(&group_path(id)).await.status }
    }))
    .await;

    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert!(
        again.iter().all(|s| *s == StatusCode::NOT_FOUND),
        "{again:?}"
    );
    let live = count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM user_groups WHERE deleted_at IS NULL",
    );
    let listed = app.get("/api/v1/user-groups?limit=1").await;
    assert_eq!(live, 35);
    assert_eq!(listed.body["total"], live);
    assert_eq!(listed.body["totalPages"], live);
}

#[actix_web::test]
async fn search_follows_renames_and_deletes() {
    let app = spawn_app().await;
    let renamed = id_of(&app.create_group("Old Marketing").await);
    let deleted = id_of(&app.create_group("Marketing Archive").await);
    let put = app
        .put(
            &group_path(&renamed),
            serde_json::json!({"name": "Brand", "description": "was marketing"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    app.delete(&group_path(&deleted)).await;

    let by_old_name = app.get("/api/v1/user-groups?search=old+mark").await;
    let by_description = app.get("/api/v1/user-groups?search=MARKETING").await;
    let by_new_name = app.get("/api/v1/user-groups?search=bra").await;

    assert_eq!(by_old_name.body["total"], 0, "{}", by_old_name.body);
    assert_eq!(ids_of(&by_description.body), [renamed.as_str()]);
    assert_eq!(ids_of(&by_new_name.body), [renamed]);
}
