//! The master key itself: 32 bytes that are wiped from memory when dropped, read from 64 hex
//! digits or base64, and known by a fingerprint that is safe to log. Apart from where the key is
//! kept ([`super::key_file`]) and what it seals ([`super::keyring`]), because every other part
//! of `secrets` builds on it and it needs nothing from them; [`SecretsError`] is here too, as
//! the one error every part returns.

use std::fmt;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::db::StoreError;

/// Why a secret could not be sealed or opened, or a master key not loaded. No variant carries a
/// secret or key material: the texts are safe to log and to show.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The sealed value names a master key this process does not hold.
    #[error("sealed with master key {sealed_with}, but the configured master key is {configured}")]
    UnknownMasterKey {
        /// The fingerprint in the stored value.
        sealed_with: String,
        /// The fingerprints this process holds.
        configured: String,
    },
    /// A stored value that is not a sealed secret.
    #[error("not a sealed secret (stored as plaintext or damaged); restart an instance to seal plaintext secrets")]
    NotSealed,
    /// The ciphertext did not authenticate: altered, or moved from another access key's row.
    #[error("the sealed secret does not authenticate under master key {0} (altered, or copied from another access key)")]
    Forged(String),
    /// A master key value of the wrong form.
    #[error("{source_name} is not a master key: {why} (64 hex digits, or base64 of 32 bytes)")]
    BadMasterKey {
        /// The variable or file it came from.
        source_name: String,
        /// What is wrong with it (never the value).
        why: &'static str,
    },
    /// The operating system's random source failed.
    #[error("no random bytes: {0}")]
    Random(String),
    /// A key file could not be read or written.
    #[error("master key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl From<SecretsError> for StoreError {
    fn from(e: SecretsError) -> Self {
        StoreError::internal(e)
    }
}

/// A 256-bit master key. `Debug` shows only its fingerprint; the bytes are wiped on drop.
#[derive(Clone)]
pub struct MasterKey {
    // Visible to the rest of `secrets`, never outside it: sealing needs the bytes, and the
    // keyring and the rotation compare and log fingerprints.
    pub(super) bytes: Zeroizing<[u8; 32]>,
    pub(super) fingerprint: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl PartialEq for MasterKey {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl MasterKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        let digest = Sha256::new()
            .chain_update(b"usergroups master key fingerprint\n")
            .chain_update(bytes)
            .finalize();
        MasterKey {
            fingerprint: hex(&digest[..8]),
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<MasterKey, SecretsError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *bytes).map_err(|e| SecretsError::Random(e.to_string()))?;
        Ok(MasterKey::from_bytes(*bytes))
    }

    /// Reads a key written as 64 hex digits or as base64 (standard or URL-safe alphabet,
    /// padded or not) of 32 bytes; surrounding whitespace is ignored. `source_name` names the
    /// variable or file in the error, which never repeats the value.
    pub fn parse(text: &str, source_name: &str) -> Result<MasterKey, SecretsError> {
        let text = text.trim();
        let bad = |why| SecretsError::BadMasterKey {
            source_name: source_name.to_owned(),
            why,
        };
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            unhex(text).ok_or_else(|| bad("it is not hex"))?
        } else {
            base64_decode(text).ok_or_else(|| bad("it is neither hex nor base64"))?
        };
        let bytes = Zeroizing::new(bytes);
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| bad("it is not 32 bytes long"))?;
        Ok(MasterKey::from_bytes(array))
    }

    /// The key's fingerprint: 16 hex digits of a SHA-256 of it, safe to log and print.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The key as 64 lowercase hex digits: what the key file holds, and what `master-key rotate`
    /// prints once when it generates a key for the environment. Never log it.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex(&*self.bytes))
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    text
}

pub(super) fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Decodes base64 in the standard or URL-safe alphabet, with or without `=` padding. Only the
/// master key goes through it (32 bytes), which is why it is a dozen lines here rather than a
/// dependency.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be padding zeros of a valid length (2 or 4 bits).
    (bits < 6 && buffer == 0).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MASTER_KEY_VAR;

    #[test]
    fn master_keys_parse_from_hex_and_both_base64_alphabets() {
        let bytes: Vec<u8> = (0..32).map(|i| i * 7 + 250).map(|b: u32| b as u8).collect();
        let expected = MasterKey::from_bytes(bytes.clone().try_into().unwrap());
        let cases = [
            (hex(&bytes), "hex"),
            (hex(&bytes).to_uppercase(), "uppercase hex"),
            (format!("  {}\n", hex(&bytes)), "whitespace around"),
            (
                "+gEIDxYdJCsyOUBHTlVcY2pxeH+GjZSboqmwt77FzNM=".to_owned(),
                "standard base64, padded",
            ),
            (
                "-gEIDxYdJCsyOUBHTlVcY2pxeH-GjZSboqmwt77FzNM".to_owned(),
                "URL-safe base64, unpadded",
            ),
        ];
        for (text, why) in cases {
            assert_eq!(MasterKey::parse(&text, "X").unwrap(), expected, "{why}");
        }
    }

    #[test]
    fn a_bad_master_key_is_refused_naming_its_source_and_not_its_value() {
        let cases = [
            ("", "empty"),
            ("abcd", "too short"),
            (
                &"g".repeat(64),
                "64 characters that are not hex nor base64 of 32 bytes",
            ),
            ("AAAA", "base64 of 3 bytes"),
            ("not base64 at all!", "other characters"),
        ];
        for (text, why) in cases {
            let error = MasterKey::parse(text, MASTER_KEY_VAR)
                .unwrap_err()
                .to_string();
            assert!(error.contains(MASTER_KEY_VAR), "{why}: {error}");
            if !text.is_empty() {
                assert!(!error.contains(text), "{why}: {error}");
            }
        }
    }

    #[test]
    fn base64_with_stray_bits_is_refused() {
        assert_eq!(base64_decode("QQ"), Some(b"A".to_vec()));
        assert_eq!(base64_decode("QR"), None, "non-zero leftover bits");
        assert_eq!(base64_decode("Q"), None, "six bits make no byte");
    }
}
