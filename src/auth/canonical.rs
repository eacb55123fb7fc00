//! The canonical request, the string to sign and the signature of `signing.md` §2–§3.
//!
//! Everything here is a pure function over bytes, so the server, the signer and the tests all
//! build exactly the same text. Input that may arrive as arbitrary bytes (decoded path and
//! query pieces, header values, bodies) is handled as `&[u8]`, never assumed to be UTF-8.
//! The reference for every byte is the contract's `sign.py`; where a choice was open, these
//! functions make the one it makes.

use hmac::digest::{Digest, Key, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The algorithm name that opens every string to sign.
pub const ALGORITHM: &str = "ONLIVESITE-HMAC-SHA256";

type HmacSha256 = Hmac<Sha256>;

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";
const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` to `out` percent-encoded: `A-Z a-z 0-9 - _ . ~` stay as they are, every
/// other byte (`/` included) becomes `%XX` with uppercase hex.
pub fn uri_encode(bytes: &[u8], out: &mut String) {
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(UPPER_HEX[usize::from(byte >> 4)]));
            out.push(char::from(UPPER_HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// Decodes `%XX` escapes (either hex case). A `%` not followed by two hex digits stays a
/// literal `%`, and `+` stays `+`: a bad escape must not make a request unsignable.
pub fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            if let [high, low, after @ ..] = tail {
                if let (Some(high), Some(low)) = (hex_value(*high), hex_value(*low)) {
                    out.push((high << 4) | low);
                    rest = after;
                    continue;
                }
            }
        }
        out.push(byte);
        rest = tail;
    }
    out
}

/// Decodes a query name or value as HTML forms do: `+` is a space, then [`percent_decode`]
/// (so `%2B` is a literal plus).
pub fn form_decode(input: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = input
        .iter()
        .map(|&byte| if byte == b'+' { b' ' } else { byte })
        .collect();
    percent_decode(&spaced)
}

/// The query's `name=value` pairs, form-decoded, in the order sent.
///
/// Empty pieces (`a=1&&b=2`) are dropped and a piece without `=` has an empty value. The
/// server reads its query parameters through this very function, so that whatever the
/// signature covers is exactly what the handler sees.
pub fn query_pairs(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (form_decode(name.as_bytes()), form_decode(value.as_bytes()))
        })
        .collect()
}

/// The CanonicalURI: the path exactly as sent, each `/`-separated segment percent-decoded and
/// encoded again with [`uri_encode`]; an empty path is `/`.
///
/// No dot-segment removal and no slash merging: `/a/` and `/a` are different resources, and a
/// `%2F` inside a segment stays `%2F` rather than becoming a separator.
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(path.len());
    for (index, segment) in path.split('/').enumerate() {
        if index > 0 {
            out.push('/');
        }
        uri_encode(&percent_decode(segment.as_bytes()), &mut out);
    }
    out
}

/// The CanonicalQueryString: the [`query_pairs`] re-encoded with [`uri_encode`], sorted by
/// encoded name then encoded value (byte order), joined as `name=value` with `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .map(|(name, value)| (encoded(&name), encoded(&value)))
        .collect();
    // The encoded text is ASCII, so `String`'s ordering is the byte order the contract asks for.
    pairs.sort();
    let mut out = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// One header value as the canonical request carries it: spaces and tabs trimmed at both ends,
/// each inner run of spaces and tabs folded into one space.
pub fn fold_header_value(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut space_pending = false;
    for &byte in value {
        if byte == b' ' || byte == b'\t' {
            // Only a run between two visible bytes becomes a space; leading and trailing runs go.
            space_pending = !out.is_empty();
        } else {
            if space_pending {
                out.push(b' ');
                space_pending = false;
            }
            out.push(byte);
        }
    }
    out
}

/// The CanonicalRequest of `signing.md` §2.
///
/// `headers` is every header of the request in the order received, names in any case;
/// `signed_headers` is the signed set, lowercase and sorted. Each signed header's values are
/// folded and joined with `,` in the order received; a signed header that is absent yields an
/// empty value (the caller refuses such a request before it gets here).
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &[u8])],
    signed_headers: &[&str],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method.to_uppercase().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(query).as_bytes());
    out.push(b'\n');
    for &signed in signed_headers {
        out.extend_from_slice(signed.as_bytes());
        out.push(b':');
        let values = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(signed));
        for (index, (_, value)) in values.enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&fold_header_value(value));
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(sha256_hex(body).as_bytes());
    out
}

/// SHA-256 of `data`, as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex_encode(&Sha256::digest(data))
}

/// `bytes` as lowercase hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(LOWER_HEX[usize::from(byte >> 4)]));
        out.push(char::from(LOWER_HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// The StringToSign of `signing.md` §3: the algorithm, the `x-onlive-site-date` value and the
/// hex SHA-256 of the canonical request, one per line.
pub fn string_to_sign(date: &str, canonical_request: &[u8]) -> String {
    format!("{ALGORITHM}\n{date}\n{}", sha256_hex(canonical_request))
}

/// The signature: hex HMAC-SHA256 of `string_to_sign`, keyed with the secret's UTF-8 bytes.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = keyed_hmac(secret.as_bytes());
    mac.update(string_to_sign.as_bytes());
    hex_encode(&mac.finalize().into_bytes())
}

/// Whether `signature` (the raw 32 bytes, as parsed from the header) is the right one for
/// `string_to_sign`, compared in constant time so the answer's timing leaks nothing.
pub fn signature_matches(secret: &str, string_to_sign: &str, signature: &[u8; 32]) -> bool {
    let mut mac = keyed_hmac(secret.as_bytes());
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(signature).is_ok()
}

/// HMAC-SHA256 keyed with `key`, without a panic path.
///
/// `Mac::new_from_slice` returns a `Result` for a key-length error that HMAC cannot have. So the
/// key is brought to one block here exactly as RFC 2104 §2 (and the `hmac` crate) does it,
/// hashed when longer than a block and zero-padded, and handed to the infallible
/// `KeyInit::new`. The unit tests check it against `new_from_slice` around the block size.
fn keyed_hmac(key: &[u8]) -> HmacSha256 {
    let mut block = Key::<HmacSha256>::default();
    if key.len() > block.len() {
        let digest = Sha256::digest(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <HmacSha256 as KeyInit>::new(&block)
}

/// Percent-encodes `bytes` into a new string.
fn encoded(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    uri_encode(bytes, &mut out);
    out
}

/// The value of one hex digit, either case.
fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(bytes: &[u8]) -> String {
        encoded(bytes)
    }

    #[test]
    fn unreserved_bytes_stay_and_everything_else_is_escaped_in_uppercase() {
        assert_eq!(encode(b"AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(encode(b" /+%=&?\x00\xff"), "%20%2F%2B%25%3D%26%3F%00%FF");
    }

    #[test]
    fn bad_escapes_stay_literal() {
        assert_eq!(percent_decode(b"100%"), b"100%");
        assert_eq!(percent_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(percent_decode(b"%4g"), b"%4g");
        // A literal `%` before a good escape does not swallow it.
        assert_eq!(percent_decode(b"%%41"), b"%A");
        assert_eq!(canonical_query("q=100%zz%&r=%4"), "q=100%25zz%25&r=%254");
    }

    #[test]
    fn lowercase_escapes_decode_and_come_back_uppercase() {
        assert_eq!(percent_decode(b"%2f%3a%7E"), b"/:~");
        assert_eq!(canonical_uri("/api/v1/x%2fy%3a"), "/api/v1/x%2Fy%3A");
        assert_eq!(canonical_query("y=%7e~"), "y=~~");
    }

    #[test]
    fn plus_is_literal_in_the_path_but_a_space_in_the_query() {
        assert_eq!(percent_decode(b"a+b"), b"a+b");
        assert_eq!(canonical_uri("/a+b/c%2Bd"), "/a%2Bb/c%2Bd");
        assert_eq!(form_decode(b"a+b%2Bc"), b"a b+c");
        assert_eq!(
            canonical_query("a=x+y&b=x%2By&c=x%20y"),
            "a=x%20y&b=x%2By&c=x%20y"
        );
    }

    #[test]
    fn an_escaped_slash_stays_inside_its_segment() {
        assert_eq!(canonical_uri("/a%2Fb/c"), "/a%2Fb/c");
    }

    #[test]
    fn the_path_is_kept_as_sent_and_an_empty_one_is_a_slash() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(
            canonical_uri("/api/v1/user-groups/"),
            "/api/v1/user-groups/"
        );
        assert_eq!(canonical_uri("//a/./b/../"), "//a/./b/../");
        assert_eq!(canonical_uri("/example space/"), "/example%20space/");
    }

    #[test]
    fn utf8_is_encoded_byte_by_byte_whether_raw_or_escaped() {
        assert_eq!(canonical_uri("/ሴ"), "/%E1%88%B4");
        assert_eq!(canonical_uri("/%E1%88%B4"), "/%E1%88%B4");
        assert_eq!(canonical_query("ሴ=é"), "%E1%88%B4=%C3%A9");
    }

    #[test]
    fn escapes_decoding_to_invalid_utf8_are_kept_as_bytes() {
        assert_eq!(percent_decode(b"%FF%C3"), [0xff, 0xc3]);
        assert_eq!(canonical_uri("/%ff"), "/%FF");
    }

    #[test]
    fn empty_query_pieces_are_dropped_and_a_bare_name_has_an_empty_value() {
        assert_eq!(
            query_pairs("&a=1&&flag&=v&b=x=y&"),
            vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"flag".to_vec(), Vec::new()),
                (Vec::new(), b"v".to_vec()),
                (b"b".to_vec(), b"x=y".to_vec()),
            ]
        );
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("&&"), "");
        assert_eq!(
            canonical_query("search=&flag&page=1"),
            "flag=&page=1&search="
        );
    }

    #[test]
    fn query_pairs_sort_by_encoded_name_then_encoded_value() {
        assert_eq!(canonical_query("b=2&a=z&a=a&a=m"), "a=a&a=m&a=z&b=2");
        // Uppercase sorts before lowercase in byte order; `%` sorts before letters.
        assert_eq!(canonical_query("a=1&B=2&%21=3"), "%21=3&B=2&a=1");
    }

    #[test]
    fn header_values_are_trimmed_and_inner_blank_runs_folded() {
        assert_eq!(fold_header_value(b"  W/\"3\"   "), b"W/\"3\"");
        assert_eq!(fold_header_value(b"a\t \tb  c"), b"a b c");
        assert_eq!(fold_header_value(b" \t "), b"");
        assert_eq!(fold_header_value(b"\"a   b\""), b"\"a b\"");
    }

    #[test]
    fn signed_headers_match_names_in_any_case_and_join_values_in_order() {
        let headers: [(&str, &[u8]); 4] = [
            ("Host", b"example.com"),
            ("My-Header", b" two "),
            ("Unsigned", b"ignored"),
            ("my-header", b"one"),
        ];
        let request = canonical_request("get", "", "", &headers, &["host", "my-header"], b"");
        let expected = "GET\n/\n\nhost:example.com\nmy-header:two,one\n\nhost;my-header\n\
                        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(String::from_utf8_lossy(&request), expected);
    }

    #[test]
    fn hmac_matches_the_rfc_4231_test_case_2() {
        let mac = signature("Jefe", "what do ya want for nothing?");
        assert_eq!(
            mac,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_block_sized_key_gives_the_same_mac_as_hmac_itself() {
        for length in [0, 1, 32, 63, 64, 65, 131] {
            let key = vec![0x5a_u8; length];
            let mut ours = keyed_hmac(&key);
            let mut reference =
                <HmacSha256 as Mac>::new_from_slice(&key).expect("any key length is valid");
            ours.update(b"message");
            reference.update(b"message");
            assert_eq!(
                ours.finalize().into_bytes(),
                reference.finalize().into_bytes(),
                "key of {length} bytes"
            );
        }
    }

    #[test]
    fn a_signature_matches_only_its_own_string_to_sign_and_secret() {
        let sts = string_to_sign("20261122T101500Z", b"GET\n/\n\n");
        let hex = signature("secret", &sts);
        let mut raw = [0_u8; 32];
        for (byte, pair) in raw.iter_mut().zip(hex.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).expect("hex"), 16).expect("hex");
        }
        assert!(signature_matches("secret", &sts, &raw));
        assert!(!signature_matches("other", &sts, &raw));
        assert!(!signature_matches("secret", &format!("{sts}x"), &raw));
    }

    #[test]
    fn the_string_to_sign_names_the_algorithm_and_date() {
        let sts = string_to_sign("20261122T101500Z", b"");
        assert_eq!(
            sts,
            "ONLIVESITE-HMAC-SHA256\n20261122T101500Z\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
