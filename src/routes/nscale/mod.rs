//! The nscale dialect: the nscale Identity group routes (`/api/v1/organizations/{organizationID}/
//! groups…`, the roles listing) and the OAuth2 token endpoint, over the same domain core as the
//! Onlive routes (`../shared/spec/nscale.md`, summarized in `docs/nscale.md`). This module maps
//! shapes and errors only: every rule about groups and users is the domain's.
//!
//! - [`error`]: the dialect's error body, `{"error", "error_description"}`, and its wording of
//!   every [`crate::routes::ApiError`] (never read from the Onlive answer).
//! - [`groups`]: the five group routes; [`roles`]: the built-in roles.
//! - [`token`]: `POST /oauth2/v2/token` (client credentials), unsigned.

pub mod error;
pub mod groups;
pub mod roles;
pub mod token;
