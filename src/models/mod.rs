//! The records authentication and administration keep beside the domain: organizations,
//! access keys (their secrets sealed) and the replay guard's used signatures. Each table has its
//! row type with the queries as functions on it.

pub mod access_key;
pub mod organization;
pub mod used_signature;

pub use access_key::AccessKey;
pub use organization::Organization;
pub use used_signature::UsedSignature;
