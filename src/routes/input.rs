//! Reading client input strictly, so every bad field becomes one entry of a 400's `errors`:
//! the JSON content type (415), the JSON object body (unknown, repeated and mistyped fields),
//! the query string (decoded exactly as the signature's canonical query decodes it) and path ids;
//! and before all of them the body itself, read once within the limits ([`read_body`]).

use std::collections::hash_map::{Entry, HashMap};
use std::collections::HashSet;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpRequest;
use futures_util::StreamExt;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{ApiError, FieldErrors};
use crate::auth::canonical;
use crate::domain::{rules, PageRequest};
use crate::limits;

/// Reads the whole body within `timeout` (408 after), refusing it as soon as it passes `limit`
/// bytes (413; at once when `Content-Length` already says so). The authentication middleware
/// reads every `/api/v1/` body with it, and the unsigned token endpoint its own, so both hold a
/// client to the same limits.
pub async fn read_body(
    headers: &HeaderMap,
    payload: Payload,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    actix_web::rt::time::timeout(timeout, read_payload(payload, limit))
        .await
        .map_err(|_| ApiError::RequestTimeout {
            seconds: timeout.as_secs(),
        })?
}

async fn read_payload(mut payload: Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::invalid_field("body", format!("body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// 415 unless the request declares a JSON body: `application/json` or `application/*+json`,
/// with no parameter other than `charset=utf-8`, in exactly one `Content-Type` header (a body
/// has one type; reading only the first of several would let two parsers disagree).
pub fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let mut content_types = req.headers().get_all(CONTENT_TYPE);
    let content_type = content_types
        .next()
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::UnsupportedMediaType)?;
    if content_types.next().is_some() {
        return Err(ApiError::UnsupportedMediaType);
    }
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let is_json = essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json") && subtype.len() > "+json".len());
    let params_ok = parts.all(|param| {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        name.trim().eq_ignore_ascii_case("charset")
            && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
    });
    if is_json && params_ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// A field of a JSON body as sent: absent, `null`, or a value of any type.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    /// The body has no such key.
    Absent,
    /// The key holds `null`.
    Null,
    /// The key holds this JSON text.
    Value(&'a RawValue),
}

/// A top-level member of a JSON object body, its value still as JSON text.
#[derive(Clone, Copy)]
struct Member<'a> {
    /// Where it first appeared among the members, so unknown fields are reported in order.
    position: usize,
    value: &'a RawValue,
    /// Whether the name came again, so a repetition is reported once.
    repeated: bool,
}

/// The top-level members of a JSON object by name, and the names that appeared more than once
/// (each once, in the order of their second appearance). A hash map keeps every lookup and the
/// duplicate check constant-time, so a body of many members costs time linear in its size.
struct Members<'a> {
    by_name: HashMap<String, Member<'a>>,
    repeated: Vec<String>,
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Members {
                    by_name: HashMap::new(),
                    repeated: Vec::new(),
                };
                let mut position = 0;
                while let Some((name, value)) = map.next_entry::<String, &'de RawValue>()? {
                    match members.by_name.entry(name) {
                        Entry::Vacant(slot) => {
                            slot.insert(Member {
                                position,
                                value,
                                repeated: false,
                            });
                        }
                        Entry::Occupied(mut first) => {
                            if !first.get().repeated {
                                first.get_mut().repeated = true;
                                members.repeated.push(first.key().clone());
                            }
                        }
                    }
                    position += 1;
                }
                Ok(members)
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A JSON object body, taken apart field by field. Fields not taken are reported as unknown by
/// [`JsonObject::finish`], together with every other error recorded on the way. Every step is
/// linear in the body's size (or constant per field), whatever the number of members.
pub struct JsonObject<'a> {
    members: HashMap<String, Member<'a>>,
    /// Errors found so far; handlers add their own validation errors here too.
    pub errors: FieldErrors,
}

impl<'a> JsonObject<'a> {
    /// Parses `body` as one JSON object; anything else is a 400 on `body`.
    pub fn parse(body: &'a [u8]) -> Result<Self, ApiError> {
        let Members { by_name, repeated } = serde_json::from_slice(body).map_err(|e| {
            let what = if e.is_data() || body.iter().all(u8::is_ascii_whitespace) {
                "body must be a JSON object".to_owned()
            } else {
                format!("body is not valid JSON: {e}")
            };
            ApiError::invalid_field("body", what)
        })?;
        let mut errors = FieldErrors::new();
        for name in repeated {
            let message = format!("{name} appears more than once");
            errors.add(name, message);
        }
        Ok(JsonObject {
            members: by_name,
            errors,
        })
    }

    /// Takes field `name` out of the object.
    pub fn take(&mut self, name: &str) -> Field<'a> {
        match self.members.remove(name) {
            None => Field::Absent,
            Some(member) if member.value.get() == "null" => Field::Null,
            Some(member) => Field::Value(member.value),
        }
    }

    /// Takes a string field: `None` when absent, `Some(None)` for `null`, `Some(Some(text))`
    /// otherwise. A value of another type, or a string that is not Unicode (an escaped lone
    /// surrogate such as `"\ud800"`), is recorded as an error (and read as absent).
    pub fn take_string(&mut self, name: &str) -> Option<Option<String>> {
        match self.take(name) {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(raw) => match serde_json::from_str::<String>(raw.get()) {
                Ok(text) if text.contains('\0') => {
                    self.errors
                        .add(name, format!("{name} must not contain NUL characters"));
                    None
                }
                Ok(text) => Some(Some(text)),
                Err(_) if raw.get().starts_with('"') => {
                    self.errors.add(name, format!("{name} {NOT_UNICODE}"));
                    None
                }
                Err(_) => {
                    self.errors.add(name, format!("{name} must be a string"));
                    None
                }
            },
        }
    }

    /// True when the body has field `name` (even as `null`).
    pub fn has(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    /// Takes a text field that may not be `null`, trimmed and checked to hold 1 to `max`
    /// characters. A required field that is absent is recorded as an error.
    pub fn take_trimmed(&mut self, name: &str, required: bool, max: usize) -> Option<String> {
        if required && !self.has(name) {
            self.errors.add(name, format!("{name} is required"));
            return None;
        }
        match self.take_string(name)? {
            None => {
                self.errors.add(name, format!("{name} must be a string"));
                None
            }
            Some(text) => {
                let text = text.trim().to_owned();
                check_length(&mut self.errors, name, &text, 1, max);
                Some(text)
            }
        }
    }

    /// Takes a field that must be a JSON object, as compact JSON text that keeps its members'
    /// order and the exact text of its numbers. `Some(None)` for `null`. The object must be one
    /// every client can read back: see [`storable_json`].
    pub fn take_object(&mut self, name: &str) -> Option<Option<String>> {
        match self.take(name) {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(raw) if raw.get().starts_with('{') => {
                match storable_json(raw.get(), limits::EXTRA_FIELDS_MAX_DEPTH) {
                    Ok(compact) => Some(Some(compact)),
                    Err(problem) => {
                        self.errors.add(name, format!("{name} {problem}"));
                        None
                    }
                }
            }
            Field::Value(_) => {
                self.errors
                    .add(name, format!("{name} must be a JSON object"));
                None
            }
        }
    }

    /// Reports every field left untaken as unknown, in the order they appeared, and returns the
    /// 400 if any error was recorded.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let mut unknown: Vec<(usize, String)> = self
            .members
            .into_iter()
            .map(|(name, member)| (member.position, name))
            .collect();
        // Only the first few are listed; selecting them first keeps this linear.
        let listed = limits::FIELD_ERRORS_SHOWN.min(unknown.len());
        if listed < unknown.len() {
            unknown.select_nth_unstable(listed);
        }
        unknown[..listed].sort_unstable();
        for (_, name) in unknown {
            let message = format!("{name} is not a known field");
            self.errors.add(name, message);
        }
        self.errors.into_result(())
    }
}

/// The message for a string that decodes to no Unicode text.
const NOT_UNICODE: &str = "must be valid Unicode (no lone surrogate escapes)";

/// Checks that valid JSON text is also one every client can read back exactly as it was
/// stored: no string (key or value) that decodes to something other than Unicode (an escaped
/// lone surrogate: JSON's grammar allows it, UTF-8 cannot hold it), no object repeating a key at
/// any depth (parsers disagree on which one wins), and at most `max_depth` levels of nesting
/// (parsers that recurse per level give up on deep documents). Numbers are not parsed, so their
/// exact text stays whatever its size.
///
/// The same pass returns the text compact: the whitespace between tokens removed, strings and
/// numbers byte for byte as they were. One pass, time linear in the text.
///
/// `json` must already be valid JSON (a [`RawValue`]); the problem is returned as the end of a
/// sentence about the field (`"must not repeat the key \"a\""`).
pub fn storable_json(json: &str, max_depth: usize) -> Result<String, String> {
    /// An open array or object; an object remembers its keys and whether a key comes next.
    enum Open {
        Array,
        Object {
            keys: HashSet<String>,
            key_next: bool,
        },
    }
    let bytes = json.as_bytes();
    let mut compact = String::with_capacity(json.len());
    let mut open: Vec<Open> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                at += 1;
                continue;
            }
            b'{' | b'[' => {
                if open.len() == max_depth {
                    return Err(format!("must not nest deeper than {max_depth} levels"));
                }
                open.push(if bytes[at] == b'{' {
                    Open::Object {
                        keys: HashSet::new(),
                        key_next: true,
                    }
                } else {
                    Open::Array
                });
            }
            b'}' | b']' => {
                open.pop();
            }
            b',' => {
                if let Some(Open::Object { key_next, .. }) = open.last_mut() {
                    *key_next = true;
                }
            }
            b'"' => {
                let end = string_end(bytes, at);
                let literal = &json[at..end];
                let text: std::borrow::Cow<str> = if literal.contains('\\') {
                    serde_json::from_str::<String>(literal)
                        .map_err(|_| NOT_UNICODE.to_owned())?
                        .into()
                } else {
                    literal[1..literal.len() - 1].into()
                };
                if let Some(Open::Object { keys, key_next }) = open.last_mut() {
                    if *key_next {
                        *key_next = false;
                        // An error message is cut to a few dozen characters anyway.
                        let text = text.into_owned();
                        if keys.contains(&text) {
                            return Err(format!("must not repeat the key {text:?}"));
                        }
                        keys.insert(text);
                    }
                }
                compact.push_str(literal);
                at = end;
                continue;
            }
            _ => {}
        }
        // Outside strings valid JSON is ASCII: one byte is one character.
        compact.push(char::from(bytes[at]));
        at += 1;
    }
    Ok(compact)
}

/// The index just past the closing quote of the JSON string literal opening at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Records a broken domain text rule ([`rules::TextRule`]) on `field`, in the words
/// [`check_length`] and [`JsonObject::take_string`] use, so a rule that moved into the domain
/// answers exactly as before.
pub fn report_rule(errors: &mut FieldErrors, field: &str, rule: rules::TextRule) {
    match rule {
        rules::TextRule::Empty => errors.add(field, format!("{field} must not be empty")),
        rules::TextRule::TooLong { max } => {
            errors.add(field, format!("{field} must be at most {max} characters"))
        }
        rules::TextRule::Nul => {
            errors.add(field, format!("{field} must not contain NUL characters"))
        }
    }
}

/// Checks a trimmed text field's length in Unicode characters.
pub fn check_length(errors: &mut FieldErrors, field: &str, text: &str, min: usize, max: usize) {
    let chars = text.chars().count();
    if chars < min {
        errors.add(field, format!("{field} must not be empty"));
    } else if chars > max {
        errors.add(field, format!("{field} must be at most {max} characters"));
    }
}

/// A path or query id: a UUID in its hyphenated form, returned lowercase.
pub fn parse_uuid(text: &str) -> Option<String> {
    if text.len() != 36 {
        return None;
    }
    uuid::Uuid::try_parse(text).ok().map(|id| id.to_string())
}

/// The query string of a request: each parameter at most once, only the names a route knows,
/// decoded exactly as the canonical query string decodes it.
pub struct Query {
    params: Vec<(String, String)>,
    /// Errors found so far.
    pub errors: FieldErrors,
}

impl Query {
    /// Parses the request's query, recording unknown, repeated and undecodable parameters.
    pub fn parse(req: &HttpRequest, known: &[&str]) -> Query {
        let mut errors = FieldErrors::new();
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in canonical::query_pairs(req.query_string()) {
            let name = String::from_utf8_lossy(&name).into_owned();
            if !known.contains(&name.as_str()) {
                errors.add(
                    name.clone(),
                    format!("{name} is not a known query parameter"),
                );
                continue;
            }
            if params.iter().any(|(seen, _)| *seen == name) {
                errors.add(name.clone(), format!("{name} must be given at most once"));
                continue;
            }
            match String::from_utf8(value) {
                Ok(value) if !value.contains('\0') => params.push((name, value)),
                _ => errors.add(
                    name.clone(),
                    format!("{name} must be UTF-8 text without NUL"),
                ),
            }
        }
        Query { params, errors }
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `page` (default 1, at least 1) and `limit` (default 20, 1 to [`limits::PAGE_LIMIT_MAX`]).
    pub fn page_request(&mut self) -> PageRequest {
        let page = self.integer("page", 1, 1, i64::MAX);
        let limit = self.integer("limit", 20, 1, limits::PAGE_LIMIT_MAX);
        PageRequest { page, limit }
    }

    /// The whole number `name` from `min` to `max` (`default` when absent); anything else is
    /// recorded as bad.
    pub fn integer(&mut self, name: &str, default: i64, min: i64, max: i64) -> i64 {
        let Some(text) = self.get(name) else {
            return default;
        };
        match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) && text.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                let range = if max == i64::MAX {
                    format!("a whole number of at least {min}")
                } else {
                    format!("a whole number from {min} to {max}")
                };
                self.errors.add(name, format!("{name} must be {range}"));
                default
            }
        }
    }

    /// `search`, if given: at most [`limits::SEARCH_MAX`] characters.
    pub fn search(&mut self) -> Option<String> {
        let text = self.get("search")?;
        if text.chars().count() > limits::SEARCH_MAX {
            let max = limits::SEARCH_MAX;
            self.errors
                .add("search", format!("search must be at most {max} characters"));
            return None;
        }
        Some(text.to_owned())
    }

    /// `cursor`, if given: a list's `nextCursor`, read later for the request's scope. A cursor
    /// names its own page, so `page` may not come with it (the 400 names `page`).
    pub fn cursor(&mut self) -> Option<String> {
        let text = self.get("cursor")?.to_owned();
        if self.get("page").is_some() {
            self.errors.add(
                "page",
                "page cannot be sent with cursor (a cursor names the page it opens)",
            );
        }
        Some(text)
    }

    /// An optional UUID parameter, as the kind of id it names.
    pub fn uuid<Id: From<String>>(&mut self, name: &str) -> Option<Id> {
        let text = self.get(name)?;
        let id = parse_uuid(text).map(Id::from);
        if id.is_none() {
            self.errors.add(name, format!("{name} must be a UUID"));
        }
        id
    }

    /// The 400 listing every bad parameter, if any.
    pub fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result(())
    }
}

/// Rejects any query parameter on a route that takes none.
pub fn no_query(req: &HttpRequest) -> Result<(), ApiError> {
    Query::parse(req, &[]).finish()
}

/// The `{id}` of a route, as the kind of id the route names; a malformed one is recorded in
/// `errors`.
pub fn path_id<Id: From<String>>(req: &HttpRequest, errors: &mut FieldErrors) -> Option<Id> {
    let id = parse_uuid(req.match_info().get("id").unwrap_or_default()).map(Id::from);
    if id.is_none() {
        errors.add("id", "id must be a UUID");
    }
    id
}

/// The input of a route that takes only an `{id}` and no query: the id, or the 400.
pub fn id_only<Id: From<String>>(req: &HttpRequest) -> Result<Id, ApiError> {
    let mut query = Query::parse(req, &[]);
    let id = path_id(req, &mut query.errors);
    query.finish()?;
    id.ok_or_else(|| ApiError::internal("a bad id was not reported"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_json_keeps_strings_numbers_and_order() {
        let json = "{ \"b\" : 1.50e3 ,\n \"a\": [ \"x  y\", \"q\\\" z\" ], \"n\": 123456789012345678901234567890 }";
        assert_eq!(
            storable_json(json, 32).unwrap(),
            "{\"b\":1.50e3,\"a\":[\"x  y\",\"q\\\" z\"],\"n\":123456789012345678901234567890}"
        );
    }

    #[test]
    fn repeated_and_unknown_fields_are_each_reported() {
        let mut body = JsonObject::parse(br#"{"name":"a","name":"b","color":1}"#).unwrap();
        body.take_string("name");
        let Err(ApiError::InvalidInput(errors)) = body.finish() else {
            panic!("expected a 400");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "color"]);
    }

    #[test]
    fn a_field_repeated_many_times_is_reported_once() {
        let mut body = JsonObject::parse(br#"{"name":"a","name":"b","name":"c"}"#).unwrap();
        body.take_string("name");
        let Err(ApiError::InvalidInput(errors)) = body.finish() else {
            panic!("expected a 400");
        };
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["name appears more than once"]);
    }

    #[test]
    fn unknown_fields_are_listed_in_body_order_up_to_the_bound_then_counted() {
        let members: Vec<String> = (0..500).map(|i| format!("\"f{i}\":{i}")).collect();
        let body = format!("{{{}}}", members.join(","));
        let Err(ApiError::InvalidInput(errors)) =
            JsonObject::parse(body.as_bytes()).unwrap().finish()
        else {
            panic!("expected a 400");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        let expected: Vec<_> = (0..limits::FIELD_ERRORS_SHOWN)
            .map(|i| format!("f{i}"))
            .collect();
        assert_eq!(fields, expected);
        assert_eq!(errors.omitted(), 500 - limits::FIELD_ERRORS_SHOWN);
    }

    #[test]
    fn storable_json_accepts_what_every_parser_reads_alike() {
        let ok = [
            r#"{}"#,
            r#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#,
            r#"{"n":123456789012345678901234567890,"x":1e400,"s":"\ud83d\ude00 \"q\" \\"}"#,
            r#"{"a\"b":1,"a\\b":2,"ab":3}"#,
        ];
        for json in ok {
            assert!(storable_json(json, 32).is_ok(), "{json}");
        }
    }

    #[test]
    fn storable_json_refuses_repeated_keys_lone_surrogates_and_deep_nesting() {
        let refused = [
            (
                r#"{"role":"viewer","role":"admin"}"#,
                "must not repeat the key \"role\"",
            ),
            (
                r#"{"a":{"b":1,"\u0062":2}}"#,
                "must not repeat the key \"b\"",
            ),
            (r#"{"a":[{"k":1,"k":1}]}"#, "must not repeat the key \"k\""),
            (r#"{"a":"\ud800"}"#, NOT_UNICODE),
            (r#"{"\udfff":1}"#, NOT_UNICODE),
        ];
        for (json, problem) in refused {
            assert_eq!(storable_json(json, 32), Err(problem.to_owned()), "{json}");
        }
        let deep = |levels: usize| {
            format!(
                "{{\"a\":{}1{}}}",
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        assert!(storable_json(&deep(32), 32).is_ok());
        assert_eq!(
            storable_json(&deep(33), 32),
            Err("must not nest deeper than 32 levels".to_owned())
        );
    }

    #[test]
    fn a_key_repeated_in_sibling_objects_is_no_repetition() {
        assert_eq!(
            storable_json(r#"{"a":{"k":1},"b":{"k":2},"k":3}"#, 32).map(|_| ()),
            Ok(())
        );
    }

    #[test]
    fn uuids_are_accepted_only_hyphenated_and_returned_lowercase() {
        assert_eq!(
            parse_uuid("550E8400-E29B-41D4-A716-446655440000").as_deref(),
            Some("550e8400-e29b-41d4-a716-446655440000")
        );
        assert_eq!(parse_uuid("550e8400e29b41d4a716446655440000"), None);
        assert_eq!(parse_uuid("not-a-uuid"), None);
    }
}
