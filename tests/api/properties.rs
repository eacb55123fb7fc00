//! Properties of the pure signing code (`src/auth/header.rs`, `src/auth/canonical.rs`) over
//! generated input: the parsers never panic on hostile text, what the formatters write parses
//! back to the same parts, canonical forms are fixed points, encoding round-trips every byte,
//! and a signature the signer makes is accepted by the server's own checks and refused as soon
//! as one byte of the body changes.
//!
//! 256 cases per property (proptest's default) keeps the whole file well under a second or two;
//! no failure file is written, so a failure prints its minimal case and nothing is left behind.

use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config;

use usergroups::auth::canonical::{
    canonical_query, canonical_request, canonical_uri, form_decode, percent_decode, query_pairs,
    signature_matches, string_to_sign, uri_encode,
};
use usergroups::auth::header::{
    format_authorization, format_date, parse_authorization, parse_date, DATE_HEADER,
};
use usergroups::auth::signer::{sign, Credentials};
use usergroups::auth::verify::{Claim, SignedParts};

/// 256 cases, no regression files in the source tree.
fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A key id of the grammar: 1 to 128 of `A-Z a-z 0-9 - _`.
fn key_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,128}"
}

/// A valid `SignedHeaders` list: `host`, the date and up to four more lowercase token names,
/// sorted and without duplicates.
fn signed_header_list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[a-z0-9!#$%&'*+.^_`|~-]{1,20}", 0..4).prop_map(|mut names| {
        names.insert("host".to_owned());
        names.insert(DATE_HEADER.to_owned());
        names.into_iter().collect()
    })
}

/// An instant the date header can carry: years 0000 to 9999, whole seconds or not.
fn header_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let first = Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap().timestamp();
    let last = Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .unwrap()
        .timestamp();
    (first..=last, 0_u32..1_000_000_000)
        .prop_map(|(seconds, nanos)| DateTime::from_timestamp(seconds, nanos).unwrap())
}

/// Text that looks like a query string: names, values, `=`, `&`, `+`, `%` escapes good and bad,
/// and arbitrary characters, UTF-8 or not once decoded.
fn query_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("&".to_owned()),
            Just("=".to_owned()),
            Just("+".to_owned()),
            Just("%".to_owned()),
            "%[0-9A-Fa-f]{2}",
            "[a-zA-Z0-9._~-]{1,5}",
            any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|pieces| pieces.concat())
}

/// The encoded form of `bytes`.
fn encoded(bytes: &[u8]) -> String {
    let mut out = String::new();
    uri_encode(bytes, &mut out);
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parsing_any_authorization_text_never_panics(value in any::<String>()) {
        let _ = parse_authorization(&value);
    }

    #[test]
    fn parsing_a_valid_header_with_one_character_changed_never_panics(
        id in key_id(),
        signature in prop::array::uniform32(any::<u8>()),
        at in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let valid = format_authorization(&id, None, &hex(&signature));
        let mut chars: Vec<char> = valid.chars().collect();
        let at = at.index(chars.len());
        chars[at] = replacement;
        let changed: String = chars.into_iter().collect();
        let parsed = parse_authorization(&changed);
        if changed == valid {
            prop_assert!(parsed.is_some());
        }
    }

    #[test]
    fn every_header_the_formatter_writes_parses_back_to_its_parts(
        id in key_id(),
        list in prop::option::of(signed_header_list()),
        signature in prop::array::uniform32(any::<u8>()),
    ) {
        let names: Option<Vec<&str>> =
            list.as_ref().map(|l| l.iter().map(String::as_str).collect());
        let value = format_authorization(&id, names.as_deref(), &hex(&signature));

        let parsed = parse_authorization(&value);

        let parsed = parsed.expect("a formatted header parses");
        prop_assert_eq!(parsed.access_key_id, id.as_str());
        prop_assert_eq!(parsed.signature, signature);
        let expected = names.unwrap_or_else(|| vec!["host", DATE_HEADER]);
        prop_assert_eq!(parsed.signed_headers, expected);
    }

    #[test]
    fn parsing_any_date_text_never_panics(value in any::<String>()) {
        let _ = parse_date(&value);
    }

    #[test]
    fn parsing_date_shaped_text_never_panics_and_accepts_only_what_formats_back(
        value in "[0-9]{8}T[0-9]{6}Z",
    ) {
        if let Some(instant) = parse_date(&value) {
            prop_assert_eq!(format_date(instant), value);
        }
    }

    #[test]
    fn a_formatted_date_parses_back_to_the_same_whole_second(instant in header_instant()) {
        let text = format_date(instant);

        let parsed = parse_date(&text);

        prop_assert_eq!(text.len(), 16);
        prop_assert_eq!(parsed.map(|t| t.timestamp()), Some(instant.timestamp()));
    }

    #[test]
    fn decoding_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = percent_decode(&bytes);
        let _ = form_decode(&bytes);
    }

    #[test]
    fn canonicalizing_any_path_or_query_never_panics(
        text in any::<String>(),
        shaped in query_like(),
    ) {
        for input in [&text, &shaped] {
            let _ = canonical_uri(input);
            let _ = canonical_query(input);
            let _ = query_pairs(input);
        }
    }

    #[test]
    fn encoding_then_decoding_gives_the_original_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let text = encoded(&bytes);

        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
        prop_assert_eq!(percent_decode(text.as_bytes()), bytes.clone());
        prop_assert_eq!(form_decode(text.as_bytes()), bytes);
    }

    #[test]
    fn a_query_built_from_encoded_pairs_reads_back_as_those_pairs(
        pairs in prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 1..12), prop::collection::vec(any::<u8>(), 0..12)),
            0..6,
        ),
    ) {
        let query = pairs
            .iter()
            .map(|(name, value)| format!("{}={}", encoded(name), encoded(value)))
            .collect::<Vec<_>>()
            .join("&");

        prop_assert_eq!(query_pairs(&query), pairs);
    }

    #[test]
    fn a_canonical_query_is_its_own_canonical_form(query in query_like()) {
        let once = canonical_query(&query);

        prop_assert_eq!(canonical_query(&once), once);
    }

    #[test]
    fn a_canonical_path_is_its_own_canonical_form(path in query_like()) {
        let path = format!("/{path}");
        let once = canonical_uri(&path);

        prop_assert_eq!(canonical_uri(&once), once);
    }

    #[test]
    fn the_order_of_query_pieces_does_not_change_the_canonical_query(
        (pieces, reordered) in prop::collection::vec(query_like(), 0..6)
            .prop_flat_map(|pieces| (Just(pieces.clone()), Just(pieces).prop_shuffle())),
    ) {
        let query = pieces.join("&");

        prop_assert_eq!(canonical_query(&reordered.join("&")), canonical_query(&query));
    }

    #[test]
    fn a_signed_request_passes_the_servers_checks_and_a_changed_body_byte_does_not(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH"]),
        path in "(/[a-zA-Z0-9%+._~ -]{0,12}){1,4}",
        query in prop::option::of(query_like()),
        nonce in "[ -~]{0,40}",
        body in prop::collection::vec(any::<u8>(), 1..256),
        at in any::<prop::sample::Index>(),
        delta in 1_u8..=255,
    ) {
        let credentials = Credentials::new("OLAKPROPERTY", "a secret of the property test");
        let target = match &query {
            Some(query) => format!("{path}?{query}"),
            None => path.clone(),
        };
        let now = Utc::now();
        let extra = [("x-onlive-site-nonce".to_owned(), nonce)];
        let signed = sign(&credentials, method, "127.0.0.1:8080", &target, &extra, &body, now);
        let mut headers = HeaderMap::new();
        for (name, value) in &signed.headers {
            let value = HeaderValue::from_str(value).expect("a printable header value");
            headers.append(HeaderName::from_bytes(name.as_bytes()).expect("a token"), value);
        }
        let accepts = |body: &[u8]| -> bool {
            let claim = Claim::from_headers(&headers, now, Duration::from_secs(900))
                .expect("the signer's headers pass the header checks");
            let method = Method::from_bytes(method.as_bytes()).expect("a method");
            let query = query.clone().unwrap_or_default();
            let parts = SignedParts {
                method: &method,
                path: &path,
                query: &query,
                headers: &headers,
                body,
            };
            let date = headers.get(DATE_HEADER).expect("dated").to_str().expect("ASCII");
            let authorization = headers.get("authorization").expect("signed").to_str().expect("ASCII");
            let presented = parse_authorization(authorization).expect("valid").signature;
            let string_to_sign = string_to_sign(date, &claim.canonical_request(&parts));
            signature_matches(credentials.secret_access_key(), &string_to_sign, &presented)
        };

        prop_assert!(accepts(&body), "canonical request:\n{}", signed.canonical_request);
        let mut changed = body.clone();
        let at = at.index(changed.len());
        changed[at] ^= delta;
        prop_assert!(!accepts(&changed), "a change of byte {} was accepted", at);
    }
}

/// The canonical request the signer signed is the one the server rebuilds (a fixed example, so
/// the property above cannot pass by both sides agreeing on something empty).
#[test]
fn the_servers_canonical_request_equals_the_signers_for_a_fixed_request() {
    let credentials = Credentials::new("OLAK1", "secret");
    let date = Utc.with_ymd_and_hms(2026, 11, 22, 10, 15, 0).unwrap();
    let signed = sign(
        &credentials,
        "PUT",
        "h",
        "/api/v1/user-groups/a b?z=1&a=%41+b",
        &[],
        b"{}",
        date,
    );
    let headers: Vec<(&str, &[u8])> = signed
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();

    let rebuilt = canonical_request(
        "PUT",
        "/api/v1/user-groups/a b",
        "z=1&a=%41+b",
        &headers,
        &["host", DATE_HEADER],
        b"{}",
    );

    assert_eq!(
        String::from_utf8(rebuilt).unwrap(),
        signed.canonical_request
    );
    assert!(signed
        .canonical_request
        .starts_with("PUT\n/api/v1/user-groups/a%20b\na=A%20b&z=1\n"));
}

/// Lowercase hex of `bytes`, as the header carries a signature.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
