//! usergroups: Onlive-compatible user groups and users behind HMAC-signed requests, with soft
//! delete, on SQLite or PostgreSQL.
//!
//! The layers, top to bottom; a module imports only from layers below its own (a test keeps
//! the import graph free of loops and upward arrows):
//!
//! 1. `cli`: the `usergroups` commands (`main.rs` is only its entry).
//! 2. `server`, split by job: the route assembly (`configure`, which calls each dialect's own
//!    `configure`), the middleware (request ids, metrics, the access log, authentication),
//!    `run`, and the background tasks; `bootstrap` (the first start) and `config` below it.
//! 3. `openapi`: the document of the routes below it; `docs`, the API browser over it.
//! 4. `routes`: one folder per dialect over the same domain, each mapping shapes and errors
//!    only and registering its own routes (its `configure`, each path built by
//!    `routes::resource`, which derives a 405's `Allow` from the path's methods); adding a
//!    dialect is a new folder here with its own `configure` and its own renderer:
//!    `routes::onlive` (the contract's groups and users, and the lifecycle's `deleted`
//!    and `events`) and `routes::nscale` (its groups, roles and token endpoint; its error
//!    middleware words every `ApiError` under `/api/v1/organizations`), each with its own error
//!    renderer (`error`). Beside them what both use: `Caller`, input parsing, `ApiError` (the
//!    neutral problem: a domain, store or authentication error, a missing permission, a
//!    transport failure; no dialect's words), the cursors, `conditional` (the headers of
//!    conditional and idempotent writes: `ETag`, `If-Match`, `Idempotency-Key`), and `health`.
//! 5. `state`: what every request reaches (pool, master keys, limits); `rate_limit`.
//! 6. `auth`: the ONLIVESITE scheme: parsing, canonical request, signer, and `verify`, which
//!    yields a `Principal` or an `AuthError`; `bearer`, the nscale dialect's tokens, which
//!    yields the same `Principal`.
//! 7. `models` (access keys and their permissions, their bearer tokens, organizations, used
//!    signatures, stored idempotent answers) beside `domain`, the core: groups and users, their
//!    rules, `DomainError`, and their lifecycle (`domain::lifecycle`, the writes every dialect
//!    makes; `deleted`, `purge`, `events`). Neither speaks HTTP.
//! 8. `secrets`: sealing access-key secrets under the master key.
//! 9. `db`: connections, pool, migrations, transactions, `StoreError` (no web framework: its
//!    blocking work runs on tokio's blocking pool); and the leaves every
//!    layer may use: `api` (the JSON shapes of both dialects), `role`, `group_roles` (the
//!    built-in roles a group grants), `credentials`, `limits`, `ids` (one
//!    type per kind of id, so two ids cannot be swapped in a call), and `metrics` (the
//!    Prometheus registry and the functions that record into it).
//!
//! `client` (the SDK, feature `client`) sits beside the server, on `api`, `auth::signer` and the
//! leaves.
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
pub mod credentials;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod docs;
#[cfg(feature = "server")]
pub mod domain;
pub mod group_roles;
#[cfg(feature = "server")]
pub mod ids;
pub mod limits;
#[cfg(feature = "server")]
pub mod metrics;
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
pub use routes::ApiError;
#[cfg(feature = "server")]
pub use server::configure;
#[cfg(feature = "server")]
pub use state::{AppState, Limits};
