//! The HTTP application, split by job:
//!
//! - `middleware`: the request id ([`RequestId`]), the request metrics and the access log;
//!   `authenticate`, the authentication middleware of everything under `/api/v1`.
//! - `assemble`: [`configure`], the one route table, used by `serve`, by the tests (actix
//!   `test::init_service`) and by the examples alike. It registers the unsigned routes and
//!   calls each dialect's own `configure` (`crate::routes::onlive`, `crate::routes::nscale`)
//!   inside the middleware.
//! - `run`: [`run`], listening and starting the real server.
//! - `tasks`: the background tasks of `serve` (pruning, the retention purge).

mod assemble;
mod authenticate;
mod middleware;
mod run;
mod tasks;

pub use assemble::configure;
pub use middleware::RequestId;
pub use run::run;
