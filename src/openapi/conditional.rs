//! The headers of conditional and idempotent writes on the operations of groups and users,
//! documented once here rather than on each handler: the `ETag` of their answers, the `If-Match` condition of a PUT or
//! DELETE (and its 412), the `Idempotency-Key` of a create (and its 422), and the
//! `Idempotent-Replayed` header of a stored answer. See `docs/lifecycle.md`.

use serde_json::json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Required};
use utoipa::Modify;

use super::error_response;

/// The modifier that documents the headers of conditional and idempotent writes and their
/// answers.
pub(super) struct ConditionalHeaders;

const RECORD_PATHS: [&str; 2] = ["/api/v1/user-groups/{id}", "/api/v1/users/{id}"];
const CREATE_PATHS: [&str; 2] = ["/api/v1/user-groups", "/api/v1/users"];
const RESTORE_PATHS: [&str; 2] = [
    "/api/v1/deleted-user-groups/{id}/restore",
    "/api/v1/deleted-users/{id}/restore",
];

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

fn header_parameter(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// Adds the `ETag` header to the operation's 2xx answers.
fn add_etag(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
            response.headers.insert(
                "ETag".to_owned(),
                string_header(
                    "The record's strong entity tag (`\"<version>\"`); every write changes \
                     it. Send it back in `If-Match` to make a PUT or DELETE conditional.",
                ),
            );
        }
    }
}

fn add_if_match(operation: &mut Operation) {
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(header_parameter(
            "If-Match",
            "Makes the write conditional: `*` or a list of ETags of this record. A record \
             whose ETag is not listed answers 412 and is not changed; the check is made under \
             the record's lock. Compared as strings (`\"02\"` is not `\"2\"`). On a signed request it \
             must be signed (listed in `SignedHeaders`), else 400; with a bearer token it is \
             sent as it is.",
        ));
    operation.responses.responses.insert(
        "412".to_owned(),
        error_response(
            "`If-Match` names no current ETag of the record: it changed since it was read. \
             Nothing was changed.",
            json!({"statusCode": 412,
                   "message": "The resource was changed since the version named in If-Match",
                   "reason": "precondition_failed"}),
            &[],
        ),
    );
}

fn add_idempotency_key(operation: &mut Operation) {
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(header_parameter(
            "Idempotency-Key",
            "1 to 255 visible ASCII characters, chosen by the client, per access key. The first \
             create with the key is answered and remembered for 24 hours; the same request \
             again (same method, path and body) gets that answer again, even as the exact \
             resend of an already used signature, and creates nothing. On a signed request it \
             must be signed (listed in `SignedHeaders`), else 400; with a bearer token it is \
             sent as it is.",
        ));
    operation.responses.responses.insert(
        "422".to_owned(),
        error_response(
            "The `Idempotency-Key` was used within 24 hours for another request (another body \
             or path).",
            json!({"statusCode": 422,
                   "message": "Idempotency-Key was already used for a different request",
                   "reason": "idempotency_key_reused"}),
            &[],
        ),
    );
    if let Some(RefOr::T(created)) = operation.responses.responses.get_mut("201") {
        created.headers.insert(
            "Idempotent-Replayed".to_owned(),
            string_header(
                "`true` when this is the remembered answer of an earlier request with the same \
                 `Idempotency-Key`.",
            ),
        );
    }
}

impl Modify for ConditionalHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if RECORD_PATHS.contains(&path.as_str()) {
                for operation in [&mut item.put, &mut item.delete].into_iter().flatten() {
                    add_if_match(operation);
                }
                for operation in [&mut item.get, &mut item.put, &mut item.delete]
                    .into_iter()
                    .flatten()
                {
                    add_etag(operation);
                }
            } else if CREATE_PATHS.contains(&path.as_str()) {
                if let Some(operation) = item.post.as_mut() {
                    add_idempotency_key(operation);
                    add_etag(operation);
                }
            } else if RESTORE_PATHS.contains(&path.as_str()) {
                if let Some(operation) = item.post.as_mut() {
                    add_etag(operation);
                }
            }
        }
    }
}
