//! The canonicalizer (`src/auth/canonical.rs`) on arbitrary requests: the canonical path, the
//! canonical query, header folding, the whole canonical request and its signature.
//!
//! The properties are those `tests/api/properties.rs` states with proptest, here with coverage
//! guidance: canonical paths and queries are fixed points, the order of query pieces does not
//! matter, percent-encoding round-trips every byte, a query rebuilt from its decoded pairs reads
//! back as those pairs, and a signature matches only its own string to sign. On top: the
//! canonical request is laid out as `signing.md` §2 says, whatever the bytes.
//!
//! The input is laid out like a request so that seeds can be written by hand: a line with the
//! method, one with the path, one with the query, then `name:value` header lines up to an empty
//! line (or the 96th), and the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use usergroups::auth::canonical::{
    canonical_query, canonical_request, canonical_uri, fold_header_value, form_decode,
    percent_decode, query_pairs, sha256_hex, signature, signature_matches, string_to_sign,
    uri_encode,
};
use usergroups::auth::header::DATE_HEADER;

const UNRESERVED: &[u8] = b"-_.~";
const MAX_HEADERS: usize = 96;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let method = String::from_utf8_lossy(next_line(&mut rest));
    let path = String::from_utf8_lossy(next_line(&mut rest));
    let query = String::from_utf8_lossy(next_line(&mut rest));
    let mut headers: Vec<(String, &[u8])> = Vec::new();
    // actix-http answers 431 above 96 headers, and the canonicalizer's work grows with the square
    // of their number, so more would only slow the fuzzer down.
    while !rest.is_empty() && headers.len() < MAX_HEADERS {
        let line = next_line(&mut rest);
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let value = line.get(colon + 1..).unwrap_or_default();
        headers.push((String::from_utf8_lossy(&line[..colon]).into_owned(), value));
    }
    let body = rest;

    check_encoding(body);
    for (_, value) in &headers {
        check_folding(value);
    }
    check_request(&method, &path, &query, &headers, body);
});

/// The next `\n`-terminated line (without the `\n`), or all that is left.
fn next_line<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let (line, tail) = match rest.iter().position(|&b| b == b'\n') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => (*rest, &[][..]),
    };
    *rest = tail;
    line
}

fn encoded(bytes: &[u8]) -> String {
    let mut out = String::new();
    uri_encode(bytes, &mut out);
    out
}

fn check_path(path: &str) -> String {
    let once = canonical_uri(path);
    assert_eq!(canonical_uri(&once), once, "not a fixed point: {path:?}");
    assert!(once
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || UNRESERVED.contains(&b) || b"%/".contains(&b)));
    if !path.is_empty() {
        // No dot-segment removal, no slash merging: segment for segment, the same bytes.
        let sent: Vec<&str> = path.split('/').collect();
        let canonical: Vec<&str> = once.split('/').collect();
        assert_eq!(
            sent.len(),
            canonical.len(),
            "segments changed: {path:?} -> {once:?}"
        );
        for (sent, canonical) in sent.iter().zip(&canonical) {
            assert_eq!(
                percent_decode(sent.as_bytes()),
                percent_decode(canonical.as_bytes())
            );
        }
    }
    once
}

fn check_query(query: &str) -> String {
    let once = canonical_query(query);
    assert_eq!(canonical_query(&once), once, "not a fixed point: {query:?}");
    assert!(once
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || UNRESERVED.contains(&b) || b"%=&".contains(&b)));

    let reversed: Vec<&str> = query.split('&').rev().collect();
    assert_eq!(
        canonical_query(&reversed.join("&")),
        once,
        "order mattered: {query:?}"
    );

    let pairs = query_pairs(query);
    assert_eq!(
        pairs.len(),
        query.split('&').filter(|p| !p.is_empty()).count()
    );
    let rebuilt = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encoded(name), encoded(value)))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(
        query_pairs(&rebuilt),
        pairs,
        "pairs did not read back: {rebuilt:?}"
    );
    assert_eq!(canonical_query(&rebuilt), once);
    for (name, value) in &pairs {
        check_encoding(name);
        check_encoding(value);
    }
    once
}

fn check_encoding(bytes: &[u8]) {
    let text = encoded(bytes);
    assert!(text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || UNRESERVED.contains(&b) || b == b'%'));
    assert_eq!(percent_decode(text.as_bytes()), bytes);
    assert_eq!(form_decode(text.as_bytes()), bytes);
}

fn check_folding(value: &[u8]) {
    let folded = fold_header_value(value);
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    assert!(!folded.first().is_some_and(blank) && !folded.last().is_some_and(blank));
    assert!(!folded.contains(&b'\t'));
    assert!(!folded.windows(2).any(|pair| pair == b"  "));
    assert_eq!(fold_header_value(&folded), folded);
    let visible: Vec<u8> = value.iter().copied().filter(|b| !blank(b)).collect();
    let kept: Vec<u8> = folded.iter().copied().filter(|b| !blank(b)).collect();
    assert_eq!(visible, kept, "folding changed a visible byte");
}

fn check_request(method: &str, path: &str, query: &str, headers: &[(String, &[u8])], body: &[u8]) {
    let canonical_path = check_path(path);
    let canonical_query_text = check_query(query);
    // Every header sent is signed, with the two the server insists on even when absent.
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .chain(["host".to_owned(), DATE_HEADER.to_owned()])
        .collect();
    signed.sort();
    signed.dedup();
    let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
    let borrowed: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();

    let request = canonical_request(method, path, query, &borrowed, &signed, body);
    // Fixed points again, seen from the whole request: canonical input changes nothing.
    let from_canonical = canonical_request(
        method,
        &canonical_path,
        &canonical_query_text,
        &borrowed,
        &signed,
        body,
    );
    assert_eq!(from_canonical, request);

    let mut expected = format!(
        "{}\n{canonical_path}\n{canonical_query_text}\n",
        method.to_uppercase()
    )
    .into_bytes();
    for name in &signed {
        expected.extend_from_slice(name.as_bytes());
        expected.push(b':');
        let values: Vec<Vec<u8>> = borrowed
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| fold_header_value(v))
            .collect();
        expected.extend_from_slice(&values.join(&b','));
        expected.push(b'\n');
    }
    expected.extend_from_slice(format!("\n{}\n{}", signed.join(";"), sha256_hex(body)).as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&request),
        String::from_utf8_lossy(&expected)
    );

    // Header names are matched in any case.
    let shouted: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_uppercase())
        .collect();
    let shouted: Vec<(&str, &[u8])> = shouted
        .iter()
        .zip(&borrowed)
        .map(|(name, (_, value))| (name.as_str(), *value))
        .collect();
    let again = canonical_request(method, path, query, &shouted, &signed, body);
    assert_eq!(again, request, "header name case mattered");

    // Any secret, any length: what it signs it accepts, and nothing one bit away.
    let secret = String::from_utf8_lossy(body);
    let to_sign = string_to_sign("20261122T101500Z", &request);
    let hex = signature(&secret, &to_sign);
    let mut raw = [0_u8; 32];
    for (byte, pair) in raw.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).expect("hex is ASCII");
        *byte = u8::from_str_radix(pair, 16).expect("hex digits");
    }
    assert_eq!(hex.len(), 64);
    assert!(signature_matches(&secret, &to_sign, &raw));
    raw[usize::from(body.first().copied().unwrap_or(0) % 32)] ^= 1;
    assert!(!signature_matches(&secret, &to_sign, &raw));
}
