//! Reading client input strictly, so every bad field becomes one entry of a 400's `errors`:
//! the JSON content type (415), the JSON object body (unknown, repeated and mistyped fields),
//! the query string (decoded exactly as the signature's canonical query decodes it) and path ids.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::HttpRequest;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::auth::canonical;
use crate::error::{ApiError, FieldErrors};
use crate::models::PageRequest;

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

/// The top-level members of a JSON object, in order, with their values still as JSON text.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A JSON object body, taken apart field by field. Fields not taken are reported as unknown by
/// [`JsonObject::finish`], together with every other error recorded on the way.
pub struct JsonObject<'a> {
    members: Vec<(String, &'a RawValue)>,
    /// Errors found so far; handlers add their own validation errors here too.
    pub errors: FieldErrors,
}

impl<'a> JsonObject<'a> {
    /// Parses `body` as one JSON object; anything else is a 400 on `body`.
    pub fn parse(body: &'a [u8]) -> Result<Self, ApiError> {
        let Members(members) = serde_json::from_slice(body).map_err(|e| {
            let what = if e.is_data() || body.iter().all(u8::is_ascii_whitespace) {
                "body must be a JSON object".to_owned()
            } else {
                format!("body is not valid JSON: {e}")
            };
            ApiError::invalid_field("body", what)
        })?;
        let mut errors = FieldErrors::new();
        for (i, (name, _)) in members.iter().enumerate() {
            if members[..i].iter().any(|(earlier, _)| earlier == name) {
                errors.add(name.clone(), format!("{name} appears more than once"));
            }
        }
        Ok(JsonObject { members, errors })
    }

    /// Takes field `name` out of the object.
    pub fn take(&mut self, name: &str) -> Field<'a> {
        let mut found = Field::Absent;
        self.members.retain(|(key, value)| {
            if key != name {
                return true;
            }
            found = if value.get() == "null" {
                Field::Null
            } else {
                Field::Value(value)
            };
            false
        });
        found
    }

    /// Takes a string field: `None` when absent, `Some(None)` for `null`, `Some(Some(text))`
    /// otherwise. A value of another type is recorded as an error (and read as absent).
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
                Err(_) => {
                    self.errors.add(name, format!("{name} must be a string"));
                    None
                }
            },
        }
    }

    /// True when the body has field `name` (even as `null`).
    pub fn has(&self, name: &str) -> bool {
        self.members.iter().any(|(key, _)| key == name)
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
    /// order and the exact text of its numbers. `Some(None)` for `null`.
    pub fn take_object(&mut self, name: &str) -> Option<Option<String>> {
        match self.take(name) {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(raw) if raw.get().starts_with('{') => Some(Some(compact_json(raw.get()))),
            Field::Value(_) => {
                self.errors
                    .add(name, format!("{name} must be a JSON object"));
                None
            }
        }
    }

    /// Reports every field left untaken as unknown and returns the 400 if any error was recorded.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let mut reported: Vec<&str> = Vec::new();
        for (name, _) in &self.members {
            if !reported.contains(&name.as_str()) {
                self.errors
                    .add(name.clone(), format!("{name} is not a known field"));
                reported.push(name);
            }
        }
        self.errors.into_result(())
    }
}

/// Removes the whitespace between the tokens of valid JSON text, leaving strings and numbers
/// byte for byte as they were.
pub fn compact_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
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

    /// `page` (default 1, at least 1) and `limit` (default 20, 1 to 100).
    pub fn page_request(&mut self) -> PageRequest {
        let page = self.integer("page", 1, 1, i64::MAX);
        let limit = self.integer("limit", 20, 1, 100);
        PageRequest { page, limit }
    }

    fn integer(&mut self, name: &str, default: i64, min: i64, max: i64) -> i64 {
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

    /// An optional UUID parameter.
    pub fn uuid(&mut self, name: &str) -> Option<String> {
        let text = self.get(name)?;
        let id = parse_uuid(text);
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

/// The `{id}` of a route; a malformed one is recorded in `errors`.
pub fn path_id(req: &HttpRequest, errors: &mut FieldErrors) -> Option<String> {
    let id = parse_uuid(req.match_info().get("id").unwrap_or_default());
    if id.is_none() {
        errors.add("id", "id must be a UUID");
    }
    id
}

/// The input of a route that takes only an `{id}` and no query: the id, or the 400.
pub fn id_only(req: &HttpRequest) -> Result<String, ApiError> {
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
            compact_json(json),
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
    fn uuids_are_accepted_only_hyphenated_and_returned_lowercase() {
        assert_eq!(
            parse_uuid("550E8400-E29B-41D4-A716-446655440000").as_deref(),
            Some("550e8400-e29b-41d4-a716-446655440000")
        );
        assert_eq!(parse_uuid("550e8400e29b41d4a716446655440000"), None);
        assert_eq!(parse_uuid("not-a-uuid"), None);
    }
}
