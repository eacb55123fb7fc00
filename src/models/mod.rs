//! The records authentication and administration keep beside the domain: organizations,
//! access keys (their secrets sealed), the bearer tokens issued to them (only their hashes), the
//! replay guard's used signatures, and the stored answers of idempotent creates. Each table has
//! its row type with the queries as functions on it, and an access key its permissions.

pub mod access_key;
pub mod access_token;
pub mod idempotency;
pub mod organization;
pub mod permission;
pub mod used_signature;

pub use access_key::AccessKey;
pub use access_token::AccessToken;
pub use organization::Organization;
pub use permission::{Permission, PermissionSet};
pub use used_signature::UsedSignature;
