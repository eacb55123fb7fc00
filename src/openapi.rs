//! The OpenAPI 3.1 document of the API, served unsigned at `GET /openapi.json`.
//!
//! It is generated from the code rather than kept by hand: the JSON shapes come from the
//! `ToSchema` derives in [`crate::api`], each operation from the `#[utoipa::path]` attribute on
//! its handler in [`crate::routes`], and this module adds what belongs to no single handler: the
//! `onlivesite` security scheme, the error answers every signed route shares (and the 408 of a
//! stalled body, added to each of them), the `x-request-id` header of every response and the
//! rate-limit headers of every answer to a signed request. The document is built once, on first request, and
//! then served as the same bytes. `tests/api/openapi.rs` checks it against the routes that
//! [`crate::server::configure`] registers and validates every example in it against its schema.

mod conditional;

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde_json::json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, OAuth2, Scopes, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi, ToResponse};

use conditional::ConditionalHeaders;

use crate::api::nscale::{
    GroupRead, GroupReadMetadata, GroupReadSpec, GroupWrite, GroupWriteMetadata, GroupWriteSpec,
    HealthStatus, ProvisioningStatus, RoleRead, RoleReadMetadata, Tag,
};
use crate::api::{
    CreateGroup, CreateUser, DeletedGroup, DeletedUser, ErrorBody, Event, EventPage, FieldError,
    Group, Page, UpdateGroup, UpdateUser, User,
};
use crate::routes::nscale::error::{NscaleErrorBody, PREFIX as NSCALE_PREFIX};
use crate::routes::nscale::token::{self, TokenRequest, TokenResponse};
use crate::routes::onlive::{deleted, events, groups, users};
use crate::routes::ApiError;
use crate::routes::{health, metrics, nscale, JSON_UTF8};

/// The name of the security scheme every `/api/v1` operation requires.
pub const SECURITY_SCHEME: &str = "onlivesite";

/// The name of the OAuth2 client-credentials scheme every `/api/v1` operation also accepts.
pub const OAUTH2_SCHEME: &str = "oauth2";

/// What the `oauth2` scheme's description tells a client author.
const OAUTH2_DESCRIPTION: &str = "\
Instead of signing each request, a client may present a bearer token (`Authorization: Bearer \
<access_token>`, RFC 6750) on every route under `/api/v1/`. `POST /oauth2/v2/token` issues it \
for an access key's id and secret (`grant_type=client_credentials`, RFC 6749 §4.4); it acts \
with the key's organization and permissions until `expires_in` seconds have passed or the key \
is revoked. Scopes are accepted and echoed but grant nothing beyond the key's permissions. A \
bad token is a 401 with reason `invalid_token`.";

/// The media type of every JSON body in the document. The server answers with
/// `application/json; charset=utf-8` and accepts `application/json` or `application/*+json`.
const JSON: &str = "application/json";

/// What the `onlivesite` scheme's description tells a client author.
const SECURITY_DESCRIPTION: &str = "\
Every request under `/api/v1/` is signed with the ONLIVESITE-HMAC-SHA256 scheme, a \
SigV4-style HMAC (see the README's \"Signing\" section and `signing.md` of the contract). \
The client sends two headers:\n\n    \
x-onlive-site-date: 20261122T101500Z\n    \
Authorization: ONLIVESITE Credential:<AccessKeyId>, Signature=<64 lowercase hex>\n\n\
`x-onlive-site-date` is the request time in UTC (`YYYYMMDDTHHMMSSZ`), within 15 minutes of \
the server's clock. The signature is the lowercase hex HMAC-SHA256, under the secret access key, \
of `ONLIVESITE-HMAC-SHA256\\n<x-onlive-site-date>\\n<hex SHA-256 of the canonical request>`, \
where the canonical request is the method, the path as sent, the canonical query string, the \
signed headers (`host;x-onlive-site-date` unless `SignedHeaders=` lists more) and the hex \
SHA-256 of the body, one per line. A POST, PUT or DELETE signature is accepted once: two \
identical writes in one second must differ by a signed nonce header such as \
`x-onlive-site-nonce`. Every failure is a 401 whose `reason` names the failed check.";

/// The document's overview.
const DESCRIPTION: &str = "\
An organization's user groups and users, compatible with the Onlive Open API. Every route \
under `/api/v1/` requires a signed request (the `onlivesite` security scheme) and acts on the \
organization that owns the access key; another organization's rows answer exactly like rows \
that do not exist. A bearer token of `POST /oauth2/v2/token` (the `oauth2` scheme) may be sent \
instead of a signature. `/healthz`, `/readyz`, `/openapi.json`, `/metrics` and the token endpoint \
are unsigned, and so is the API browser at `/docs` (a page for people, not an operation).\n\n\
Everything but `/metrics` (the Prometheus text format) is JSON (`application/json; \
charset=utf-8`); times are RFC 3339 UTC with whole \
seconds (`2025-05-22T10:30:00Z`); ids are lowercase UUID v7. Deletion is a soft delete: the \
final object is returned with `deletedAt` and is never visible again through the routes of \
groups and users; the `lifecycle` routes list and restore deleted rows until the retention \
purge removes them, and serve the change feed.\n\n\
The trailing-slash form of each path (`/api/v1/user-groups/`, `/api/v1/users/{id}/`) is \
accepted too and answers the same. Unknown or repeated query parameters and unknown JSON \
fields are a 400 listing every bad field.\n\n\
Every non-2xx answer has the `ErrorBody` shape, including the 404 `\"Route not found\"` of an \
unknown path and the 405 `\"Method not allowed\"` (with an `Allow` header) of another method on \
a known path. When several answers apply, the first of this list wins: 413, 401, 429, \
404/405 for the route, 403 for a missing permission, 415, 400, 404 for a missing resource, \
then 403/409 for the state of the data. Every response carries an `x-request-id` header.\n\n\
Each access key has a budget of reads (GET) and one of writes (POST, PUT, DELETE) per minute, \
1000 and 100 by default, per server instance. Every answer to a correctly signed request \
carries `X-RateLimit-Limit` (the budget of its kind per minute) and `X-RateLimit-Remaining`; \
over the budget the answer is 429 with `Retry-After`. A request whose body stops arriving for \
longer than the request timeout (10 seconds by default) is answered 408.";

/// The OpenAPI document: every route of [`crate::server::configure`] with its bodies, status
/// codes and security. Build it with [`document`], or take the served bytes from
/// [`document_json`].
#[derive(OpenApi)]
#[openapi(
    info(title = "usergroups", description = DESCRIPTION),
    // Relative: the instance serving this document, whatever its address (the API browser at
    // `/docs` sends its requests there).
    servers((url = "/", description = "This instance: the server that serves this document")),
    paths(
        groups::create_group,
        groups::list_groups,
        groups::get_group,
        groups::update_group,
        groups::delete_group,
        users::create_user,
        users::list_users,
        users::get_user,
        users::update_user,
        users::delete_user,
        deleted::list_deleted_groups,
        deleted::restore_group,
        deleted::list_deleted_users,
        deleted::restore_user,
        events::list_events,
        health::healthz,
        health::readyz,
        metrics::get_metrics,
        get_openapi,
        token::issue_token,
        nscale::groups::list_groups,
        nscale::groups::create_group,
        nscale::groups::get_group,
        nscale::groups::update_group,
        nscale::groups::delete_group,
        nscale::groups::undelete_group,
        nscale::roles::list_roles,
    ),
    components(
        schemas(
            Group,
            User,
            Page<Group>,
            Page<User>,
            DeletedGroup,
            DeletedUser,
            Page<DeletedGroup>,
            Page<DeletedUser>,
            Event,
            EventPage,
            CreateGroup,
            UpdateGroup,
            CreateUser,
            UpdateUser,
            ErrorBody,
            FieldError,
            crate::role::Role,
            health::Status,
            GroupWrite,
            GroupWriteMetadata,
            GroupWriteSpec,
            GroupRead,
            GroupReadMetadata,
            GroupReadSpec,
            Tag,
            ProvisioningStatus,
            HealthStatus,
            RoleRead,
            RoleReadMetadata,
            TokenRequest,
            TokenResponse,
            NscaleErrorBody,
        ),
        responses(
            Unauthorized,
            PayloadTooLarge,
            UnsupportedMediaType,
            TooManyRequests,
            RequestTimeout,
            InternalError,
            Unavailable,
            NscaleUnauthorized,
            NscalePayloadTooLarge,
            NscaleUnsupportedMediaType,
            NscaleTooManyRequests,
            NscaleRequestTimeout,
            NscaleInternalError,
            NscaleUnavailable,
        ),
    ),
    modifiers(&Signing, &ConditionalHeaders, &SignedAnswers, &RequestIdHeader),
    tags(
        (name = "user-groups",
            description = "User groups: create, list, read, partially update and soft-delete."),
        (name = "users", description = "Users and their membership of one group (`userGroupId`)."),
        (name = "lifecycle", description = "Deleted groups and users (listed until the \
            retention purge removes them, and restored), and the change feed. Every permission \
            of these routes must be granted by name: no key has one by default."),
        (name = "service", description = "Unsigned probes and this document."),
        (name = "nscale", description = "The nscale Identity dialect of the same groups: \
            OAuth2 client credentials (`POST /oauth2/v2/token`, unsigned) and their bearer \
            tokens, `/api/v1/organizations/{organizationID}/groups` and the built-in roles, with \
            `{\"error\", \"error_description\"}` error bodies."),
    ),
)]
pub struct ApiDoc;

/// The document as a value, freshly generated.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as the JSON text `GET /openapi.json` serves, generated once per process.
pub fn document_json() -> Result<&'static str, ApiError> {
    static DOCUMENT: OnceLock<Result<String, String>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| document().to_json().map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| ApiError::internal(format!("the OpenAPI document does not serialize: {e}")))
}

/// `GET /openapi.json`: the OpenAPI document, unsigned; 405 for other methods.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    summary = "This OpenAPI document (unsigned)",
    responses(
        (status = 200, description = "This document (OpenAPI 3.1).", content_type = JSON,
            body = Object),
        (status = 500, response = InternalError),
    ),
)]
pub async fn get_openapi() -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .content_type(JSON_UTF8)
        .body(document_json()?))
}

/// Adds the `onlivesite` and `oauth2` security schemes, and `oauth2` as the alternative to a
/// signature on every `/api/v1` operation (the authentication middleware takes either there).
struct Signing;

impl Modify for Signing {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SECURITY_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                SECURITY_DESCRIPTION,
            ))),
        );
        components.add_security_scheme(
            OAUTH2_SCHEME,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth2/v2/token",
                    Scopes::new(),
                ))],
                OAUTH2_DESCRIPTION,
            )),
        );
        let bearer = SecurityRequirement::new(OAUTH2_SCHEME, Vec::<String>::new());
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !is_signed(path) {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let security = operation.security.get_or_insert_with(Vec::new);
                if !security.contains(&bearer) {
                    security.push(bearer.clone());
                }
            }
        }
    }
}

/// What operations share beyond their own `#[utoipa::path]`, which lists only the answers of
/// the handler itself: every operation under `/api/v1/` can be answered 401, 408 (a stalled
/// body: the authentication middleware reads every body), 413, 429, 500 and 503, and 415 when
/// it takes a body; `/readyz` 500 and 503; `/metrics` 500. Each answer given after the
/// signature was verified (all but 401, 408 and 413) carries the rate-limit headers.
struct SignedAnswers;

/// Whether the operation at `path` requires a signed request (and so is rate limited).
fn is_signed(path: &str) -> bool {
    path.starts_with("/api/v1/")
}

/// The shared answers of the operation at `path` (status, component name), per
/// [`SignedAnswers`].
fn shared_answers(path: &str, takes_body: bool) -> Vec<(&'static str, &'static str)> {
    if path.starts_with(NSCALE_PREFIX) {
        // The same answers in the nscale dialect's body (`routes::nscale::error`).
        let mut answers = vec![
            ("401", "NscaleUnauthorized"),
            ("408", "NscaleRequestTimeout"),
            ("413", "NscalePayloadTooLarge"),
            ("429", "NscaleTooManyRequests"),
            ("500", "NscaleInternalError"),
            ("503", "NscaleUnavailable"),
        ];
        if takes_body {
            answers.push(("415", "NscaleUnsupportedMediaType"));
        }
        answers
    } else if is_signed(path) {
        let mut answers = vec![
            ("401", "Unauthorized"),
            ("408", "RequestTimeout"),
            ("413", "PayloadTooLarge"),
            ("429", "TooManyRequests"),
            ("500", "InternalError"),
            ("503", "Unavailable"),
        ];
        if takes_body {
            answers.push(("415", "UnsupportedMediaType"));
        }
        answers
    } else if path == "/readyz" {
        vec![("500", "InternalError"), ("503", "Unavailable")]
    } else if path == "/metrics" {
        vec![("500", "InternalError")]
    } else {
        Vec::new()
    }
}

impl Modify for SignedAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let headers = rate_limit_headers();
        let operations = openapi.paths.paths.iter_mut().flat_map(|(path, item)| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            .map(move |operation| (path.as_str(), operation))
        });
        for (path, operation) in operations {
            let shared = shared_answers(path, operation.request_body.is_some());
            let responses = &mut operation.responses.responses;
            for (status, name) in shared {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
            if !is_signed(path) {
                continue;
            }
            let counted = responses
                .iter_mut()
                .filter(|(status, _)| !matches!(status.as_str(), "401" | "408" | "413"));
            for (_, response) in counted {
                if let RefOr::T(response) = response {
                    for (name, header) in &headers {
                        response.headers.insert((*name).to_owned(), header.clone());
                    }
                }
            }
        }
    }
}

/// `X-RateLimit-Limit` and `X-RateLimit-Remaining`, as documented on each counted answer.
fn rate_limit_headers() -> [(&'static str, utoipa::openapi::header::Header); 2] {
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .description(Some(description))
            .build()
    };
    [
        (
            "X-RateLimit-Limit",
            header(
                "The access key's budget per minute for this kind of request (reads: GET; \
                 writes: every other method), on this instance. Absent when that kind has no \
                 limit.",
            ),
        ),
        (
            "X-RateLimit-Remaining",
            header(
                "How many more requests of this kind the key may make right now; one comes \
                 back every 60 / limit seconds.",
            ),
        ),
    ]
}

/// Documents the `x-request-id` header on every response.
struct RequestIdHeader;

impl Modify for RequestIdHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let header = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(
                "The request's id: the client's own `x-request-id` when it sent a short \
                 printable one, else a new one. 5xx causes are logged with it.",
            ))
            .build();
        let operations = openapi
            .paths
            .paths
            .values_mut()
            .flat_map(|item| {
                [
                    &mut item.get,
                    &mut item.put,
                    &mut item.post,
                    &mut item.delete,
                    &mut item.options,
                    &mut item.head,
                    &mut item.patch,
                    &mut item.trace,
                ]
            })
            .flatten();
        let mut responses: Vec<&mut Response> = operations
            .flat_map(|operation| operation.responses.responses.values_mut())
            .filter_map(|response| match response {
                RefOr::T(response) => Some(response),
                RefOr::Ref(_) => None,
            })
            .collect();
        if let Some(components) = openapi.components.as_mut() {
            responses.extend(components.responses.values_mut().filter_map(
                |response| match response {
                    RefOr::T(response) => Some(response),
                    RefOr::Ref(_) => None,
                },
            ));
        }
        for response in responses {
            response
                .headers
                .insert("x-request-id".to_owned(), header.clone());
        }
    }
}

/// An error answer shared by many operations: the `ErrorBody` schema, a description, one
/// example, and the headers that answer carries.
fn error_response(
    description: &str,
    example: serde_json::Value,
    headers: &[(&str, &str)],
) -> RefOr<Response> {
    error_response_of("ErrorBody", description, example, headers)
}

/// [`error_response`] with the body schema `schema`.
fn error_response_of(
    schema: &str,
    description: &str,
    example: serde_json::Value,
    headers: &[(&str, &str)],
) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .example(Some(example))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(JSON, content);
    for (name, description) in headers {
        response = response.header(
            *name,
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(*description))
                .build(),
        );
    }
    RefOr::T(response.build())
}

/// 401: the signature checks failed.
pub struct Unauthorized;

impl<'r> ToResponse<'r> for Unauthorized {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "Unauthorized",
            error_response(
                "The request is not correctly signed. `reason` names the failed check: \
                 `missing_authorization`, `malformed_authorization`, `missing_date`, \
                 `malformed_date`, `request_expired`, `request_from_future`, \
                 `unknown_access_key`, `revoked_access_key`, `signature_mismatch` or \
                 `replayed_request`; `invalid_token` for a bearer token that is unknown, expired \
                 or of a revoked key. Any path under `/api/v1/` answers this before routing, \
                 so unsigned callers learn nothing about the routes.",
                json!({"statusCode": 401,
                       "message": "Invalid or missing authorization credentials",
                       "reason": "signature_mismatch"}),
                &[(
                    "WWW-Authenticate",
                    "`ONLIVESITE`, the scheme the request must be signed with.",
                )],
            ),
        )
    }
}

/// 413: the body is over the configured limit.
pub struct PayloadTooLarge;

impl<'r> ToResponse<'r> for PayloadTooLarge {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "PayloadTooLarge",
            error_response(
                "The request body is over the limit (1 MiB by default), whatever the method.",
                json!({"statusCode": 413, "message": "Request body is too large"}),
                &[],
            ),
        )
    }
}

/// 415: a POST or PUT without a JSON content type.
pub struct UnsupportedMediaType;

impl<'r> ToResponse<'r> for UnsupportedMediaType {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "UnsupportedMediaType",
            error_response(
                "The body is not declared as JSON: the content type must be `application/json` \
                 or `application/*+json`, with no parameter other than `charset=utf-8`.",
                json!({"statusCode": 415, "message": "Content-Type must be application/json"}),
                &[],
            ),
        )
    }
}

/// 429: over the access key's rate limit.
pub struct TooManyRequests;

impl<'r> ToResponse<'r> for TooManyRequests {
    fn response() -> (&'r str, RefOr<Response>) {
        let mut response = error_response(
            "Over the access key's rate limit for this kind of request: 1000 reads (GET) and \
             100 writes (every other method) a minute by default, as Onlive documents, per \
             server instance. Counted only after the signature is verified, and before routing: \
             this answer wins over 404/405, 403, 415 and 400.",
            json!({"statusCode": 429, "message": "Too many requests", "reason": "rate_limited"}),
            &[(
                "Retry-After",
                "Whole seconds (at least 1) until the key's next request of this kind is served.",
            )],
        );
        if let RefOr::T(response) = &mut response {
            for (name, header) in rate_limit_headers() {
                response.headers.insert(name.to_owned(), header);
            }
        }
        ("TooManyRequests", response)
    }
}

/// 408: the body stopped arriving before it was complete.
pub struct RequestTimeout;

impl<'r> ToResponse<'r> for RequestTimeout {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "RequestTimeout",
            error_response(
                "The request's body did not arrive within the request timeout (10 seconds by \
                 default). The connection is closed. (A request whose head does not arrive in \
                 time is closed by the server with a bare 408, or without an answer.)",
                json!({"statusCode": 408, "message": "Request body was not received in time"}),
                &[("Connection", "`close`.")],
            ),
        )
    }
}

/// 500: a bug or an unexpected failure.
pub struct InternalError;

impl<'r> ToResponse<'r> for InternalError {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "InternalError",
            error_response(
                "Something unexpected failed. The message is opaque; the cause is logged with \
                 the request's `x-request-id`.",
                json!({"statusCode": 500, "message": "Internal server error"}),
                &[],
            ),
        )
    }
}

/// 503: the database is unreachable, locked or overloaded.
pub struct Unavailable;

impl<'r> ToResponse<'r> for Unavailable {
    fn response() -> (&'r str, RefOr<Response>) {
        (
            "Unavailable",
            error_response(
                "The database is unreachable, locked or overloaded; the request may be retried.",
                json!({"statusCode": 503, "message": "Service temporarily unavailable"}),
                &[("Retry-After", "Seconds to wait before trying again (1).")],
            ),
        )
    }
}

/// Declares one shared answer of the nscale operations: `NscaleErrorBody`, `Cache-Control:
/// no-cache`, and the headers given.
macro_rules! nscale_answer {
    ($(#[$meta:meta])* $name:ident, $status:literal, $code:literal, $text:literal,
     $description:literal $(, ($header:literal, $header_text:literal))*) => {
        $(#[$meta])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (
                    stringify!($name),
                    error_response_of(
                        "NscaleErrorBody",
                        $description,
                        json!({"error": $code, "error_description": $text}),
                        &[
                            ("Cache-Control", "`no-cache`."),
                            $(($header, $header_text),)*
                        ],
                    ),
                )
            }
        }
    };
}

nscale_answer!(
    /// 401 of the nscale operations.
    NscaleUnauthorized, 401, "access_denied", "authorization header missing",
    "No usable credentials: no `Authorization` (\"authorization header missing\"), a malformed \
     one, or a refused token or signature (\"token validation failed\").",
    ("WWW-Authenticate", "`Bearer`, with `error=\"invalid_request\"` or \
      `error=\"invalid_token\"` where that applies.")
);
nscale_answer!(
    /// 408 of the nscale operations.
    NscaleRequestTimeout, 408, "invalid_request", "request body was not received in time",
    "The request's body did not arrive within the request timeout (10 seconds by default).",
    ("Connection", "`close`.")
);
nscale_answer!(
    /// 413 of the nscale operations.
    NscalePayloadTooLarge, 413, "request_entity_too_large",
    "request body is over the limit of 1048576 bytes",
    "The request body is over the limit (1 MiB by default)."
);
nscale_answer!(
    /// 415 of the nscale operations.
    NscaleUnsupportedMediaType, 415, "unsupported_media_type",
    "content type must be application/json",
    "The body is not declared as JSON (`application/json` or `application/*+json`)."
);
nscale_answer!(
    /// 429 of the nscale operations.
    NscaleTooManyRequests, 429, "rate_limited", "too many requests",
    "Over the access key's rate limit, as on the Onlive routes.",
    ("Retry-After", "Whole seconds (at least 1) until the key's next request of this kind.")
);
nscale_answer!(
    /// 500 of the nscale operations.
    NscaleInternalError, 500, "server_error", "internal server error",
    "Something unexpected failed; the cause is logged with the request's `x-request-id`."
);
nscale_answer!(
    /// 503 of the nscale operations.
    NscaleUnavailable, 503, "temporarily_unavailable", "service temporarily unavailable",
    "The database is unreachable, locked or overloaded; the request may be retried.",
    ("Retry-After", "Seconds to wait before trying again (1).")
);
