//! Listening and running: the sockets first, then migrations, first-run credentials, the
//! background tasks ([`super::tasks`]), then HTTP until a signal; and the metrics address's
//! own server.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};

use super::assemble::{configure_metrics_only, configure_routes, MetricsRoute};
use super::middleware::access_log;
use super::tasks::{forget_full_buckets, prune_expired_rows, purge_announcement, purge_expired};
use crate::config::Config;
use crate::db;
use crate::domain::purge;
use crate::state::AppState;

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
