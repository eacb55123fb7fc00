//! Signing an outgoing request: what the CLI `sign` command, the Rust client and the tests use
//! to produce the headers of `signing.md` §1, byte for byte as the reference `sign.py` does.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::canonical::{canonical_request, signature, string_to_sign};
use super::header::{format_authorization, format_date, DATE_HEADER};
pub use crate::credentials::Credentials;

/// The outcome of [`sign`]: the headers to add, and the intermediate texts for debugging a
/// `signature_mismatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The headers the caller must send, in order: `host`, `x-onlive-site-date`, the extra
    /// headers (names lowercased), then `authorization`.
    pub headers: Vec<(String, String)>,
    /// The canonical request that was signed.
    pub canonical_request: String,
    /// The string to sign that was signed.
    pub string_to_sign: String,
}

/// Signs a request.
///
/// `target` is the path plus an optional `?query`, exactly as it will be sent. Every extra
/// header is sent and signed under its lowercased name; when there is any, the
/// `Authorization` lists the signed set in `SignedHeaders=`, otherwise it names none and the
/// set is `host;x-onlive-site-date`. Nothing is special-cased (`content-type` included): the
/// caller decides what to sign by what it passes here.
pub fn sign(
    credentials: &Credentials,
    method: &str,
    host: &str,
    target: &str,
    extra_headers: &[(String, String)],
    body: &[u8],
    date: DateTime<Utc>,
) -> SignedRequest {
    let date = format_date(date);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));

    let mut headers: Vec<(String, String)> = Vec::with_capacity(extra_headers.len() + 3);
    headers.push(("host".to_owned(), host.to_owned()));
    headers.push((DATE_HEADER.to_owned(), date.clone()));
    headers.extend(
        extra_headers
            .iter()
            .map(|(name, value)| (name.to_lowercase(), value.clone())),
    );

    // A set, because a repeated header is signed once with its values joined.
    let signed: BTreeSet<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    let signed: Vec<&str> = signed.into_iter().collect();
    let header_bytes: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();

    let canonical = canonical_request(method, path, query, &header_bytes, &signed, body);
    let string_to_sign = string_to_sign(&date, &canonical);
    let signature = signature(credentials.secret_access_key(), &string_to_sign);
    let listed = (!extra_headers.is_empty()).then_some(signed.as_slice());
    let authorization = format_authorization(&credentials.access_key_id, listed, &signature);

    headers.push(("authorization".to_owned(), authorization));
    SignedRequest {
        headers,
        // Every part of the canonical request comes from a `&str` (folding only drops ASCII
        // blanks), so it is valid UTF-8 and nothing is replaced here.
        canonical_request: String::from_utf8_lossy(&canonical).into_owned(),
        string_to_sign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::canonical::signature_matches;
    use crate::auth::header::{parse_authorization, parse_date};

    fn credentials() -> Credentials {
        Credentials::new(
            "OLAKEXAMPLE1234567890",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
    }

    fn date() -> DateTime<Utc> {
        parse_date("20261122T101500Z").expect("valid date")
    }

    fn header<'a>(signed: &'a SignedRequest, name: &str) -> &'a str {
        signed
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .expect("header present")
    }

    #[test]
    fn a_signed_request_carries_host_date_extras_and_authorization_in_that_order() {
        let extra = [("X-Onlive-Site-Nonce".to_owned(), "n1".to_owned())];
        let signed = sign(
            &credentials(),
            "DELETE",
            "127.0.0.1:8080",
            "/a",
            &extra,
            b"",
            date(),
        );
        let names: Vec<&str> = signed.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "host",
                "x-onlive-site-date",
                "x-onlive-site-nonce",
                "authorization"
            ]
        );
        assert_eq!(header(&signed, "x-onlive-site-date"), "20261122T101500Z");
    }

    #[test]
    fn the_produced_authorization_parses_and_verifies() {
        let signed = sign(
            &credentials(),
            "GET",
            "127.0.0.1:8080",
            "/api/v1/user-groups?page=2",
            &[],
            b"",
            date(),
        );
        let parsed = parse_authorization(header(&signed, "authorization")).expect("valid header");
        assert_eq!(parsed.access_key_id, "OLAKEXAMPLE1234567890");
        assert_eq!(parsed.signed_headers, ["host", "x-onlive-site-date"]);
        assert!(signature_matches(
            credentials().secret_access_key(),
            &signed.string_to_sign,
            &parsed.signature
        ));
        assert!(!header(&signed, "authorization").contains("SignedHeaders"));
    }

    #[test]
    fn extra_headers_are_listed_sorted_and_once_in_signed_headers() {
        let extra = [
            ("x-onlive-site-nonce".to_owned(), "one".to_owned()),
            ("If-Match".to_owned(), "\"3\"".to_owned()),
            ("x-onlive-site-nonce".to_owned(), "two".to_owned()),
        ];
        let signed = sign(&credentials(), "PUT", "h", "/g", &extra, b"{}", date());
        let parsed = parse_authorization(header(&signed, "authorization")).expect("valid header");
        assert_eq!(
            parsed.signed_headers,
            [
                "host",
                "if-match",
                "x-onlive-site-date",
                "x-onlive-site-nonce"
            ]
        );
        assert!(signed
            .canonical_request
            .contains("\nx-onlive-site-nonce:one,two\n"));
        assert!(signature_matches(
            credentials().secret_access_key(),
            &signed.string_to_sign,
            &parsed.signature
        ));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let shown = format!("{:?}", credentials());
        assert!(shown.contains("OLAKEXAMPLE1234567890"));
        assert!(shown.contains("\"<redacted>\""));
        assert!(!shown.contains("wJalrXUtnFEMI"));
        assert!(!format!("{:#?}", credentials()).contains("wJalrXUtnFEMI"));
    }
}
