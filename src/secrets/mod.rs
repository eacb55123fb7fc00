//! Secrets at rest: access-key secrets are stored sealed (AES-256-GCM) under a master key that
//! never reaches the database, so a copy of the database alone cannot sign a request.
//!
//! - [`MasterKey`]: 32 bytes, shown only as its fingerprint, wiped from memory when dropped.
//!   [`MasterKey::seal`] and [`MasterKey::open`] bind each ciphertext to associated data (the
//!   access key id), so a sealed secret moved to another key's row does not open.
//! - The stored form is `v1:<fingerprint>:<hex of nonce ‖ ciphertext ‖ tag>`: a wrong master key
//!   is named at start ("sealed with <fp>, the configured key is <fp>"), not discovered later as
//!   signature mismatches. A value without the `v1:` prefix is a plaintext secret from before
//!   this module existed (a secret's alphabet has no `:`), sealed at the next start.
//! - [`KeySource`]: `USERGROUPS_MASTER_KEY` (64 hex digits or base64 of 32 bytes), or else the key
//!   file `usergroups-master.key` (beside the SQLite file, or in the working directory on
//!   PostgreSQL), created at first start with mode 0600.
//! - [`Keyring`]: the keys an instance can open with, shared by its workers. In key-file mode it
//!   rereads the key files when it meets a fingerprint it does not hold, so instances sharing the
//!   file keep verifying through a rotation made by another process.
//! - [`prepare`] runs before anything touches a secret: it finishes an interrupted rotation,
//!   seals plaintext secrets (once, in one transaction), and refuses a database sealed with a
//!   key it does not have. [`rotate`] is `usergroups master-key rotate`.
//!
//! Rotation in key-file mode is crash-safe by construction: (1) the new key is written to
//! `usergroups-master.key.new` (through a temporary file and a rename, so it is whole or absent);
//! (2) every secret is re-sealed under it in one transaction; (3) the `.new` file is renamed over
//! the key file. A kill at any point leaves either no `.new` file (nothing changed) or a `.new`
//! file that [`prepare`] adopts at the next start, re-sealing whatever is not yet under it
//! (nothing, after step 2) before doing step 3 itself.
//!
//! The parts, each in its own file so that the request path, the filesystem and the database
//! writes can be read apart: `master_key` (the key and its parsing), `key_file` (where the key
//! comes from), `keyring` (sealing, opening, the keys an instance holds) and `rotation` (the
//! stored secrets: [`prepare`], [`reseal`], [`rotate`]). Every public name is re-exported here,
//! so callers keep writing `secrets::Keyring` whatever file it lives in.

mod key_file;
mod keyring;
mod master_key;
mod rotation;

pub use key_file::{
    commit_pending_key_file, default_key_file, pending_key_file, read_key_file,
    write_pending_key_file, KeySource, MASTER_KEY_FILE, MASTER_KEY_VAR, NEW_MASTER_KEY_VAR,
};
pub use keyring::{associated_data, sealed_fingerprint, Keyring};
pub use master_key::{MasterKey, SecretsError};
pub use rotation::{
    prepare, reseal, rotate, store_sealed_secret, stored_secrets, warn_about_foreign_keys, Reseal,
    Rotation, SealedSummary, SECRETS_LOCK,
};
