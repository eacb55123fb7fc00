//! The HTTP application: [`configure`] is the one route table, used by `serve`, by the tests
//! (actix `test::init_service`) and by the examples alike; [`run`] starts the real server.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, Logger, Next};
use actix_web::{web, App, Error, HttpMessage, HttpServer};

use crate::auth::middleware::authenticate;
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::models::UsedSignature;
use crate::openapi;
use crate::routes::{groups, health, route_not_found, users};

/// Limits every request is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted body in bytes (413 above).
    pub body_limit: usize,
    /// How far a request's date may be from the server's clock, either way.
    pub signature_skew: Duration,
}

impl Default for Limits {
    /// 1 MiB bodies and 15 minutes of clock skew, as the contract sets.
    fn default() -> Self {
        Limits {
            body_limit: 1024 * 1024,
            signature_skew: Duration::from_secs(15 * 60),
        }
    }
}

/// What every handler can reach: the pool and the limits.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: DbPool,
    /// Request limits.
    pub limits: Limits,
}

/// The request id of the request being served (echoed from `x-request-id` or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is echoed when it is short printable ASCII; otherwise a new one is made.
fn usable_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (!text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| text.to_owned())
}

/// Gives every response an `x-request-id`, and logs the cause of every 5xx with it.
async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(usable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    // Handlers' errors arrive here as responses (with the error attached); only a failure of
    // the service machinery itself is an `Err`, and actix answers that one on its own.
    let mut response = next.call(req).await?;
    if response.status().is_server_error() {
        match response.response().error() {
            Some(cause) => log::error!("request {id} failed: {cause}"),
            None => log::error!("request {id} failed with {}", response.status()),
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// A handler for the other methods of a known route: 405 with the route's `Allow` header.
fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move || async move {
        Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow })
    })
}

/// The route table.
///
/// | route | methods |
/// | --- | --- |
/// | `/healthz`, `/readyz` | GET, unsigned |
/// | `/openapi.json` | GET, unsigned: the OpenAPI document ([`crate::openapi`]) |
/// | `/api/v1/user-groups[/]` | GET (list), POST (create) |
/// | `/api/v1/user-groups/{id}` | GET, PUT, DELETE |
/// | `/api/v1/users[/]` | GET (list), POST (create) |
/// | `/api/v1/users/{id}` | GET, PUT, DELETE |
///
/// Everything under `/api/v1` is signed: the authentication middleware runs before routing, so
/// an unsigned caller learns nothing about which routes exist.
pub fn configure(cfg: &mut web::ServiceConfig, state: AppState) {
    cfg.app_data(web::Data::new(state)).service(
        web::scope("")
            .wrap(from_fn(request_id))
            .service(
                web::resource("/healthz")
                    .route(web::get().to(health::healthz))
                    .default_service(method_not_allowed("GET")),
            )
            .service(
                web::resource("/readyz")
                    .route(web::get().to(health::readyz))
                    .default_service(method_not_allowed("GET")),
            )
            .service(
                web::resource("/openapi.json")
                    .route(web::get().to(openapi::get_openapi))
                    .default_service(method_not_allowed("GET")),
            )
            .service(
                web::scope("/api/v1")
                    .wrap(from_fn(authenticate))
                    .service(
                        web::resource(["/user-groups", "/user-groups/"])
                            .route(web::get().to(groups::list_groups))
                            .route(web::post().to(groups::create_group))
                            .default_service(method_not_allowed("GET, POST")),
                    )
                    .service(
                        web::resource(["/user-groups/{id}", "/user-groups/{id}/"])
                            .route(web::get().to(groups::get_group))
                            .route(web::put().to(groups::update_group))
                            .route(web::delete().to(groups::delete_group))
                            .default_service(method_not_allowed("GET, PUT, DELETE")),
                    )
                    .service(
                        web::resource(["/users", "/users/"])
                            .route(web::get().to(users::list_users))
                            .route(web::post().to(users::create_user))
                            .default_service(method_not_allowed("GET, POST")),
                    )
                    .service(
                        web::resource(["/users/{id}", "/users/{id}/"])
                            .route(web::get().to(users::get_user))
                            .route(web::put().to(users::update_user))
                            .route(web::delete().to(users::delete_user))
                            .default_service(method_not_allowed("GET, PUT, DELETE")),
                    )
                    .default_service(web::to(route_not_found)),
            )
            .default_service(web::to(route_not_found)),
    );
}

/// How often expired replay-guard entries are pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Starts the server: migrations, first-run credentials, the pruning task, then HTTP until
/// SIGINT or SIGTERM (in-flight requests are drained).
pub async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    log::info!("database: {}", config.database_url());
    let pool = db::init(config.database_url(), config.pool_options())?;
    crate::bootstrap::ensure_first_run_credentials(&pool, &config)?;
    let state = AppState {
        pool: pool.clone(),
        limits: config.limits(),
    };
    let server = HttpServer::new(move || {
        App::new()
            .wrap(Logger::new(
                r#"%a "%r" %s %b %Dms request_id=%{x-request-id}o"#,
            ))
            .configure(|cfg| configure(cfg, state.clone()))
    })
    .bind(&config.bind)?;
    for address in server.addrs() {
        log::info!("listening on http://{address}");
    }
    actix_web::rt::spawn(prune_used_signatures(pool));
    server.run().await?;
    Ok(())
}

async fn prune_used_signatures(pool: DbPool) {
    let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
    loop {
        interval.tick().await;
        match db::run(&pool, |conn| UsedSignature::prune_expired(conn, db::now())).await {
            Ok(0) => {}
            Ok(pruned) => log::debug!("pruned {pruned} expired replay-guard entries"),
            Err(e) => log::warn!("pruning the replay guard failed: {e}"),
        }
    }
}
