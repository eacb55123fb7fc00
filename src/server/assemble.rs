//! The route assembly: the unsigned routes (health, the OpenAPI document, the API browser,
//! metrics), then every dialect's routes ([`crate::routes::onlive::configure`],
//! [`crate::routes::nscale::configure`]) in the places they share, inside the middleware.

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::web;

use super::authenticate::authenticate;
use super::middleware::{request_id, request_metrics, target_not_a_path};
use crate::routes::nscale::error::nscale_errors;
use crate::routes::{health, nscale, onlive, resource, route_not_found, Places};
use crate::state::AppState;
use crate::{docs, openapi};

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
pub(super) enum MetricsRoute {
    /// Yes: no separate metrics address was configured.
    Served,
    /// No: `/metrics` is served only on the metrics address, and is an unknown route here.
    Elsewhere,
}

/// The route table of [`configure`], with or without `/metrics`.
pub(super) fn configure_routes(
    cfg: &mut web::ServiceConfig,
    state: AppState,
    metrics_route: MetricsRoute,
) {
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
pub(super) fn configure_metrics_only(cfg: &mut web::ServiceConfig, state: AppState) {
    cfg.app_data(web::Data::new(state)).service(
        web::scope("")
            .wrap(from_fn(request_id))
            .wrap(from_fn(request_metrics))
            .service(metrics_resource())
            .default_service(web::to(route_not_found)),
    );
}
