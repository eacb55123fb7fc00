//! Users: create, list, get, the partial update and the soft delete, row by row of the
//! contract, with the last-admin rule and the permissions each route needs.
//!
//! One file per route; the rules that span routes (joining and leaving a group, the last admin,
//! the permissions) have a file each.

mod create;
mod delete;
mod get;
mod last_admin;
mod list;
mod membership;
mod permissions;
mod update;

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{group_path, id_of, TestApp};

/// A valid create body for `email`, with no optional field.
fn new_user(email: &str) -> Value {
    json!({"firstName": "Ada", "lastName": "Lovelace", "email": email})
}

/// A valid create body with `field` replaced by `value`.
fn new_user_with(field: &str, value: Value) -> Value {
    let mut body = new_user("ada@example.com");
    body[field] = value;
    body
}

/// Creates and deletes a group, returning its id.
async fn deleted_group(app: &TestApp, name: &str) -> String {
    let id = id_of(&app.create_group(name).await);
    let response = app.delete(&group_path(&id)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    id
}

/// A name of `n` characters that are two bytes each in UTF-8.
fn accented(n: usize) -> String {
    "é".repeat(n)
}

/// An https URL of exactly `n` characters.
fn avatar_of_length(n: usize) -> String {
    let prefix = "https://cdn.example.com/";
    format!("{prefix}{}", "a".repeat(n - prefix.len()))
}
