//! The `usergroups` command line: `serve`, organization and access-key management, master-key
//! rotation, and `sign`.
//! Every management command prints one JSON object on stdout; errors go to stderr with a
//! non-zero exit status. A standard output closed early (`usergroups key list | head -c0`) ends
//! the command quietly with status 0, as for most Unix tools: Rust ignores SIGPIPE, and keeping
//! it ignored matters to the server, so the broken pipe is handled where output is written.

use std::error::Error;
use std::io::{ErrorKind, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

use crate::auth::header::DATE_HEADER;
use crate::auth::signer::{self, Credentials};
use crate::auth::PermissionSet;
use crate::bootstrap::CREDENTIALS_FILE;
use crate::config::{Config, DatabaseArgs, MasterKeyArgs};
use crate::db::{self, DbPool, PoolOptions};
use crate::models::{AccessKey, Organization};
use crate::routes::rfc3339_text;
use crate::secrets::{self, KeySource, MasterKey, NEW_MASTER_KEY_VAR};

/// Onlive-compatible user groups and users behind HMAC-signed requests.
#[derive(Debug, Parser)]
#[command(name = "usergroups", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrations run at start; an empty database gets first-run credentials).
    Serve(Box<Config>),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage access keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage the master key that seals access-key secrets at rest.
    #[command(subcommand, name = "master-key")]
    MasterKey(MasterKeyCommand),
    /// Print the headers that sign a request, one `Name: value` per line (for curl -H @file);
    /// a write also gets a random signed `x-onlive-site-nonce`.
    Sign(SignArgs),
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organization: prints {"id", "name"}.
    Create {
        /// The organization's name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an access key; the secret is shown only here.
    Create {
        /// The organization the key acts for.
        #[arg(long = "org")]
        organization_id: String,
        /// Comma-separated permissions [default: all six].
        #[arg(long, value_parser = parse_permissions)]
        permissions: Option<PermissionSet>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        master_key: MasterKeyArgs,
    },
    /// List an organization's access keys (never their secrets).
    List {
        /// The organization.
        #[arg(long = "org")]
        organization_id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke an access key: every instance refuses it from the next request on.
    Revoke {
        /// The key's id.
        access_key_id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
enum MasterKeyCommand {
    /// Re-seal every access-key secret under a new master key, in one transaction; prints
    /// {"oldFingerprint", "newFingerprint", "resealed", …}. With the key file, the new key
    /// replaces it; with USERGROUPS_MASTER_KEY, the new key comes from USERGROUPS_NEW_MASTER_KEY
    /// (when that is unset, one is generated and printed once, and nothing else changes).
    Rotate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        master_key: MasterKeyArgs,
    },
}

fn parse_permissions(list: &str) -> Result<PermissionSet, String> {
    let set: PermissionSet = list.parse()?;
    if set == PermissionSet::default() {
        return Err("at least one permission is needed".to_owned());
    }
    Ok(set)
}

/// `usergroups sign`: credentials come from USERGROUPS_ACCESS_KEY_ID and
/// USERGROUPS_SECRET_ACCESS_KEY, or else from the first-run credentials file.
#[derive(Debug, Args)]
struct SignArgs {
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
    /// Where to read credentials when the environment has none.
    #[arg(long, default_value = CREDENTIALS_FILE)]
    credentials: PathBuf,
    /// The HTTP method.
    method: String,
    /// The full URL, e.g. http://127.0.0.1:8080/api/v1/user-groups
    url: String,
}

/// Runs the command line and returns the process's exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_log)).init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&*e) => ExitCode::SUCCESS,
        Err(e) => {
            // `eprintln!` would panic if stderr were closed too; the status still tells.
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// True when `error` is a write to a standard output whose reader has gone away: nobody is left
/// to read an answer or an error message about it.
fn is_broken_pipe(error: &(dyn Error + 'static)) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)
}

/// Writes `text` to standard output and flushes it, returning the error (a broken pipe
/// included) instead of panicking as `println!` does.
fn print_out(text: &str) -> Result<(), Box<dyn Error>> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn run(command: Command) -> Result<(), Box<dyn Error>> {
    match command {
        Command::Serve(config) => {
            actix_web::rt::System::new().block_on(crate::server::run(*config))
        }
        Command::Org(OrgCommand::Create { name, database }) => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 255 {
                return Err("--name must be 1 to 255 characters".into());
            }
            let org = Organization::create(&mut *open(&database)?.get()?, name)?;
            print_json(&json!({"id": org.id, "name": org.name}))
        }
        Command::Key(KeyCommand::Create {
            organization_id,
            permissions,
            database,
            master_key,
        }) => {
            let source = master_key.source(&database.database_url)?;
            let pool = open(&database)?;
            let master_keys = secrets::prepare(&pool, &source)?;
            let mut conn = pool.get()?;
            let org = Organization::find(&mut conn, &organization_id)?
                .ok_or_else(|| format!("organization {organization_id} not found"))?;
            let (key, credentials) = AccessKey::create(
                &mut conn,
                &master_keys,
                &org.id,
                permissions.unwrap_or_else(PermissionSet::all),
            )?;
            print_json(&json!({
                "accessKeyId": key.id,
                "secretAccessKey": credentials.secret_access_key(),
                "organizationId": key.organization_id,
                "permissions": key.permission_set().names(),
            }))
        }
        Command::Key(KeyCommand::List {
            organization_id,
            database,
        }) => {
            let pool = open(&database)?;
            let mut conn = pool.get()?;
            Organization::find(&mut conn, &organization_id)?
                .ok_or_else(|| format!("organization {organization_id} not found"))?;
            let keys: Vec<Value> = AccessKey::list(&mut conn, &organization_id)?
                .iter()
                .map(key_summary)
                .collect();
            print_json(&json!({"organizationId": organization_id, "accessKeys": keys}))
        }
        Command::Key(KeyCommand::Revoke {
            access_key_id,
            database,
        }) => {
            let key = AccessKey::revoke(&mut *open(&database)?.get()?, &access_key_id)?
                .ok_or_else(|| format!("access key {access_key_id} not found"))?;
            print_json(&key_summary(&key))
        }
        Command::MasterKey(MasterKeyCommand::Rotate {
            database,
            master_key,
        }) => rotate_master_key(&database, &master_key),
        Command::Sign(args) => sign(args),
    }
}

/// `usergroups master-key rotate`: see [`MasterKeyCommand::Rotate`] and [`secrets::rotate`].
fn rotate_master_key(
    database: &DatabaseArgs,
    master_key: &MasterKeyArgs,
) -> Result<(), Box<dyn Error>> {
    let source = master_key.source(&database.database_url)?;
    match &source {
        KeySource::Environment {
            current,
            next: None,
        } => {
            // Refuses a configured key that does not open this database, before suggesting a
            // successor to it.
            secrets::prepare(&open(database)?, &source)?;
            // Printed before anything changes and used by nothing yet: a crash here loses
            // nothing, and the operator distributes the key before the database depends on it.
            let new = MasterKey::generate()?;
            print_json(&json!({
                "oldFingerprint": current.fingerprint(),
                "newFingerprint": new.fingerprint(),
                "newMasterKey": new.to_hex().as_str(),
                "resealed": 0,
                "next": format!(
                    "nothing was re-sealed yet. Store newMasterKey in your secret store, give it to every \
                     instance as {NEW_MASTER_KEY_VAR} (they then accept both keys), and run \
                     `usergroups master-key rotate` again with {NEW_MASTER_KEY_VAR} set"
                ),
            }))
        }
        KeySource::Environment {
            next: Some(new), ..
        } => {
            let pool = open(database)?;
            let rotation = secrets::rotate(&pool, &source, new)?;
            print_json(&json!({
                "oldFingerprint": rotation.old_fingerprint,
                "newFingerprint": rotation.new_fingerprint,
                "resealed": rotation.resealed,
                "next": format!(
                    "every secret is now sealed with the key in {NEW_MASTER_KEY_VAR}. On every instance and \
                     for every command, set USERGROUPS_MASTER_KEY to that key and unset \
                     {NEW_MASTER_KEY_VAR}, then restart; instances holding only the old key refuse \
                     requests (401) until then"
                ),
            }))
        }
        KeySource::File(path) => {
            let pool = open(database)?;
            let rotation = secrets::rotate(&pool, &source, &MasterKey::generate()?)?;
            print_json(&json!({
                "oldFingerprint": rotation.old_fingerprint,
                "newFingerprint": rotation.new_fingerprint,
                "resealed": rotation.resealed,
                "keyFile": path.display().to_string(),
                "next": format!(
                    "{} holds the new key: update its backup, and copy it to any instance that does \
                     not share this file; instances sharing it pick the new key up by themselves",
                    path.display()
                ),
            }))
        }
    }
}

fn key_summary(key: &AccessKey) -> Value {
    json!({
        "accessKeyId": key.id,
        "organizationId": key.organization_id,
        "permissions": key.permission_set().names(),
        "createdAt": rfc3339_text(&key.created_at),
        "revokedAt": key.revoked_at.as_ref().map(rfc3339_text),
    })
}

fn open(database: &DatabaseArgs) -> Result<DbPool, Box<dyn Error>> {
    let mut options = PoolOptions::for_url(&database.database_url);
    options.max_size = 1;
    Ok(db::init(&database.database_url, options)?)
}

fn print_json(value: &Value) -> Result<(), Box<dyn Error>> {
    print_out(&format!("{}\n", serde_json::to_string(value)?))
}

/// The credentials `sign` uses: the environment first, then the first-run file.
fn signing_credentials(file: &PathBuf) -> Result<Credentials, Box<dyn Error>> {
    if let (Ok(id), Ok(secret)) = (
        std::env::var("USERGROUPS_ACCESS_KEY_ID"),
        std::env::var("USERGROUPS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(Credentials::new(id, secret));
    }
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!(
            "no credentials: set USERGROUPS_ACCESS_KEY_ID and USERGROUPS_SECRET_ACCESS_KEY, or provide {} ({e})",
            file.display()
        )
    })?;
    let value: Value = serde_json::from_str(&text)?;
    let field = |name: &str| {
        value[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{} has no {name}", file.display()))
    };
    Ok(Credentials::new(
        field("accessKeyId")?,
        field("secretAccessKey")?,
    ))
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

fn sign(args: SignArgs) -> Result<(), Box<dyn Error>> {
    let credentials = signing_credentials(&args.credentials)?;
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
        chrono::Utc::now(),
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
