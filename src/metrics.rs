//! Prometheus metrics: one registry for the process, the small recording functions the other
//! layers call, and [`render`], the Prometheus text exposition (version 0.0.4) that
//! `GET /metrics` answers.
//!
//! A leaf: it knows no pool, request or error type, only names, numbers and durations, so the
//! store, authentication and the server can all record here without an import running back up.
//! The registry is process-wide (a [`LazyLock`]) because what it counts is the process's: every
//! app built in one process (the tests build many) adds to the same counters.
//!
//! Every label takes values from a bounded set, so no client can grow the number of series: the
//! route is the matched pattern (`/api/v1/user-groups/{id}`), never the raw path, and `unmatched`
//! for any path no route matches; the method is one of the standard nine or `other`; the
//! status is a three-digit code; the refusal reason is one of the contract's codes.
//!
//! | metric | type | labels | what it counts |
//! | --- | --- | --- | --- |
//! | `usergroups_http_requests_total` | counter | `route`, `method`, `status` | answered requests |
//! | `usergroups_http_request_duration_seconds` | histogram | `route`, `method`, `status` | time from the request's head to its answer (the body's streaming excluded) |
//! | `usergroups_auth_refusals_total` | counter | `reason` | signed requests refused with 401, by the body's `reason` |
//! | `usergroups_access_key_cache_lookups_total` | counter | `result` (`hit`, `miss`) | access-key lookups answered from memory or from the database |
//! | `usergroups_db_pool_wait_seconds` | histogram | | time to get a database connection from the pool (timeouts included) |
//! | `usergroups_db_share_wait_seconds` | histogram | | time a request waited for a place in its organization's share of the pool, before the pool itself (timeouts included) |
//! | `usergroups_db_pool_connections` | gauge | | connections the pool holds open, read at scrape time |
//! | `usergroups_db_pool_idle_connections` | gauge | | of those, the ones not in use |
//! | `usergroups_db_pool_max_connections` | gauge | | the pool's configured size |
//! | `usergroups_db_write_batch_requests` | histogram | | requests whose writes one commit carried (SQLite) |
//! | `usergroups_db_commit_duration_seconds` | histogram | | time one such commit took, its fsync included |
//! | `usergroups_db_transaction_retries_total` | counter | | write transactions run again after a serialization failure or deadlock (PostgreSQL) |

use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`render`]'s text: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The `route` label of a request no route matched (a 404, or a refusal before routing).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The prefix of every metric name.
const PREFIX: &str = "usergroups";

/// Request latencies, in seconds: half a millisecond (a cached read) to ten seconds (the
/// request timeout's default).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Waits for a pooled connection, in seconds: an idle connection is handed out in microseconds,
/// and the pool gives up after its connection timeout (5 s by default).
const POOL_WAIT_BUCKETS: [f64; 11] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
];

/// Commit latencies, in seconds: a durable commit is one fsync, from a fraction of a
/// millisecond on a good SSD to tens of milliseconds on a busy virtual disk.
const COMMIT_BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Requests per commit: powers of two up to past the default client concurrency.
const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// The labels of a request's series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: Cow<'static, str>,
    method: &'static str,
    status: u16,
}

/// The label of a refusal's series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// The label of a key lookup's series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Everything recorded, and the registry that names it.
struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
    auth_refusals: Family<ReasonLabel, Counter>,
    key_cache: Family<ResultLabel, Counter>,
    pool_wait: Histogram,
    share_wait: Histogram,
    write_batch: Histogram,
    commit_duration: Histogram,
    transaction_retries: Counter,
}

impl Metrics {
    fn new() -> Metrics {
        let metrics = Metrics {
            registry: Registry::with_prefix(PREFIX),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            auth_refusals: Family::default(),
            key_cache: Family::default(),
            pool_wait: Histogram::new(POOL_WAIT_BUCKETS),
            share_wait: Histogram::new(POOL_WAIT_BUCKETS),
            write_batch: Histogram::new(BATCH_BUCKETS),
            commit_duration: Histogram::new(COMMIT_BUCKETS),
            transaction_retries: Counter::default(),
        };
        let mut registry = metrics.registry;
        // prometheus-client adds `_total` to counters and the unit to unit-bearing names.
        registry.register(
            "http_requests",
            "Answered HTTP requests, by matched route pattern, method and status",
            metrics.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's head to its answer, by matched route pattern, method and status",
            Unit::Seconds,
            metrics.request_duration.clone(),
        );
        registry.register(
            "auth_refusals",
            "Signed requests refused with 401, by the reason code of the answer",
            metrics.auth_refusals.clone(),
        );
        registry.register(
            "access_key_cache_lookups",
            "Access-key lookups of signature checks, answered from memory (hit) or the database (miss)",
            metrics.key_cache.clone(),
        );
        registry.register_with_unit(
            "db_pool_wait",
            "Time to get a database connection from the pool, failed waits included",
            Unit::Seconds,
            metrics.pool_wait.clone(),
        );
        registry.register_with_unit(
            "db_share_wait",
            "Time a request waited for a place in its organization's share of the database \
             connections, failed waits included",
            Unit::Seconds,
            metrics.share_wait.clone(),
        );
        registry.register(
            "db_write_batch_requests",
            "Requests whose writes one SQLite commit carried",
            metrics.write_batch.clone(),
        );
        registry.register_with_unit(
            "db_commit_duration",
            "Time one SQLite write commit took, its fsync included",
            Unit::Seconds,
            metrics.commit_duration.clone(),
        );
        registry.register(
            "db_transaction_retries",
            "Write transactions run again after a serialization failure or a deadlock",
            metrics.transaction_retries.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The `method` label: the standard methods by name, anything else (actix accepts any token)
/// as `other`, so a client cannot mint series.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
    ];
    KNOWN
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

/// Records one answered request: `route` is the pattern of the route that matched
/// (`/api/v1/user-groups/{id}`), `None` when none did; `latency` runs from the request's head
/// to its answer.
pub fn record_request(route: Option<String>, method: &str, status: u16, latency: Duration) {
    let labels = RequestLabels {
        route: route.map_or(Cow::Borrowed(UNMATCHED_ROUTE), Cow::Owned),
        method: method_label(method),
        status,
    };
    METRICS
        .request_duration
        .get_or_create(&labels)
        .observe(latency.as_secs_f64());
    METRICS.requests.get_or_create(&labels).inc();
}

/// Records a signed request refused with 401, by its reason code (`signature_mismatch`, …).
/// The reason is `'static`: the contract's codes are a closed set, so are the series.
pub fn record_auth_refusal(reason: &'static str) {
    METRICS
        .auth_refusals
        .get_or_create(&ReasonLabel { reason })
        .inc();
}

/// Records an access-key lookup of a signature check: `hit` when the key came from memory.
pub fn record_key_cache(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    METRICS
        .key_cache
        .get_or_create(&ResultLabel { result })
        .inc();
}

/// Records how long getting a pooled connection took, whether or not it succeeded.
pub fn record_pool_wait(wait: Duration) {
    METRICS.pool_wait.observe(wait.as_secs_f64());
}

/// Records how long a request waited for a place in its organization's share of the pool.
pub fn record_share_wait(wait: Duration) {
    METRICS.share_wait.observe(wait.as_secs_f64());
}

/// Records one SQLite write commit: how many requests' writes it carried, and how long the
/// commit itself took.
pub fn record_write_batch(requests: usize, commit_latency: Duration) {
    METRICS.write_batch.observe(requests as f64);
    METRICS
        .commit_duration
        .observe(commit_latency.as_secs_f64());
}

/// Records a write transaction that is run again after a serialization failure or deadlock.
pub fn record_transaction_retry() {
    METRICS.transaction_retries.inc();
}

/// The state of a connection pool at scrape time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGauges {
    /// Connections open, in use or idle.
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// Everything recorded, and the pool's gauges, in the Prometheus text format ([`CONTENT_TYPE`]).
///
/// The gauges are passed in rather than kept: they are read from the pool when scraped, so they
/// are never stale, and the registry stays free of any handle on the store.
pub fn render(pool: PoolGauges) -> Result<String, std::fmt::Error> {
    let mut text = String::with_capacity(8 * 1024);
    prometheus_client::encoding::prometheus_text::encode(&mut text, &METRICS.registry)?;
    let mut gauges = Registry::with_prefix(PREFIX);
    for (name, help, value) in [
        (
            "db_pool_connections",
            "Database connections the pool holds open, in use or idle",
            pool.connections,
        ),
        (
            "db_pool_idle_connections",
            "Open database connections not in use",
            pool.idle,
        ),
        (
            "db_pool_max_connections",
            "The most database connections the pool opens",
            pool.max,
        ),
    ] {
        let gauge: Gauge = Gauge::default();
        gauge.set(i64::from(value));
        gauges.register(name, help, gauge);
    }
    prometheus_client::encoding::prometheus_text::encode(&mut text, &gauges)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_outside_the_standard_nine_is_counted_as_other() {
        let cases = [
            ("GET", "GET", "a standard method keeps its name"),
            ("DELETE", "DELETE", "so does a write"),
            (
                "get",
                "other",
                "methods are case-sensitive: lowercase is another token",
            ),
            ("PURGE", "other", "an extension method cannot mint a series"),
        ];

        for (method, label, why) in cases {
            assert_eq!(method_label(method), label, "{why}");
        }
    }

    #[test]
    fn the_rendered_text_names_each_documented_metric_once_with_its_type() {
        record_pool_wait(Duration::from_micros(50));
        record_share_wait(Duration::from_micros(5));
        record_write_batch(3, Duration::from_millis(2));
        record_transaction_retry();
        record_key_cache(true);
        record_auth_refusal("signature_mismatch");
        record_request(None, "PURGE", 404, Duration::from_millis(1));

        let text = render(PoolGauges {
            connections: 2,
            idle: 1,
            max: 4,
        })
        .unwrap();

        for (name, kind) in [
            ("usergroups_http_requests_total", "counter"),
            ("usergroups_http_request_duration_seconds", "histogram"),
            ("usergroups_auth_refusals_total", "counter"),
            ("usergroups_access_key_cache_lookups_total", "counter"),
            ("usergroups_db_pool_wait_seconds", "histogram"),
            ("usergroups_db_share_wait_seconds", "histogram"),
            ("usergroups_db_write_batch_requests", "histogram"),
            ("usergroups_db_commit_duration_seconds", "histogram"),
            ("usergroups_db_transaction_retries_total", "counter"),
            ("usergroups_db_pool_connections", "gauge"),
            ("usergroups_db_pool_idle_connections", "gauge"),
            ("usergroups_db_pool_max_connections", "gauge"),
        ] {
            let type_line = format!("# TYPE {name} {kind}\n");
            assert_eq!(
                text.matches(&type_line).count(),
                1,
                "{type_line} in:\n{text}"
            );
        }
        assert!(
            text.contains("usergroups_db_pool_max_connections 4\n"),
            "{text}"
        );
        assert!(
            text.contains(r#"route="unmatched",method="other",status="404""#),
            "{text}"
        );
    }
}
