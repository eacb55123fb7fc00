//! usergroups: Onlive-compatible user groups and users behind HMAC-signed requests, with soft
//! delete, on SQLite or PostgreSQL.
//!
//! A request travels `server` (route table, request ids) → `auth` (signature, permissions) →
//! `routes` (input, answers) → `models` (queries, transactions) → `db` (connections, locks).
//!
//! Cargo features: `server` (the default) is the service and its CLI; `client` is the SDK
//! (`usergroups::client`). With `default-features = false, features = ["client"]` a dependent
//! builds only the SDK and what it shares with the server, the JSON shapes (`api`, `role`) and
//! request signing (`auth::canonical`, `auth::header`, `auth::signer`), and none of the web
//! server, the database drivers or their bundled C libraries.

pub mod api;
pub mod auth;
#[cfg(feature = "server")]
pub mod bootstrap;
#[cfg(feature = "server")]
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod limits;
#[cfg(feature = "server")]
pub mod models;
#[cfg(feature = "server")]
pub mod openapi;
#[cfg(feature = "server")]
pub mod rate_limit;
pub mod role;
#[cfg(feature = "server")]
pub mod routes;
#[cfg(feature = "server")]
pub mod secrets;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod state;

#[cfg(feature = "server")]
pub use error::ApiError;
#[cfg(feature = "server")]
pub use server::configure;
#[cfg(feature = "server")]
pub use state::{AppState, Limits};
