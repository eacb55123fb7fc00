//! Request signing (the ONLIVESITE-HMAC-SHA256 scheme of the contract's `signing.md`), in one
//! place for the server, the CLI, the client and the tests.
//!
//! - [`canonical`]: the canonical request, the string to sign and the signature: pure functions.
//! - [`header`]: parsing the `Authorization` and `x-onlive-site-date` headers.
//! - [`signer`]: signing an outgoing request, for clients, the `sign` command and tests.
//! - [`verify`]: the server's checks, in the contract's order, with their reason codes.
//! - [`permission`]: what an access key may do.

pub mod canonical;
pub mod header;
pub mod permission;
pub mod signer;
pub mod verify;

pub use permission::{Permission, PermissionSet};
pub use verify::MAX_SIGNATURE_SKEW_SECONDS;
pub use verify::{AuthError, AuthFailure, Principal};
