//! Authentication, in one place for the server, the CLI, the client and the tests: request
//! signing (the ONLIVESITE-HMAC-SHA256 scheme of the contract's `signing.md`) and the nscale
//! dialect's bearer tokens.
//!
//! - [`bearer`]: the token format and the `Authorization: Bearer` header; with the `server`
//!   feature, issuing a token and verifying one into a `Principal`.
//! - [`canonical`]: the canonical request, the string to sign and the signature: pure functions.
//! - [`header`]: parsing the `Authorization` and `x-onlive-site-date` headers.
//! - [`signer`]: signing an outgoing request, for clients, the `sign` command and tests.
//!
//! With the `server` feature only (the client signs, it never verifies):
//!
//! - `verify`: the server's checks, in the contract's order, with their reason codes; it yields
//!   a `Principal` or an `AuthError`.
//! - `key_cache`: each instance's bounded cache of access keys, so a signature is checked with
//!   no key query.
//! - What an access key may do, `Permission`, is the access key record's
//!   (`models::permission`), re-exported here.

pub mod bearer;
pub mod canonical;
pub mod header;
#[cfg(feature = "server")]
pub mod key_cache;
pub mod signer;
#[cfg(feature = "server")]
pub mod verify;

#[cfg(feature = "server")]
pub use crate::models::permission::{Permission, PermissionSet};
#[cfg(feature = "server")]
pub use crate::models::used_signature::MAX_SIGNATURE_SKEW_SECONDS;
#[cfg(feature = "server")]
pub use verify::{AuthError, AuthFailure, Principal};
