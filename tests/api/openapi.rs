//! The OpenAPI document: it is served unsigned, it lists exactly the routes and methods the app
//! registers, every example in it validates against its schema, and so do real answers.
//!
//! The schemas are checked with [`Validator`], a small validator for the JSON Schema subset the
//! document uses. It refuses any keyword or format it does not know, so a schema it cannot judge
//! fails the test instead of passing unchecked.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use actix_web::http::StatusCode;
use actix_web::{test, App};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, TestResponse};

/// Every method a route could be registered for; each is probed on every path.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
];

/// The document exactly as `GET /openapi.json` serves it.
fn served_document() -> Value {
    let text = usergroups::openapi::document_json().expect("the document serializes");
    serde_json::from_str(text).expect("the document is JSON")
}

// ---------------------------------------------------------------------------------------------
// A validator for the JSON Schema subset of the document
// ---------------------------------------------------------------------------------------------

/// Keywords that only annotate a schema and constrain nothing.
const ANNOTATIONS: [&str; 7] = [
    "description",
    "title",
    "examples",
    "example",
    "default",
    "deprecated",
    "readOnly",
];

/// Validates JSON values against the schemas of one OpenAPI document.
struct Validator<'d> {
    document: &'d Value,
    /// Also refuses properties a schema does not list even where it allows them, so a real
    /// answer cannot carry a field the document does not describe.
    strict: bool,
}

impl<'d> Validator<'d> {
    fn new(document: &'d Value) -> Self {
        Validator {
            document,
            strict: false,
        }
    }

    fn strict(document: &'d Value) -> Self {
        Validator {
            document,
            strict: true,
        }
    }

    /// Every way `value` breaks `schema`, each prefixed with where in the value.
    fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors);
        errors
    }

    /// The schema a local `$ref` (`#/components/...`) points at.
    fn resolve(&self, reference: &str) -> Option<&'d Value> {
        self.document.pointer(reference.strip_prefix('#')?)
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let Some(schema) = schema.as_object() else {
            errors.push(format!("{at}: the schema is not an object: {schema}"));
            return;
        };
        for (keyword, argument) in schema {
            match keyword.as_str() {
                "$ref" => match argument.as_str().and_then(|r| self.resolve(r)) {
                    Some(target) => self.check(target, value, at, errors),
                    None => errors.push(format!("{at}: unresolvable $ref {argument}")),
                },
                "type" => {
                    let allowed: Vec<&str> = match argument {
                        Value::String(one) => vec![one.as_str()],
                        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                        _ => vec![],
                    };
                    let nullable = schema.get("nullable") == Some(&json!(true));
                    if !(allowed.iter().any(|t| has_type(value, t)) || nullable && value.is_null())
                    {
                        errors.push(format!("{at}: {value} is not of type {argument}"));
                    }
                }
                "nullable" => {}
                "enum" => {
                    if !argument.as_array().is_some_and(|a| a.contains(value)) {
                        errors.push(format!("{at}: {value} is not one of {argument}"));
                    }
                }
                "oneOf" | "anyOf" => {
                    let branches = argument.as_array().map(Vec::as_slice).unwrap_or_default();
                    let matching = branches
                        .iter()
                        .filter(|branch| self.errors(branch, value).is_empty())
                        .count();
                    let ok = if keyword == "oneOf" {
                        matching == 1
                    } else {
                        matching >= 1
                    };
                    if !ok {
                        errors.push(format!(
                            "{at}: {value} matches {matching} branches of {keyword}"
                        ));
                    }
                }
                "allOf" => {
                    for branch in argument.as_array().map(Vec::as_slice).unwrap_or_default() {
                        self.check(branch, value, at, errors);
                    }
                }
                "required" => {
                    if let Some(object) = value.as_object() {
                        for name in argument.as_array().map(Vec::as_slice).unwrap_or_default() {
                            let name = name.as_str().unwrap_or_default();
                            if !object.contains_key(name) {
                                errors.push(format!("{at}: required property {name} is missing"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let (Some(object), Some(properties)) =
                        (value.as_object(), argument.as_object())
                    {
                        for (name, property) in properties {
                            if let Some(member) = object.get(name) {
                                self.check(property, member, &format!("{at}.{name}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {}
                "items" => {
                    for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                        self.check(argument, item, &format!("{at}[{i}]"), errors);
                    }
                }
                "format" => {
                    let format = argument.as_str().unwrap_or_default();
                    match has_format(value, format) {
                        Some(true) => {}
                        Some(false) => errors.push(format!("{at}: {value} is not a {format}")),
                        None => errors.push(format!("{at}: unsupported format {format}")),
                    }
                }
                "minLength" | "maxLength" => {
                    if let (Some(text), Some(bound)) = (value.as_str(), argument.as_u64()) {
                        let length = text.chars().count() as u64;
                        let ok = if keyword == "minLength" {
                            length >= bound
                        } else {
                            length <= bound
                        };
                        if !ok {
                            errors.push(format!("{at}: length {length} breaks {keyword} {bound}"));
                        }
                    }
                }
                "maxItems" => {
                    if let (Some(items), Some(bound)) = (value.as_array(), argument.as_u64()) {
                        if items.len() as u64 > bound {
                            errors.push(format!(
                                "{at}: {} items break maxItems {bound}",
                                items.len()
                            ));
                        }
                    }
                }
                "minimum" | "maximum" => {
                    if let (Some(number), Some(bound)) = (value.as_f64(), argument.as_f64()) {
                        let ok = if keyword == "minimum" {
                            number >= bound
                        } else {
                            number <= bound
                        };
                        if !ok {
                            errors.push(format!("{at}: {number} breaks {keyword} {bound}"));
                        }
                    }
                }
                other if ANNOTATIONS.contains(&other) => {}
                other => errors.push(format!("{at}: unsupported schema keyword {other}")),
            }
        }
        self.check_additional_properties(schema, value, at, errors);
    }

    /// `additionalProperties`: `false` refuses unlisted members, a schema checks them. In strict
    /// mode an object schema that lists its properties refuses any other.
    fn check_additional_properties(
        &self,
        schema: &serde_json::Map<String, Value>,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(object) = value.as_object() else {
            return;
        };
        let listed = schema.get("properties").and_then(Value::as_object);
        let rule = match schema.get("additionalProperties") {
            Some(rule) => rule.clone(),
            None if self.strict && listed.is_some() => json!(false),
            None => return,
        };
        for (name, member) in object {
            if listed.is_some_and(|listed| listed.contains_key(name)) {
                continue;
            }
            match &rule {
                Value::Bool(false) => {
                    errors.push(format!("{at}: property {name} is not allowed"));
                }
                Value::Bool(true) => {}
                extra => self.check(extra, member, &format!("{at}.{name}"), errors),
            }
        }
    }
}

/// Whether `value` is of JSON Schema type `name`.
fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

/// Whether `value` has `format` (`None` for a format this validator does not know). Formats
/// constrain strings and numbers only; other values pass, as in JSON Schema.
fn has_format(value: &Value, format: &str) -> Option<bool> {
    let text = value.as_str();
    Some(match format {
        "uuid" => text.is_none_or(|t| {
            t.len() == 36
                && t.char_indices().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => c == '-',
                    _ => c.is_ascii_hexdigit(),
                })
        }),
        "date-time" => text.is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
        "email" => text.is_none_or(|t| {
            t.rsplit_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        }),
        "uri" => text.is_none_or(|t| {
            t.split_once("://").is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && !rest.is_empty()
            })
        }),
        "int32" => value.as_i64().is_none_or(|n| i32::try_from(n).is_ok()),
        "int64" => value.is_i64() || !value.is_u64(),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Walking the document
// ---------------------------------------------------------------------------------------------

/// One example of the document and the schema it illustrates.
struct Example {
    /// Where it is, for the failure message.
    location: String,
    schema: Value,
    value: Value,
}

/// Every example of the document: of schemas (and their properties), of parameters, and of
/// request and response bodies.
fn examples(document: &Value) -> Vec<Example> {
    let mut found = Vec::new();
    for (name, schema) in members(&document["components"]["schemas"]) {
        schema_examples(schema, &format!("schema {name}"), &mut found);
    }
    for (name, response) in members(&document["components"]["responses"]) {
        media_examples(response, &format!("response {name}"), &mut found);
    }
    for (path, item) in members(&document["paths"]) {
        for (method, operation) in members(item) {
            let here = format!("{} {path}", method.to_uppercase());
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let location = format!("{here} parameter {}", parameter["name"]);
                schema_examples(&parameter["schema"], &location, &mut found);
                if let Some(value) = parameter.get("example") {
                    found.push(Example {
                        location,
                        schema: parameter["schema"].clone(),
                        value: value.clone(),
                    });
                }
            }
            media_examples(
                &operation["requestBody"],
                &format!("{here} request"),
                &mut found,
            );
            for (status, response) in members(&operation["responses"]) {
                media_examples(response, &format!("{here} {status}"), &mut found);
            }
        }
    }
    found
}

/// The members of a JSON object (none for anything else).
fn members(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

/// The examples of a schema and of the schemas inside it.
fn schema_examples(schema: &Value, location: &str, found: &mut Vec<Example>) {
    let list = schema["examples"].as_array().into_iter().flatten();
    for (i, value) in list.chain(schema.get("example")).enumerate() {
        found.push(Example {
            location: format!("{location} example {i}"),
            schema: schema.clone(),
            value: value.clone(),
        });
    }
    for (name, property) in members(&schema["properties"]) {
        schema_examples(property, &format!("{location}.{name}"), found);
    }
    if schema["items"].is_object() {
        schema_examples(&schema["items"], &format!("{location}[]"), found);
    }
    for keyword in ["oneOf", "anyOf", "allOf"] {
        for branch in schema[keyword].as_array().into_iter().flatten() {
            schema_examples(branch, &format!("{location} {keyword}"), found);
        }
    }
}

/// The examples of the bodies of a request body or a response object.
fn media_examples(holder: &Value, location: &str, found: &mut Vec<Example>) {
    for (media_type, media) in members(&holder["content"]) {
        let here = format!("{location} {media_type}");
        schema_examples(&media["schema"], &here, found);
        if let Some(value) = media.get("example") {
            found.push(Example {
                location: format!("{here} example"),
                schema: media["schema"].clone(),
                value: value.clone(),
            });
        }
        for (name, example) in members(&media["examples"]) {
            found.push(Example {
                location: format!("{here} example {name:?}"),
                schema: media["schema"].clone(),
                value: example["value"].clone(),
            });
        }
    }
}

/// The documented routes: each path with the methods it has operations for.
fn documented_routes(document: &Value) -> BTreeMap<String, BTreeSet<String>> {
    members(&document["paths"])
        .map(|(path, item)| {
            let methods = members(item)
                .map(|(method, _)| method.to_uppercase())
                .filter(|method| METHODS.contains(&method.as_str()))
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// The schema of the `status` answer of `method path`, resolved through `components`.
fn response_schema(document: &Value, method: &str, path: &str, status: u16) -> Value {
    let operation = &document["paths"][path][method.to_lowercase()];
    let mut response = &operation["responses"][status.to_string()];
    if let Some(reference) = response["$ref"].as_str() {
        response = document
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or(&Value::Null);
    }
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no JSON body for {status}"
    );
    schema.clone()
}

/// Asserts that a real answer is documented for its route and validates, strictly, against
/// the documented schema.
#[track_caller]
fn assert_documented(document: &Value, method: &str, path: &str, response: &TestResponse) {
    let schema = response_schema(document, method, path, response.status.as_u16());
    let errors = Validator::strict(document).errors(&schema, &response.body);
    assert!(
        errors.is_empty(),
        "{method} {path} answered {} {} which breaks its schema: {errors:#?}",
        response.status,
        response.body
    );
}

// ---------------------------------------------------------------------------------------------
// The routes the app registers
// ---------------------------------------------------------------------------------------------

/// Every path pattern of the app's route table (`/api/v1/user-groups/{id}`, …), read from the
/// resource map that actix builds from `usergroups::configure`.
///
/// actix offers no public way to list its resources, so this reads the map's `Debug` form:
/// each `ResourceMap` node has `patterns` and `is_prefix`, and a full path is the patterns of
/// the prefix nodes above a resource followed by its own. Should a new actix print the map
/// differently, the parse finds no routes and the test comparing them with the document fails;
/// it cannot pass by missing a route.
async fn registered_paths(app: &TestApp) -> BTreeSet<String> {
    let captured: Rc<RefCell<String>> = Rc::default();
    let sink = Rc::clone(&captured);
    let service = test::init_service(
        App::new()
            .wrap_fn(move |req, srv| {
                *sink.borrow_mut() = format!("{:#?}", req.resource_map());
                actix_web::dev::Service::call(srv, req)
            })
            .configure(|cfg| usergroups::configure(cfg, app.state.clone())),
    )
    .await;
    test::call_service(&service, test::TestRequest::get().uri("/").to_request()).await;
    let text = captured.borrow();
    paths_of_resource_map(&text)
}

/// The full paths of the edge resources of a `{:#?}`-printed `ResourceMap`.
fn paths_of_resource_map(text: &str) -> BTreeSet<String> {
    struct Node {
        indent: usize,
        patterns: Vec<String>,
    }
    let mut stack: Vec<Node> = Vec::new();
    let mut paths = BTreeSet::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let line = line.trim();
        if line == "ResourceMap {" {
            stack.retain(|node| node.indent < indent);
            stack.push(Node {
                indent,
                patterns: Vec::new(),
            });
        } else if line.starts_with("patterns:") {
            // `Single("/x")` or `List(["/x", "/x/"])`, one token a line, up to the `)` closing it.
            let patterns: Vec<String> = lines
                .by_ref()
                .take_while(|l| {
                    !(l.trim_start().starts_with(')') && l.len() - l.trim_start().len() == indent)
                })
                .filter_map(|l| {
                    let l = l.trim().trim_end_matches(',');
                    l.strip_prefix('"')?.strip_suffix('"').map(str::to_owned)
                })
                .collect();
            if let Some(node) = stack.last_mut() {
                if node.patterns.is_empty() {
                    node.patterns = patterns;
                }
            }
        } else if line == "is_prefix: false," {
            let Some((edge, scopes)) = stack.split_last() else {
                continue;
            };
            let prefix: String = scopes
                .iter()
                .map(|scope| scope.patterns.first().map_or("", String::as_str))
                .collect();
            for pattern in &edge.patterns {
                paths.insert(format!("{prefix}{pattern}"));
            }
        }
    }
    paths
}

/// Whether a probe's answer comes from a handler of the route rather than from routing: not
/// 405 (another method of a known path) and not the 404 of an unknown path.
fn is_routed(response: &TestResponse) -> bool {
    response.status != StatusCode::METHOD_NOT_ALLOWED && response.message() != "Route not found"
}

/// The methods `path` answers, found by sending each of [`METHODS`] (signed, with a fresh id
/// for `{id}`), with the `Allow` header of its 405s.
async fn probe_methods(app: &TestApp, path: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let target = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
    let mut answered = BTreeSet::new();
    let mut allowed = BTreeSet::new();
    for method in METHODS {
        let response = app.write(method, &target).send().await;
        if is_routed(&response) {
            answered.insert(method.to_owned());
        } else if let Some(allow) = response.headers.get("allow") {
            let allow = allow.to_str().unwrap_or_default();
            allowed.extend(allow.split(',').map(|m| m.trim().to_owned()));
        }
    }
    (answered, allowed)
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn every_route_the_app_registers_is_documented_with_the_same_methods_and_no_other() {
    let app = spawn_app().await;
    let document = served_document();
    let documented = documented_routes(&document);

    let paths = registered_paths(&app).await;
    let mut registered = BTreeMap::new();
    // The API browser's page, its assets and the redirect to it are for people, not operations.
    let is_browser = |path: &str| path == "/" || path == "/docs" || path.starts_with("/docs/");
    for path in paths.iter().filter(|path| !is_browser(path)) {
        let (answered, allowed) = probe_methods(&app, path).await;
        assert_eq!(
            allowed, answered,
            "the Allow header of {path} must name exactly the methods it answers"
        );
        // The trailing-slash twin of a path is accepted and documented once, without the slash.
        let canonical = match path.strip_suffix('/') {
            Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
            _ => path.clone(),
        };
        let previous = registered.insert(canonical.clone(), answered.clone());
        if let Some(previous) = previous {
            assert_eq!(
                previous, answered,
                "{canonical} and its trailing-slash twin answer different methods"
            );
        }
    }

    assert_eq!(
        registered, documented,
        "the routes of usergroups::configure (left) and of the OpenAPI document (right) differ"
    );
    for path in documented.keys().filter(|path| path.starts_with("/api/")) {
        assert!(
            paths.contains(&format!("{path}/")),
            "the document says {path}/ is accepted too, but it is not registered"
        );
    }
}

#[actix_web::test]
async fn the_document_is_served_unsigned_as_openapi_3_json_with_the_signature_scheme() {
    let app = spawn_app().await;

    let response = app.call("GET", "/openapi.json").unsigned().send().await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.headers.get("content-type").unwrap(),
        "application/json; charset=utf-8"
    );
    let document = &response.body;
    assert!(document.is_object(), "the answer is not a JSON object");
    assert_eq!(document, &served_document());
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi is {version:?}");
    let scheme = &document["components"]["securitySchemes"]["onlivesite"];
    assert_eq!(scheme["type"], "apiKey", "{scheme}");
    assert_eq!(scheme["in"], "header", "{scheme}");
    assert_eq!(scheme["name"], "Authorization", "{scheme}");
    let oauth2 = &document["components"]["securitySchemes"]["oauth2"];
    assert_eq!(oauth2["type"], "oauth2", "{oauth2}");
    assert_eq!(
        oauth2["flows"]["clientCredentials"]["tokenUrl"], "/oauth2/v2/token",
        "{oauth2}"
    );
    let description = scheme["description"].as_str().unwrap_or_default();
    for needed in [
        "ONLIVESITE-HMAC-SHA256",
        "x-onlive-site-date",
        "Credential:",
    ] {
        assert!(
            description.contains(needed),
            "the scheme's description does not explain {needed}"
        );
    }
    for (path, item) in members(&document["paths"]) {
        for (method, operation) in members(item) {
            let security = &operation["security"];
            if path.starts_with("/api/v1/organizations/") {
                // The nscale dialect takes a bearer token or the signature.
                assert_eq!(
                    security,
                    &json!([{"onlivesite": []}, {"oauth2": []}]),
                    "{method} {path} must require a token or the signature"
                );
            } else if path.starts_with("/api/v1/") {
                assert_eq!(
                    security,
                    &json!([{"onlivesite": []}, {"oauth2": []}]),
                    "{method} {path} must require the signature or a bearer token"
                );
            } else {
                assert!(security.is_null(), "{method} {path} must be unsigned");
            }
        }
    }
    assert!(
        document.get("security").is_none(),
        "no document-wide security: the unsigned routes would inherit it"
    );
}

#[actix_web::test]
async fn every_operation_has_an_operation_id_of_its_own() {
    // Swagger UI and generated clients find an operation by its id: with two alike, "Execute"
    // in the API browser silently sends nothing, and a generator emits one method for both.
    let document = served_document();
    let mut seen = BTreeMap::new();

    for (path, item) in members(&document["paths"]) {
        for (method, operation) in members(item) {
            if !METHODS.contains(&method.to_uppercase().as_str()) {
                continue;
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("{method} {path} and {other} share the operationId {id:?}");
            }
        }
    }
    assert!(seen.len() >= 13, "{seen:?}");
}

#[actix_web::test]
async fn other_methods_on_the_document_are_a_405_in_json() {
    let app = spawn_app().await;

    let response = app.call("POST", "/openapi.json").unsigned().send().await;

    response.assert_error(405);
    assert_eq!(response.headers.get("allow").unwrap(), "GET");
}

#[actix_web::test]
async fn every_example_in_the_document_validates_against_its_schema() {
    let document = served_document();
    let validator = Validator::new(&document);

    let examples = examples(&document);
    let failures: Vec<String> = examples
        .iter()
        .flat_map(|example| {
            validator
                .errors(&example.schema, &example.value)
                .into_iter()
                .map(move |error| format!("{}: {error}", example.location))
        })
        .collect();

    assert!(failures.is_empty(), "{failures:#?}");
    // The walk found the examples at all (the document holds about 90), and every shape the
    // API reads or writes has one.
    assert!(
        examples.len() >= 50,
        "only {} examples found",
        examples.len()
    );
    for name in [
        "Group",
        "User",
        "CreateGroup",
        "UpdateGroup",
        "CreateUser",
        "UpdateUser",
    ] {
        assert!(
            examples
                .iter()
                .any(|e| e.location.starts_with(&format!("schema {name} example"))),
            "schema {name} has no example"
        );
    }
}

#[actix_web::test]
async fn every_json_answer_in_the_document_has_an_example() {
    let document = served_document();

    let mut missing = Vec::new();
    for (path, item) in members(&document["paths"]) {
        for (method, operation) in members(item) {
            for (status, response) in members(&operation["responses"]) {
                if response.get("$ref").is_some() || *path == "/openapi.json" {
                    continue;
                }
                for (media_type, media) in members(&response["content"]) {
                    let schema_has_examples = media["schema"]["$ref"]
                        .as_str()
                        .and_then(|r| document.pointer(r.trim_start_matches('#')))
                        .is_some_and(|schema| schema.get("examples").is_some());
                    if media.get("example").is_none()
                        && media.get("examples").is_none()
                        && !schema_has_examples
                    {
                        missing.push(format!("{method} {path} {status} {media_type}"));
                    }
                }
            }
        }
    }

    assert!(
        missing.is_empty(),
        "answers without an example: {missing:#?}"
    );
}

#[actix_web::test]
async fn the_schema_validator_refuses_what_the_schemas_forbid() {
    let document = served_document();
    let validator = Validator::new(&document);
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let group = document["components"]["schemas"]["Group"]["examples"][0].clone();
    let user = document["components"]["schemas"]["User"]["examples"][0].clone();
    let with = |mut value: Value, key: &str, member: Value| {
        value[key] = member;
        value
    };
    let without = |mut value: Value, key: &str| {
        value.as_object_mut().unwrap().remove(key);
        value
    };
    let cases = [
        (
            "Group",
            without(group.clone(), "name"),
            "a required field is missing",
        ),
        (
            "Group",
            without(group.clone(), "description"),
            "description is always present, null when unset",
        ),
        (
            "User",
            without(user.clone(), "userGroupId"),
            "userGroupId is always present, null without a group",
        ),
        (
            "Group",
            with(group.clone(), "id", json!("not-a-uuid")),
            "an id is not a uuid",
        ),
        (
            "Group",
            with(group.clone(), "name", json!("")),
            "a name is shorter than minLength",
        ),
        (
            "Group",
            with(group.clone(), "name", json!(7)),
            "a name is not a string",
        ),
        (
            "Group",
            with(group.clone(), "extraFields", json!([1])),
            "extraFields is not an object",
        ),
        (
            "Group",
            with(group.clone(), "createdAt", json!("yesterday")),
            "a time is not a date-time",
        ),
        (
            "Group",
            with(group.clone(), "deletedAt", json!(null)),
            "deletedAt is never null",
        ),
        (
            "UpdateGroup",
            json!({"name": null}),
            "a name cannot be null",
        ),
        (
            "UpdateGroup",
            json!({"color": "red"}),
            "unknown fields are refused",
        ),
        (
            "UpdateUser",
            json!({"email": "a@example.com"}),
            "the email cannot change",
        ),
        (
            "UpdateUser",
            json!({"role": "owner"}),
            "a role outside the enum",
        ),
        (
            "CreateUser",
            json!({"firstName": "A", "lastName": "B"}),
            "the email is required",
        ),
        (
            "ErrorBody",
            json!({"statusCode": 200, "message": "OK"}),
            "a status below 400",
        ),
        (
            "ErrorBody",
            json!({"statusCode": 404, "message": "x", "errors": [{"field": 1}]}),
            "a bad FieldError",
        ),
        (
            "Page_Group",
            json!({"items": [], "page": 0, "limit": 20, "total": 0, "totalPages": 0}),
            "page 0",
        ),
        (
            "Page_Group",
            json!({"items": [], "page": 1, "limit": 101, "total": 0, "totalPages": 0}),
            "limit over 100",
        ),
    ];
    for (name, value, why) in cases {
        assert!(
            !validator.errors(&schema(name), &value).is_empty(),
            "{name} accepted {value}, but {why}"
        );
    }
    // The same checks pass the untouched example, and strict mode refuses an undocumented field.
    assert_eq!(
        validator.errors(&schema("Group"), &group),
        Vec::<String>::new()
    );
    let extra = with(group, "secret", json!(1));
    assert!(validator.errors(&schema("Group"), &extra).is_empty());
    assert!(!Validator::strict(&document)
        .errors(&schema("Group"), &extra)
        .is_empty());
    // A keyword the validator does not know fails instead of passing unchecked.
    assert!(!validator
        .errors(&json!({"pattern": "^a"}), &json!("b"))
        .is_empty());
}

#[actix_web::test]
async fn real_answers_of_the_app_validate_against_the_documented_schemas() {
    let app = spawn_app().await;
    let document = served_document();
    let groups = "/api/v1/user-groups";
    let group_path = "/api/v1/user-groups/{id}";

    let created = app
        .post(
            groups,
            json!({"name": "Global Sales Team", "description": "International sales team",
                   "externalId": "SALES_TEAM_01", "extraFields": {"department": "Sales"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_documented(&document, "POST", groups, &created);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let plain = app.post(groups, json!({"name": "Plain"})).await;
    assert_documented(&document, "POST", groups, &plain);

    let page = app.get(&format!("{groups}?limit=1")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_documented(&document, "GET", groups, &page);

    let missing = app.get(&format!("{groups}/{}", uuid::Uuid::now_v7())).await;
    missing.assert_error(404);
    assert_documented(&document, "GET", group_path, &missing);

    let invalid = app.post(groups, json!({"name": "", "color": 1})).await;
    invalid.assert_error(400);
    assert_documented(&document, "POST", groups, &invalid);

    let taken = app.post(groups, json!({"name": "Global Sales Team"})).await;
    taken.assert_error(409);
    assert_documented(&document, "POST", groups, &taken);

    let user = app.create_user("ada@example.com", Some(&id)).await;
    let member_of = app.get(&format!("/api/v1/users?userGroupId={id}")).await;
    assert_documented(&document, "GET", "/api/v1/users", &member_of);
    assert_eq!(member_of.body["items"][0], user);

    let refused = app.delete(&format!("{groups}/{id}")).await;
    refused.assert_error(403);
    assert_documented(&document, "DELETE", group_path, &refused);

    let user_id = user["id"].as_str().unwrap();
    let left = app
        .put(
            &format!("/api/v1/users/{user_id}"),
            json!({"userGroupId": null}),
        )
        .await;
    assert_documented(&document, "PUT", "/api/v1/users/{id}", &left);
    let deleted = app.delete(&format!("{groups}/{id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert!(deleted.body["deletedAt"].is_string());
    assert_documented(&document, "DELETE", group_path, &deleted);

    let unsigned = app.call("GET", groups).unsigned().send().await;
    unsigned.assert_error(401);
    assert_documented(&document, "GET", groups, &unsigned);

    let health = app.call("GET", "/healthz").unsigned().send().await;
    assert_documented(&document, "GET", "/healthz", &health);
}

#[actix_web::test]
async fn every_signed_operation_documents_the_answers_all_signed_routes_share_and_415_with_a_body()
{
    let document = served_document();
    let mut checked = 0;

    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let statuses: BTreeSet<&str> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            // 415 is the answer to a body that is not JSON; the token endpoint takes a form and
            // answers anything else 400 `invalid_request`, as RFC 6749 §5.2 has it.
            let takes_body = operation["requestBody"]["content"]
                .get("application/json")
                .is_some();
            let mut shared = if path.starts_with("/api/v1/") {
                vec!["401", "408", "413", "429", "500", "503"]
            } else if path == "/readyz" {
                vec!["500", "503"]
            } else {
                vec![]
            };
            if takes_body {
                shared.push("415");
            }
            for status in shared {
                assert!(
                    statuses.contains(status),
                    "{method} {path} does not document {status}: {statuses:?}"
                );
            }
            assert_eq!(
                statuses.contains("415"),
                takes_body,
                "{method} {path}: 415 exactly when the operation takes a JSON body"
            );
            checked += 1;
        }
    }
    assert!(checked >= 13, "only {checked} operations");
}

#[actix_web::test]
async fn the_documented_bounds_are_the_ones_validation_enforces() {
    use usergroups::limits;
    let document = served_document();
    let schemas = &document["components"]["schemas"];
    let bound = |schema: &str, field: &str, keyword: &str| {
        schemas[schema]["properties"][field][keyword]
            .as_u64()
            .unwrap_or_else(|| panic!("{schema}.{field} has no {keyword}")) as usize
    };
    let cases = [
        ("CreateGroup", "name", limits::GROUP_NAME_MAX),
        ("CreateGroup", "description", limits::GROUP_DESCRIPTION_MAX),
        ("CreateGroup", "externalId", limits::GROUP_EXTERNAL_ID_MAX),
        ("UpdateGroup", "name", limits::GROUP_NAME_MAX),
        ("CreateUser", "firstName", limits::USER_NAME_MAX),
        ("CreateUser", "lastName", limits::USER_NAME_MAX),
        ("CreateUser", "email", limits::EMAIL_MAX),
        ("CreateUser", "avatar", limits::AVATAR_MAX),
        ("UpdateUser", "firstName", limits::USER_NAME_MAX),
    ];
    for (schema, field, max) in cases {
        assert_eq!(bound(schema, field, "maxLength"), max, "{schema}.{field}");
    }
    assert_eq!(
        schemas["ErrorBody"]["properties"]["errors"]["maxItems"].as_u64(),
        Some(limits::FIELD_ERRORS_SHOWN as u64)
    );
    for path in ["/api/v1/user-groups", "/api/v1/users"] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap();
        let of = |name: &str| {
            parameters
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
                .clone()
        };
        assert_eq!(
            of("search")["maxLength"].as_u64(),
            Some(limits::SEARCH_MAX as u64),
            "{path}"
        );
        assert_eq!(
            of("limit")["maximum"].as_i64(),
            Some(limits::PAGE_LIMIT_MAX),
            "{path}"
        );
        assert_eq!(
            of("cursor")["maxLength"].as_u64(),
            Some(limits::CURSOR_MAX as u64),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn real_answers_of_the_nscale_deleted_groups_validate_against_the_documented_schemas() {
    let app = spawn_app().await;
    let document = served_document();
    let list = "/api/v1/organizations/{organizationID}/groups";
    let undelete = "/api/v1/organizations/{organizationID}/groups/{groupid}:undelete";
    let groups = format!("/api/v1/organizations/{}/groups", app.organization_id);
    let body = json!({"metadata": {"name": "kept", "tags": [{"name": "team", "value": "a"}]},
                      "spec": {"roleIDs": [], "serviceAccountIDs": []}});
    let created = app.post(&groups, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["metadata"]["id"].as_str().unwrap().to_owned();
    app.post(
        &groups,
        json!({"metadata": {"name": "live"},
                             "spec": {"roleIDs": [], "serviceAccountIDs": []}}),
    )
    .await;
    app.delete(&format!("{groups}/{id}")).await;

    let listed = app.get(&format!("{groups}?showDeleted=true")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(
        listed.body[0]["metadata"]["purgeTime"].is_string(),
        "{}",
        listed.body
    );
    assert_documented(&document, "GET", list, &listed);
    let bad = app.get(&format!("{groups}?showDeleted=maybe")).await;
    assert_documented(&document, "GET", list, &bad);

    let restored = app
        .write("POST", &format!("{groups}/{id}:undelete"))
        .send()
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_documented(&document, "POST", undelete, &restored);
    let live = app
        .write("POST", &format!("{groups}/{id}:undelete"))
        .send()
        .await;
    assert_eq!(live.status, StatusCode::NOT_FOUND, "{}", live.body);
    assert_documented(&document, "POST", undelete, &live);
    app.delete(&format!("{groups}/{id}")).await;
    app.post(&groups, body).await;
    let taken = app
        .write("POST", &format!("{groups}/{id}:undelete"))
        .send()
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_documented(&document, "POST", undelete, &taken);
}
