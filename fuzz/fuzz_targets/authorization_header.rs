//! The `Authorization` and `x-onlive-site-date` parsers (`src/auth/header.rs`) on arbitrary
//! text.
//!
//! Beyond never panicking: a header that parses is inside the grammar, is the very text the
//! formatter writes for its parts (give or take the optional space after each comma), and the
//! formatter's text parses back to the same parts; a date parses only from the one spelling
//! `format_date` writes. Together: one header value can only ever mean one thing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use usergroups::auth::canonical::hex_encode;
use usergroups::auth::header::{
    format_authorization, format_date, parse_authorization, parse_date, Authorization, DATE_HEADER,
};

fuzz_target!(|data: &[u8]| {
    // The server hands the parsers UTF-8 only; mapping bad bytes to U+FFFD keeps every input
    // useful instead of discarding the invalid ones.
    let text = String::from_utf8_lossy(data);
    if let Some(parsed) = parse_authorization(&text) {
        check_authorization(&text, &parsed);
    }
    if let Some(instant) = parse_date(&text) {
        assert_eq!(
            format_date(instant),
            text,
            "a date parsed from another spelling"
        );
        assert_eq!(instant.timestamp_subsec_nanos(), 0);
    }
});

fn check_authorization(text: &str, parsed: &Authorization<'_>) {
    let id = parsed.access_key_id;
    assert!((1..=128).contains(&id.len()), "key id length: {id:?}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "key id characters: {id:?}"
    );
    let names = &parsed.signed_headers;
    assert!(
        names.windows(2).all(|pair| pair[0] < pair[1]),
        "unsorted or repeated: {names:?}"
    );
    assert!(names.contains(&"host") && names.contains(&DATE_HEADER));
    assert!(names.iter().all(|name| !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && !b",;:=".contains(&b))));

    // Neither a key id, a header name nor hex holds `SignedHeaders=`, so its presence in the
    // text says whether the list was spelt out.
    let spelt_out = text.contains("SignedHeaders=");
    let signature = hex_encode(&parsed.signature);
    let formatted = format_authorization(id, spelt_out.then_some(names.as_slice()), &signature);
    assert_eq!(
        formatted.replace(", ", ","),
        text.replace(", ", ","),
        "the parts do not spell the header"
    );
    assert_eq!(parse_authorization(&formatted).as_ref(), Some(parsed));

    // The list spelt out and the default are the same claim when they name the same headers.
    let listed = format_authorization(id, Some(names), &signature);
    assert_eq!(parse_authorization(&listed).as_ref(), Some(parsed));
    if names[..] == ["host", DATE_HEADER] {
        let bare = format_authorization(id, None, &signature);
        assert_eq!(parse_authorization(&bare).as_ref(), Some(parsed));
    }
}
