//! An access key as a client holds it: the public id and the secret that keys the HMAC, and where
//! a client finds one (the environment, or a first-run credentials file). Its own
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

/// The variable holding the access key id, for `sign`, the SDK example and the shell script.
pub const ACCESS_KEY_ID_VAR: &str = "USERGROUPS_ACCESS_KEY_ID";
/// The variable holding the secret access key.
pub const SECRET_ACCESS_KEY_VAR: &str = "USERGROUPS_SECRET_ACCESS_KEY";

/// Credentials to sign with, and where the service answers when the file says so.
#[derive(Debug, Clone)]
pub struct Found {
    /// The key.
    pub credentials: Credentials,
    /// The `url` of a first-run credentials file; `None` from the environment.
    pub url: Option<String>,
    /// The `organizationId` of a first-run credentials file (the nscale dialect's paths name
    /// it); `None` from the environment.
    pub organization_id: Option<String>,
}

/// The credentials in [`ACCESS_KEY_ID_VAR`] and [`SECRET_ACCESS_KEY_VAR`] when both are set, or
/// else those of the first-run credentials file `file`. Exactly one of the two variables set is
/// an error naming the other: signing with the file's key instead would be signing as someone
/// the caller did not mean, without a word.
pub fn from_env_or_file(file: &std::path::Path) -> Result<Found, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var(ACCESS_KEY_ID_VAR), var(SECRET_ACCESS_KEY_VAR)) {
        (Some(id), Some(secret)) => {
            return Ok(Found {
                credentials: Credentials::new(id, secret),
                url: None,
                organization_id: None,
            })
        }
        (Some(_), None) => {
            return Err(format!(
                "{ACCESS_KEY_ID_VAR} is set but {SECRET_ACCESS_KEY_VAR} is not: set both (or \
                 neither, to use {})",
                file.display()
            ))
        }
        (None, Some(_)) => {
            return Err(format!(
                "{SECRET_ACCESS_KEY_VAR} is set but {ACCESS_KEY_ID_VAR} is not: set both (or \
                 neither, to use {})",
                file.display()
            ))
        }
        (None, None) => {}
    }
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!(
            "no credentials: set {ACCESS_KEY_ID_VAR} and {SECRET_ACCESS_KEY_VAR}, or provide {} ({e})",
            file.display()
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a credentials file: {e}", file.display()))?;
    let field = |name: &str| {
        value[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{} has no {name}", file.display()))
    };
    Ok(Found {
        credentials: Credentials::new(field("accessKeyId")?, field("secretAccessKey")?),
        url: value["url"].as_str().map(str::to_owned),
        organization_id: value["organizationId"].as_str().map(str::to_owned),
    })
}
