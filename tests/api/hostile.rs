//! Hostile input, one table: every route fed broken JSON, wrong types, unknown and repeated
//! fields, oversize strings and bodies, bad UUIDs, bad `page`/`limit`, missing or wrong content
//! types, wrong methods, duplicate and oversize headers, and malformed HTTP framing. Each row
//! names the route, the input, the answer and what the row proves.
//!
//! Rows that the in-process harness can express run through it (the production route table on
//! a fresh database). Rows about framing run as raw bytes on a socket to the real binary,
//! because actix's test harness never parses bytes. Two kinds of answer:
//!
//! - [`Expect::Contract`]: our code answered, so the body is the contract's error body (status,
//!   message, `errors` naming exactly the bad fields for a 400, the `reason` for a 401), with the
//!   JSON content type and an `x-request-id`.
//! - [`Expect::Framing`]: actix-http refuses the bytes while parsing the request head, before
//!   any route, middleware or handler of ours runs. It answers a bare 4xx with an empty body and
//!   closes the connection; the contract's JSON body cannot be produced there (actix exposes no
//!   hook for it). The row checks the status, the empty body and the absence of `x-request-id`,
//!   which proves none of our code ran. The README's "Hostile input" paragraph says the same.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use usergroups::auth::signer::{self, Credentials};

use crate::helpers::{id_of, spawn_app, TestApp, TestResponse};
use crate::live_server::{database_for, first_run_credentials, ScratchDir, Server};

const GROUPS: &str = "/api/v1/user-groups";
const GROUP: &str = "/api/v1/user-groups/{group}";
const USERS: &str = "/api/v1/users";
const USER: &str = "/api/v1/users/{user}";
/// One byte over the default body limit of 1 MiB.
const OVER_THE_BODY_LIMIT: usize = 1024 * 1024 + 1;
const JSON: Option<&str> = Some("application/json");

/// What a row expects.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// The contract's error body with this status. For a 400 the `errors` name exactly these
    /// fields (in any order); for a 401 the one entry is the `reason`.
    Contract(u16, &'static [&'static str]),
    /// actix-http refused the request head before our code: this status, an empty body.
    Framing(u16),
}

/// A header a row adds to a signed request: `Replace` swaps the signed value out (after
/// signing, so the signature no longer covers it), `Repeat` sends the header once more.
#[derive(Debug, Clone)]
enum Header {
    Replace(&'static str, Vec<u8>),
    Repeat(&'static str, Vec<u8>),
}

/// A request through the in-process harness, signed with the app's key (and a nonce).
#[derive(Debug, Clone)]
struct Call {
    method: &'static str,
    /// The target; `{group}` and `{user}` stand for a live group's and user's ids.
    target: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: Vec<Header>,
}

/// Raw bytes for the real binary; `{host}` and `{auth}` in a builder stand for the address
/// and for signed headers.
struct Wire {
    /// Builds the bytes to send, given the server's address and the first-run key.
    build: fn(&str, &Credentials) -> Vec<u8>,
    /// Close our sending side after the bytes, so the server sees the body end early.
    half_close: bool,
}

enum Input {
    InProcess(Call),
    Socket(Wire),
}

struct Row {
    /// What the row proves.
    proves: &'static str,
    input: Input,
    expect: Expect,
}

fn call(method: &'static str, target: impl Into<String>) -> Call {
    Call {
        method,
        target: target.into(),
        content_type: None,
        body: Vec::new(),
        headers: Vec::new(),
    }
}

/// A JSON body (`application/json`) to `method target`.
fn json_call(method: &'static str, target: impl Into<String>, body: impl Into<Vec<u8>>) -> Call {
    Call {
        content_type: JSON,
        body: body.into(),
        ..call(method, target)
    }
}

fn row(proves: &'static str, call: Call, expect: Expect) -> Row {
    Row {
        proves,
        input: Input::InProcess(call),
        expect,
    }
}

fn wire(proves: &'static str, build: fn(&str, &Credentials) -> Vec<u8>, expect: Expect) -> Row {
    Row {
        proves,
        input: Input::Socket(Wire {
            build,
            half_close: false,
        }),
        expect,
    }
}

fn bad(fields: &'static [&'static str]) -> Expect {
    Expect::Contract(400, fields)
}

fn status(code: u16) -> Expect {
    Expect::Contract(code, &[])
}

fn unauthorized(reason: &'static [&'static str]) -> Expect {
    Expect::Contract(401, reason)
}

/// A JSON string of `n` copies of `c`.
fn long(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// A valid user body with `field` replaced by `value`.
fn user_with(field: &str, value: Value) -> Vec<u8> {
    let mut user = json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"});
    user[field] = value;
    serde_json::to_vec(&user).unwrap()
}

/// A group body with `field` set to `value` (and a name).
fn group_with(field: &str, value: Value) -> Vec<u8> {
    let mut group = json!({"name": "Hostile"});
    group[field] = value;
    serde_json::to_vec(&group).unwrap()
}

/// Every JSON route, for the rows every body route must pass.
const BODY_ROUTES: [(&str, &str); 4] = [
    ("POST", GROUPS),
    ("PUT", GROUP),
    ("POST", USERS),
    ("PUT", USER),
];

/// The table.
fn table() -> Vec<Row> {
    let mut rows = Vec::new();

    // --- Broken JSON, on every route that takes a body ------------------------------------
    for (method, target) in BODY_ROUTES {
        let broken: [(&'static str, &[u8]); 10] = [
            ("a truncated object is a 400 on body", br#"{"name": "#),
            ("an empty body is a 400 on body", b""),
            ("whitespace alone is a 400 on body", b" \n\t "),
            ("a JSON array is not an object", b"[]"),
            ("a JSON string is not an object", br#""text""#),
            ("null is not an object", b"null"),
            ("text after the object is refused", br#"{} x"#),
            ("two objects in a row are refused", br#"{}{}"#),
            (
                "invalid UTF-8 inside a string is refused",
                b"{\"name\":\"\xff\"}",
            ),
            ("NaN is not JSON", br#"{"name": NaN}"#),
        ];
        for (proves, body) in broken {
            rows.push(row(proves, json_call(method, target, body), bad(&["body"])));
        }
        rows.push(row(
            "a byte-order mark before the object is refused, not skipped",
            json_call(method, target, b"\xef\xbb\xbf{}".to_vec()),
            bad(&["body"]),
        ));
        rows.push(row(
            "nesting 100,000 arrays deep is a 400, not a stack overflow",
            json_call(method, target, format!("{{\"x\":{}}}", long('[', 100_000))),
            bad(&["body"]),
        ));
        rows.push(row(
            "a body one byte over 1 MiB is 413, whatever it holds",
            json_call(method, target, vec![b' '; OVER_THE_BODY_LIMIT]),
            status(413),
        ));
        rows.push(row(
            "a body route without a content type is 415",
            Call {
                content_type: None,
                ..json_call(method, target, "{}")
            },
            status(415),
        ));
        rows.push(row(
            "the same content type sent twice is 415: one body has one type",
            Call {
                headers: vec![Header::Repeat("content-type", b"application/json".to_vec())],
                ..json_call(method, target, "{}")
            },
            status(415),
        ));
        rows.push(row(
            "a query on a body route is a 400 naming the parameter",
            json_call(method, format!("{target}?debug=1"), "{}"),
            bad(&["debug"]),
        ));
    }
    for (proves, content_type) in [
        ("text/plain is 415", "text/plain"),
        ("a form body is 415", "application/x-www-form-urlencoded"),
        (
            "a charset other than utf-8 is 415",
            "application/json; charset=latin1",
        ),
        (
            "an unknown parameter is 415",
            "application/json; boundary=x",
        ),
        ("a look-alike subtype is 415", "application/jsonx"),
        ("a suffix without a subtype is 415", "application/+json"),
        ("a content type that is not one is 415", ";;;"),
    ] {
        rows.push(row(
            proves,
            Call {
                content_type: Some(content_type),
                ..json_call("POST", GROUPS, r#"{"name":"x"}"#)
            },
            status(415),
        ));
    }

    // --- Wrong types, unknown and repeated fields, oversize strings ---------------------------
    rows.extend([
        row("a number for name is a 400 on name", json_call("POST", GROUPS, r#"{"name": 5}"#), bad(&["name"])),
        row("an object for name is a 400 on name", json_call("POST", GROUPS, r#"{"name": {"a": 1}}"#), bad(&["name"])),
        row("a null name on create is a 400 on name", json_call("POST", GROUPS, r#"{"name": null}"#), bad(&["name"])),
        row(
            "every mistyped group field is listed at once",
            json_call("POST", GROUPS, r#"{"name":"a","description":5,"externalId":[],"extraFields":"x"}"#),
            bad(&["description", "externalId", "extraFields"]),
        ),
        row("an unknown group field is named", json_call("POST", GROUPS, r#"{"name":"a","color":"red"}"#), bad(&["color"])),
        row("field names are case-sensitive", json_call("POST", GROUPS, r#"{"name":"a","Name":"b"}"#), bad(&["Name"])),
        row("a repeated field is named", json_call("POST", GROUPS, r#"{"name":"a","name":"b"}"#), bad(&["name"])),
        row("a NUL inside a name is refused", json_call("POST", GROUPS, r#"{"name":"a\u0000b"}"#), bad(&["name"])),
        row("a name of 256 characters is too long", json_call("POST", GROUPS, group_with("name", json!(long('é', 256)))), bad(&["name"])),
        row("a description of 2,001 characters is too long", json_call("POST", GROUPS, group_with("description", json!(long('d', 2001)))), bad(&["description"])),
        row("an externalId of 256 characters is too long", json_call("POST", GROUPS, group_with("externalId", json!(long('x', 256)))), bad(&["externalId"])),
        row(
            "extraFields over 64 KiB serialized is too large",
            json_call("POST", GROUPS, group_with("extraFields", json!({"k": long('v', 64 * 1024)}))),
            bad(&["extraFields"]),
        ),
        row(
            "the server's own fields cannot be written",
            json_call("PUT", GROUP, r#"{"id":"x","organizationId":"y","createdAt":"z","deletedAt":null}"#),
            bad(&["id", "organizationId", "createdAt", "deletedAt"]),
        ),
        row("a null name or extraFields on update is refused", json_call("PUT", GROUP, r#"{"name":null,"extraFields":null}"#), bad(&["name", "extraFields"])),
        row(
            "every mistyped user field is listed at once",
            json_call("POST", USERS, r#"{"firstName":1,"lastName":true,"email":[],"role":"owner","avatar":"http://x.example","userGroupId":"nope"}"#),
            bad(&["firstName", "lastName", "email", "role", "avatar", "userGroupId"]),
        ),
        row("a missing required user field is named", json_call("POST", USERS, r#"{"firstName":"Ada"}"#), bad(&["lastName", "email"])),
        row("an unknown user field is named", json_call("POST", USERS, user_with("password", json!("x"))), bad(&["password"])),
        row("a firstName of 101 characters is too long", json_call("POST", USERS, user_with("firstName", json!(long('a', 101)))), bad(&["firstName"])),
        row("an email of 255 characters is too long", json_call("POST", USERS, user_with("email", json!(format!("{}@example.com", long('a', 243))))), bad(&["email"])),
        row("an avatar of 2,049 characters is too long", json_call("POST", USERS, user_with("avatar", json!(format!("https://x.example/{}", long('a', 2031))))), bad(&["avatar"])),
        row("a userGroupId that is not a UUID is refused", json_call("POST", USERS, user_with("userGroupId", json!(12))), bad(&["userGroupId"])),
        row("an email in a user update is refused", json_call("PUT", USER, r#"{"email":"ada@example.com"}"#), bad(&["email"])),
        row("a mistyped role on update is refused", json_call("PUT", USER, r#"{"role":1}"#), bad(&["role"])),
        row("a derived field cannot be written", json_call("PUT", USER, r#"{"fullName":"A B"}"#), bad(&["fullName"])),
    ]);

    // --- Bad ids in the path ------------------------------------------------------------------
    for (method, base) in [
        ("GET", GROUPS),
        ("DELETE", GROUPS),
        ("GET", USERS),
        ("DELETE", USERS),
    ] {
        for (proves, id) in [
            ("a path id that is not a UUID is a 400 on id", "not-a-uuid"),
            (
                "a UUID without hyphens is refused",
                "0193a1b2c3d47e8f9a0b1c2d3e4f5a6b",
            ),
            (
                "a UUID in braces is refused",
                "%7B0193a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6b%7D",
            ),
            (
                "a URN is refused",
                "urn:uuid:0193a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6b",
            ),
            (
                "a non-hex digit is refused",
                "0193a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6g",
            ),
            (
                "an id with a trailing character is refused",
                "0193a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6b0",
            ),
            ("an id decoding to invalid UTF-8 is refused", "%FF%FE"),
            ("an id of 10,000 characters is refused", "long"),
        ] {
            let id = if id == "long" {
                long('7', 10_000)
            } else {
                id.to_owned()
            };
            rows.push(row(
                proves,
                call(method, format!("{base}/{id}")),
                bad(&["id"]),
            ));
        }
    }
    // --- Stored JSON every client can read back (extraFields, and every string) ------------
    for (method, target) in [("POST", GROUPS), ("PUT", GROUP)] {
        for (proves, extra_fields) in [
            (
                "a key repeated inside extraFields is refused: parsers disagree on which wins",
                r#"{"role":"viewer","role":"admin"}"#.to_owned(),
            ),
            (
                "a key repeated in a nested object of extraFields is refused",
                r#"{"a":[{"k":1,"\u006b":2}]}"#.to_owned(),
            ),
            (
                "a lone surrogate in an extraFields value is refused: it is not Unicode",
                r#"{"a":"\ud800"}"#.to_owned(),
            ),
            (
                "a lone surrogate in an extraFields key is refused",
                r#"{"\udc00":1}"#.to_owned(),
            ),
            (
                "extraFields nested 5,000 deep is refused, not stored for clients to choke on",
                format!("{{\"a\":{}1{}}}", long('[', 4_999), long(']', 4_999)),
            ),
            (
                "extraFields nested 33 levels deep is refused",
                format!("{{\"a\":{}1{}}}", long('[', 32), long(']', 32)),
            ),
        ] {
            rows.push(row(
                proves,
                json_call(
                    method,
                    target,
                    format!(r#"{{"name":"Stored","extraFields":{extra_fields}}}"#),
                ),
                bad(&["extraFields"]),
            ));
        }
    }
    for (method, target, body, field) in [
        ("POST", GROUPS, r#"{"name":"\ud800"}"#, &["name"] as &[&str]),
        (
            "PUT",
            GROUP,
            r#"{"description":"a\udfffb"}"#,
            &["description"],
        ),
        (
            "POST",
            USERS,
            r#"{"firstName":"\ud800","lastName":"L","email":"s@example.com"}"#,
            &["firstName"],
        ),
        ("PUT", USER, r#"{"lastName":"\ud800\ud800"}"#, &["lastName"]),
    ] {
        rows.push(row(
            "a string field holding a lone surrogate escape is a 400 on that field",
            json_call(method, target, body),
            bad(field),
        ));
    }

    rows.push(row(
        "a bad id with a valid update body is still a 400 on id",
        json_call("PUT", format!("{GROUPS}/123"), "{}"),
        bad(&["id"]),
    ));
    rows.push(row(
        "a bad id and a bad body are both listed",
        json_call("PUT", format!("{USERS}/123"), r#"{"color":1}"#),
        bad(&["id", "color"]),
    ));

    // --- Bad queries --------------------------------------------------------------------------
    for list in [GROUPS, USERS] {
        for (proves, query, fields) in [
            ("page 0 is refused", "page=0", &["page"] as &[&str]),
            ("a negative page is refused", "page=-1", &["page"]),
            ("a word for page is refused", "page=abc", &["page"]),
            ("a fraction for page is refused", "page=1.5", &["page"]),
            ("a plus sign before page is refused", "page=%2B1", &["page"]),
            (
                "a page beyond i64 is refused, not wrapped",
                "page=99999999999999999999",
                &["page"],
            ),
            ("an empty page is refused", "page=", &["page"]),
            ("limit 0 is refused", "limit=0", &["limit"]),
            ("limit 101 is refused", "limit=101", &["limit"]),
            ("an exponent for limit is refused", "limit=1e2", &["limit"]),
            (
                "a repeated parameter is refused",
                "page=1&page=1",
                &["page"],
            ),
            ("an unknown parameter is refused", "foo=1", &["foo"]),
            ("names are case-sensitive", "Page=1", &["Page"]),
            (
                "a value decoding to invalid UTF-8 is refused",
                "search=%FF",
                &["search"],
            ),
            ("a NUL in search is refused", "search=a%00b", &["search"]),
            (
                "an organizationId that is not a UUID is refused",
                "organizationId=nope",
                &["organizationId"],
            ),
            (
                "every bad parameter is listed at once",
                "page=0&limit=0&x=1",
                &["page", "limit", "x"],
            ),
        ] {
            rows.push(row(
                proves,
                call("GET", format!("{list}?{query}")),
                bad(fields),
            ));
        }
        rows.push(row(
            "a search of 256 characters is a 400 on search",
            call("GET", format!("{list}?search={}", long('a', 256))),
            bad(&["search"]),
        ));
        rows.push(row(
            "25,001 underscores, too complex a LIKE pattern for SQLite, are a 400 on search",
            call("GET", format!("{list}?search={}", long('_', 25_001))),
            bad(&["search"]),
        ));
        rows.push(row(
            "a search of 255 characters, each a wildcard to escape, is answered",
            call("GET", format!("{list}?search={}", "%25_".repeat(127) + "_")),
            status(200),
        ));
    }
    rows.push(row(
        "a userGroupId filter that is not a UUID is refused",
        call("GET", format!("{USERS}?userGroupId=nope")),
        bad(&["userGroupId"]),
    ));
    rows.push(row(
        "a query on a get by id is refused",
        call("GET", format!("{GROUP}?page=1")),
        bad(&["page"]),
    ));
    rows.push(row(
        "a query on a delete is refused",
        call("DELETE", format!("{USER}?force=true")),
        bad(&["force"]),
    ));
    rows.push(row(
        "the largest page is an empty page, not an overflow",
        call(
            "GET",
            format!("{GROUPS}?page=9223372036854775807&limit=100"),
        ),
        Expect::Contract(200, &[]),
    ));

    // --- Wrong methods and unknown routes -----------------------------------------------------
    for (proves, method, target) in [
        ("PATCH on the group list is 405", "PATCH", GROUPS),
        ("DELETE on the group list is 405", "DELETE", GROUPS),
        ("PUT on the user list is 405", "PUT", USERS),
        ("POST on a group is 405", "POST", GROUP),
        ("PATCH on a user is 405", "PATCH", USER),
        ("an unknown but well-formed method is 405", "FROB", GROUPS),
        ("TRACE is 405", "TRACE", USER),
        ("POST on /healthz is 405", "POST", "/healthz"),
        ("PUT on /readyz is 405", "PUT", "/readyz"),
        ("DELETE on /openapi.json is 405", "DELETE", "/openapi.json"),
    ] {
        rows.push(row(proves, call(method, target), status(405)));
    }
    for (proves, target) in [
        ("an unknown route under /api/v1 is 404", "/api/v1/nothing"),
        (
            "a sub-resource that does not exist is 404",
            "/api/v1/user-groups/{group}/members",
        ),
        ("another API version is 404", "/api/v2/user-groups"),
        (
            "a doubled slash is another path, 404",
            "/api/v1//user-groups",
        ),
        (
            "a dot segment is not resolved, 404",
            "/api/v1/./user-groups",
        ),
        (
            "an encoded slash is not a separator, 404",
            "/api/v1/user-groups%2F{group}",
        ),
    ] {
        rows.push(row(proves, call("GET", target), status(404)));
    }

    // --- Duplicate, oversize and undecodable headers ------------------------------------------
    let signature_like = format!("ONLIVESITE Credential:OLAK1, Signature={}", "a".repeat(64));
    rows.extend([
        row(
            "a second Authorization header is malformed, whichever is valid",
            Call {
                headers: vec![Header::Repeat(
                    "authorization",
                    signature_like.clone().into_bytes(),
                )],
                ..call("GET", GROUPS)
            },
            unauthorized(&["malformed_authorization"]),
        ),
        row(
            "a second date header is malformed",
            Call {
                headers: vec![Header::Repeat(
                    "x-onlive-site-date",
                    b"20261122T101500Z".to_vec(),
                )],
                ..call("GET", GROUPS)
            },
            unauthorized(&["malformed_date"]),
        ),
        row(
            "an Authorization header of 64 KiB is malformed",
            Call {
                headers: vec![Header::Replace(
                    "authorization",
                    format!("ONLIVESITE Credential:{}", long('a', 64 * 1024)).into_bytes(),
                )],
                ..call("GET", GROUPS)
            },
            unauthorized(&["malformed_authorization"]),
        ),
        row(
            "an Authorization header that is not UTF-8 is malformed",
            Call {
                headers: vec![Header::Replace(
                    "authorization",
                    b"ONLIVESITE Credential:\xff\xfe".to_vec(),
                )],
                ..call("GET", GROUPS)
            },
            unauthorized(&["malformed_authorization"]),
        ),
        row(
            "a date header of 64 KiB is malformed",
            Call {
                headers: vec![Header::Replace(
                    "x-onlive-site-date",
                    long('2', 64 * 1024).into_bytes(),
                )],
                ..call("GET", GROUPS)
            },
            unauthorized(&["malformed_date"]),
        ),
        row(
            "a date header that is not UTF-8 is malformed",
            Call {
                headers: vec![Header::Replace(
                    "x-onlive-site-date",
                    b"2026\xff122T101500Z".to_vec(),
                )],
                ..call("GET", GROUPS)
            },
            unauthorized(&["malformed_date"]),
        ),
        row(
            "a second value of a signed header changes what was signed",
            Call {
                headers: vec![Header::Repeat("x-onlive-site-nonce", b"another".to_vec())],
                ..call("GET", GROUPS)
            },
            unauthorized(&["signature_mismatch"]),
        ),
    ]);

    // --- Framing, through a socket to the real binary -----------------------------------------
    rows.extend([
        wire(
            "two different Content-Lengths are refused before routing",
            |host, _| format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{{}}").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "even two equal Content-Lengths are refused",
            |host, _| format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n{{}}").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "Content-Length with Transfer-Encoding (a smuggling shape) is refused",
            |host, _| format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "a transfer coding other than chunked is refused",
            |host, _| format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ntransfer-encoding: gzip\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "a Content-Length that is not a number is refused",
            |host, _| format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ncontent-length: -1\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "obsolete header folding is refused",
            |host, _| format!("GET /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\nx-folded: a\r\n b\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "a request line with a bad method token is refused",
            |host, _| format!("G@T /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "an unknown HTTP version is refused",
            |host, _| format!("GET /healthz HTTP/9.9\r\nhost: {host}\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "a raw non-ASCII byte in the path is refused",
            |host, _| [b"GET /api/v1/users/\xff HTTP/1.1\r\nhost: ".as_slice(), host.as_bytes(), b"\r\n\r\n"].concat(),
            Expect::Framing(400),
        ),
        wire(
            "a control character in a header value is refused",
            |host, _| format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\nx-a: a\x01b\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "a header line without a colon is refused",
            |host, _| format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\nno-colon\r\n\r\n").into_bytes(),
            Expect::Framing(400),
        ),
        wire(
            "an HTTP/1.1 request without Host is refused",
            |_, _| b"GET /api/v1/user-groups HTTP/1.1\r\n\r\n".to_vec(),
            Expect::Framing(400),
        ),
        wire(
            "a request head over 128 KiB is 431",
            |host, _| format!("GET /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\nx-big: {}\r\n\r\n", long('a', 131_072)).into_bytes(),
            Expect::Framing(431),
        ),
        wire(
            "a hundred headers is 431 (actix allows 96)",
            |host, _| {
                let many: String = (0..100).map(|i| format!("x-h{i}: 1\r\n")).collect();
                format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\n{many}\r\n").into_bytes()
            },
            Expect::Framing(431),
        ),
        wire(
            "a header of 100 KiB, within actix's limit, reaches our signature check",
            |host, _| format!("GET /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\nauthorization: ONLIVESITE {}\r\n\r\n", long('a', 100 * 1024)).into_bytes(),
            unauthorized(&["malformed_authorization"]),
        ),
        wire(
            "an unknown method is ours to answer: 401 before the route is revealed",
            |host, _| format!("FROB /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\n\r\n").into_bytes(),
            unauthorized(&["missing_authorization"]),
        ),
        wire(
            "an unknown method, signed, is 405 on a known route",
            |host, key| signed_bytes(host, key, "FROB", "/api/v1/user-groups", b""),
            status(405),
        ),
        wire(
            "a chunked body over the limit is 413 though no length was declared",
            |host, _| {
                let chunk = vec![b'a'; OVER_THE_BODY_LIMIT];
                let mut bytes = format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n", chunk.len()).into_bytes();
                bytes.extend_from_slice(&chunk);
                bytes.extend_from_slice(b"\r\n0\r\n\r\n");
                bytes
            },
            status(413),
        ),
        wire(
            "a malformed chunk is a 400 on body",
            |host, _| format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n").into_bytes(),
            bad(&["body"]),
        ),
        Row {
            proves: "a body cut short of its Content-Length is a 400 on body",
            input: Input::Socket(Wire {
                build: |host, _| format!("POST /api/v1/user-groups HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{}}").into_bytes(),
                half_close: true,
            }),
            expect: bad(&["body"]),
        },
        wire(
            "OPTIONS * (a target that is not a path) is the contract's 404",
            |host, _| format!("OPTIONS * HTTP/1.1\r\nhost: {host}\r\n\r\n").into_bytes(),
            status(404),
        ),
    ]);
    rows
}

// --- Attacks on the service's time and the size of its answers ----------------------------

/// A group create whose body has `members` distinct unknown top-level members.
fn many_members(members: usize) -> Vec<u8> {
    let listed: Vec<String> = (0..members).map(|i| format!("\"m{i}\":0")).collect();
    format!("{{{}}}", listed.join(",")).into_bytes()
}

/// The fastest of three sends of `body` as a group create, and the last answer.
async fn fastest_create(app: &TestApp, body: &[u8]) -> (Duration, TestResponse) {
    let mut fastest = Duration::MAX;
    let mut answer = None;
    for _ in 0..3 {
        let call = app
            .write("POST", GROUPS)
            .raw_body(body.to_vec())
            .content_type(JSON);
        let started = Instant::now();
        let response = call.send().await;
        fastest = fastest.min(started.elapsed());
        answer = Some(response);
    }
    (fastest, answer.expect("three sends"))
}

/// The size of an answer's JSON body as the service writes it (compact).
fn answer_size(response: &TestResponse) -> usize {
    serde_json::to_vec(&response.body).unwrap().len()
}

#[actix_web::test]
async fn a_body_with_ten_times_the_members_costs_about_ten_times_as_much_not_a_hundred() {
    let app = spawn_app().await;
    let small = many_members(6_000);
    let large = many_members(60_000);
    assert!(
        large.len() < 1024 * 1024,
        "the large body fits the body limit"
    );

    let (small_time, _) = fastest_create(&app, &small).await;
    let (large_time, answer) = fastest_create(&app, &large).await;

    answer.assert_error(400);
    let ratio = large_time.as_secs_f64() / small_time.as_secs_f64();
    // Linear work gives about 10 (less, with the fixed cost of a request); the quadratic
    // duplicate scan this replaces gave about 100.
    assert!(
        ratio < 30.0,
        "10x the members took {ratio:.1}x the time ({small_time:?} -> {large_time:?})"
    );
}

#[actix_web::test]
async fn a_body_of_sixty_thousand_unknown_members_answers_a_few_kib_listing_fifty_and_a_count() {
    let app = spawn_app().await;

    let response = app
        .write("POST", GROUPS)
        .raw_body(many_members(60_000))
        .content_type(JSON)
        .send()
        .await;

    response.assert_error(400);
    let listed = response.error_fields();
    assert_eq!(listed.len(), 50);
    assert_eq!(
        listed[0], "name",
        "the missing name comes first, then members in order"
    );
    assert_eq!(&listed[1..4], ["m0", "m1", "m2"]);
    // 60,000 unknown members and the missing name, less the 50 listed.
    assert_eq!(response.body["omittedErrors"], 60_001 - 50);
    assert!(
        answer_size(&response) < 8 * 1024,
        "{} bytes",
        answer_size(&response)
    );
}

#[actix_web::test]
async fn a_long_field_name_is_shortened_in_the_answer_not_echoed_whole() {
    let app = spawn_app().await;
    let name = long('k', 100_000);

    let response = app
        .write("POST", GROUPS)
        .raw_body(format!(r#"{{"name":"A","{name}":1}}"#))
        .content_type(JSON)
        .send()
        .await;

    response.assert_error(400);
    let field = &response.error_fields()[0];
    assert_eq!(field.chars().count(), 64);
    assert!(field.starts_with("kkkk") && field.ends_with('…'));
    assert!(
        answer_size(&response) < 1024,
        "{} bytes",
        answer_size(&response)
    );
}

#[actix_web::test]
async fn sixty_kb_of_repeated_unknown_parameters_from_a_read_only_key_answer_a_few_kib() {
    let app = spawn_app().await;
    let reader = app.key_with("user-groups:read");
    let query = vec!["x=1"; 15_000].join("&");
    assert!(query.len() > 59_000);

    let response = app
        .call("GET", &format!("{GROUPS}?{query}"))
        .credentials(&reader)
        .send()
        .await;

    response.assert_error(400);
    assert_eq!(response.error_fields(), vec!["x"; 50]);
    assert_eq!(response.body["omittedErrors"], 15_000 - 50);
    assert!(
        answer_size(&response) < 8 * 1024,
        "{} bytes",
        answer_size(&response)
    );
}

#[actix_web::test]
async fn extra_fields_nested_thirty_two_levels_deep_are_stored_and_read_back_exactly() {
    let app = spawn_app().await;
    let deepest = format!("{}\"end\"{}", long('[', 31), long(']', 31));
    let body = format!(r#"{{"name":"Deep","extraFields":{{"a":{deepest}}}}}"#);

    let created = app
        .write("POST", GROUPS)
        .raw_body(body)
        .content_type(JSON)
        .send()
        .await;

    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = id_of(&created.body);
    let read = app.get(&format!("{GROUPS}/{id}")).await;
    assert_eq!(
        serde_json::to_string(&read.body["extraFields"]).unwrap(),
        format!(r#"{{"a":{deepest}}}"#)
    );
}

#[actix_web::test]
async fn the_same_key_in_sibling_objects_of_extra_fields_is_accepted() {
    let app = spawn_app().await;

    let created = app
        .post(
            GROUPS,
            json!({"name": "Siblings", "extraFields": {"a": {"role": 1}, "b": {"role": 2}, "role": 3}}),
        )
        .await;

    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert_eq!(
        created.body["extraFields"],
        json!({"a": {"role": 1}, "b": {"role": 2}, "role": 3})
    );
}

#[actix_web::test]
async fn a_search_of_the_longest_allowed_length_is_answered_on_both_list_routes() {
    let app = spawn_app().await;
    let name = long('é', 255);
    app.create_group(&name).await;
    let query = name
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect::<String>();

    let groups = app.get(&format!("{GROUPS}?search={query}")).await;
    let users = app.get(&format!("{USERS}?search={query}")).await;

    assert_eq!(groups.status.as_u16(), 200, "{}", groups.body);
    assert_eq!(groups.body["total"], 1, "the group's whole name finds it");
    assert_eq!(users.status.as_u16(), 200, "{}", users.body);
    assert_eq!(users.body["total"], 0);
}

/// A complete signed request (`connection: close`) as bytes.
fn signed_bytes(host: &str, key: &Credentials, method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let nonce = [(
        "x-onlive-site-nonce".to_owned(),
        uuid::Uuid::new_v4().to_string(),
    )];
    let signed = signer::sign(key, method, host, target, &nonce, body, chrono::Utc::now());
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    for (name, value) in signed.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    [head.into_bytes(), body.to_vec()].concat()
}

/// Checks one answer against its row; returns what is wrong, if anything.
fn mismatch(
    expect: Expect,
    status: u16,
    content_type: Option<&str>,
    request_id: bool,
    body: &[u8],
) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    match expect {
        Expect::Framing(expected) => {
            if status != expected || !body.is_empty() || request_id {
                return Some(format!(
                    "expected actix's bare {expected} before routing, got {status} (x-request-id: {request_id}) {text}"
                ));
            }
        }
        Expect::Contract(expected, details) => {
            if status != expected {
                return Some(format!("expected {expected}, got {status}: {text}"));
            }
            if !request_id {
                return Some("no x-request-id".to_owned());
            }
            if content_type != Some("application/json; charset=utf-8") {
                return Some(format!("content type {content_type:?}"));
            }
            if expected < 400 {
                return None;
            }
            let Ok(body) = serde_json::from_slice::<Value>(body) else {
                return Some(format!("not JSON: {text}"));
            };
            let known = [
                "statusCode",
                "message",
                "errors",
                "reason",
                "activeMembers",
                "omittedErrors",
            ];
            let well_formed = body["statusCode"] == json!(expected)
                && body["message"].as_str().is_some_and(|m| !m.is_empty())
                && body
                    .as_object()
                    .is_some_and(|o| o.keys().all(|k| known.contains(&k.as_str())));
            if !well_formed {
                return Some(format!("not the contract's error body: {body}"));
            }
            let mut got: Vec<String> = match expected {
                400 => body["errors"]
                    .as_array()
                    .map(|errors| {
                        errors
                            .iter()
                            .map(|e| e["field"].as_str().unwrap_or("?").to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
                401 => vec![body["reason"].as_str().unwrap_or("?").to_owned()],
                _ => Vec::new(),
            };
            if expected == 400 || expected == 401 {
                let mut want: Vec<String> = details.iter().map(|d| (*d).to_owned()).collect();
                got.sort();
                want.sort();
                if got != want {
                    return Some(format!("expected {want:?}, got {got:?}: {body}"));
                }
            }
        }
    }
    None
}

#[actix_web::test]
async fn every_in_process_row_gets_its_status_and_the_contracts_error_body() {
    let app = spawn_app().await;
    let group = app.create_group("Target group").await;
    let user = app.create_user("target@example.com", None).await;
    let ids = [
        ("{group}", group["id"].as_str().unwrap().to_owned()),
        ("{user}", user["id"].as_str().unwrap().to_owned()),
    ];
    let mut failures = Vec::new();
    let mut count = 0;

    for row in table() {
        let Input::InProcess(c) = row.input else {
            continue;
        };
        count += 1;
        let target = ids
            .iter()
            .fold(c.target.clone(), |t, (k, v)| t.replace(k, v));
        let mut headers: Vec<(String, Vec<u8>)> = app
            .write(c.method, &target)
            .raw_body(c.body.clone())
            .content_type(c.content_type)
            .headers()
            .into_iter()
            .map(|(n, v)| (n, v.into_bytes()))
            .collect();
        for header in &c.headers {
            match header {
                Header::Replace(name, value) => {
                    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                    headers.push(((*name).to_owned(), value.clone()));
                }
                Header::Repeat(name, value) => headers.push(((*name).to_owned(), value.clone())),
            }
        }
        let mut request = TestRequest::default()
            .method(Method::from_bytes(c.method.as_bytes()).unwrap())
            .uri(&target)
            .set_payload(c.body.clone());
        for (name, value) in headers {
            request = request.append_header((
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(&value).unwrap(),
            ));
        }
        let response: TestResponse = app.call_raw(request).await;

        let body = if response.body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&response.body).unwrap()
        };
        let content_type = response
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        let request_id = response.headers.contains_key("x-request-id");
        if let Some(problem) = mismatch(
            row.expect,
            response.status.as_u16(),
            content_type,
            request_id,
            &body,
        ) {
            failures.push(format!(
                "{} {}: {}\n    {problem}",
                c.method, c.target, row.proves
            ));
        }
    }

    assert!(count > 150, "only {count} in-process rows");
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_socket_row_gets_its_status_from_the_real_binary() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);
    let (key, _) = first_run_credentials(&dir.0);
    let mut failures = Vec::new();
    let mut count = 0;

    for row in table() {
        let Input::Socket(w) = row.input else {
            continue;
        };
        count += 1;
        let bytes = (w.build)(&server.address, &key);
        let answer = exchange(&server.address, &bytes, w.half_close);

        let (head, body) = split_answer(&answer);
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let header = |name: &str| {
            head.lines().skip(1).find_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        let content_type = header("content-type");
        let request_id = header("x-request-id").is_some();
        if let Some(problem) = mismatch(
            row.expect,
            status,
            content_type.as_deref(),
            request_id,
            body,
        ) {
            failures.push(format!("{}\n    {problem}\n    head: {head}", row.proves));
        }
    }

    assert!(count >= 20, "only {count} socket rows");
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}\nserver log:\n{}",
        failures.len(),
        failures.join("\n"),
        server.log_text()
    );
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

/// Sends `bytes` on a fresh connection and reads the answer until the server closes or pauses.
fn exchange(address: &str, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer and close before reading everything (a 413, a 431); a failed
    // write then is expected, and the answer is still there to read.
    let _ = stream.write_all(bytes);
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 8192];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buffer[..n]);
                if complete(&answer) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    answer
}

/// True once `answer` holds a head and as many body bytes as its Content-Length says.
fn complete(answer: &[u8]) -> bool {
    let (head, body) = split_answer(answer);
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    head.len() < answer.len() && length.is_some_and(|length| body.len() >= length)
}

/// The head (as text) and the body of an answer.
fn split_answer(answer: &[u8]) -> (String, &[u8]) {
    match answer.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => (
            String::from_utf8_lossy(&answer[..at]).into_owned(),
            &answer[at + 4..],
        ),
        None => (String::from_utf8_lossy(answer).into_owned(), &[]),
    }
}

// --- hardening: the replay guard across instances, and private SQLite files -----------------

mod hardening {
    //! Findings of a security review, each seen from the outside. The replay guard holds across
    //! instances that allow different clock skews on one database, and across an upgrade from
    //! the rule that kept an entry only for the recording instance's own skew. A new SQLite
    //! database, its write-ahead log and its shared-memory file are readable by their owner only.

    use std::time::Duration;

    use actix_web::test::{self, TestRequest};
    use actix_web::App;
    use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
    use diesel::backend::Backend;
    use diesel::migration::{Migration, MigrationSource};
    use diesel::prelude::*;
    use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
    use serde_json::{json, Value};

    use usergroups::auth::signer;
    use usergroups::db::schema::used_signatures;
    use usergroups::db::{self, DatabaseUrl, DbConnection, PoolOptions};
    use usergroups::ids::AccessKeyId;
    use usergroups::models::used_signature::{FirstUse, RETENTION_SECONDS};
    use usergroups::models::UsedSignature;
    use usergroups::secrets::Keyring;
    use usergroups::{configure, AppState, Limits};

    use crate::helpers::{
        app_on, app_with_keys, new_organization, TestDatabase, TestResponse, HOST,
    };

    const GROUPS: &str = "/api/v1/user-groups";

    fn skew_of(seconds: u64) -> Limits {
        Limits {
            signature_skew: Duration::from_secs(seconds),
            ..Limits::default()
        }
    }

    /// A request carrying exactly `headers` and `body`, so one signed request can be sent twice.
    fn raw_request(
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> TestRequest {
        let mut request = TestRequest::default()
            .method(method.parse().expect("a method"))
            .uri(target)
            .set_payload(body.to_vec());
        for (name, value) in headers {
            request = request.append_header((name.as_str(), value.as_str()));
        }
        request
    }

    /// Sends `request` through the production route table of an instance with `state`.
    async fn send_to(state: &AppState, request: TestRequest) -> TestResponse {
        let state = state.clone();
        let app = test::init_service(App::new().configure(|cfg| configure(cfg, state))).await;
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        TestResponse {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    #[track_caller]
    fn assert_replayed(response: &TestResponse) {
        assert_eq!(
            response.body,
            json!({
                "statusCode": 401,
                "message": "Invalid or missing authorization credentials",
                "reason": "replayed_request",
            }),
            "status {}",
            response.status
        );
        assert_eq!(response.status.as_u16(), 401);
    }

    /// Runs the pruning every instance runs each minute, as of `seconds` from now.
    fn prune_as_of(conn: &mut DbConnection, seconds: i64) {
        UsedSignature::prune_expired(conn, (Utc::now() + TimeDelta::seconds(seconds)).naive_utc())
            .expect("prune the replay guard");
    }

    /// Whole seconds, as a request's date carries them.
    fn seconds_ago(seconds: i64) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(0) - TimeDelta::seconds(seconds)
    }

    #[actix_web::test]
    async fn a_write_accepted_by_an_instance_allowing_60_s_is_still_refused_by_one_allowing_900_s_after_a_prune_70_s_later(
    ) {
        let (database, url) = TestDatabase::create();
        let options = PoolOptions::for_url(&url);
        let narrow = app_on(
            database,
            db::init(&url, options).expect("first instance"),
            skew_of(60),
        );
        // A second instance: its own pool on the same database, a wider window.
        let wide = AppState {
            pool: db::init(&url, options).expect("second instance"),
            limits: skew_of(900),
            master_keys: narrow.state.master_keys.clone(),
            key_cache: Default::default(),
        };
        let group = narrow.create_group("Sales").await;
        let target = format!("{GROUPS}/{}", group["id"].as_str().expect("an id"));
        let body = json!({"description": "Moved to EMEA"});
        let headers = narrow
            .write("PUT", &target)
            .json(&body)
            .dated(seconds_ago(55))
            .headers();
        let bytes = serde_json::to_vec(&body).expect("JSON");

        let first = narrow
            .call_raw(raw_request("PUT", &target, &headers, &bytes))
            .await;
        assert_eq!(first.status.as_u16(), 200, "{}", first.body);
        prune_as_of(&mut wide.pool.get().expect("a connection"), 70);
        let replayed = send_to(&wide, raw_request("PUT", &target, &headers, &bytes)).await;

        assert_replayed(&replayed);
    }

    /// The migrations of the first release only, as a database written by it has them.
    struct FirstReleaseOnly(EmbeddedMigrations);

    impl<DB: Backend> MigrationSource<DB> for FirstReleaseOnly
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
            let all = MigrationSource::<DB>::migrations(&self.0)?;
            Ok(all
                .into_iter()
                .filter(|m| m.name().to_string() == "2026-11-22-000000_create_tables")
                .collect())
        }
    }

    const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
    const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

    #[actix_web::test]
    async fn a_signature_recorded_before_the_upgrade_with_a_60_s_expiry_is_still_refused_after_it()
    {
        let (database, url) = TestDatabase::create();
        let options = PoolOptions::for_url(&url);
        let before = db::pool(&url, options);
        let mut conn = before.get().expect("a connection");
        match &mut *conn {
            DbConnection::Sqlite(c) => c
                .run_pending_migrations(FirstReleaseOnly(SQLITE_MIGRATIONS))
                .map(|_| ()),
            DbConnection::Pg(c) => c
                .run_pending_migrations(FirstReleaseOnly(POSTGRES_MIGRATIONS))
                .map(|_| ()),
        }
        .expect("the first release's schema");
        drop(conn);
        let master_keys = Keyring::ephemeral().expect("a master key");
        let (_, credentials) = new_organization(
            &before,
            &master_keys,
            usergroups::auth::PermissionSet::all(),
        );
        let body = br#"{"name":"Recorded before the upgrade"}"#;
        let date = seconds_ago(55);
        let nonce = [(
            "x-onlive-site-nonce".to_owned(),
            "before-the-upgrade".to_owned(),
        )];
        let mut headers =
            signer::sign(&credentials, "POST", HOST, GROUPS, &nonce, body, date).headers;
        let signature = headers
            .iter()
            .find(|(name, _)| name == "authorization")
            .and_then(|(_, value)| value.rsplit_once("Signature=").map(|(_, s)| s.to_owned()))
            .expect("a signature");
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
        // What the first release recorded when an instance allowing 60 s accepted the request.
        let old_rule = UsedSignature {
            signature: signature.clone(),
            expires_at: (date + TimeDelta::seconds(60)).naive_utc(),
        };
        let key_id = AccessKeyId::from(credentials.access_key_id.as_str());
        assert_eq!(
            old_rule
                .record_for_live_key(&mut before.get().expect("a connection"), &key_id)
                .expect("record"),
            FirstUse::Recorded
        );
        drop(before);

        let after = db::init(&url, options).expect("the upgrade migrates");
        prune_as_of(&mut after.get().expect("a connection"), 70);
        let app = app_with_keys(database, after, skew_of(900), master_keys);
        let replayed = app
            .call_raw(raw_request("POST", GROUPS, &headers, body))
            .await;

        assert_replayed(&replayed);
        let expires_at: chrono::NaiveDateTime = used_signatures::table
            .filter(used_signatures::signature.eq(&signature))
            .select(used_signatures::expires_at)
            .first(&mut *app.connection())
            .expect("the entry is kept");
        let retention = TimeDelta::seconds(RETENTION_SECONDS as i64);
        assert!(
            expires_at >= (date + retention).naive_utc(),
            "{expires_at} is before the new rule's {}",
            date + retention
        );
        assert_eq!(app.get(GROUPS).await.body["total"], 0);
    }

    #[cfg(unix)]
    #[actix_web::test]
    async fn a_new_sqlite_database_and_its_wal_and_shm_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;

        // SQLite whatever TEST_DATABASE_URL names: these files exist only there.
        let path = std::env::temp_dir().join(format!(
            "usergroups-private-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let url = DatabaseUrl::Sqlite(path.clone());
        let pool = db::init(&url, PoolOptions::for_url(&url)).expect("a new SQLite database");
        let app = app_on(TestDatabase::Sqlite(path.clone()), pool, Limits::default());

        app.create_group("Written to disk").await;

        // While the pool is open: closing the last connection removes -wal and -shm.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let mode = std::fs::metadata(&file)
                .unwrap_or_else(|e| panic!("{file:?}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file:?} has mode {:o}", mode & 0o777);
        }
    }
}
