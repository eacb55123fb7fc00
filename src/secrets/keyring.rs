//! Sealing and opening: AES-256-GCM under a [`MasterKey`], the stored `v1:` form, and the
//! [`Keyring`] of keys an instance opens with. Apart from the database side
//! ([`super::rotation`]) because nothing here reads or writes a row: the keyring is what the
//! request path holds, and it only goes back to the key files.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use super::key_file::shown;
use super::master_key::{hex, unhex};
use super::{pending_key_file, read_key_file, MasterKey, SecretsError};
use crate::ids::AccessKeyId;

const VERSION_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

// The cipher half of the master key sits with the keyring that uses it, so that `master_key`
// knows nothing of AES-GCM or the stored form.
/// The associated data that binds a sealed secret to its access key `id`: the secret of one key
/// copied into another key's row does not open.
pub fn associated_data(id: &AccessKeyId) -> Vec<u8> {
    format!("usergroups access key {id}").into_bytes()
}

impl MasterKey {
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.bytes).into())
    }

    /// Seals `plaintext` for storage, bound to `associated_data`: the result is
    /// `v1:<fingerprint>:<hex of nonce ‖ ciphertext ‖ tag>`, with a fresh random nonce.
    pub fn seal(&self, plaintext: &str, associated_data: &[u8]) -> Result<String, SecretsError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| SecretsError::Random(e.to_string()))?;
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: associated_data,
                },
            )
            // Only an absurdly long message fails; a secret is 40 characters.
            .map_err(|_| SecretsError::Forged(self.fingerprint.clone()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(format!(
            "{VERSION_PREFIX}{}:{}",
            self.fingerprint,
            hex(&sealed)
        ))
    }

    /// Opens a value made by [`MasterKey::seal`] with the same `associated_data`.
    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<String, SecretsError> {
        let (fingerprint, body) = split_sealed(sealed).ok_or(SecretsError::NotSealed)?;
        if fingerprint != self.fingerprint {
            return Err(SecretsError::UnknownMasterKey {
                sealed_with: fingerprint.to_owned(),
                configured: self.fingerprint.clone(),
            });
        }
        let body = unhex(body).ok_or(SecretsError::NotSealed)?;
        if body.len() < NONCE_LEN + 16 {
            return Err(SecretsError::NotSealed);
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        let plaintext = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretsError::Forged(self.fingerprint.clone()))?;
        String::from_utf8(plaintext).map_err(|_| SecretsError::Forged(self.fingerprint.clone()))
    }
}

/// The master key fingerprint of a stored secret, or `None` for a plaintext (unsealed) one.
pub fn sealed_fingerprint(stored: &str) -> Option<&str> {
    split_sealed(stored).map(|(fingerprint, _)| fingerprint)
}

fn split_sealed(stored: &str) -> Option<(&str, &str)> {
    stored.strip_prefix(VERSION_PREFIX)?.split_once(':')
}

/// The master keys an instance holds, shared by all its workers (clones share the keys).
///
/// Secrets are sealed with [`Keyring::sealing_key`] unless the database's secrets are already
/// under another key held here (see [`AccessKey::create`]). Opening picks the key by the
/// fingerprint in the stored value; in key-file mode a fingerprint not held sends the keyring
/// back to the key files once, to pick up a rotation another process made.
///
/// [`AccessKey::create`]: crate::models::AccessKey::create
#[derive(Clone)]
pub struct Keyring {
    inner: Arc<RwLock<KeyringInner>>,
}

struct KeyringInner {
    sealing: MasterKey,
    keys: Vec<MasterKey>,
    file: Option<PathBuf>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("fingerprints", &self.fingerprints())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring of one key, not tied to any file (tests, examples, embedding applications).
    pub fn single(key: MasterKey) -> Keyring {
        Keyring::new(key, Vec::new(), None)
    }

    /// A keyring of one fresh random key: what tests and benchmarks use.
    pub fn ephemeral() -> Result<Keyring, SecretsError> {
        Ok(Keyring::single(MasterKey::generate()?))
    }

    /// A keyring that seals with `sealing`, also opens with `others`, and rereads `file` (and its
    /// pending companion) when it meets an unknown fingerprint.
    pub fn new(sealing: MasterKey, others: Vec<MasterKey>, file: Option<PathBuf>) -> Keyring {
        let mut keys = vec![sealing.clone()];
        for key in others {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Keyring {
            inner: Arc::new(RwLock::new(KeyringInner {
                sealing,
                keys,
                file,
            })),
        }
    }

    /// The key new secrets are sealed with by default.
    pub fn sealing_key(&self) -> MasterKey {
        self.read(|inner| inner.sealing.clone())
    }

    /// The fingerprints of every key held, the sealing key first.
    pub fn fingerprints(&self) -> Vec<String> {
        self.read(|inner| inner.keys.iter().map(|k| k.fingerprint.clone()).collect())
    }

    fn read<T>(&self, f: impl FnOnce(&KeyringInner) -> T) -> T {
        f(&self.inner.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The held key with `fingerprint`, rereading the key files once if it is not held.
    pub fn key(&self, fingerprint: &str) -> Option<MasterKey> {
        let find = |inner: &KeyringInner| {
            inner
                .keys
                .iter()
                .find(|k| k.fingerprint == fingerprint)
                .cloned()
        };
        if let Some(key) = self.read(find) {
            return Some(key);
        }
        let file = self.read(|inner| inner.file.clone())?;
        for path in [pending_key_file(&file), file] {
            match read_key_file(&path) {
                Ok(Some(key)) if key.fingerprint == fingerprint => {
                    log::info!(
                        "master key {fingerprint} picked up from {} (a rotation by another process)",
                        shown(&path)
                    );
                    let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
                    if !inner.keys.contains(&key) {
                        inner.keys.push(key.clone());
                    }
                    return Some(key);
                }
                Ok(_) => {}
                Err(e) => log::warn!("rereading the master key: {e}"),
            }
        }
        None
    }

    /// Opens a stored secret with the key its fingerprint names.
    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<String, SecretsError> {
        let fingerprint = sealed_fingerprint(sealed).ok_or(SecretsError::NotSealed)?;
        match self.key(fingerprint) {
            Some(key) => key.open(sealed, associated_data),
            None => Err(SecretsError::UnknownMasterKey {
                sealed_with: fingerprint.to_owned(),
                configured: self.fingerprints().join(", "),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_associated_data_only() {
        let sealed = key(1).seal("s3cret", b"OLAKA").unwrap();

        assert!(sealed.starts_with(&format!("v1:{}:", key(1).fingerprint())));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(key(1).open(&sealed, b"OLAKA").unwrap(), "s3cret");
        assert!(matches!(
            key(1).open(&sealed, b"OLAKB"),
            Err(SecretsError::Forged(_))
        ));
        assert!(matches!(
            key(2).open(&sealed, b"OLAKA"),
            Err(SecretsError::UnknownMasterKey { .. })
        ));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        assert_ne!(
            key(1).seal("same", b"id").unwrap(),
            key(1).seal("same", b"id").unwrap()
        );
    }

    #[test]
    fn a_tampered_ciphertext_does_not_open() {
        let sealed = key(1).seal("s3cret", b"id").unwrap();
        let last = sealed.chars().last().unwrap();
        let flipped = format!(
            "{}{}",
            &sealed[..sealed.len() - 1],
            if last == '0' { '1' } else { '0' }
        );

        assert!(matches!(
            key(1).open(&flipped, b"id"),
            Err(SecretsError::Forged(_))
        ));
    }

    #[test]
    fn a_plaintext_secret_has_no_fingerprint() {
        assert_eq!(sealed_fingerprint("ABCdef012-_xyz"), None);
        assert_eq!(sealed_fingerprint("v1:0011:aabb"), Some("0011"));
    }

    #[test]
    fn debug_output_of_a_master_key_and_a_keyring_shows_only_fingerprints() {
        let master = key(0xab);
        let shown = format!("{master:?} {:?}", Keyring::single(master.clone()));

        assert!(shown.contains(master.fingerprint()), "{shown}");
        assert!(!shown.contains(master.to_hex().as_str()), "{shown}");
        assert!(!shown.contains("171"), "no raw bytes: {shown}");
    }
}
