//! `parse_form` of the token endpoint (`src/routes/nscale/token.rs`) on arbitrary bodies.
//!
//! The form is accepted exactly when the body is UTF-8, every parameter name decodes to UTF-8,
//! none of `grant_type`, `client_id`, `client_secret` and `scope` is sent twice and each of
//! their values decodes to UTF-8; then each of the four reads back as its one decoded value.
//! Unknown parameters are ignored, however often they repeat. The parser is one pass: a body of
//! many distinct names must not cost more than a body of few (libFuzzer's `-timeout` catches a
//! parse that does).

#![no_main]

use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use libfuzzer_sys::fuzz_target;
use usergroups::auth::canonical::form_decode;
use usergroups::routes::nscale::token::parse_form;

const KNOWN: [&str; 4] = ["grant_type", "client_id", "client_secret", "scope"];

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let outcome = parse_form(&headers, data);

    let Ok(text) = std::str::from_utf8(data) else {
        assert!(outcome.is_err(), "a body that is not UTF-8 was accepted");
        return;
    };
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = text
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (form_decode(name.as_bytes()), form_decode(value.as_bytes()))
        })
        .collect();
    let sent = |name: &str| -> Vec<&Vec<u8>> {
        pairs
            .iter()
            .filter(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v)
            .collect()
    };
    let acceptable = pairs
        .iter()
        .all(|(name, _)| std::str::from_utf8(name).is_ok())
        && KNOWN.iter().all(|name| {
            let values = sent(name);
            values.len() <= 1 && values.iter().all(|v| std::str::from_utf8(v).is_ok())
        });

    match outcome {
        Ok(form) => {
            assert!(acceptable, "accepted {text:?}");
            let read = [
                form.grant_type.as_deref(),
                form.client_id.as_deref(),
                form.client_secret.as_deref().map(String::as_str),
                form.scope.as_deref(),
            ];
            for (name, value) in KNOWN.iter().zip(read) {
                let expected = sent(name)
                    .first()
                    .map(|v| String::from_utf8((*v).clone()).expect("checked UTF-8"));
                assert_eq!(value, expected.as_deref(), "{name} read back differently");
            }
        }
        Err(_) => assert!(!acceptable, "refused {text:?}"),
    }
});
