//! What a request costs the database, read from the statements its connections ran: a request
//! signed by a key the instance has seen runs only its own work, with no key query and no
//! validity ping, and a write commits once with its signature's use inside it. Forged requests
//! cost no more than real ones.

use actix_web::http::StatusCode;
use usergroups::auth::signer::Credentials;

use crate::helpers::{id_of, spawn_app_with_statement_log, unknown_id};

/// The statements of `log` that read or write `table`.
fn on(statements: &[String], table: &str) -> usize {
    statements.iter().filter(|s| s.contains(table)).count()
}

#[actix_web::test]
async fn a_signed_read_by_a_key_already_seen_runs_only_its_own_query() {
    let (app, log) = spawn_app_with_statement_log().await;
    let id = id_of(&app.create_group("Sales").await);
    let target = format!("/api/v1/user-groups/{id}");
    assert_eq!(app.get(&target).await.status, StatusCode::OK);
    log.take();

    let read = app.get(&target).await;
    let statements = log.take();

    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(on(&statements, "access_keys"), 0, "{statements:#?}");
    assert_eq!(
        statements.len(),
        1,
        "one query and nothing else: {statements:#?}"
    );
    assert!(statements[0].contains("user_groups"), "{statements:#?}");
}

#[actix_web::test]
async fn a_signed_write_records_its_signature_inside_its_own_single_transaction() {
    let (app, log) = spawn_app_with_statement_log().await;
    let id = id_of(&app.create_group("Sales").await);
    log.take();

    let deleted = app.delete(&format!("/api/v1/user-groups/{id}")).await;
    let statements = log.take();

    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let outermost_commits = statements.iter().filter(|s| *s == "commit 1").count();
    assert_eq!(outermost_commits, 1, "one commit: {statements:#?}");
    assert_eq!(on(&statements, "used_signatures"), 1, "{statements:#?}");
    let recorded = statements
        .iter()
        .position(|s| s.contains("used_signatures"))
        .expect("the signature's use is recorded");
    let committed = statements.iter().position(|s| s == "commit 1").unwrap();
    assert!(
        recorded < committed,
        "recorded before the commit: {statements:#?}"
    );
}

#[actix_web::test]
async fn forged_requests_naming_an_unknown_or_a_real_key_cost_no_statement_once_seen() {
    let (app, log) = spawn_app_with_statement_log().await;
    let unknown = Credentials::new("OLAKNOSUCHKEY", "whatever");
    let wrong_secret = Credentials::new(&app.credentials.access_key_id, "not the secret");
    let target = format!("/api/v1/user-groups/{}", unknown_id());
    for credentials in [&unknown, &wrong_secret] {
        app.call("GET", &target)
            .credentials(credentials)
            .send()
            .await;
    }
    log.take();

    let by_unknown = app.call("GET", &target).credentials(&unknown).send().await;
    let after_unknown = log.take();
    let by_real = app
        .call("GET", &target)
        .credentials(&wrong_secret)
        .send()
        .await;
    let after_real = log.take();

    assert_eq!(by_unknown.reason(), "unknown_access_key");
    assert_eq!(by_real.reason(), "signature_mismatch");
    assert!(after_unknown.is_empty(), "{after_unknown:#?}");
    assert!(after_real.is_empty(), "{after_real:#?}");
}
