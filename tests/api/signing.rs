//! The signing scheme against its two outside references: the worked cases of the contract
//! (`tests/fixtures/vectors.json`, made by the reference `sign.py`) and the AWS SigV4 test
//! suite, whose canonical requests ours must reproduce byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use usergroups::auth::canonical::{
    canonical_request, signature, signature_matches, string_to_sign,
};
use usergroups::auth::header::{
    format_authorization, parse_authorization, parse_date, DATE_HEADER,
};
use usergroups::auth::signer::{sign, Credentials};

/// The signed set when the Authorization header names none.
const DEFAULT_SIGNED_HEADERS: [&str; 2] = ["host", DATE_HEADER];

/// SigV4 cases where our scheme differs on purpose or the suite is odd (see the suite's
/// README), by folder relative to `tests/fixtures/sigv4`.
const SIGV4_EXCLUDED: [(&str, &str); 9] = [
    (
        "normalize-path/get-relative",
        "we sign the path as sent: no dot-segment removal",
    ),
    (
        "normalize-path/get-relative-relative",
        "we sign the path as sent: no dot-segment removal",
    ),
    (
        "normalize-path/get-slash",
        "we sign the path as sent: no slash merging",
    ),
    (
        "normalize-path/get-slash-dot-slash",
        "we sign the path as sent: no dot-segment removal",
    ),
    (
        "normalize-path/get-slash-pointless-dot",
        "we sign the path as sent: no dot-segment removal",
    ),
    (
        "normalize-path/get-slashes",
        "we sign the path as sent: no slash merging",
    ),
    (
        "get-header-value-multiline",
        "obsolete line folding, which our server refuses",
    ),
    (
        "post-x-www-form-urlencoded",
        "the suite's .creq disagrees with its .req (signed headers)",
    ),
    (
        "post-x-www-form-urlencoded-parameters",
        "the suite's .creq disagrees with its .req (signed headers and body)",
    ),
];

/// How many SigV4 requests our canonical request must match.
const SIGV4_SHARED_CASES: usize = 22;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One worked case of `vectors.json`, with its fields pulled out once.
struct WorkedCase {
    name: String,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
    access_key_id: String,
    secret: String,
    signed_headers: Vec<String>,
    canonical_request: String,
    string_to_sign: String,
    signature: String,
    authorization: String,
}

impl WorkedCase {
    fn from_json(case: &Value) -> Self {
        let text = |field: &str| {
            case[field]
                .as_str()
                .unwrap_or_else(|| panic!("case field {field} is a string"))
                .to_owned()
        };
        let headers = case["headers"]
            .as_array()
            .expect("headers is a list")
            .iter()
            .map(|pair| {
                let name = pair[0].as_str().expect("header name");
                let value = pair[1].as_str().expect("header value");
                (name.to_owned(), value.to_owned())
            })
            .collect();
        Self {
            name: text("name"),
            method: text("method"),
            target: text("target"),
            headers,
            body: text("body"),
            access_key_id: text("access_key_id"),
            secret: text("secret"),
            signed_headers: text("signed_headers")
                .split(';')
                .map(str::to_owned)
                .collect(),
            canonical_request: text("canonical_request"),
            string_to_sign: text("string_to_sign"),
            signature: text("signature"),
            authorization: text("authorization"),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{}: no {name} header", self.name))
    }

    fn signed_headers(&self) -> Vec<&str> {
        self.signed_headers.iter().map(String::as_str).collect()
    }
}

fn worked_cases() -> Vec<WorkedCase> {
    let text = fs::read_to_string(fixtures().join("vectors.json")).expect("vectors.json readable");
    let vectors: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    let cases: Vec<WorkedCase> = vectors["cases"]
        .as_array()
        .expect("cases is a list")
        .iter()
        .map(WorkedCase::from_json)
        .collect();
    assert!(!cases.is_empty(), "vectors.json holds no case");
    cases
}

#[test]
fn every_worked_case_gives_the_expected_canonical_request_string_to_sign_and_signature() {
    for case in worked_cases() {
        let (path, query) = case.target.split_once('?').unwrap_or((&case.target, ""));
        let headers: Vec<(&str, &[u8])> = case
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let signed = case.signed_headers();

        let canonical = canonical_request(
            &case.method,
            path,
            query,
            &headers,
            &signed,
            case.body.as_bytes(),
        );
        let sts = string_to_sign(case.header(DATE_HEADER), &canonical);
        let sig = signature(&case.secret, &sts);
        let listed = (signed != DEFAULT_SIGNED_HEADERS).then_some(signed.as_slice());
        let authorization = format_authorization(&case.access_key_id, listed, &sig);

        assert_eq!(
            String::from_utf8_lossy(&canonical),
            case.canonical_request,
            "{}: canonical request",
            case.name
        );
        assert_eq!(sts, case.string_to_sign, "{}: string to sign", case.name);
        assert_eq!(sig, case.signature, "{}: signature", case.name);
        assert_eq!(
            authorization, case.authorization,
            "{}: authorization",
            case.name
        );
    }
}

#[test]
fn every_worked_case_authorization_parses_and_its_signature_verifies() {
    for case in worked_cases() {
        let parsed = parse_authorization(&case.authorization)
            .unwrap_or_else(|| panic!("{}: authorization does not parse", case.name));
        assert_eq!(parsed.access_key_id, case.access_key_id, "{}", case.name);
        assert_eq!(
            parsed.signed_headers,
            case.signed_headers(),
            "{}",
            case.name
        );
        assert!(
            signature_matches(&case.secret, &case.string_to_sign, &parsed.signature),
            "{}: signature does not verify",
            case.name
        );
        assert!(
            !signature_matches("not the secret", &case.string_to_sign, &parsed.signature),
            "{}: signature verifies under another secret",
            case.name
        );
    }
}

#[test]
fn the_signer_reproduces_the_authorization_of_every_worked_case() {
    for case in worked_cases() {
        let signed = case.signed_headers();
        // content-type appears in some cases' headers without being signed: only the signed
        // extras are the signer's business.
        let extras: Vec<(String, String)> = case
            .headers
            .iter()
            .filter(|(name, _)| !DEFAULT_SIGNED_HEADERS.contains(&name.as_str()))
            .filter(|(name, _)| signed.contains(&name.as_str()))
            .cloned()
            .collect();
        let date = parse_date(case.header(DATE_HEADER))
            .unwrap_or_else(|| panic!("{}: bad date", case.name));
        let credentials = Credentials::new(case.access_key_id.clone(), case.secret.clone());

        let request = sign(
            &credentials,
            &case.method,
            case.header("host"),
            &case.target,
            &extras,
            case.body.as_bytes(),
            date,
        );

        let (name, authorization) = request.headers.last().expect("signed headers");
        assert_eq!(name, "authorization", "{}", case.name);
        assert_eq!(authorization, &case.authorization, "{}", case.name);
    }
}

/// A raw HTTP request of the SigV4 suite.
struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Parses a `.req` file: `METHOD TARGET HTTP/1.1`, `Name:value` lines (a line opening with a
/// space or tab continues the previous value: obsolete folding), a blank line, the body. The
/// files end without a final newline, so a request without a body has no blank line either.
fn parse_raw_request(raw: &[u8]) -> RawRequest {
    let (head, body) = match raw.windows(2).position(|pair| pair == b"\n\n") {
        Some(end) => (&raw[..end], raw[end + 2..].to_vec()),
        None => (raw, Vec::new()),
    };
    let mut lines = head.split(|&byte| byte == b'\n');
    let request_line = std::str::from_utf8(lines.next().expect("request line")).expect("utf-8");
    let (method, rest) = request_line.split_once(' ').expect("method");
    // The target can hold a space (get-space), so the version is what follows the last one.
    let (target, _version) = rest.rsplit_once(' ').expect("target and version");

    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in lines {
        if let [b' ' | b'\t', ..] = line {
            let (_, value) = headers.last_mut().expect("a continuation follows a header");
            value.push(b' ');
            value.extend_from_slice(line);
            continue;
        }
        let colon = line
            .iter()
            .position(|&byte| byte == b':')
            .expect("name:value");
        let name = std::str::from_utf8(&line[..colon]).expect("ASCII name");
        headers.push((name.to_owned(), line[colon + 1..].to_vec()));
    }
    RawRequest {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    }
}

/// Every folder under `dir` (itself included) that holds a `.req`, with the `.req` path.
fn find_requests(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("fixture folder readable")
        .map(|entry| entry.expect("fixture entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            find_requests(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "req") {
            found.push(path);
        }
    }
}

#[test]
fn our_canonical_request_matches_the_aws_sigv4_suite_in_the_22_shared_cases() {
    let root = fixtures().join("sigv4");
    let mut requests = Vec::new();
    find_requests(&root, &mut requests);

    let mut compared = 0;
    let mut excluded_seen = Vec::new();
    let mut mismatches = Vec::new();
    for req_path in requests {
        let creq_path = req_path.with_extension("creq");
        if !creq_path.exists() {
            continue;
        }
        let folder = req_path.parent().expect("case folder");
        let case = folder
            .strip_prefix(&root)
            .expect("under the suite")
            .to_string_lossy()
            .replace('\\', "/");
        if SIGV4_EXCLUDED.iter().any(|(name, _)| *name == case) {
            excluded_seen.push(case);
            continue;
        }

        let request = parse_raw_request(&fs::read(&req_path).expect(".req readable"));
        let expected = fs::read(&creq_path).expect(".creq readable");
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let headers: Vec<(&str, &[u8])> = request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
            .collect();
        let mut signed: Vec<String> = request
            .headers
            .iter()
            .map(|(name, _)| name.to_lowercase())
            .collect();
        signed.sort();
        signed.dedup();
        let signed: Vec<&str> = signed.iter().map(String::as_str).collect();

        let ours = canonical_request(
            &request.method,
            path,
            query,
            &headers,
            &signed,
            &request.body,
        );
        compared += 1;
        if ours != expected {
            mismatches.push(format!(
                "{case}:\n--- ours\n{}\n--- suite\n{}",
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&expected)
            ));
        }
    }

    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
    assert_eq!(
        excluded_seen.len(),
        SIGV4_EXCLUDED.len(),
        "every excluded case must exist, or the list has gone stale: saw {excluded_seen:?}"
    );
    assert_eq!(compared, SIGV4_SHARED_CASES, "SigV4 cases compared");
}
