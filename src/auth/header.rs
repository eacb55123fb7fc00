//! The two headers a signed request carries: `Authorization` (`signing.md` §1) and
//! `x-onlive-site-date`.
//!
//! Parsing is strict on purpose: anything outside the grammar is refused rather than guessed
//! at, so that one header value can only ever mean one thing. Whether the signed headers are
//! actually present in the request is the caller's check, since only it sees the request.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// The header carrying the request's date, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "x-onlive-site-date";

/// The scheme token that opens the `Authorization` header (case-sensitive).
pub const SCHEME: &str = "ONLIVESITE";

/// The signed set when the `Authorization` header names none.
const DEFAULT_SIGNED_HEADERS: [&str; 2] = ["host", DATE_HEADER];

/// The longest access key id the grammar allows.
const MAX_KEY_ID_LEN: usize = 128;

/// A parsed `ONLIVESITE` `Authorization` header, borrowing from the header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The `Credential:` access key id.
    pub access_key_id: &'a str,
    /// The signed header names, lowercase and sorted; `["host", "x-onlive-site-date"]` when the
    /// header has no `SignedHeaders=`.
    pub signed_headers: Vec<&'a str>,
    /// The signature's 32 raw bytes, ready for a constant-time comparison.
    pub signature: [u8; 32],
}

/// Parses an `Authorization` value of the grammar of `signing.md` §1, or `None` for anything
/// else (another scheme, a misspelt or reordered parameter, an unsorted or duplicated
/// `SignedHeaders`, a signature that is not 64 lowercase hex digits, trailing text, ...).
///
/// ```text
/// ONLIVESITE SP "Credential:" key-id "," [SP] [ "SignedHeaders=" list "," [SP] ] "Signature=" 64lowerhex
/// ```
pub fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(SCHEME)?.strip_prefix(" Credential:")?;
    // Neither a key id nor a header list can hold a comma, so the first comma ends each.
    let (access_key_id, rest) = rest.split_once(',')?;
    if !is_key_id(access_key_id) {
        return None;
    }
    let rest = skip_optional_space(rest);
    let (signed_headers, rest) = match rest.strip_prefix("SignedHeaders=") {
        Some(after) => {
            let (list, rest) = after.split_once(',')?;
            (parse_signed_headers(list)?, skip_optional_space(rest))
        }
        None => (DEFAULT_SIGNED_HEADERS.to_vec(), rest),
    };
    let signature = decode_signature(rest.strip_prefix("Signature=")?)?;
    Some(Authorization {
        access_key_id,
        signed_headers,
        signature,
    })
}

/// Formats an `Authorization` value exactly as the reference signer does: with
/// `SignedHeaders=` only when `signed_headers` is given, each comma followed by one space.
pub fn format_authorization(
    access_key_id: &str,
    signed_headers: Option<&[&str]>,
    signature: &str,
) -> String {
    match signed_headers {
        Some(names) => format!(
            "{SCHEME} Credential:{access_key_id}, SignedHeaders={}, Signature={signature}",
            names.join(";")
        ),
        None => format!("{SCHEME} Credential:{access_key_id}, Signature={signature}"),
    }
}

/// Parses an `x-onlive-site-date` value: exactly `YYYYMMDDTHHMMSSZ`, 16 ASCII characters that
/// name a real UTC instant. No signs, whitespace, lowercase `t`/`z`, fractions or leap second
/// `60`: a lenient parser would let two spellings carry one date.
pub fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    let &[y0, y1, y2, y3, mo0, mo1, d0, d1, b'T', h0, h1, mi0, mi1, s0, s1, b'Z'] =
        value.as_bytes()
    else {
        return None;
    };
    let year = i32::try_from(decimal(&[y0, y1, y2, y3])?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, decimal(&[mo0, mo1])?, decimal(&[d0, d1])?)?;
    // `from_hms_opt` refuses second 60: chrono spells a leap second differently.
    let time = NaiveTime::from_hms_opt(
        decimal(&[h0, h1])?,
        decimal(&[mi0, mi1])?,
        decimal(&[s0, s1])?,
    )?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

/// Formats an instant as an `x-onlive-site-date` value, `YYYYMMDDTHHMMSSZ`, dropping any
/// fraction of a second. Meant for years 0000 to 9999, the only ones the header can carry.
pub fn format_date(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// `key-id = 1*128 ( ALPHA / DIGIT / "-" / "_" )`.
fn is_key_id(candidate: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&candidate.len())
        && candidate
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The grammar allows at most one space after each comma.
fn skip_optional_space(rest: &str) -> &str {
    rest.strip_prefix(' ').unwrap_or(rest)
}

/// A `SignedHeaders` list: non-empty lowercase header names, `;`-separated, strictly sorted
/// (so no duplicates), holding `host` and `x-onlive-site-date`.
fn parse_signed_headers(list: &str) -> Option<Vec<&str>> {
    let names: Vec<&str> = list.split(';').collect();
    let well_formed = names.iter().all(|name| is_lowercase_header_name(name))
        && names.windows(2).all(|pair| pair[0] < pair[1])
        && DEFAULT_SIGNED_HEADERS
            .iter()
            .all(|required| names.contains(required));
    well_formed.then_some(names)
}

/// A non-empty HTTP token (RFC 9110 `tchar`s) without uppercase letters.
fn is_lowercase_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&byte)
        })
}

/// Exactly 64 lowercase hex digits into 32 bytes.
fn decode_signature(hex: &str) -> Option<[u8; 32]> {
    let digits = hex.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut signature = [0_u8; 32];
    for (byte, pair) in signature.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (lower_hex_value(pair[0])? << 4) | lower_hex_value(pair[1])?;
    }
    Some(signature)
}

/// The value of one lowercase hex digit; uppercase is outside the grammar.
fn lower_hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// The value of a run of ASCII digits (no sign, no whitespace).
fn decimal(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0_u32, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SIGNATURE_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn with_params(params: &str) -> String {
        format!("ONLIVESITE Credential:OLAK1, {params}Signature={SIGNATURE_HEX}")
    }

    #[test]
    fn every_authorization_parsing_case_of_the_vectors_is_decided_as_expected() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/vectors.json"))
                .expect("vectors.json is JSON");
        let cases = vectors["authorization_parsing"]
            .as_array()
            .expect("authorization_parsing is a list");
        assert!(!cases.is_empty());
        for case in cases {
            let value = case["value"].as_str().expect("value is a string");
            let valid = case["valid"].as_bool().expect("valid is a bool");
            let why = case["why"].as_str().unwrap_or("a valid header");
            assert_eq!(
                parse_authorization(value).is_some(),
                valid,
                "{why}: {value:?}"
            );
        }
    }

    #[test]
    fn a_header_without_signed_headers_signs_host_and_date() {
        let value = with_params("");
        let parsed = parse_authorization(&value).expect("valid");
        assert_eq!(parsed.access_key_id, "OLAK1");
        assert_eq!(parsed.signed_headers, ["host", "x-onlive-site-date"]);
        assert_eq!(parsed.signature[0], 0x00);
        assert_eq!(parsed.signature[5], 0x55);
        assert_eq!(parsed.signature[31], 0xff);
    }

    #[test]
    fn signed_headers_are_read_in_order() {
        let value =
            with_params("SignedHeaders=host;if-match;x-onlive-site-date;x-onlive-site-nonce,");
        let parsed = parse_authorization(&value).expect("valid");
        assert_eq!(
            parsed.signed_headers,
            [
                "host",
                "if-match",
                "x-onlive-site-date",
                "x-onlive-site-nonce"
            ]
        );
    }

    #[test]
    fn the_space_after_each_comma_is_optional_but_single() {
        let tight = format!(
            "ONLIVESITE Credential:OLAK1,SignedHeaders=a;host;x-onlive-site-date,Signature={SIGNATURE_HEX}"
        );
        assert!(parse_authorization(&tight).is_some());
        assert!(parse_authorization(&with_params(" ")).is_none());
        let double = format!("ONLIVESITE Credential:OLAK1,  Signature={SIGNATURE_HEX}");
        assert!(parse_authorization(&double).is_none());
        let tab = format!("ONLIVESITE Credential:OLAK1,\tSignature={SIGNATURE_HEX}");
        assert!(parse_authorization(&tab).is_none());
    }

    #[test]
    fn a_key_id_holds_1_to_128_letters_digits_dashes_or_underscores() {
        let longest = format!(
            "ONLIVESITE Credential:{}, Signature={SIGNATURE_HEX}",
            "a".repeat(128)
        );
        assert!(parse_authorization(&longest).is_some());
        let too_long = format!(
            "ONLIVESITE Credential:{}, Signature={SIGNATURE_HEX}",
            "a".repeat(129)
        );
        assert!(parse_authorization(&too_long).is_none());
        let dashes = format!("ONLIVESITE Credential:a-b_C9, Signature={SIGNATURE_HEX}");
        assert!(parse_authorization(&dashes).is_some());
        let accented = format!("ONLIVESITE Credential:é, Signature={SIGNATURE_HEX}");
        assert!(parse_authorization(&accented).is_none());
    }

    #[test]
    fn malformed_signed_headers_lists_are_refused() {
        let refused = [
            ("duplicate name", "host;host;x-onlive-site-date"),
            ("uppercase name", "Host;x-onlive-site-date"),
            ("empty name", "host;;x-onlive-site-date"),
            ("trailing separator", "host;x-onlive-site-date;"),
            ("lacks host", "if-match;x-onlive-site-date"),
            ("space inside a name", "host;my header;x-onlive-site-date"),
            ("empty list", ""),
        ];
        for (why, list) in refused {
            let value = with_params(&format!("SignedHeaders={list}, "));
            assert!(parse_authorization(&value).is_none(), "{why}: {value:?}");
        }
    }

    #[test]
    fn parameter_names_are_case_sensitive() {
        let lowercase = format!("ONLIVESITE credential:OLAK1, Signature={SIGNATURE_HEX}");
        assert!(parse_authorization(&lowercase).is_none());
        assert!(
            parse_authorization(&with_params("signedheaders=host;x-onlive-site-date, ")).is_none()
        );
        let signature = format!("ONLIVESITE Credential:OLAK1, signature={SIGNATURE_HEX}");
        assert!(parse_authorization(&signature).is_none());
    }

    #[test]
    fn trailing_or_leading_text_is_refused() {
        assert!(parse_authorization(&format!("{} ", with_params(""))).is_none());
        assert!(parse_authorization(&format!(" {}", with_params(""))).is_none());
        assert!(parse_authorization(&format!("{}0", with_params(""))).is_none());
    }

    #[test]
    fn formatting_then_parsing_gives_the_parts_back() {
        let list = ["host", "x-onlive-site-date", "x-onlive-site-nonce"];
        let value = format_authorization("OLAK1", Some(&list), SIGNATURE_HEX);
        let parsed = parse_authorization(&value).expect("valid");
        assert_eq!(parsed.signed_headers, list);
        assert_eq!(
            format_authorization("OLAK1", None, SIGNATURE_HEX),
            with_params("")
        );
    }

    #[test]
    fn a_date_is_read_as_the_utc_instant_it_names() {
        let parsed = parse_date("20261122T101500Z").expect("valid");
        assert_eq!(
            parsed,
            Utc.with_ymd_and_hms(2026, 11, 22, 10, 15, 0).unwrap()
        );
        assert_eq!(format_date(parsed), "20261122T101500Z");
        assert!(parse_date("20240229T235959Z").is_some());
    }

    #[test]
    fn dates_that_are_not_exactly_the_format_or_not_real_are_refused() {
        let refused = [
            ("empty", ""),
            ("no Z", "20261122T101500"),
            ("extra digit", "20261122T1015000Z"),
            ("lowercase t", "20261122t101500Z"),
            ("lowercase z", "20261122T101500z"),
            ("leap second", "20261231T235960Z"),
            ("hour 24", "20261122T240000Z"),
            ("minute 60", "20261122T106000Z"),
            ("month 13", "20261322T101500Z"),
            ("day 0", "20261100T101500Z"),
            ("February 30", "20260230T101500Z"),
            ("not a leap year", "20250229T101500Z"),
            ("sign", "+2026112T101500Z"),
            ("leading space", " 2026112T101500Z"),
            ("space inside", "20261122T 10150Z"),
            ("separators", "2026-11-22T10:15Z"),
            ("non-ASCII digit", "2026112٢T101500Z"),
            ("ISO with offset", "20261122T101500+0000"),
        ];
        for (why, value) in refused {
            assert!(parse_date(value).is_none(), "{why}: {value:?}");
        }
    }

    #[test]
    fn formatting_drops_fractions_of_a_second() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::milliseconds(999);
        assert_eq!(format_date(t), "20260102T030405Z");
    }
}
