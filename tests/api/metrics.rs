//! `GET /metrics`: unsigned Prometheus text that a scraper can parse, with requests counted and
//! timed under their route's pattern, refusals under their reason, and, when `serve` is given
//! a metrics address, served there and only there.
//!
//! The registry is the process's, shared by every test running beside these, so each test
//! reads a series before and after its own request and expects it to have grown.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test as actix_test;

use crate::helpers::{group_path, id_of, spawn_app, TestApp};
use crate::live_server::{database_for, ScratchDir, Server};

/// A scrape through the production route table: the status, the content type and the text.
async fn scrape(app: &TestApp) -> (StatusCode, String, String) {
    let service = actix_test::init_service(
        actix_web::App::new().configure(|cfg| usergroups::configure(cfg, app.state.clone())),
    )
    .await;
    let request = actix_test::TestRequest::get().uri("/metrics").to_request();
    let response = actix_test::call_service(&service, request).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = actix_test::read_body(response).await;
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// The value of the sample `series` (name and labels exactly as printed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

/// [`sample`], with an absent series read as zero (nothing counted yet).
fn count(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or(0.0)
}

#[actix_web::test]
async fn a_scrape_after_a_signed_get_shows_its_route_method_and_status_in_the_counter_and_the_histogram(
) {
    let app = spawn_app().await;
    let group = app.create_group("Metered").await;
    let labels = r#"{route="/api/v1/user-groups/{id}",method="GET",status="200"}"#;
    let counter = format!("usergroups_http_requests_total{labels}");
    let histogram_count = format!("usergroups_http_request_duration_seconds_count{labels}");
    let (_, _, before) = scrape(&app).await;

    let response = app.get(&group_path(&id_of(&group))).await;
    let (status, content_type, after) = scrape(&app).await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        count(&after, &counter) >= count(&before, &counter) + 1.0,
        "{counter} did not grow:\n{after}"
    );
    assert!(
        count(&after, &histogram_count) >= count(&before, &histogram_count) + 1.0,
        "{histogram_count} did not grow:\n{after}"
    );
    let infinite_bucket = r#"usergroups_http_request_duration_seconds_bucket{route="/api/v1/user-groups/{id}",method="GET",status="200",le="+Inf"}"#;
    assert!(sample(&after, infinite_bucket).is_some(), "{after}");
}

#[actix_web::test]
async fn the_slash_form_of_a_path_and_an_unknown_path_add_no_series_of_their_own() {
    let app = spawn_app().await;
    let group = app.create_group("Slashed").await;
    let unknown = format!("/no-such-route/{}", uuid::Uuid::new_v4().simple());
    let unmatched =
        r#"usergroups_http_requests_total{route="unmatched",method="GET",status="404"}"#;
    let (_, _, before) = scrape(&app).await;

    let slashed = app.get(&format!("{}/", group_path(&id_of(&group)))).await;
    let missing = app.call("GET", &unknown).unsigned().send().await;
    let (_, _, after) = scrape(&app).await;

    assert_eq!(slashed.status, StatusCode::OK);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        count(&after, unmatched) >= count(&before, unmatched) + 1.0,
        "{after}"
    );
    assert!(
        !after.contains(&unknown),
        "the raw path became a label:\n{after}"
    );
    assert!(
        !after.contains(r#"route="/api/v1/user-groups/{id}/""#),
        "{after}"
    );
}

#[actix_web::test]
async fn an_auth_refusal_is_counted_under_its_reason() {
    let app = spawn_app().await;
    let series = r#"usergroups_auth_refusals_total{reason="missing_authorization"}"#;
    let (_, _, before) = scrape(&app).await;

    let refused = app
        .call("GET", "/api/v1/user-groups")
        .unsigned()
        .send()
        .await;
    let (_, _, after) = scrape(&app).await;

    refused.assert_error(401);
    assert_eq!(refused.reason(), "missing_authorization");
    assert!(
        count(&after, series) >= count(&before, series) + 1.0,
        "{series} did not grow:\n{after}"
    );
}

#[actix_web::test]
async fn the_scrape_needs_no_signature_and_reports_the_pool() {
    let app = spawn_app().await;

    let (status, _, text) = scrape(&app).await;

    assert_eq!(status, StatusCode::OK);
    let max = sample(&text, "usergroups_db_pool_max_connections").expect("the pool's size");
    let open = sample(&text, "usergroups_db_pool_connections").expect("the open connections");
    let idle = sample(&text, "usergroups_db_pool_idle_connections").expect("the idle ones");
    assert!(max >= 1.0 && open <= max && idle <= open, "{text}");
}

#[actix_web::test]
async fn the_scrape_parses_as_prometheus_text_exposition() {
    let app = spawn_app().await;
    let group = app.create_group("Parsed").await;
    app.get(&group_path(&id_of(&group))).await;
    app.call("GET", "/api/v1/users").unsigned().send().await;

    let (_, _, text) = scrape(&app).await;

    let families = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (name, kind) in [
        ("usergroups_http_requests_total", "counter"),
        ("usergroups_http_request_duration_seconds", "histogram"),
        ("usergroups_auth_refusals_total", "counter"),
        ("usergroups_db_pool_wait_seconds", "histogram"),
        ("usergroups_db_pool_connections", "gauge"),
    ] {
        assert_eq!(families.get(name).map(String::as_str), Some(kind), "{name}");
    }
}

/// Whether `name` is a metric or label name of the format.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A sample's labels, in order: (name, value).
type Labels = Vec<(String, String)>;

/// Parses the labels of a sample after its `{`: `name="value"` pairs separated by commas, with
/// the format's three escapes, up to the `}`; returns them and what follows the `}`.
fn parse_labels(mut body: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    loop {
        if let Some(rest) = body.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let (name, rest) = body.split_once("=\"").ok_or("a label without =\"")?;
        if !is_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("an unterminated label value".to_owned()),
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return Err("a bad escape in a label value".to_owned()),
                },
                Some((i, '"')) => break i + 1,
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((name.to_owned(), value));
        body = &rest[end..];
        match body.strip_prefix(',') {
            Some(next) => body = next,
            None if body.starts_with('}') => {}
            None => return Err("labels not separated by commas".to_owned()),
        }
    }
}

/// Checks `text` against the Prometheus text format (version 0.0.4) and returns each family's
/// type: every line is a `# HELP`, a `# TYPE` or a sample; a family is typed once, before its
/// samples; a sample's name is its family's (a histogram's with `_bucket`, `_sum` or `_count`);
/// labels are `name="value"` with the format's escapes; values are floats; and each histogram
/// series has cumulative buckets ending in `le="+Inf"`, equal to its `_count`.
fn parse_exposition(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut sampled: BTreeSet<String> = BTreeSet::new();
    // A histogram series (family and labels without `le`) -> its buckets' counts, and its count.
    let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<String, f64> = BTreeMap::new();
    if !text.ends_with('\n') {
        return Err("the text does not end with a newline".to_owned());
    }
    for (number, line) in text.lines().enumerate() {
        let at = format!("line {}: {line:?}", number + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            if !is_name(name) {
                return Err(format!("{at}: HELP of a bad name"));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or(format!("{at}: TYPE without a type"))?;
            if !is_name(name)
                || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
            {
                return Err(format!("{at}: bad TYPE"));
            }
            if sampled.contains(name) || types.insert(name.to_owned(), kind.to_owned()).is_some() {
                return Err(format!("{at}: {name} typed twice or after its samples"));
            }
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            return Err(format!("{at}: neither a sample nor HELP or TYPE"));
        }
        let name_end = line
            .find(['{', ' '])
            .ok_or(format!("{at}: a sample without a value"))?;
        let name = &line[..name_end];
        if !is_name(name) {
            return Err(format!("{at}: bad metric name"));
        }
        let (labels, rest) = match line[name_end..].strip_prefix('{') {
            Some(body) => parse_labels(body).map_err(|e| format!("{at}: {e}"))?,
            None => (Vec::new(), &line[name_end..]),
        };
        let value = rest
            .strip_prefix(' ')
            .ok_or(format!("{at}: no space before the value"))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            number => number
                .parse()
                .map_err(|_| format!("{at}: the value is not a float"))?,
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|suffix| name.strip_suffix(suffix))
            .find(|base| types.get(*base).is_some_and(|kind| kind == "histogram"))
            .unwrap_or(name);
        if !types.contains_key(family) {
            return Err(format!("{at}: {family} has no TYPE before it"));
        }
        sampled.insert(family.to_owned());
        if family != name {
            let series: Vec<String> = labels
                .iter()
                .filter(|(label, _)| label != "le")
                .map(|(label, value)| format!("{label}={value:?}"))
                .collect();
            let series = format!("{family}{{{}}}", series.join(","));
            if name.ends_with("_bucket") {
                let le = labels
                    .iter()
                    .find(|(label, _)| label == "le")
                    .ok_or(format!("{at}: a bucket without le"))?;
                let bound = match le.1.as_str() {
                    "+Inf" => f64::INFINITY,
                    text => text
                        .parse()
                        .map_err(|_| format!("{at}: le is not a float"))?,
                };
                buckets.entry(series).or_default().push((bound, value));
            } else if name.ends_with("_count") {
                counts.insert(series, value);
            }
        }
    }
    for (series, bounds) in &buckets {
        let cumulative = bounds
            .windows(2)
            .all(|pair| pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1);
        let last = bounds.last().copied().unwrap_or((0.0, 0.0));
        if !cumulative || last.0 != f64::INFINITY || counts.get(series) != Some(&last.1) {
            return Err(format!(
                "{series}: buckets {bounds:?} against count {:?}",
                counts.get(series)
            ));
        }
    }
    Ok(types)
}

#[test]
fn the_exposition_check_refuses_what_the_format_forbids() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    let cases = [
        ("a_total 1\n", "a sample of an untyped family"),
        (
            "# TYPE a_total counter\na_total{x=1} 2\n",
            "an unquoted label value",
        ),
        (
            "# TYPE a_total counter\na_total two\n",
            "a value that is not a float",
        ),
        ("# TYPE a_total counter\na_total 1", "no final newline"),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
            "buckets that are not cumulative",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",
            "no +Inf bucket",
        ),
        (
            "# TYPE a counter\n# TYPE a counter\n",
            "a family typed twice",
        ),
    ];

    assert!(
        parse_exposition(good).is_ok(),
        "{:?}",
        parse_exposition(good)
    );
    for (text, why) in cases {
        assert!(parse_exposition(text).is_err(), "accepted {why}: {text:?}");
    }
}

/// `GET target` on `address` over a fresh connection: the status and the body as text.
fn get_text(address: &str, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

#[test]
fn with_a_metrics_address_metrics_are_served_there_and_the_main_address_answers_404() {
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server =
        Server::start_with_env(&dir.0, &url, &[("USERGROUPS_METRICS_BIND", "127.0.0.1:0")]);
    let announced = "GET /metrics is served only at http://";
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics_address = loop {
        let log = server.log_text();
        if let Some(rest) = log.split(announced).nth(1) {
            break rest.split("/metrics").next().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no metrics address in:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    };

    let (main_status, _) = get_text(&server.address, "/metrics");
    let (status, text) = get_text(&metrics_address, "/metrics");
    let (other_status, _) = get_text(&metrics_address, "/healthz");

    assert_eq!(main_status, 404, "the main address still serves /metrics");
    assert_eq!(status, 200, "{text}");
    assert!(parse_exposition(&text).is_ok(), "{text}");
    assert_eq!(
        other_status, 404,
        "the metrics address serves only /metrics"
    );
}

#[actix_web::test]
async fn key_cache_hits_and_misses_and_on_sqlite_each_write_batch_are_counted() {
    let app = spawn_app().await;
    let hits = r#"usergroups_access_key_cache_lookups_total{result="hit"}"#;
    let misses = r#"usergroups_access_key_cache_lookups_total{result="miss"}"#;
    let batches = "usergroups_db_write_batch_requests_count";
    let (_, _, before) = scrape(&app).await;

    // The first request of the key reads it (a miss); the next finds it in memory (a hit).
    let created = app.create_group("Batched").await;
    app.get(&group_path(&id_of(&created))).await;
    let (_, _, after) = scrape(&app).await;

    assert!(
        count(&after, misses) >= count(&before, misses) + 1.0,
        "{after}"
    );
    assert!(count(&after, hits) >= count(&before, hits) + 1.0, "{after}");
    if !app.is_postgres() {
        assert!(
            count(&after, batches) >= count(&before, batches) + 1.0,
            "the create's commit is a batch: {after}"
        );
    }
}
