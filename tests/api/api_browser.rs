//! The API browser at `/docs`: its page and assets through the route table, and the page itself
//! in headless Chromium against the real binary, where it must render every operation, load
//! nothing from another host, and get an answer to a call made from it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::live_server::{database_for, ScratchDir, Server};

/// Debian's Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";

/// An unsigned GET through the production route table: the status, the content type and the
/// body as bytes (the page and its assets are not JSON).
async fn get_bytes(app: &TestApp, path: &str) -> (StatusCode, String, Vec<u8>) {
    let service = actix_web::test::init_service(
        actix_web::App::new().configure(|cfg| usergroups::configure(cfg, app.state.clone())),
    )
    .await;
    let request = actix_web::test::TestRequest::get().uri(path).to_request();
    let response = actix_web::test::call_service(&service, request).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = actix_web::test::read_body(response).await.to_vec();
    (status, content_type, body)
}

#[actix_web::test]
async fn the_docs_page_and_its_assets_are_served_unsigned_by_the_service_itself() {
    let app = spawn_app().await;

    let (status, content_type, page) = get_bytes(&app, "/docs").await;
    let page = String::from_utf8(page).unwrap();

    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    for (asset, kind) in [
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/docs/start.js", "text/javascript"),
        ("/docs/favicon-32x32.png", "image/png"),
    ] {
        assert!(page.contains(asset), "the page does not load {asset}");
        let (status, content_type, body) = get_bytes(&app, asset).await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        assert!(content_type.starts_with(kind), "{asset}: {content_type}");
        assert!(body.len() > 100, "{asset} is nearly empty");
    }
    assert!(!page.contains("://"), "the page names another host");
}

#[actix_web::test]
async fn the_docs_page_may_not_be_framed_and_runs_only_this_origins_scripts() {
    let app = spawn_app().await;
    let service = actix_web::test::init_service(
        actix_web::App::new().configure(|cfg| usergroups::configure(cfg, app.state.clone())),
    )
    .await;

    let request = actix_web::test::TestRequest::get()
        .uri("/docs")
        .to_request();
    let response = actix_web::test::call_service(&service, request).await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };

    assert_eq!(header("x-frame-options"), "DENY");
    let policy = header("content-security-policy");
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    for expected in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            directives.contains(&expected),
            "{expected} missing: {policy}"
        );
    }
    assert!(
        !policy.contains("unsafe-eval") && !policy.contains("script-src 'self' 'unsafe-inline'"),
        "{policy}"
    );
}

#[actix_web::test]
async fn the_root_redirects_to_the_docs_and_an_unknown_asset_is_the_json_404() {
    let app = spawn_app().await;

    let root = app.call("GET", "/").unsigned().send().await;
    let unknown = app.call("GET", "/docs/nothing.js").unsigned().send().await;

    assert_eq!(root.status, StatusCode::FOUND);
    assert_eq!(root.headers.get("location").unwrap(), "/docs");
    unknown.assert_error(404);
    assert_eq!(unknown.message(), "Route not found");
}

#[actix_web::test]
async fn the_document_names_this_instance_as_its_server() {
    let app = spawn_app().await;

    let document = app.call("GET", "/openapi.json").unsigned().send().await;

    assert_eq!(document.body["servers"][0]["url"], "/", "{}", document.body);
}

/// Headless Chromium spoken to over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
/// messages are JSON, each ended by a NUL byte, sent on fd 3 and answered on fd 4). The shell
/// puts the child's stdin and stdout on those descriptors, so no extra crate is needed.
struct Browser {
    child: Child,
    input: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    session: Option<String>,
    _profile: ScratchDir,
}

impl Browser {
    fn start() -> Browser {
        let profile = ScratchDir::new();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(
                r#"exec "$0" --headless --no-sandbox --disable-gpu --no-first-run \
                   --disable-extensions --disable-background-networking \
                   --user-data-dir="$1" --remote-debugging-pipe about:blank \
                   3<&0 4>&1 </dev/null >/dev/null"#,
            )
            .arg(CHROMIUM)
            .arg(&profile.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let input = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(output);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).unwrap_or(0) > 0 {
                message.pop();
                if let Ok(value) = serde_json::from_slice(&message) {
                    if sender.send(value).is_err() {
                        break;
                    }
                }
                message.clear();
            }
        });
        Browser {
            child,
            input,
            messages,
            next_id: 0,
            session: None,
            _profile: profile,
        }
    }

    /// Sends one command (to the attached page, once there is one) and returns its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.input.write_all(&bytes).unwrap();
        self.input.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = self
                .messages
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("chromium did not answer {method}"));
            if answer["id"] == json!(id) {
                assert!(answer["error"].is_null(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// Opens `url` in a new tab and attaches to it.
    fn open(&mut self, url: &str) {
        let target = self.call("Target.createTarget", json!({"url": url}));
        let attached = self.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        self.session = attached["sessionId"].as_str().map(str::to_owned);
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is truthy (not null, false, 0 or ""), and returns it.
    fn wait_for(&mut self, what: &str, expression: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.eval(expression);
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            assert!(Instant::now() < deadline, "the page never showed {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs /usr/bin/chromium (Debian package chromium); run with --include-ignored"]
fn in_chromium_the_docs_render_every_operation_and_a_call_made_from_them_is_answered() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "this test needs {CHROMIUM}: apt-get install chromium"
    );
    let dir = ScratchDir::new();
    let (_database, url) = database_for(&dir.0);
    let server = Server::start(&dir.0, &url);
    let origin = format!("http://{}", server.address);
    let mut browser = Browser::start();

    browser.open(&format!("{origin}/docs"));
    let paths = browser.wait_for(
        "the operations",
        "(() => { const p = [...document.querySelectorAll('.opblock-summary-path')]\
           .map(e => e.getAttribute('data-path') || e.textContent.trim());\
           return p.length >= 13 ? p : null; })()",
    );
    // Try it out on `GET /api/v1/user-groups`, unsigned: the service must answer it, 401.
    browser.eval(
        "(() => { const op = [...document.querySelectorAll('.opblock.opblock-get')].find(o =>\
           (o.querySelector('.opblock-summary-path')?.getAttribute('data-path')) === '/api/v1/user-groups');\
           op.querySelector('.opblock-summary-control').click(); })()",
    );
    browser.wait_for(
        "the Try it out button",
        "(() => { const b = document.querySelector('.opblock.is-open .try-out__btn');\
           if (b) { b.click(); return true; } return false; })()",
    );
    browser.wait_for(
        "the Execute button",
        "(() => { const b = document.querySelector('.opblock.is-open .execute');\
           if (b) { b.click(); return true; } return false; })()",
    );
    let status = browser.wait_for(
        "the answer",
        "document.querySelector('.opblock.is-open .live-responses-table tr.response .response-col_status')\
           ?.textContent.trim() || ''",
    );
    let loaded = browser
        .eval("performance.getEntriesByType('resource').map(e => e.name).concat([location.href])");

    let paths: Vec<&str> = paths
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in [
        "/api/v1/user-groups",
        "/api/v1/user-groups/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/healthz",
        "/openapi.json",
    ] {
        assert!(paths.contains(&expected), "{expected} not shown: {paths:?}");
    }
    assert!(
        status.as_str().unwrap().starts_with("401"),
        "the call from the page got {status}"
    );
    for resource in loaded.as_array().unwrap() {
        let resource = resource.as_str().unwrap();
        assert!(
            resource.starts_with(&format!("{origin}/")),
            "the page loaded {resource} from elsewhere"
        );
    }
    assert!(
        server
            .log_text()
            .contains("\"GET /api/v1/user-groups\" 401"),
        "the service did not log the page's call: {}",
        server.log_text()
    );
}
