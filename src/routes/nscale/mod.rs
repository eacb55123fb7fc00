//! The nscale dialect: the nscale Identity group routes (`/api/v1/organizations/{organizationID}/
//! groups…`, the roles listing) and the OAuth2 token endpoint, over the same domain core as the
//! Onlive routes (`../shared/spec/nscale.md`, summarized in `docs/nscale.md`). This module maps
//! shapes and errors only: every rule about groups and users is the domain's.
//!
//! - [`error`]: the dialect's error body, `{"error", "error_description"}`, and its wording of
//!   every [`crate::routes::ApiError`] (never read from the Onlive answer).
//! - [`groups`]: the five group routes; [`roles`]: the built-in roles.
//! - [`token`]: `POST /oauth2/v2/token` (client credentials), unsigned.
//!
//! [`configure`] registers its routes.

pub mod error;
pub mod groups;
pub mod roles;
pub mod token;

use actix_web::http::Method;
use actix_web::web;

use super::{resource, resource_with_405, Places};

/// Registers the dialect's routes, each with and without a trailing slash:
///
/// | route | methods |
/// | --- | --- |
/// | `/api/v1/organizations/{organizationID}/groups` | GET (list), POST (create) |
/// | `/api/v1/organizations/{organizationID}/groups/{groupid}` | GET, PUT, DELETE |
/// | `/api/v1/organizations/{organizationID}/groups/{groupid}:undelete` | POST |
/// | `/api/v1/organizations/{organizationID}/roles` | GET |
/// | `/oauth2/v2/token` | POST, unsigned: bearer tokens for access keys ([`token`]) |
///
/// The signed routes answer in this dialect's body through [`error::nscale_errors`], which the
/// server wraps around every signed route (it words the answers under
/// `/api/v1/organizations` only); the token endpoint words its own.
pub fn configure(places: &mut Places<'_>) {
    places
        .signed
        .service(resource(
            &[
                "/organizations/{organizationID}/groups",
                "/organizations/{organizationID}/groups/",
            ],
            [
                (Method::GET, web::to(groups::list_groups)),
                (Method::POST, web::to(groups::create_group)),
            ],
        ))
        // Before `{groupid}`, whose segment would match `…:undelete` too.
        .service(resource(
            &[
                "/organizations/{organizationID}/groups/{groupid}:undelete",
                "/organizations/{organizationID}/groups/{groupid}:undelete/",
            ],
            [(Method::POST, web::to(groups::undelete_group))],
        ))
        .service(resource(
            &[
                "/organizations/{organizationID}/groups/{groupid}",
                "/organizations/{organizationID}/groups/{groupid}/",
            ],
            [
                (Method::GET, web::to(groups::get_group)),
                (Method::PUT, web::to(groups::update_group)),
                (Method::DELETE, web::to(groups::delete_group)),
            ],
        ))
        .service(resource(
            &[
                "/organizations/{organizationID}/roles",
                "/organizations/{organizationID}/roles/",
            ],
            [(Method::GET, web::to(roles::list_roles))],
        ));
    places.unsigned.service(resource_with_405(
        &["/oauth2/v2/token"],
        [(Method::POST, web::to(token::issue_token))],
        |allow| web::to(move || token::token_method_not_allowed(allow.clone())),
    ));
}
