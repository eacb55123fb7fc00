//! usergroups: Onlive-compatible user groups and users behind HMAC-signed requests, with soft
//! delete, on SQLite or PostgreSQL.
//!
//! A request travels `server` (route table, request ids) → `auth` (signature, permissions) →
//! `routes` (input, answers) → `models` (queries, transactions) → `db` (connections, locks).

pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
pub mod config;
pub mod credentials;
pub mod db;
pub mod domain;
pub mod limits;
pub mod models;
pub mod openapi;
pub mod rate_limit;
pub mod role;
pub mod routes;
pub mod secrets;
pub mod server;
pub mod state;

pub use routes::ApiError;
pub use server::configure;
pub use state::{AppState, Limits};
