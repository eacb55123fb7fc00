//! The Onlive dialect: `/api/v1/user-groups` and `/api/v1/users` as the contract (`api.md`)
//! gives them, and the lifecycle's routes beside them (`/api/v1/deleted-…`, `/api/v1/events`),
//! answered in the contract's error body, which [`error`] renders from every
//! [`crate::routes::ApiError`] (and which is the answer of every route outside the nscale
//! prefix). One module per resource, handlers named verb_noun; like [`super::nscale`], it maps
//! shapes and errors only: every rule is the domain's.

pub mod deleted;
pub mod error;
pub mod events;
pub mod groups;
pub mod users;
