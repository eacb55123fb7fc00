//! Bearer tokens (RFC 6750), the nscale dialect's credential: the format of a token, the
//! `Authorization: Bearer` header, and (with the `server` feature) issuing a token and turning
//! one back into the [`Principal`] of its access key.
//!
//! A token is opaque: [`TOKEN_BYTES`] bytes from the operating system's random source, written
//! as base64url without padding ([`TOKEN_LEN`] characters). The database holds only its
//! SHA-256 hex ([`token_hash`]), so neither a copy of the table nor a log of its queries can be
//! used to call the API. The lookup is by that hash, which is why no token text is ever compared
//! with `==`: an attacker timing the lookup learns about hashes of their guesses, not about a
//! real token.
//!
//! The header builder and the parser need no server; the client and the tests use them as the
//! server does.

/// The scheme of the `Authorization` header (RFC 6750 §2.1; matched case-insensitively).
pub const SCHEME: &str = "Bearer";

/// The random bytes of a token: 256 bits.
pub const TOKEN_BYTES: usize = 32;

/// The length of a token's text: [`TOKEN_BYTES`] in base64url without padding.
pub const TOKEN_LEN: usize = (TOKEN_BYTES * 4).div_ceil(3);

/// The `Authorization` value that presents `token`.
pub fn authorization_value(token: &str) -> String {
    format!("{SCHEME} {token}")
}

/// What one `Authorization` value says about bearer authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerHeader<'a> {
    /// Another scheme (a signed request, say): not this module's to judge.
    NotBearer,
    /// The `Bearer` scheme with no token after it.
    Empty,
    /// The `Bearer` scheme and the text after it (whose form is not checked yet).
    Token(&'a str),
}

/// Reads an `Authorization` value: the scheme is matched case-insensitively and must be followed
/// by a space (or nothing, which is [`BearerHeader::Empty`]); spaces around the token are
/// dropped.
pub fn parse_authorization(value: &str) -> BearerHeader<'_> {
    let scheme_len = SCHEME.len();
    let Some(scheme) = value.get(..scheme_len) else {
        return BearerHeader::NotBearer;
    };
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return BearerHeader::NotBearer;
    }
    let rest = &value[scheme_len..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return BearerHeader::NotBearer;
    }
    match rest.trim_matches(' ') {
        "" => BearerHeader::Empty,
        token => BearerHeader::Token(token),
    }
}

/// True when `token` has the form of a token this service issues: [`TOKEN_LEN`] characters of
/// the base64url alphabet that decode to [`TOKEN_BYTES`] bytes (its last character carrying no
/// stray bits). Anything else cannot be a token, and is refused without a query.
pub fn is_well_formed(token: &str) -> bool {
    let bytes = token.as_bytes();
    let in_alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    // 32 bytes are 256 bits; 43 characters carry 258, so the last one's low 2 bits are zero:
    // only every fourth character of the alphabet may end a token.
    let last_is_canonical = bytes
        .last()
        .is_some_and(|b| sextet(*b).is_some_and(|v| v & 0b11 == 0));
    bytes.len() == TOKEN_LEN && bytes.iter().all(in_alphabet) && last_is_canonical
}

/// The value of a base64url character.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

#[cfg(feature = "server")]
pub use server::*;

#[cfg(feature = "server")]
mod server {
    use std::fmt;

    use actix_web::http::header::HeaderMap;
    use base64::Engine;
    use chrono::NaiveDateTime;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};

    use super::{is_well_formed, parse_authorization, BearerHeader, TOKEN_BYTES};
    use crate::auth::canonical::hex_encode;
    use crate::auth::verify::{AuthError, AuthFailure, Principal};
    use crate::db::{DbConnection, StoreError};
    use crate::models::AccessToken;

    /// A token just issued: its text goes to the client once and nowhere else (its `Debug`
    /// shows none of it).
    pub struct IssuedToken(String);

    impl IssuedToken {
        /// A new token from the operating system's random source.
        pub fn generate() -> Result<IssuedToken, StoreError> {
            let mut bytes = [0u8; TOKEN_BYTES];
            getrandom::fill(&mut bytes).map_err(StoreError::internal)?;
            Ok(IssuedToken(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
            ))
        }

        /// The token's text, for the answer to the client.
        pub fn as_str(&self) -> &str {
            &self.0
        }

        /// What the database stores of it.
        pub fn hash(&self) -> String {
            token_hash(&self.0)
        }
    }

    impl fmt::Debug for IssuedToken {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("IssuedToken(<redacted>)")
        }
    }

    /// The stored form of `token`: its SHA-256, lowercase hex.
    pub fn token_hash(token: &str) -> String {
        hex_encode(&Sha256::digest(token.as_bytes()))
    }

    /// The bearer token of a request, if it presents one: `Ok(None)` when it has no
    /// `Authorization` header or one of another scheme (the signature's checks judge those);
    /// `malformed_authorization` for an empty token or a repeated header; `invalid_token` for a
    /// token that cannot be one this service issued, before any query.
    pub fn token_of(headers: &HeaderMap) -> Result<Option<&str>, AuthFailure> {
        let mut values = headers.get_all("authorization");
        let Some(first) = values.next() else {
            return Ok(None);
        };
        // A value that is not text is no bearer header; the signature's parser refuses it.
        let Ok(text) = first.to_str() else {
            return Ok(None);
        };
        match parse_authorization(text) {
            BearerHeader::NotBearer => Ok(None),
            _ if values.next().is_some() => Err(AuthFailure::MalformedAuthorization),
            BearerHeader::Empty => Err(AuthFailure::MalformedAuthorization),
            BearerHeader::Token(token) if !is_well_formed(token) => Err(AuthFailure::InvalidToken),
            BearerHeader::Token(token) => Ok(Some(token)),
        }
    }

    /// The principal of the live token whose hash is `token_hash` at `now`: one statement that
    /// also checks the token's expiry and its key's revocation; `invalid_token` for an unknown,
    /// expired or revoked one alike.
    pub fn verify(
        conn: &mut DbConnection,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> Result<Principal, AuthError> {
        let holder =
            AccessToken::find_live(conn, token_hash, now)?.ok_or(AuthFailure::InvalidToken)?;
        Ok(Principal {
            access_key_id: holder.access_key_id,
            organization_id: holder.organization_id,
            permissions: holder.permissions,
        })
    }

    /// Compares a client secret with the key's, in time that depends on neither: both are
    /// reduced to an HMAC of fixed length and those are compared in constant time. `None` (an
    /// unknown key, or a secret this instance cannot open) is compared against a stand-in, so it
    /// costs what a known key costs, and never matches.
    pub fn secret_matches(presented: &str, expected: Option<&str>) -> bool {
        // The key only makes the two inputs fixed-length; it protects nothing.
        let keyed = || Hmac::<Sha256>::new(&Default::default());
        const STAND_IN: &str = "no key has this secret: the comparison costs the same";
        let mut expected_tag = keyed();
        expected_tag.update(expected.unwrap_or(STAND_IN).as_bytes());
        let expected_tag = expected_tag.finalize().into_bytes();
        let mut presented_tag = keyed();
        presented_tag.update(presented.as_bytes());
        presented_tag.verify_slice(&expected_tag).is_ok() && expected.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A_TOKEN: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA";

    #[test]
    fn the_scheme_is_matched_in_any_case_and_needs_a_space_before_the_token() {
        let cases = [
            ("Bearer abc", BearerHeader::Token("abc"), "the usual form"),
            ("bearer abc", BearerHeader::Token("abc"), "lowercase scheme"),
            ("BEARER  abc ", BearerHeader::Token("abc"), "spaces around"),
            ("Bearer", BearerHeader::Empty, "no token at all"),
            ("Bearer    ", BearerHeader::Empty, "only spaces"),
            (
                "Bearerabc",
                BearerHeader::NotBearer,
                "no space: another word",
            ),
            ("Basic abc", BearerHeader::NotBearer, "another scheme"),
            (
                "ONLIVESITE Credential:X",
                BearerHeader::NotBearer,
                "a signature",
            ),
            ("Bear", BearerHeader::NotBearer, "shorter than the scheme"),
            ("", BearerHeader::NotBearer, "empty"),
        ];

        for (value, expected, why) in cases {
            assert_eq!(parse_authorization(value), expected, "{why}: {value:?}");
        }
    }

    #[test]
    fn only_43_base64url_characters_without_stray_bits_are_a_well_formed_token() {
        assert_eq!(TOKEN_LEN, 43);
        assert!(is_well_formed(A_TOKEN));
        let cases = [
            (&A_TOKEN[..42], "one character short"),
            (
                "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJAA",
                "one too many",
            ),
            (
                "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJB",
                "stray bits at the end",
            ),
            (
                "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWe+A",
                "standard base64, not url",
            ),
            (
                "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRW A",
                "a space inside",
            ),
            ("", "empty"),
        ];
        for (token, why) in cases {
            assert!(!is_well_formed(token), "{why}: {token:?}");
        }
    }

    #[test]
    fn the_header_presents_the_token_after_the_scheme() {
        let value = authorization_value(A_TOKEN);

        assert_eq!(parse_authorization(&value), BearerHeader::Token(A_TOKEN));
    }

    #[cfg(feature = "server")]
    #[test]
    fn an_issued_token_is_well_formed_hidden_from_debug_and_stored_as_its_sha256_hex() {
        let token = IssuedToken::generate().unwrap();
        let other = IssuedToken::generate().unwrap();

        assert!(is_well_formed(token.as_str()), "{}", token.as_str());
        assert_ne!(token.as_str(), other.as_str());
        assert!(!format!("{token:?}").contains(token.as_str()));
        assert_eq!(token.hash().len(), 64);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[cfg(feature = "server")]
    #[test]
    fn a_secret_matches_only_the_same_secret_and_never_a_missing_key() {
        assert!(secret_matches("s3cret", Some("s3cret")));
        assert!(!secret_matches("s3cret", Some("s3cret\0")));
        assert!(!secret_matches("s3cre", Some("s3cret")));
        assert!(!secret_matches("", None));
        assert!(!secret_matches(
            "no key has this secret: the comparison costs the same",
            None
        ));
    }

    #[cfg(feature = "server")]
    #[test]
    fn a_request_presents_a_token_only_under_the_bearer_scheme() {
        use crate::auth::AuthFailure;
        use actix_web::http::header::{HeaderMap, HeaderValue, AUTHORIZATION};

        let headers = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for value in values {
                map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            }
            map
        };
        let bearer = authorization_value(A_TOKEN);

        assert_eq!(token_of(&headers(&[])), Ok(None));
        assert_eq!(token_of(&headers(&["ONLIVESITE Credential:X"])), Ok(None));
        assert_eq!(token_of(&headers(&[&bearer])), Ok(Some(A_TOKEN)));
        assert_eq!(
            token_of(&headers(&["Bearer "])),
            Err(AuthFailure::MalformedAuthorization)
        );
        assert_eq!(
            token_of(&headers(&[&bearer, &bearer])),
            Err(AuthFailure::MalformedAuthorization)
        );
        assert_eq!(
            token_of(&headers(&["Bearer not-a-token"])),
            Err(AuthFailure::InvalidToken)
        );
    }
}
