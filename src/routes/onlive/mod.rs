//! The Onlive dialect: `/api/v1/user-groups` and `/api/v1/users` as the contract (`api.md`)
//! gives them, and the lifecycle's routes beside them (`/api/v1/deleted-…`, `/api/v1/events`),
//! answered in the contract's error body, which [`error`] renders from every
//! [`crate::routes::ApiError`] (and which is the answer of every route outside the nscale
//! prefix). One module per resource, handlers named verb_noun; like [`super::nscale`], it maps
//! shapes and errors only: every rule is the domain's. [`configure`] registers its routes.

pub mod deleted;
pub mod error;
pub mod events;
pub mod groups;
pub mod users;

use actix_web::http::Method;
use actix_web::web;

use super::{resource, Places};

/// Registers the dialect's routes, all signed, each with and without a trailing slash:
///
/// | route | methods |
/// | --- | --- |
/// | `/api/v1/user-groups` | GET (list), POST (create) |
/// | `/api/v1/user-groups/{id}` | GET, PUT, DELETE |
/// | `/api/v1/users` | GET (list), POST (create) |
/// | `/api/v1/users/{id}` | GET, PUT, DELETE |
/// | `/api/v1/deleted-user-groups`, `/api/v1/deleted-users` | GET (the deleted listings) |
/// | `/api/v1/deleted-user-groups/{id}/restore`, `/api/v1/deleted-users/{id}/restore` | POST |
/// | `/api/v1/events` | GET (the change feed) |
pub fn configure(places: &mut Places<'_>) {
    places
        .signed
        .service(resource(
            &["/user-groups", "/user-groups/"],
            [
                (Method::GET, web::to(groups::list_groups)),
                (Method::POST, web::to(groups::create_group)),
            ],
        ))
        .service(resource(
            &["/user-groups/{id}", "/user-groups/{id}/"],
            [
                (Method::GET, web::to(groups::get_group)),
                (Method::PUT, web::to(groups::update_group)),
                (Method::DELETE, web::to(groups::delete_group)),
            ],
        ))
        .service(resource(
            &["/users", "/users/"],
            [
                (Method::GET, web::to(users::list_users)),
                (Method::POST, web::to(users::create_user)),
            ],
        ))
        .service(resource(
            &["/users/{id}", "/users/{id}/"],
            [
                (Method::GET, web::to(users::get_user)),
                (Method::PUT, web::to(users::update_user)),
                (Method::DELETE, web::to(users::delete_user)),
            ],
        ))
        .service(resource(
            &["/deleted-user-groups", "/deleted-user-groups/"],
            [(Method::GET, web::to(deleted::list_deleted_groups))],
        ))
        .service(resource(
            &[
                "/deleted-user-groups/{id}/restore",
                "/deleted-user-groups/{id}/restore/",
            ],
            [(Method::POST, web::to(deleted::restore_group))],
        ))
        .service(resource(
            &["/deleted-users", "/deleted-users/"],
            [(Method::GET, web::to(deleted::list_deleted_users))],
        ))
        .service(resource(
            &[
                "/deleted-users/{id}/restore",
                "/deleted-users/{id}/restore/",
            ],
            [(Method::POST, web::to(deleted::restore_user))],
        ))
        .service(resource(
            &["/events", "/events/"],
            [(Method::GET, web::to(events::list_events))],
        ));
}
