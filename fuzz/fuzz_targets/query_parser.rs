//! `Query::parse` (`src/routes/input.rs`) on arbitrary query strings, with the parameters of the
//! two list routes, followed by what their handlers call: `page_request`, `uuid`, `search`,
//! `get` and `finish`.
//!
//! The query is accepted exactly when the README's rules say so (each pair, as the canonical
//! query decodes it, has a known name given once and a UTF-8 value without NUL; `page` and
//! `limit` are in range; the ids are hyphenated UUIDs; `search` is at most 255 characters), and
//! then every value the handler reads is the one sent. When it is refused, every error names a
//! parameter that was sent (a long name shortened to its first characters and `…`), and at most
//! 50 are listed.

#![no_main]

use actix_web::http::Uri;
use actix_web::test::TestRequest;
use actix_web::HttpRequest;
use libfuzzer_sys::fuzz_target;
use usergroups::auth::canonical::query_pairs;
use usergroups::routes::input::Query;
use usergroups::ApiError;

const GROUP_LIST: &[&str] = &["page", "limit", "search", "organizationId"];
const USER_LIST: &[&str] = &["page", "limit", "search", "organizationId", "userGroupId"];

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let uri = format!("/api/v1/users?{query}");
    // `TestRequest::with_uri` panics on what the `http` crate refuses; actix-http refuses those
    // requests the same way before any handler runs.
    if uri.parse::<Uri>().is_err() {
        return;
    }
    let req = TestRequest::with_uri(&uri).to_http_request();
    for known in [GROUP_LIST, USER_LIST] {
        check(&req, known);
    }
    // A route that takes no query at all.
    let bare = Query::parse(&req, &[]).finish();
    assert_eq!(bare.is_ok(), query_pairs(req.query_string()).is_empty());
});

fn check(req: &HttpRequest, known: &[&str]) {
    let mut query = Query::parse(req, known);
    let page = query.page_request();
    let organization = query.uuid::<String>("organizationId");
    let group = query.uuid::<String>("userGroupId");
    let search = query.search();
    let values: Vec<Option<String>> = known
        .iter()
        .map(|name| query.get(name).map(str::to_owned))
        .collect();
    let outcome = query.finish();

    assert!(
        page.page >= 1 && (1..=100).contains(&page.limit),
        "{page:?}"
    );

    let pairs = query_pairs(req.query_string());
    let sent = |name: &str| -> Option<&[u8]> {
        pairs
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    };
    let text = |name: &str| sent(name).and_then(|v| std::str::from_utf8(v).ok());
    let acceptable = pairs.iter().enumerate().all(|(i, (name, value))| {
        known.iter().any(|k| k.as_bytes() == name.as_slice())
            && !pairs[..i].iter().any(|(earlier, _)| earlier == name)
            && std::str::from_utf8(value).is_ok_and(|v| !v.contains('\0'))
    }) && text("page").is_none_or(|v| whole_number(v).is_some_and(|n| n >= 1))
        && text("limit").is_none_or(|v| whole_number(v).is_some_and(|n| (1..=100).contains(&n)))
        && text("search").is_none_or(|v| v.chars().count() <= 255)
        && text("organizationId").is_none_or(is_hyphenated_uuid)
        && (!known.contains(&"userGroupId") || text("userGroupId").is_none_or(is_hyphenated_uuid));

    match outcome {
        Ok(()) => {
            assert!(acceptable, "accepted {:?}", req.query_string());
            for (name, value) in known.iter().zip(&values) {
                assert_eq!(value.as_deref(), text(name), "{name} read back differently");
            }
            let expected_page = text("page").and_then(whole_number).unwrap_or(1);
            let expected_limit = text("limit").and_then(whole_number).unwrap_or(20);
            assert_eq!((page.page, page.limit), (expected_page, expected_limit));
            assert_eq!(search.as_deref(), text("search"));
            let lower = |name: &str| text(name).map(str::to_ascii_lowercase);
            assert_eq!(organization, lower("organizationId"));
            if known.contains(&"userGroupId") {
                assert_eq!(group, lower("userGroupId"));
            } else {
                assert_eq!(group, None);
            }
        }
        Err(ApiError::InvalidInput(errors)) => {
            assert!(!acceptable, "refused {:?}: {errors:?}", req.query_string());
            assert!(!errors.is_empty());
            assert!(errors.iter().count() <= 50, "an unbounded error list");
            for error in errors.iter() {
                let shortened = error.field.strip_suffix('…');
                assert!(
                    pairs.iter().any(|(name, _)| {
                        let name = String::from_utf8_lossy(name);
                        name == error.field || shortened.is_some_and(|p| name.starts_with(p))
                    }),
                    "an error on a parameter not sent: {error:?}"
                );
            }
        }
        Err(other) => panic!("a query can only be a 400, got {other:?}"),
    }
}

/// Plain ASCII digits (no sign, no space) that fit an `i64`.
fn whole_number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `8-4-4-4-12` hex digits, either case.
fn is_hyphenated_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}
