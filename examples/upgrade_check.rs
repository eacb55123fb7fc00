//! The driver of the upgrade check (`.ci/upgrade.sh`), speaking only the public API, so it drives
//! the previous release and this one alike:
//!
//! - `seed URL KEY SECRET`: makes a data set of groups, users, memberships, updates, deletes and a
//!   restore.
//! - `record URL KEY SECRET FILE`: writes every list and get answer (status, ETag, body) to FILE,
//!   one canonical JSON document, so two recordings compare with `diff`. `purgeAt` is left out:
//!   it may move later at an upgrade, never earlier, which `compare` checks.
//! - `compare BEFORE AFTER`: the answers are equal, but for `purgeAt` never earlier.
//! - `load SECONDS KEY SECRET STATE URL…`: writers on every instance (round robin; a refused
//!   connection goes to the next instance, as a load balancer does) create, update with
//!   `If-Match` and delete groups and users; every answer must be a success and every write must
//!   step the ETag. What was written goes to STATE.
//! - `verify URL KEY SECRET STATE`: list totals equal the rows paged through, every live resource
//!   the load wrote has the ETag of its last write, and the feed holds exactly one event per
//!   write of the load.
//!
//! Exits 1, saying what differs, when a check fails.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usergroups::auth::signer::{self, Credentials};

/// One instance of the service, signed for with one key.
#[derive(Clone)]
struct Api {
    authority: String,
    credentials: Credentials,
    agent: ureq::Agent,
}

/// An answer: status, ETag, JSON body (`null` when none).
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    etag: Option<String>,
    body: Value,
}

impl Api {
    fn new(url: &str, key: &str, secret: &str) -> Api {
        let authority = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent();
        Api {
            authority,
            credentials: Credentials::new(key, secret),
            agent,
        }
    }

    /// Sends a signed request; `Err` when no answer came (refused or broken connection).
    fn call(
        &self,
        method: &str,
        target: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, String> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut extra = Vec::new();
        if method != "GET" {
            extra.push((
                "x-onlive-site-nonce".to_owned(),
                uuid::Uuid::new_v4().simple().to_string(),
            ));
        }
        if let Some(tag) = if_match {
            extra.push(("if-match".to_owned(), tag.to_owned()));
        }
        let signed = signer::sign(
            &self.credentials,
            method,
            &self.authority,
            target,
            &extra,
            &bytes,
            chrono::Utc::now(),
        );
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("http://{}{target}", self.authority));
        for (name, value) in &signed.headers {
            request = request.header(name, value);
        }
        if !bytes.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let sent = if bytes.is_empty() {
            request
                .body(())
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| e.to_string()))
        } else {
            request
                .body(bytes)
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| e.to_string()))
        };
        let mut response = sent?;
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(Answer {
            status: response.status().as_u16(),
            etag,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        })
    }

    /// A call that must succeed (2xx).
    fn ok(&self, method: &str, target: &str, body: Option<&Value>) -> Answer {
        let answer = self
            .call(method, target, body, None)
            .unwrap_or_else(|e| fail(&format!("{method} {target}: {e}")));
        if !(200..300).contains(&answer.status) {
            fail(&format!(
                "{method} {target}: {} {}",
                answer.status, answer.body
            ));
        }
        answer
    }
}

fn fail(message: &str) -> ! {
    eprintln!("upgrade check: {message}");
    std::process::exit(1)
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// Makes the data set the recordings compare.
fn seed(api: &Api) {
    let mut groups = Vec::new();
    for i in 0..24 {
        let body = json!({
            "name": format!("Group {i:02}"),
            "description": format!("The {i}th group"),
            "extraFields": {"region": if i % 2 == 0 { "EMEA" } else { "APAC" }, "n": i},
        });
        groups.push(id(&api.ok("POST", "/api/v1/user-groups", Some(&body)).body));
    }
    let mut users = Vec::new();
    for i in 0..48 {
        let role = ["creator", "editor", "admin"][i % 3];
        let mut body = json!({
            "firstName": format!("First{i}"),
            "lastName": format!("Last{i}"),
            "email": format!("user{i}@example.com"),
            "role": role,
        });
        if i < 36 {
            body["userGroupId"] = json!(groups[i % 12]);
        }
        users.push(id(&api.ok("POST", "/api/v1/users", Some(&body)).body));
    }
    for group in &groups[..6] {
        let body = json!({"description": "Renamed description"});
        api.ok("PUT", &format!("/api/v1/user-groups/{group}"), Some(&body));
    }
    for user in &users[..8] {
        let body = json!({"lastName": "Changed"});
        api.ok("PUT", &format!("/api/v1/users/{user}"), Some(&body));
    }
    for user in &users[40..46] {
        api.ok("DELETE", &format!("/api/v1/users/{user}"), None);
    }
    for group in &groups[20..23] {
        api.ok("DELETE", &format!("/api/v1/user-groups/{group}"), None);
    }
    api.ok(
        "POST",
        &format!("/api/v1/deleted-users/{}/restore", users[45]),
        None,
    );
}

/// Follows a list from its first page to its last, recording each page under its target.
fn record_pages(api: &Api, base: &str, answers: &mut BTreeMap<String, Value>) -> Vec<Value> {
    let mut items = Vec::new();
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut target = base.to_owned();
    for _ in 0..1000 {
        let answer = api.ok("GET", &target, None);
        items.extend(answer.body["items"].as_array().cloned().unwrap_or_default());
        let next = answer.body["nextCursor"].as_str().map(str::to_owned);
        answers.insert(target.clone(), shown(&answer));
        match next {
            Some(cursor) => target = format!("{base}{separator}cursor={cursor}"),
            None => break,
        }
    }
    items
}

/// What a recording keeps of an answer.
fn shown(answer: &Answer) -> Value {
    json!({"status": answer.status, "etag": answer.etag, "body": answer.body})
}

/// Every list and get answer, by target.
fn record(api: &Api) -> BTreeMap<String, Value> {
    let mut answers = BTreeMap::new();
    let groups = record_pages(api, "/api/v1/user-groups?limit=7", &mut answers);
    let users = record_pages(api, "/api/v1/users?limit=9", &mut answers);
    for page in 1..=4 {
        for base in ["/api/v1/user-groups", "/api/v1/users"] {
            let target = format!("{base}?page={page}&limit=10");
            let answer = api.ok("GET", &target, None);
            answers.insert(target, shown(&answer));
        }
    }
    for search in ["group%201", "last1", "example", "zzz"] {
        record_pages(
            api,
            &format!("/api/v1/user-groups?search={search}&limit=5"),
            &mut answers,
        );
        record_pages(
            api,
            &format!("/api/v1/users?search={search}&limit=5"),
            &mut answers,
        );
    }
    for group in &groups {
        let group = id(group);
        let target = format!("/api/v1/user-groups/{group}");
        answers.insert(target.clone(), shown(&api.ok("GET", &target, None)));
        record_pages(
            api,
            &format!("/api/v1/users?userGroupId={group}&limit=4"),
            &mut answers,
        );
    }
    for user in &users {
        let target = format!("/api/v1/users/{}", id(user));
        answers.insert(target.clone(), shown(&api.ok("GET", &target, None)));
    }
    record_pages(api, "/api/v1/deleted-user-groups?limit=2", &mut answers);
    record_pages(api, "/api/v1/deleted-users?limit=4", &mut answers);
    let mut after = 0;
    loop {
        let target = format!("/api/v1/events?limit=25&after={after}");
        let answer = api.ok("GET", &target, None);
        answers.insert(target, shown(&answer));
        let items = answer.body["items"].as_array().cloned().unwrap_or_default();
        match items.last().and_then(|e| e["sequence"].as_i64()) {
            Some(seq) => after = seq,
            None => break,
        }
    }
    answers
}

/// The answers with every `purgeAt` taken out and returned beside them, by where it was.
fn without_purge_times(value: &mut Value, at: &str, found: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::String(purge_at)) = fields.remove("purgeAt") {
                found.insert(at.to_owned(), purge_at);
            }
            for (name, field) in fields.iter_mut() {
                without_purge_times(field, &format!("{at}.{name}"), found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                without_purge_times(item, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

fn compare(before: &str, after: &str) {
    let read = |path: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{path}: {e}"))),
        )
        .unwrap_or_else(|e| fail(&format!("{path}: {e}")))
    };
    let (mut before, mut after) = (read(before), read(after));
    let (mut purge_before, mut purge_after) = (BTreeMap::new(), BTreeMap::new());
    without_purge_times(&mut before, "", &mut purge_before);
    without_purge_times(&mut after, "", &mut purge_after);
    let (Value::Object(before), Value::Object(after)) = (before, after) else {
        fail("a recording is not an object")
    };
    let mut differences = 0;
    for (target, answer) in &before {
        if after.get(target) != Some(answer) {
            differences += 1;
            eprintln!(
                "differs: {target}\n  before: {answer}\n  after:  {}",
                after.get(target).unwrap_or(&Value::Null)
            );
        }
    }
    for target in after.keys().filter(|t| !before.contains_key(*t)) {
        differences += 1;
        eprintln!("only after: {target}");
    }
    for (at, was) in &purge_before {
        match purge_after.get(at) {
            Some(now) if now >= was => {}
            now => {
                differences += 1;
                eprintln!("purgeAt earlier or gone at {at}: {was} -> {now:?}");
            }
        }
    }
    if differences > 0 {
        fail(&format!("{differences} of {} answers differ", before.len()));
    }
    println!(
        "{} answers equal ({} purgeAt never earlier)",
        before.len(),
        purge_before.len()
    );
}

/// What the load wrote to one resource: its path, the ETag of its last write, how many writes,
/// and whether it is live.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Written {
    path: String,
    etag: String,
    writes: u64,
    live: bool,
}

/// The instances in turn; a request no instance answers is a failure. An instance can be taken
/// out of the rotation before it is stopped, as a load balancer drains one ([`Fleet::drain`]).
struct Fleet {
    apis: Vec<Api>,
    /// Per instance: true once it is out of the rotation.
    drained: Vec<AtomicBool>,
    next: std::sync::atomic::AtomicUsize,
}

impl Fleet {
    fn call(
        &self,
        method: &str,
        target: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, String> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut errors = Vec::new();
        for i in 0..self.apis.len() * 3 {
            let index = (start + i) % self.apis.len();
            if self.drained[index].load(Ordering::Relaxed) {
                continue;
            }
            let api = &self.apis[index];
            match api.call(method, target, body, if_match) {
                Ok(answer) => return Ok(answer),
                // Refused: nothing was sent; a load balancer would try another instance.
                Err(e) if e.to_lowercase().contains("refused") => {
                    errors.push(e);
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        }
        Err(format!("no instance answered: {errors:?}"))
    }

    /// Takes the instances whose URLs `drain_file` lists (one a line) out of the rotation, as a
    /// load balancer does before an instance is stopped: a request sent on a kept-alive
    /// connection just as the stopping instance closes it would be lost in transit, which no
    /// server can prevent and the upgrade procedure avoids by draining first.
    fn drain(&self, urls: &[String], drain_file: &str) {
        let listed = std::fs::read_to_string(drain_file).unwrap_or_default();
        for (url, drained) in urls.iter().zip(&self.drained) {
            if listed.lines().any(|line| line.trim() == url) {
                drained.store(true, Ordering::Relaxed);
            }
        }
    }
}

fn load(seconds: u64, key: &str, secret: &str, state: &str, urls: &[String]) {
    let fleet = Arc::new(Fleet {
        apis: urls.iter().map(|u| Api::new(u, key, secret)).collect(),
        drained: urls.iter().map(|_| AtomicBool::new(false)).collect(),
        next: Default::default(),
    });
    // `<state>.drain` lists the instances the script takes out of the rotation.
    let drainer = {
        let (fleet, urls, drain_file) =
            (Arc::clone(&fleet), urls.to_vec(), format!("{state}.drain"));
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            while Instant::now() < deadline {
                fleet.drain(&urls, &drain_file);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let start_after = last_sequence(&fleet);
    let written: Arc<Mutex<BTreeMap<String, Written>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..6)
        .map(|worker| {
            let (fleet, written, failures, requests, stop) = (
                Arc::clone(&fleet),
                Arc::clone(&written),
                Arc::clone(&failures),
                Arc::clone(&requests),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                let mut n = 0_u64;
                while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let (collection, body) = if n % 2 == 0 {
                        (
                            "/api/v1/user-groups",
                            json!({"name": format!("Load {worker}-{n}")}),
                        )
                    } else {
                        (
                            "/api/v1/users",
                            json!({"firstName": "Load", "lastName": format!("{worker}-{n}"),
                                   "email": format!("load-{worker}-{n}@example.com")}),
                        )
                    };
                    // Create, update twice under If-Match, and delete every third.
                    let mut steps: Vec<(&str, Option<Value>)> = vec![
                        ("POST", Some(body)),
                        ("PUT", Some(json!({"description": "one"}))),
                        ("PUT", Some(json!({"description": "two"}))),
                    ];
                    if collection.ends_with("users") {
                        steps[1].1 = Some(json!({"firstName": "One"}));
                        steps[2].1 = Some(json!({"firstName": "Two"}));
                    }
                    if n % 3 == 0 {
                        steps.push(("DELETE", None));
                    }
                    let mut resource: Option<Written> = None;
                    for (method, body) in steps {
                        let (target, if_match) = match &resource {
                            None => (collection.to_owned(), None),
                            Some(w) => (w.path.clone(), Some(w.etag.clone())),
                        };
                        requests.fetch_add(1, Ordering::Relaxed);
                        let answer =
                            fleet.call(method, &target, body.as_ref(), if_match.as_deref());
                        let answer = match answer {
                            Ok(a) if (200..300).contains(&a.status) => a,
                            Ok(a) => {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("{method} {target}: {} {}", a.status, a.body));
                                break;
                            }
                            Err(e) => {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("{method} {target}: {e}"));
                                break;
                            }
                        };
                        let etag = answer.etag.clone().unwrap_or_default();
                        let w = resource.get_or_insert_with(|| Written {
                            path: format!("{collection}/{}", id(&answer.body)),
                            etag: String::new(),
                            writes: 0,
                            live: true,
                        });
                        if etag.is_empty() || etag == w.etag {
                            failures.lock().unwrap().push(format!(
                                "{method} {target}: the ETag did not step ({etag:?} after {:?})",
                                w.etag
                            ));
                        }
                        w.etag = etag;
                        w.writes += 1;
                        w.live = method != "DELETE";
                    }
                    if let Some(w) = resource {
                        written.lock().unwrap().insert(w.path.clone(), w);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    let _ = drainer.join();
    let written = written.lock().unwrap().clone();
    let failures = failures.lock().unwrap().clone();
    let writes: u64 = written.values().map(|w| w.writes).sum();
    std::fs::write(
        state,
        json!({"startAfter": start_after, "writes": writes, "written": written}).to_string(),
    )
    .unwrap_or_else(|e| fail(&format!("{state}: {e}")));
    println!(
        "load: {} requests, {writes} writes of {} resources, {} failed",
        requests.load(Ordering::Relaxed),
        written.len(),
        failures.len()
    );
    if !failures.is_empty() {
        for failure in failures.iter().take(20) {
            eprintln!("failed: {failure}");
        }
        fail(&format!("{} requests failed under load", failures.len()));
    }
}

/// The sequence of the organization's last event, the feed followed to its end.
fn last_sequence(fleet: &Fleet) -> i64 {
    let mut last = 0;
    loop {
        let page = fleet
            .call(
                "GET",
                &format!("/api/v1/events?limit=100&after={last}"),
                None,
                None,
            )
            .unwrap_or_else(|e| fail(&e));
        let items = page.body["items"].as_array().cloned().unwrap_or_default();
        match items.last().and_then(|e| e["sequence"].as_i64()) {
            Some(seq) => last = seq,
            None => return last,
        }
    }
}

fn verify(api: &Api, state: &str) {
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(state).unwrap_or_else(|e| fail(&format!("{state}: {e}"))),
    )
    .unwrap_or_else(|e| fail(&format!("{state}: {e}")));
    let mut problems = Vec::new();
    for base in ["/api/v1/user-groups", "/api/v1/users"] {
        let mut answers = BTreeMap::new();
        let rows = record_pages(api, &format!("{base}?limit=100"), &mut answers).len();
        let total = api.ok("GET", &format!("{base}?limit=1"), None).body["total"].as_u64();
        if total != Some(rows as u64) {
            problems.push(format!("{base}: total {total:?}, but {rows} rows listed"));
        }
    }
    let written: BTreeMap<String, Written> =
        serde_json::from_value(state["written"].clone()).unwrap_or_default();
    for w in written.values().filter(|w| w.live) {
        let answer = api.ok("GET", &w.path, None);
        if answer.etag.as_deref() != Some(w.etag.as_str()) {
            problems.push(format!(
                "{}: ETag {:?}, but its last write answered {}",
                w.path, answer.etag, w.etag
            ));
        }
    }
    let mut events = 0_u64;
    let mut by_resource: BTreeMap<String, u64> = BTreeMap::new();
    let mut after = state["startAfter"].as_i64().unwrap_or(0);
    loop {
        let page = api.ok(
            "GET",
            &format!("/api/v1/events?limit=100&after={after}"),
            None,
        );
        let items = page.body["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        for event in &items {
            events += 1;
            *by_resource
                .entry(event["resourceId"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
            after = event["sequence"].as_i64().unwrap_or(after);
        }
    }
    let writes = state["writes"].as_u64().unwrap_or(0);
    if events != writes {
        problems.push(format!(
            "the feed has {events} events after the load's start, for {writes} writes"
        ));
    }
    for w in written.values() {
        let id = w.path.rsplit('/').next().unwrap_or_default();
        let seen = by_resource.get(id).copied().unwrap_or(0);
        if seen != w.writes {
            problems.push(format!("{}: {seen} events for {} writes", w.path, w.writes));
        }
    }
    if !problems.is_empty() {
        for problem in problems.iter().take(20) {
            eprintln!("{problem}");
        }
        fail(&format!("{} problems after the load", problems.len()));
    }
    println!(
        "verified: totals, the ETags of {} resources, {events} events for {writes} writes",
        written.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> &str {
        args.get(i)
            .map(String::as_str)
            .unwrap_or_else(|| fail("missing arguments (see the module docs)"))
    };
    match arg(0) {
        "seed" => seed(&Api::new(arg(1), arg(2), arg(3))),
        "record" => {
            let answers = record(&Api::new(arg(1), arg(2), arg(3)));
            let text = serde_json::to_string_pretty(&answers).unwrap_or_default();
            std::fs::write(arg(4), text).unwrap_or_else(|e| fail(&format!("{}: {e}", arg(4))));
            println!("recorded {} answers", answers.len());
        }
        "compare" => compare(arg(1), arg(2)),
        "load" => {
            let seconds = arg(1).parse().unwrap_or_else(|_| fail("SECONDS"));
            load(seconds, arg(2), arg(3), arg(4), &args[5..]);
        }
        "verify" => verify(&Api::new(arg(1), arg(2), arg(3)), arg(4)),
        other => fail(&format!("unknown command {other:?}")),
    }
}
