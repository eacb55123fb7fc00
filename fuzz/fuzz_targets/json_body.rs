//! `JsonObject::parse` (`src/routes/input.rs`) on arbitrary bytes, followed by the `take_*` calls
//! a group create makes and `finish`: what `POST /api/v1/user-groups` does with a body before any
//! database is involved.
//!
//! Written against the method names only (`parse`, `take_trimmed`, `take_string`,
//! `take_object`, `finish`), and against the README's rules rather than today's implementation,
//! so it holds across a rewrite of the parser:
//!
//! - an accepted body is one JSON object with no key but the four fields, none twice, a `name`
//!   string of 1 to 255 characters once trimmed, and no NUL in a text field; the values handed
//!   back are the ones sent, and `extraFields` is the client's text with only the insignificant
//!   whitespace removed, valid Unicode, with no key repeated at any depth and at most 32 levels
//!   deep (what every client can read back);
//! - a body that plainly satisfies those rules (valid Unicode everywhere, no duplicate key at
//!   any depth, shallow) is accepted;
//! - a refused body is a 400 whose every error names `body` or a field of the object (a long
//!   name shortened to its first characters and `…`), at most 50 of them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::{Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use usergroups::routes::input::JsonObject;
use usergroups::ApiError;

const FIELDS: [&str; 4] = ["name", "description", "externalId", "extraFields"];
const NAME_MAX: usize = 255;
/// Deeper than any real `extraFields`, shallower than any limit a parser could reasonably set.
const PLAIN_DEPTH: usize = 8;
/// The deepest `extraFields` the service stores (`limits::EXTRA_FIELDS_MAX_DEPTH`).
const STORED_DEPTH: usize = 32;

/// What the create handler got from the body.
#[derive(Debug)]
struct Taken {
    name: Option<String>,
    description: Option<Option<String>>,
    external_id: Option<Option<String>>,
    extra_fields: Option<Option<String>>,
}

fuzz_target!(|data: &[u8]| {
    let outcome = JsonObject::parse(data).and_then(|mut body| {
        let taken = Taken {
            name: body.take_trimmed("name", true, NAME_MAX),
            description: body.take_string("description"),
            external_id: body.take_string("externalId"),
            extra_fields: body.take_object("extraFields"),
        };
        body.finish().map(|()| taken)
    });
    let members = serde_json::from_slice::<Members>(data).ok().map(|m| m.0);
    match outcome {
        Ok(taken) => check_accepted(data, members.as_deref(), &taken),
        Err(ApiError::InvalidInput(errors)) => {
            assert!(
                !plainly_acceptable(data, members.as_deref()),
                "refused a plain body {:?}: {errors:?}",
                String::from_utf8_lossy(data)
            );
            assert!(!errors.is_empty());
            assert!(errors.iter().count() <= 50, "an unbounded error list");
            for error in errors.iter() {
                let shortened = error.field.strip_suffix('…');
                let of_the_object = members.iter().flatten().any(|(key, _)| {
                    *key == error.field || shortened.is_some_and(|prefix| key.starts_with(prefix))
                });
                assert!(
                    error.field == "body" || error.field == "name" || of_the_object,
                    "an error on a field not sent: {error:?}"
                );
            }
        }
        Err(other) => panic!("a body can only be a 400, got {other:?}"),
    }
});

fn check_accepted(data: &[u8], members: Option<&[(String, Box<RawValue>)]>, taken: &Taken) {
    let members = members.unwrap_or_else(|| {
        panic!(
            "accepted a body that is not one JSON object: {:?}",
            String::from_utf8_lossy(data)
        )
    });
    for (i, (key, _)) in members.iter().enumerate() {
        assert!(FIELDS.contains(&key.as_str()), "accepted unknown {key:?}");
        assert!(
            !members[..i].iter().any(|(earlier, _)| earlier == key),
            "accepted {key:?} twice"
        );
    }
    let raw = |name: &str| {
        members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.get())
    };

    let name = raw("name")
        .and_then(text)
        .expect("accepted without a string name");
    let trimmed = name.trim();
    assert!(
        (1..=NAME_MAX).contains(&trimmed.chars().count()),
        "name {name:?}"
    );
    assert!(!trimmed.contains('\0'));
    assert_eq!(taken.name.as_deref(), Some(trimmed));

    for (field, value) in [
        ("description", &taken.description),
        ("externalId", &taken.external_id),
    ] {
        let expected = raw(field).map(|json| {
            (json != "null").then(|| text(json).expect("accepted a field that is not a string"))
        });
        assert_eq!(value, &expected, "{field}");
        if let Some(Some(sent)) = &expected {
            assert!(!sent.contains('\0'), "accepted NUL in {field}");
        }
    }

    match (raw("extraFields"), &taken.extra_fields) {
        (None, None) => {}
        (Some("null"), Some(None)) => {}
        (Some(sent), Some(Some(kept))) => {
            assert!(sent.starts_with('{'), "accepted extraFields {sent:?}");
            assert_eq!(*kept, without_insignificant_whitespace(sent));
            match storable_shape(sent.as_bytes()) {
                Ok(depth) => assert!(depth <= STORED_DEPTH, "accepted extraFields {depth} deep"),
                // serde's numbers stop at f64; the service keeps any number's text.
                Err(e) if e.to_string().contains("number out of range") => {}
                Err(e) => panic!("accepted extraFields a client cannot read back ({e}): {sent:?}"),
            }
        }
        (sent, kept) => panic!("extraFields {sent:?} came back as {kept:?}"),
    }
}

/// A body the README unambiguously accepts: an object of the four fields at most once each,
/// with a usable name and text fields, valid Unicode throughout, no key repeated at any depth
/// and shallow. Only such bodies may never be refused.
fn plainly_acceptable(data: &[u8], members: Option<&[(String, Box<RawValue>)]>) -> bool {
    let Some(members) = members else {
        return false;
    };
    if shape(data).is_none_or(|depth| depth > PLAIN_DEPTH) {
        return false;
    }
    let mut seen = Vec::new();
    let mut named = false;
    for (key, value) in members {
        let value = value.get();
        if seen.contains(&key) || !FIELDS.contains(&key.as_str()) {
            return false;
        }
        seen.push(key);
        let fits = match key.as_str() {
            "name" => text(value).is_some_and(|t| {
                !t.contains('\0') && (1..=NAME_MAX).contains(&t.trim().chars().count())
            }),
            "description" | "externalId" => {
                value == "null" || text(value).is_some_and(|t| !t.contains('\0'))
            }
            _ => value == "null" || (value.starts_with('{') && !has_nul_escape(value)),
        };
        named |= key == "name";
        if !fits {
            return false;
        }
    }
    named
}

/// A JSON string's text, or `None` for any other JSON.
fn text(json: &str) -> Option<String> {
    serde_json::from_str::<String>(json).ok()
}

/// Whether JSON text escapes a NUL, which a stricter `extraFields` check might refuse.
fn has_nul_escape(json: &str) -> bool {
    json.to_ascii_lowercase().contains("\\u0000")
}

/// The client's JSON with the whitespace between tokens removed and strings left alone.
fn without_insignificant_whitespace(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// The top-level members of a JSON object, in order, repeats included.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Object)
    }
}

/// The nesting depth of valid JSON text whose strings are all valid Unicode and whose objects
/// never repeat a key; `None` for anything else.
fn shape(json: &[u8]) -> Option<usize> {
    storable_shape(json).ok()
}

/// As [`shape`], with the reason when the text is not such JSON.
fn storable_shape(json: &[u8]) -> Result<usize, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    // The depth asserted above 32 needs a deeper parse than serde_json's default 128 allows only
    // when the text is deeper still, which is a refusal anyway.
    let shape = Shape::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(shape.0)
}

struct Shape(usize);

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape(0))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape(0))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape(0))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape(0))
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape(0))
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape(0))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut depth = 0;
        while let Some(Shape(inner)) = seq.next_element()? {
            depth = depth.max(inner);
        }
        Ok(Shape(depth + 1))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut keys: Vec<String> = Vec::new();
        let mut depth = 0;
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(A::Error::custom("a repeated key"));
            }
            keys.push(key);
            let Shape(inner) = map.next_value()?;
            depth = depth.max(inner);
        }
        Ok(Shape(depth + 1))
    }
}
