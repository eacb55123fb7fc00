//! Creates with an `Idempotency-Key`: a repeat with the same body gets the first answer again
//! and creates nothing; another body with the key is a 422; the exact resend of a committed
//! create gets the stored answer where, without a key, it is still a 401 `replayed_request`.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{count, spawn_app};

#[actix_web::test]
async fn a_repeated_create_with_the_same_key_and_body_gets_the_first_answer_and_one_row() {
    let app = spawn_app().await;
    let body = json!({"name": "Once", "extraFields": {"n": 1}});

    let first = app
        .write("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", "create-once-1")
        .json(&body)
        .send()
        .await;
    let again = app
        .write("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", "create-once-1")
        .json(&body)
        .send()
        .await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(app.get("/api/v1/user-groups").await.body["total"], 1);
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_a_422_and_creates_nothing() {
    let app = spawn_app().await;
    app.write("POST", "/api/v1/users")
        .signed_header("idempotency-key", "k-1")
        .json(&json!({"firstName": "A", "lastName": "B", "email": "a@example.com"}))
        .send()
        .await;

    let other = app
        .write("POST", "/api/v1/users")
        .signed_header("idempotency-key", "k-1")
        .json(&json!({"firstName": "C", "lastName": "D", "email": "c@example.com"}))
        .send()
        .await;

    other.assert_error(422);
    assert_eq!(other.reason(), "idempotency_key_reused");
    assert_eq!(app.get("/api/v1/users").await.body["total"], 1);
}

#[actix_web::test]
async fn the_exact_resend_of_a_committed_create_gets_the_stored_answer_only_with_a_key() {
    let app = spawn_app().await;
    let with_key = app
        .call("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", "retry-1")
        .json(&json!({"name": "Retried"}));
    let without_key = app
        .call("POST", "/api/v1/user-groups")
        .json(&json!({"name": "Replayed"}));

    let first = with_key.send_copy().await;
    let resent = with_key.send_copy().await;
    let plain = without_key.send_copy().await;
    let replayed = without_key.send_copy().await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(resent.status, StatusCode::CREATED, "{}", resent.body);
    assert_eq!(resent.body, first.body);
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.body);
    replayed.assert_error(401);
    assert_eq!(replayed.reason(), "replayed_request");
    let rows = count(
        &mut app.connection(),
        "SELECT COUNT(*) AS n FROM user_groups",
    );
    assert_eq!(rows, 2);
}

#[actix_web::test]
async fn a_refused_create_is_not_remembered_so_its_retry_is_judged_afresh() {
    let app = spawn_app().await;
    let taken = app.create_group("Taken").await;

    let refused = app
        .write("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", "k-2")
        .json(&json!({"name": "Taken"}))
        .send()
        .await;
    app.delete(&format!(
        "/api/v1/user-groups/{}",
        taken["id"].as_str().unwrap()
    ))
    .await;
    let retried = app
        .write("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", "k-2")
        .json(&json!({"name": "Taken"}))
        .send()
        .await;

    refused.assert_error(409);
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
}

#[actix_web::test]
async fn an_unsigned_or_malformed_idempotency_key_is_refused() {
    let app = spawn_app().await;

    let unsigned = app
        .write("POST", "/api/v1/user-groups")
        .header("idempotency-key", "k-3")
        .json(&json!({"name": "Unsigned"}))
        .send()
        .await;
    let too_long = app
        .write("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", &"k".repeat(256))
        .json(&json!({"name": "Too long"}))
        .send()
        .await;

    unsigned.assert_error(400);
    assert_eq!(unsigned.error_fields(), ["Idempotency-Key"]);
    too_long.assert_error(400);
    assert_eq!(app.get("/api/v1/user-groups").await.body["total"], 0);
}

#[actix_web::test]
async fn expired_keys_are_forgotten_and_pruned() {
    let app = spawn_app().await;
    let body = json!({"name": "Expiring"});
    app.write("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", "k-4")
        .json(&body)
        .send()
        .await;
    {
        use diesel::prelude::*;
        use usergroups::db::schema::idempotency_keys;
        diesel::update(idempotency_keys::table)
            .set(idempotency_keys::expires_at.eq(super::days_ago(1)))
            .execute(&mut *app.connection())
            .unwrap();
    }

    let pruned = usergroups::models::idempotency::prune_expired(
        &mut app.connection(),
        usergroups::db::now(),
    )
    .unwrap();
    let again = app
        .write("POST", "/api/v1/user-groups")
        .signed_header("idempotency-key", "k-4")
        .json(&body)
        .send()
        .await;

    assert_eq!(pruned, 1);
    // The key is free again: the create runs, and the name is taken by the first one.
    again.assert_error(409);
}

#[actix_web::test]
async fn a_bearer_client_makes_an_idempotent_create_with_an_idempotency_key() {
    let app = spawn_app().await;
    let token = crate::nscale::tokens::issue_token(&app, &app.credentials).await;
    let authorization = usergroups::auth::bearer::authorization_value(&token);
    let create = || {
        app.call("POST", "/api/v1/user-groups")
            .unsigned()
            .header("authorization", &authorization)
            .header("idempotency-key", "bearer-create-1")
            .json(&json!({"name": "Once by token"}))
            .send()
    };

    let first = create().await;
    let again = create().await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(app.get("/api/v1/user-groups").await.body["total"], 1);
}
