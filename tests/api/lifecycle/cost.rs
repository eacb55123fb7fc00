//! What the lifecycle adds to a write, read from the statements it runs: one version check under
//! the row lock, one version bump, one sequence step and one event (a single statement on
//! PostgreSQL), all inside the write's single commit.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::helpers::{group_path, id_of, spawn_app_with_statement_log};

/// The statements of `log` that read or write `table`.
fn on(statements: &[String], table: &str) -> usize {
    statements.iter().filter(|s| s.contains(table)).count()
}

/// True for the insert of an event: SQLite's own statement (names in backticks), or
/// PostgreSQL's one statement that also takes the sequence step.
fn inserts_an_event(statement: &str) -> bool {
    statement.starts_with("INSERT INTO `events`") || statement.contains("INSERT INTO events (")
}

#[actix_web::test]
async fn an_update_adds_its_event_and_version_inside_its_single_commit() {
    let (app, log) = spawn_app_with_statement_log().await;
    let id = id_of(&app.create_group("Sales").await);
    log.take();

    let updated = app
        .put(&group_path(&id), json!({"name": "Sales EMEA"}))
        .await;
    let statements = log.take();

    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(statements.iter().filter(|s| *s == "commit 1").count(), 1);
    assert_eq!(on(&statements, "event_sequences"), 1, "{statements:#?}");
    let events: Vec<usize> = statements
        .iter()
        .enumerate()
        .filter(|(_, s)| inserts_an_event(s))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(events.len(), 1, "{statements:#?}");
    let event = events[0];
    let commit = statements.iter().position(|s| s == "commit 1").unwrap();
    assert!(event < commit, "the event commits with the change");
}
