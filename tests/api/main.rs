//! The API test suite: one binary, one module per area. Every test runs on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` is set (each test on its own schema).

mod helpers;

mod api_browser;
mod auth;
mod binary;
mod bounds;
mod clients;
mod crash;
mod fairness;
mod faults;
mod groups;
mod hostile;
mod import;
mod invariants;
mod isolation;
mod layers;
mod lifecycle;
mod live_server;
mod metrics;
mod nscale;
mod openapi;
mod operator;
mod precedence;
mod properties;
mod proxy;
mod rate_limits;
mod scale;
mod secrets;
mod signing;
mod statements;
mod timeouts;
mod unavailable;
mod upgrades;
mod users;
