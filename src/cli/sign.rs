//! `usergroups sign`: prints the headers that sign one request, for curl. Separate from the
//! management commands because it touches no database: it only needs credentials, the signer,
//! and the parsing of its URL and `--header` arguments.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Args;

use super::print_out;
use crate::auth::header::DATE_HEADER;
use crate::auth::signer;
use crate::bootstrap::credentials_path;
use crate::db::DatabaseUrl;

/// `usergroups sign`: credentials come from USERGROUPS_ACCESS_KEY_ID and
/// USERGROUPS_SECRET_ACCESS_KEY (both, or neither), or else from the first-run credentials file.
#[derive(Debug, Args)]
pub(super) struct SignArgs {
    /// The request body that will be sent (adds `content-type: application/json`).
    #[arg(long)]
    data: Option<String>,
    /// An extra header to send and sign, as 'Name: value' (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Also print the canonical request and the string to sign, to stderr.
    #[arg(long)]
    verbose: bool,
    /// Do not add the random signed `x-onlive-site-nonce` that a POST, PUT, PATCH or DELETE
    /// otherwise gets (without it, a second identical write in the same second is a replay).
    #[arg(long)]
    no_nonce: bool,
    /// Where to read credentials when the environment has none [default: the first-run file of
    /// DATABASE_URL's database, ./usergroups-credentials.json for the default one].
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Sign for this time instead of now, as YYYYMMDDTHHMMSSZ (UTC), e.g. to reproduce a
    /// signature; the server refuses dates more than the allowed skew away from its clock.
    #[arg(long, value_parser = parse_date)]
    date: Option<DateTime<Utc>>,
    /// The HTTP method.
    method: String,
    /// The full URL, e.g. http://127.0.0.1:8080/api/v1/user-groups
    url: String,
}

/// `--date`: the signing date in the header's own spelling.
fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .map(|date| date.and_utc())
        .map_err(|_| {
            format!("--date {text:?} must be YYYYMMDDTHHMMSSZ in UTC, e.g. 20261122T101500Z")
        })
}

/// The default credentials file: the one the first start wrote for `DATABASE_URL`'s database
/// (the default database's when it is unset or unreadable: `sign` opens no database).
fn default_credentials_file() -> PathBuf {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .and_then(|url| url.parse::<DatabaseUrl>().ok())
        .unwrap_or_else(|| DatabaseUrl::Sqlite(PathBuf::from("usergroups.db")));
    credentials_path(&url)
}

/// Splits `http://host:port/path?query` into the host and the request target.
fn split_url(url: &str) -> Result<(&str, String), Box<dyn Error>> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("the URL must start with http:// or https://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, target) = rest.split_at(end);
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    let target = target.split('#').next().unwrap_or_default();
    let target = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/{target}")
    };
    Ok((host, target))
}

/// The nonce header `sign` adds to writes.
const NONCE_HEADER: &str = "x-onlive-site-nonce";

/// Reads one `--header 'Name: value'`: the name lowercased, the value trimmed. Names the signer
/// sets itself are refused, since a second `host` or date would never verify.
fn parse_header(header: &str) -> Result<(String, String), Box<dyn Error>> {
    let (name, value) = header
        .split_once(':')
        .ok_or_else(|| format!("--header {header:?} is not 'Name: value'"))?;
    let name = name.trim().to_ascii_lowercase();
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(format!("--header {header:?} has no valid header name").into());
    }
    if matches!(name.as_str(), "host" | DATE_HEADER | "authorization") {
        return Err(format!("--header cannot set {name}: sign sets it").into());
    }
    Ok((name, value.trim().to_owned()))
}

/// Prints the signed headers of the request `args` describe.
pub(super) fn run(args: SignArgs) -> Result<(), Box<dyn Error>> {
    let file = args.credentials.unwrap_or_else(default_credentials_file);
    let credentials = crate::credentials::from_env_or_file(&file)?.credentials;
    let (host, target) = split_url(&args.url)?;
    let method = args.method.to_ascii_uppercase();
    let mut extra = Vec::new();
    for header in &args.headers {
        extra.push(parse_header(header)?);
    }
    let unsafe_method = matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE");
    if unsafe_method && !args.no_nonce && !extra.iter().any(|(name, _)| name == NONCE_HEADER) {
        // Identical writes signed in one second would share a signature, and the second would
        // be refused as a replay (`signing.md` §4): a random signed nonce keeps them apart.
        extra.push((
            NONCE_HEADER.to_owned(),
            uuid::Uuid::new_v4().simple().to_string(),
        ));
    }
    let body = args.data.unwrap_or_default();
    let signed = signer::sign(
        &credentials,
        &method,
        host,
        &target,
        &extra,
        body.as_bytes(),
        args.date.unwrap_or_else(Utc::now),
    );
    if args.verbose {
        // Debugging output only: a closed stderr must not stop the headers being printed.
        let _ = writeln!(
            std::io::stderr(),
            "--- canonical request\n{}\n--- string to sign\n{}",
            signed.canonical_request,
            signed.string_to_sign
        );
    }
    let mut headers = String::new();
    for (name, value) in &signed.headers {
        headers.push_str(&format!("{name}: {value}\n"));
    }
    if !body.is_empty() && !extra.iter().any(|(name, _)| name == "content-type") {
        headers.push_str("content-type: application/json\n");
    }
    print_out(&headers)
}
