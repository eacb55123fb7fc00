//! What every request can reach: the database pool, the master keys that open access-key
//! secrets, and the limits requests are held to. Built once by `serve` (or by a test or an
//! embedding application) and handed to the route table (`configure`); kept apart from the route table
//! so the layers below it (authentication, the routes) need nothing from the server.

use std::time::Duration;

use crate::auth::key_cache::KeyCache;
use crate::db::DbPool;
use crate::rate_limit::{FailedAttempts, RateLimits};
use crate::secrets::Keyring;

/// The lifetime of a bearer token unless configured (`USERGROUPS_TOKEN_TTL_SECONDS`).
pub const DEFAULT_TOKEN_TTL_SECONDS: u64 = 3600;

/// What every request is held to: the configured limits (body size, clock skew, request
/// timeout, token lifetime, retention) and, beside them, the live state two of them keep.
/// [`rate_limits`](Limits::rate_limits) holds each access key's token buckets and
/// [`failed_token_attempts`](Limits::failed_token_attempts) the token endpoint's failure counts;
/// both are shared handles, so every clone of one `Limits` (each worker's [`AppState`]) counts
/// into the same buckets, while a `Limits` built anew (a configuration read, a test's
/// `Limits { .., ..Limits::default() }`) starts with empty ones.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted body in bytes (413 above).
    pub body_limit: usize,
    /// How far a request's date may be from the server's clock, either way; at most
    /// `auth::MAX_SIGNATURE_SKEW_SECONDS` (a larger value acts as that maximum).
    pub signature_skew: Duration,
    /// How long the body of a request under `/api/v1/` may take to arrive (408 after). The
    /// server holds the request head to the same time (see `usergroups serve`).
    pub request_timeout: Duration,
    /// The per-access-key budgets of reads and writes (429 over them). Clones share the buckets.
    pub rate_limits: RateLimits,
    /// How long a bearer token of `POST /oauth2/v2/token` works (its `expires_in`).
    pub token_ttl: Duration,
    /// Failed client authentications at the token endpoint, per client id (429 past ten a
    /// minute). Clones share the counts.
    pub failed_token_attempts: FailedAttempts,
    /// How long a soft-deleted group or user (and an event of the change feed) is kept before the
    /// purge removes it: the deleted listings' `purgeAt` is `deletedAt` plus this.
    pub retention: Duration,
    /// When the retention started to count for this database (the upgrade to the release that
    /// brought it): a row deleted earlier is purged this long after it, not after its deletion
    /// ([`crate::domain::purge::purge_time`]). `None` (the default) counts from the deletion.
    pub retention_since: Option<chrono::NaiveDateTime>,
}

impl Default for Limits {
    /// 1 MiB bodies and 15 minutes of clock skew, as the contract sets, 10 seconds for a body,
    /// bearer tokens that work for an hour, no rate limits (the failed-attempts limit of the
    /// token endpoint always applies: it guards secrets, not capacity), and 30 days of retention
    /// for deleted rows.
    ///
    /// `serve` enforces the contract's rate limits (1000 reads and 100 writes a minute) from
    /// its configuration; a `Limits` built in code (the tests, the benchmarks, an embedding
    /// application) is not throttled unless it asks for [`RateLimits::per_minute`], so a suite
    /// that makes a hundred writes with one key does not start answering 429.
    fn default() -> Self {
        Limits {
            body_limit: 1024 * 1024,
            signature_skew: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(10),
            rate_limits: RateLimits::off(),
            token_ttl: Duration::from_secs(DEFAULT_TOKEN_TTL_SECONDS),
            failed_token_attempts: FailedAttempts::default(),
            retention: Duration::from_secs(crate::limits::DEFAULT_RETENTION_DAYS * 24 * 3600),
            retention_since: None,
        }
    }
}

/// What every handler can reach: the pool and the limits.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: DbPool,
    /// The configured limits and the live rate-limit counters ([`Limits`]).
    pub limits: Limits,
    /// The master keys access-key secrets are opened with ([`crate::secrets`]).
    pub master_keys: Keyring,
    /// This instance's access keys, so a signature is checked with no key query.
    pub key_cache: KeyCache,
}

impl AppState {
    /// The state of one instance, with an empty key cache.
    pub fn new(pool: DbPool, limits: Limits, master_keys: Keyring) -> Self {
        AppState {
            pool,
            limits,
            master_keys,
            key_cache: KeyCache::default(),
        }
    }
}
