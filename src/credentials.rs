//! An access key as a client holds it: the public id and the secret that keys the HMAC. Its own
//! module, under everything, because the signer, the SDK, the CLI and the access-key records
//! all hand it around, and the secret's redaction should be written once.

use std::fmt;

/// An access key: the public id and the secret that keys the HMAC.
///
/// The secret is private and left out of `Debug`, so a credential logged by mistake does not
/// leak it.
#[derive(Clone)]
pub struct Credentials {
    /// The access key id sent in `Credential:`.
    pub access_key_id: String,
    secret_access_key: String,
}

impl Credentials {
    /// Pairs an access key id with its secret.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        }
    }

    /// The secret access key, for signing.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}
