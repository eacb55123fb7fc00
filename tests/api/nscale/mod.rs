//! The nscale dialect (`../shared/spec/nscale.md`): its tokens, its bearer authentication, its
//! routes and shapes, its error body, and the same store seen through both dialects at once.

mod bearer;
mod cross_dialect;
mod errors;
mod groups;
mod lifecycle;
mod roles;
mod sdk;
pub mod tokens;
