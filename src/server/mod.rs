//! The HTTP application: [`configure`] is the one route table, used by `serve`, by the tests
//! (actix `test::init_service`) and by the examples alike; [`run`] starts the real server.

mod authenticate;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, Error, HttpMessage, HttpServer, ResponseError};

use crate::config::Config;
use crate::db::{self, DbPool};
use crate::domain::purge;
use crate::metrics;
use crate::models::{idempotency, AccessToken, UsedSignature};
use crate::rate_limit::{FailedAttempts, RateLimits};
use crate::routes::nscale::error::nscale_errors;
use crate::routes::{health, nscale, onlive, resource, route_not_found, ApiError, Places};
use crate::state::AppState;
use crate::{docs, openapi};
use authenticate::authenticate;

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

/// The id of the request with these headers: the client's, if usable, or a new one.
fn request_id_of(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(usable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The answer to a request target that is not a path (`OPTIONS *`): it matches no scope, so
/// the request-id middleware does not see it and the id is added here.
async fn target_not_a_path(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    let mut response = ApiError::RouteNotFound.error_response();
    if let Ok(value) = HeaderValue::from_str(&request_id_of(req.headers())) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Gives every response an `x-request-id`, and logs the cause of every 5xx with it.
async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id_of(req.headers());
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

/// Counts and times every answer under its route's pattern (`/api/v1/user-groups/{id}`, one
/// series for the slash and no-slash forms), `unmatched` for a path no route matches, and counts
/// each 401 under its reason ([`crate::metrics`]).
///
/// The refusal is read here, from the error the authentication middleware answered with, rather
/// than recorded inside it: every 401 passes this point, whichever check made it.
async fn request_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let response = next.call(req).await?;
    // `None` for a path that reaches no resource (the default services' 404s included).
    let route = response.request().match_pattern();
    let status = response.status();
    metrics::record_request(route, method.as_str(), status.as_u16(), started.elapsed());
    if let Some(ApiError::Unauthorized(failure)) = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        metrics::record_auth_refusal(failure.reason());
    }
    Ok(response)
}

/// Logs one line per answered request (target `usergroups::access`): the peer, method, path,
/// status and latency in the message, and the same as key-value pairs (`request_id`, `method`,
/// `path`, `status`, `latency_ms`, and `reason` for a 401, 403 or 429 that has one), which the
/// JSON log format turns into fields. The query string is left out: it may carry search terms.
async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let peer = req
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |a| a.ip().to_string());
    let response = next.call(req).await?;
    let status = response.status().as_u16();
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let request_id = response
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let reason = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .and_then(ApiError::reason);
    // Escaped once for both the message and the fields: the text format writes the fields
    // unquoted after the message.
    let (method, path) = (log_safe(&method), log_safe(&path));
    let message = format!("{peer} \"{method} {path}\" {status} {latency_ms}ms");
    let request_id = log_safe(&request_id);
    let (request_id, method, path) = (request_id.as_ref(), method.as_ref(), path.as_ref());
    match reason {
        Some(reason) => log::info!(target: "usergroups::access",
            request_id, method, path, status, latency_ms, reason; "{message}"),
        None => log::info!(target: "usergroups::access",
            request_id, method, path, status, latency_ms; "{message}"),
    }
    Ok(response)
}

/// `text` as it may stand inside the access line's quoted request field: `"`, `\\`, spaces, control
/// characters and anything outside ASCII percent-encoded (as a path would be), so a request
/// cannot end the field early or forge a line; other text unchanged.
fn log_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let safe = |b: u8| b.is_ascii_graphic() && b != b'"' && b != b'\\';
    if text.bytes().all(safe) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for b in text.bytes() {
        if safe(b) {
            escaped.push(char::from(b));
        } else {
            escaped.push_str(&format!("%{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// The route table.
///
/// | route | methods |
/// | --- | --- |
/// | `/healthz`, `/readyz` | GET, unsigned |
/// | `/openapi.json` | GET, unsigned: the OpenAPI document ([`crate::openapi`]) |
/// | `/docs`, `/docs/{file}` | GET, unsigned: the API browser and its assets ([`crate::docs`]) |
/// | `/` | GET, unsigned: a redirect to `/docs` |
/// | `/metrics` | GET, unsigned: Prometheus text ([`crate::metrics`]) |
/// | the Onlive routes | [`onlive::configure`]: `/api/v1/user-groups`, `/api/v1/users`, … |
/// | the nscale routes | [`nscale::configure`]: `/api/v1/organizations/…`, `/oauth2/v2/token` |
///
/// Everything under `/api/v1` is signed (or presents a bearer token of `/oauth2/v2/token`): the
/// authentication middleware runs before routing, so an unsigned caller learns nothing about
/// which routes exist, and it counts each verified request against its access key's rate limit,
/// also before routing. The token endpoint is outside that scope: it is how a client without a
/// signature gets its credential.
pub fn configure(cfg: &mut web::ServiceConfig, state: AppState) {
    configure_routes(cfg, state, MetricsRoute::Served);
}

/// Whether the route table answers `GET /metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetricsRoute {
    /// Yes: no separate metrics address was configured.
    Served,
    /// No: `/metrics` is served only on the metrics address, and is an unknown route here.
    Elsewhere,
}

/// The route table of [`configure`], with or without `/metrics`.
fn configure_routes(cfg: &mut web::ServiceConfig, state: AppState, metrics_route: MetricsRoute) {
    let mut root = web::scope("")
        .wrap(from_fn(request_id))
        .wrap(from_fn(request_metrics));
    if metrics_route == MetricsRoute::Served {
        root = root.service(metrics_resource());
    }
    let get = |handler| [(Method::GET, handler)];
    let root = root
        .service(resource(&["/healthz"], get(web::to(health::healthz))))
        .service(resource(&["/readyz"], get(web::to(health::readyz))))
        .service(resource(
            &["/openapi.json"],
            get(web::to(openapi::get_openapi)),
        ))
        .service(resource(&["/"], get(web::to(docs::get_root))))
        .service(resource(&["/docs", "/docs/"], get(web::to(docs::get_docs))))
        .service(resource(&["/docs/{file}"], get(web::to(docs::get_asset))))
        .configure(|unsigned| {
            let api = web::scope("/api/v1")
                .wrap(from_fn(authenticate))
                .configure(|signed| {
                    let mut places = Places {
                        signed,
                        unsigned: &mut *unsigned,
                    };
                    onlive::configure(&mut places);
                    nscale::configure(&mut places);
                })
                .default_service(web::to(route_not_found))
                // The last wrap is the outermost: the dialect's error shape applies to the
                // authentication middleware's answers (401, 413, 429) too.
                .wrap(from_fn(nscale_errors));
            unsigned.service(api);
        });
    cfg.app_data(web::Data::new(state))
        .service(root.default_service(web::to(route_not_found)))
        // A request target that is not a path (`OPTIONS *`) matches no scope, not even "".
        .default_service(web::to(target_not_a_path));
}

/// `GET /metrics`, unsigned, 405 for other methods.
fn metrics_resource() -> actix_web::Resource {
    resource(
        &["/metrics"],
        [(Method::GET, web::to(crate::routes::metrics::get_metrics))],
    )
}

/// The route table of the metrics address: `/metrics` and nothing else (404 in JSON for any
/// other path, as on the main address).
fn configure_metrics_only(cfg: &mut web::ServiceConfig, state: AppState) {
    cfg.app_data(web::Data::new(state)).service(
        web::scope("")
            .wrap(from_fn(request_id))
            .wrap(from_fn(request_metrics))
            .service(metrics_resource())
            .default_service(web::to(route_not_found)),
    );
}

/// How often expired replay-guard entries and bearer tokens are pruned, and full rate-limit
/// buckets and ended failed-attempt windows forgotten.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Listens on every address `bind` resolves to (as actix's own `bind` does), before anything
/// else happens at start: a port in use or a host that does not resolve fails here, naming the
/// setting and the fix, and leaves no database, key or credentials file behind.
fn listen(bind: &str) -> Result<Vec<TcpListener>, String> {
    let setting = format!("--bind (USERGROUPS_BIND) {bind:?}");
    let addresses: Vec<SocketAddr> = bind
        .to_socket_addrs()
        .map_err(|e| format!("{setting}: cannot resolve the host ({e}); use an IP address or a name this machine resolves"))?
        .collect();
    let mut listeners = Vec::new();
    let mut failure = None;
    for address in &addresses {
        match TcpListener::bind(address).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
            Ok(listener) => listeners.push(listener),
            Err(e) => failure = Some((address, e)),
        }
    }
    match failure {
        _ if !listeners.is_empty() => Ok(listeners),
        Some((address, e)) => {
            let fix = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "another process listens there: stop it, or choose another port with --bind HOST:PORT"
                }
                std::io::ErrorKind::PermissionDenied => {
                    "ports below 1024 need privileges: choose a port from 1024 up with --bind HOST:PORT"
                }
                std::io::ErrorKind::AddrNotAvailable => {
                    "this machine has no such address: use one of its own, 127.0.0.1 or 0.0.0.0"
                }
                _ => "choose another address with --bind HOST:PORT",
            };
            Err(format!("{setting}: cannot listen on {address}: {e}; {fix}"))
        }
        None => Err(format!("{setting}: the host resolves to no address")),
    }
}

/// The URL the first-run credentials name: the first listening address, with `127.0.0.1` for
/// an address that means "every interface".
fn local_url(address: SocketAddr) -> String {
    let mut address = address;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{address}")
}

/// Starts the server: the listening socket first, then migrations, first-run credentials, the
/// pruning task, then HTTP until a signal.
///
/// SIGTERM stops at once taking connections (new ones are refused), lets the requests in flight
/// finish for up to the configured shutdown timeout, then returns `Ok`; SIGINT and SIGQUIT stop
/// at once. A client gets the request timeout to send a request's head (actix answers 408, or
/// closes a connection that sent nothing) and again its body (the authentication middleware
/// answers 408), and to take the answer when the connection closes. A stalled client is a
/// parked future, never a blocked worker.
pub async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    // Before anything is created on disk or in the database, so a failed start changes nothing.
    let listeners = listen(&config.bind)?;
    log::info!("settings: {}", config.summary());
    let key_source = config.master_key.source(config.database_url())?;
    let pool = db::init(config.database_url(), config.pool_options()).map_err(|e| match e {
        db::InitError::Connect { .. } => format!(
            "{e}; check --database-url (DATABASE_URL): the database server must be up and accept \
             this user, and a SQLite file's folder must be writable"
        ),
        db::InitError::Migrate(_) => e.to_string(),
    })?;
    let master_keys = crate::secrets::prepare(&pool, &key_source)?;
    let url = match listeners.first().map(TcpListener::local_addr) {
        Some(Ok(address)) => local_url(address),
        _ => format!("http://{}", config.bind),
    };
    crate::bootstrap::ensure_first_run_credentials(
        &pool,
        config.database_url(),
        &url,
        &master_keys,
    )?;
    crate::secrets::warn_about_foreign_keys(&pool, &master_keys);
    let mut limits = config.limits();
    let since = db::run(&pool, purge::retention_since)
        .await
        .map_err(|e| format!("cannot read when the retention started: {e}"))?;
    limits.retention_since = Some(since);
    let rate_limits = limits.rate_limits.clone();
    let failed_token_attempts = limits.failed_token_attempts.clone();
    let request_timeout = limits.request_timeout;
    let state = AppState {
        pool: pool.clone(),
        limits,
        master_keys,
        key_cache: Default::default(),
    };
    let metrics_route = match config.metrics_bind {
        Some(_) => MetricsRoute::Elsewhere,
        None => MetricsRoute::Served,
    };
    let main_state = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(access_log))
            .configure(|cfg| configure_routes(cfg, main_state.clone(), metrics_route))
    })
    .client_request_timeout(request_timeout)
    .client_disconnect_timeout(request_timeout)
    .shutdown_timeout(config.shutdown_timeout_seconds);
    for listener in listeners {
        server = server.listen(listener)?;
    }
    let addresses = server.addrs();
    let running = actix_web::rt::spawn(server.run());
    // actix installs its signal handlers when the server's future first runs: let it run before
    // saying where it listens, so whoever waits for that line may stop it with SIGTERM at once
    // (before, a SIGTERM in that window met the default action and killed the process).
    actix_web::rt::task::yield_now().await;
    for address in addresses {
        log::info!("listening on http://{address}");
    }
    let metrics_server = match config.metrics_bind {
        Some(address) => Some(metrics_server(address, state, request_timeout)?),
        None => {
            log::info!("GET /metrics is served on the main address");
            None
        }
    };
    let retention = config.retention.retention();
    log::info!("{}", purge_announcement(db::now(), retention, since));
    actix_web::rt::spawn(purge_expired(pool.clone(), retention, since));
    actix_web::rt::spawn(prune_expired_rows(pool));
    actix_web::rt::spawn(forget_full_buckets(rate_limits, failed_token_attempts));
    running
        .await
        .map_err(|e| format!("the HTTP server stopped abnormally: {e}"))??;
    if let Some(metrics_server) = metrics_server {
        // It stops on the same signal by itself; this covers a main server that ended otherwise.
        metrics_server.stop(false).await;
    }
    log::info!("stopped");
    Ok(())
}

/// Starts the server of the metrics address: `/metrics` only, one worker (a scrape every few
/// seconds needs no more), no request log (scrapes would drown it).
fn metrics_server(
    address: SocketAddr,
    state: AppState,
    request_timeout: Duration,
) -> std::io::Result<actix_web::dev::ServerHandle> {
    let server = HttpServer::new(move || {
        App::new().configure(|cfg| configure_metrics_only(cfg, state.clone()))
    })
    .workers(1)
    .client_request_timeout(request_timeout)
    .client_disconnect_timeout(request_timeout)
    .shutdown_timeout(0)
    .bind(address)
    .map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("--metrics-bind (USERGROUPS_METRICS_BIND) {address} cannot be bound: {e}"),
        )
    })?;
    for address in server.addrs() {
        log::info!("GET /metrics is served only at http://{address}/metrics");
    }
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Ok(handle)
}

/// Keeps the rate limiters' memory to the keys and client ids in recent use.
async fn forget_full_buckets(rate_limits: RateLimits, failed_token_attempts: FailedAttempts) {
    let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
    loop {
        interval.tick().await;
        rate_limits.forget_full_buckets();
        failed_token_attempts.forget_ended();
    }
}

/// Deletes the replay guard's expired entries and the expired bearer tokens, each in a write of
/// its own, so a failure of one does not hold back the other.
async fn prune_expired_rows(pool: DbPool) {
    let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
    loop {
        interval.tick().await;
        match db::write(&pool, |conn| UsedSignature::prune_expired(conn, db::now())).await {
            Ok(0) => {}
            Ok(pruned) => log::debug!("pruned {pruned} expired replay-guard entries"),
            Err(e) => log::warn!("pruning the replay guard failed: {e}"),
        }
        match db::write(&pool, |conn| AccessToken::prune_expired(conn, db::now())).await {
            Ok(0) => {}
            Ok(pruned) => log::debug!("pruned {pruned} expired bearer tokens"),
            Err(e) => log::warn!("pruning the bearer tokens failed: {e}"),
        }
        match db::write(&pool, |conn| idempotency::prune_expired(conn, db::now())).await {
            Ok(0) => {}
            Ok(pruned) => log::debug!("pruned {pruned} expired idempotency keys"),
            Err(e) => log::warn!("pruning the idempotency keys failed: {e}"),
        }
    }
}

/// How often the retention purge looks for expired deleted rows and events.
const PURGE_INTERVAL: Duration = Duration::from_secs(300);

/// Most batches one purge round runs, so a large backlog is worked off over several rounds
/// rather than holding the SQLite writer's queue for long.
const PURGE_BATCHES_PER_ROUND: usize = 20;

/// The start's log line about the retention: how long rows are kept, from when, and what the
/// first purge, one [`PURGE_INTERVAL`] after `now`, removes. The first purge waits that long, so
/// nothing is ever purged that a log line did not announce at least one interval earlier.
fn purge_announcement(
    now: chrono::NaiveDateTime,
    retention: Duration,
    since: chrono::NaiveDateTime,
) -> String {
    let days = retention.as_secs() / 86_400;
    let first = now + chrono::TimeDelta::from_std(PURGE_INTERVAL).unwrap_or_default();
    let due = purge::purge_time(since, None, retention);
    let what = match purge::scheduled_cutoff(first, retention, since) {
        Some(cutoff) => format!(
            "removes the groups and users deleted, and the change-feed events made, before              {cutoff} UTC"
        ),
        None => format!("removes nothing: nothing is purged before {due} UTC"),
    };
    format!(
        "retention: deleted groups and users and change-feed events are kept {days} days          (USERGROUPS_RETENTION_DAYS), counted from their deletion, or from {since} UTC (when this          database started to count it) for rows deleted before; the first purge runs at {first}          UTC and {what}; then one every {} s",
        PURGE_INTERVAL.as_secs()
    )
}

/// The retention purge of `serve` ([`crate::domain::purge`]): every [`PURGE_INTERVAL`], the
/// first one interval after the start (announced by [`purge_announcement`]), batches of expired
/// users, then groups, then events, each its own write. Nothing goes before the retention has
/// run from `since` ([`purge::scheduled_cutoff`]). Safe beside the other instances' purges and
/// the `purge` command.
async fn purge_expired(pool: DbPool, retention: Duration, since: chrono::NaiveDateTime) {
    let start = actix_web::rt::time::Instant::now() + PURGE_INTERVAL;
    let mut interval = actix_web::rt::time::interval_at(start, PURGE_INTERVAL);
    loop {
        interval.tick().await;
        let Some(cutoff) = purge::scheduled_cutoff(db::now(), retention, since) else {
            continue;
        };
        let mut purged = purge::Purged::default();
        let mut batches = 0;
        for kind in purge::Purge::PASS {
            while batches < PURGE_BATCHES_PER_ROUND {
                batches += 1;
                match db::write(&pool, move |conn| {
                    purge::batch(conn, kind, cutoff, crate::limits::PURGE_BATCH)
                })
                .await
                {
                    Ok(n) => {
                        purged.add(kind, n);
                        if n < crate::limits::PURGE_BATCH as usize {
                            break;
                        }
                    }
                    Err(e) => {
                        log::warn!("the retention purge failed: {e}");
                        break;
                    }
                }
            }
        }
        if purged != purge::Purged::default() {
            log::info!(
                "retention purge: {} users, {} groups, {} events removed",
                purged.users,
                purged.groups,
                purged.events
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_a_backslash_or_a_control_character_cannot_break_out_of_the_access_lines_request_field(
    ) {
        assert_eq!(
            log_safe("/api/v1/users/a-b_c~%2F"),
            "/api/v1/users/a-b_c~%2F"
        );
        assert_eq!(
            log_safe("/x\" 200 0ms\nforged"),
            "/x%22%20200%200ms%0Aforged"
        );
        assert_eq!(log_safe("/a\\b\u{7f}é"), "/a%5Cb%7F%C3%A9");
    }
}
