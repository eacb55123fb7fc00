//! ETags and `If-Match`: every write gives the record a new strong ETag (even two writes in one
//! second), a PUT or DELETE whose `If-Match` no longer matches is a 412 that changes nothing, a
//! fresh one or `*` passes, and an unsigned `If-Match` is refused.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{group_path, id_of, spawn_app, user_path, TestResponse};

fn etag(response: &TestResponse) -> String {
    response
        .headers
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn the_etag_is_strong_and_changes_with_every_write_even_within_one_second() {
    let app = spawn_app().await;
    let created = app.post("/api/v1/user-groups", json!({"name": "A"})).await;
    let id = id_of(&created.body);
    let read = app.get(&group_path(&id)).await;
    let first = app.put(&group_path(&id), json!({"name": "B"})).await;
    let second = app.put(&group_path(&id), json!({"name": "B"})).await;
    let deleted = app.delete(&group_path(&id)).await;

    let tags = [&created, &read, &first, &second, &deleted].map(etag);
    assert_eq!(tags[0], tags[1], "a read does not change it");
    assert!(
        tags[0].starts_with('"') && tags[0].ends_with('"'),
        "{}",
        tags[0]
    );
    assert_ne!(tags[1], tags[2]);
    assert_ne!(tags[2], tags[3], "two writes in one second differ");
    assert_ne!(tags[3], tags[4]);
}

#[actix_web::test]
async fn a_put_with_a_stale_if_match_is_a_412_that_changes_nothing_and_a_fresh_one_passes() {
    let app = spawn_app().await;
    let id = id_of(&app.create_group("Original").await);
    let tag = etag(&app.get(&group_path(&id)).await);
    let moved = app.put(&group_path(&id), json!({"name": "Moved on"})).await;

    let stale = app
        .write("PUT", &group_path(&id))
        .signed_header("if-match", &tag)
        .json(&json!({"name": "Lost update"}))
        .send()
        .await;
    let fresh = app
        .write("PUT", &group_path(&id))
        .signed_header("if-match", &etag(&moved))
        .json(&json!({"name": "Checked"}))
        .send()
        .await;
    let any = app
        .write("PUT", &group_path(&id))
        .signed_header("if-match", "*")
        .json(&json!({"description": "any version"}))
        .send()
        .await;

    stale.assert_error(412);
    assert_eq!(stale.reason(), "precondition_failed");
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!(fresh.body["name"], "Checked");
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);
    assert_eq!(app.get(&group_path(&id)).await.body["name"], "Checked");
}

#[actix_web::test]
async fn a_delete_with_a_stale_if_match_is_a_412_and_the_user_stays() {
    let app = spawn_app().await;
    let id = id_of(&app.create_user("ada@example.com", None).await);
    let tag = etag(&app.get(&user_path(&id)).await);
    let updated = app
        .put(&user_path(&id), json!({"firstName": "Augusta"}))
        .await;

    let stale = app
        .write("DELETE", &user_path(&id))
        .signed_header("if-match", &tag)
        .send()
        .await;
    let alive = app.get(&user_path(&id)).await;
    let fresh = app
        .write("DELETE", &user_path(&id))
        .signed_header("if-match", &etag(&updated))
        .send()
        .await;

    stale.assert_error(412);
    assert_eq!(alive.status, StatusCode::OK);
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert!(fresh.body["deletedAt"].is_string());
}

#[actix_web::test]
async fn an_if_match_outside_the_signature_is_refused() {
    let app = spawn_app().await;
    let id = id_of(&app.create_group("Signed").await);
    let tag = etag(&app.get(&group_path(&id)).await);

    let unsigned = app
        .write("PUT", &group_path(&id))
        .header("if-match", &tag)
        .json(&json!({"name": "Sneaky"}))
        .send()
        .await;

    unsigned.assert_error(400);
    assert_eq!(unsigned.error_fields(), ["If-Match"]);
    assert_eq!(app.get(&group_path(&id)).await.body["name"], "Signed");
}

#[actix_web::test]
async fn an_if_match_is_compared_as_a_string_so_another_spelling_of_the_number_matches_nothing() {
    let app = spawn_app().await;
    let id = id_of(&app.create_group("Exact").await);
    let tag = etag(&app.get(&group_path(&id)).await);
    let number = tag.trim_matches('"');

    for (spelling, why) in [
        (format!("\"0{number}\""), "a leading zero"),
        (format!("\"+{number}\""), "a plus sign"),
        (format!("W/{tag}"), "the weak form"),
    ] {
        let response = app
            .write("PUT", &group_path(&id))
            .signed_header("if-match", &spelling)
            .json(&json!({"name": "Changed"}))
            .send()
            .await;

        response.assert_error(412);
        assert_eq!(response.reason(), "precondition_failed", "{why}");
    }
    assert_eq!(app.get(&group_path(&id)).await.body["name"], "Exact");
}

#[actix_web::test]
async fn a_bearer_client_sends_if_match_as_it_is_and_a_stale_one_is_a_412() {
    let app = spawn_app().await;
    let token = crate::nscale::tokens::issue_token(&app, &app.credentials).await;
    let authorization = usergroups::auth::bearer::authorization_value(&token);
    let id = id_of(&app.create_group("Bearer").await);
    let tag = etag(&app.get(&group_path(&id)).await);
    let put = |if_match: String, name: &'static str| {
        let (app, authorization, id) = (&app, &authorization, &id);
        async move {
            app.call("PUT", &group_path(id))
                .unsigned()
                .header("authorization", authorization)
                .header("if-match", &if_match)
                .json(&json!({"name": name}))
                .send()
                .await
        }
    };

    let fresh = put(tag.clone(), "Checked").await;
    let stale = put(tag, "Lost update").await;

    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    stale.assert_error(412);
    assert_eq!(app.get(&group_path(&id)).await.body["name"], "Checked");
}
