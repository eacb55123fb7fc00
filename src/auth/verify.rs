//! Checking a signed request, in the order `signing.md` §4 gives, with one reason code per
//! failure. The header checks are pure ([`Claim::from_headers`]); the key lookup, the signature
//! comparison and the replay guard run together on one database connection ([`Claim::verify`]).

use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

use super::canonical;
use super::header::{self, DATE_HEADER};
use super::PermissionSet;
use crate::db::{DbConnection, StoreError};
use crate::ids::{AccessKeyId, OrganizationId};
use crate::models::used_signature::MAX_SIGNATURE_SKEW_SECONDS;
use crate::models::{AccessKey, UsedSignature};
use crate::secrets::Keyring;

/// Why a request's signature was refused: the `reason` of the 401 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    MissingAuthorization,
    /// An `Authorization` header outside the grammar, repeated, or signing an absent header.
    MalformedAuthorization,
    /// No `x-onlive-site-date` header.
    MissingDate,
    /// A date header that is not one `YYYYMMDDTHHMMSSZ` instant.
    MalformedDate,
    /// Dated before the allowed skew.
    RequestExpired,
    /// Dated after the allowed skew.
    RequestFromFuture,
    /// No key with this id.
    UnknownAccessKey,
    /// The key was revoked.
    RevokedAccessKey,
    /// The signature is not the one the key's secret gives.
    SignatureMismatch,
    /// This exact unsafe request was already accepted.
    ReplayedRequest,
}

impl AuthFailure {
    /// The reason code of the 401 body.
    pub fn reason(self) -> &'static str {
        match self {
            AuthFailure::MissingAuthorization => "missing_authorization",
            AuthFailure::MalformedAuthorization => "malformed_authorization",
            AuthFailure::MissingDate => "missing_date",
            AuthFailure::MalformedDate => "malformed_date",
            AuthFailure::RequestExpired => "request_expired",
            AuthFailure::RequestFromFuture => "request_from_future",
            AuthFailure::UnknownAccessKey => "unknown_access_key",
            AuthFailure::RevokedAccessKey => "revoked_access_key",
            AuthFailure::SignatureMismatch => "signature_mismatch",
            AuthFailure::ReplayedRequest => "replayed_request",
        }
    }
}

/// Why authentication did not yield a principal: the request was refused (a 401 with its
/// reason), or the store could not be asked (the client may retry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The credentials were checked and refused.
    #[error("refused: {}", .0.reason())]
    Refused(AuthFailure),
    /// The key or the replay guard could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AuthFailure> for AuthError {
    fn from(failure: AuthFailure) -> Self {
        AuthError::Refused(failure)
    }
}

impl From<diesel::result::Error> for AuthError {
    fn from(error: diesel::result::Error) -> Self {
        AuthError::Store(error.into())
    }
}

/// The identity a verified request acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key's id.
    pub access_key_id: AccessKeyId,
    /// The organization the key acts for.
    pub organization_id: OrganizationId,
    /// What the key may do.
    pub permissions: PermissionSet,
}

/// What the headers of a request claim, checked for form and freshness but not yet against a key.
#[derive(Debug, Clone)]
pub struct Claim {
    access_key_id: AccessKeyId,
    signed_headers: Vec<String>,
    signature: [u8; 32],
    date_text: String,
    date: DateTime<Utc>,
}

/// The one value of a header that must not repeat: `Err(())` when sent more than once.
fn single_value<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a [u8]>, ()> {
    let mut values = headers.get_all(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    Ok(first.map(|v| v.as_bytes()))
}

impl Claim {
    /// Checks the `Authorization` and date headers and the date window, in the contract's order.
    ///
    /// A `skew` above [`MAX_SIGNATURE_SKEW_SECONDS`] acts as that maximum: `serve` refuses such a
    /// setting at start, and a [`crate::Limits`] built in code must not open the replay guard.
    pub fn from_headers(
        headers: &HeaderMap,
        now: DateTime<Utc>,
        skew: Duration,
    ) -> Result<Claim, AuthFailure> {
        let authorization = single_value(headers, "authorization")
            .map_err(|()| AuthFailure::MalformedAuthorization)?
            .ok_or(AuthFailure::MissingAuthorization)?;
        let authorization = std::str::from_utf8(authorization)
            .ok()
            .and_then(header::parse_authorization)
            .ok_or(AuthFailure::MalformedAuthorization)?;
        // The date is always signed; its absence is `missing_date`, checked just below, not a
        // malformed `Authorization`.
        let lacks_a_signed_header = authorization
            .signed_headers
            .iter()
            .any(|name| *name != DATE_HEADER && !headers.contains_key(*name));
        if lacks_a_signed_header {
            return Err(AuthFailure::MalformedAuthorization);
        }

        let date_text = single_value(headers, DATE_HEADER)
            .map_err(|()| AuthFailure::MalformedDate)?
            .ok_or(AuthFailure::MissingDate)?;
        let date_text = std::str::from_utf8(date_text).map_err(|_| AuthFailure::MalformedDate)?;
        let date = header::parse_date(date_text).ok_or(AuthFailure::MalformedDate)?;

        let skew = skew.min(Duration::from_secs(MAX_SIGNATURE_SKEW_SECONDS));
        let skew = chrono::Duration::from_std(skew).unwrap_or(chrono::Duration::MAX);
        if date < now - skew {
            return Err(AuthFailure::RequestExpired);
        }
        if date > now + skew {
            return Err(AuthFailure::RequestFromFuture);
        }
        Ok(Claim {
            access_key_id: AccessKeyId::from(authorization.access_key_id),
            signed_headers: authorization
                .signed_headers
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            signature: authorization.signature,
            date_text: date_text.to_owned(),
            date,
        })
    }

    /// The key id the request names.
    pub fn access_key_id(&self) -> &AccessKeyId {
        &self.access_key_id
    }

    /// The canonical request of `request` under this claim's signed headers.
    pub fn canonical_request(&self, request: &SignedParts) -> Vec<u8> {
        let signed: Vec<&str> = self.signed_headers.iter().map(String::as_str).collect();
        let mut headers: Vec<(&str, &[u8])> = Vec::new();
        for name in &signed {
            headers.extend(
                request
                    .headers
                    .get_all(*name)
                    .map(|v| (*name, v.as_bytes())),
            );
        }
        canonical::canonical_request(
            request.method.as_str(),
            &request.path,
            &request.query,
            &headers,
            &signed,
            &request.body,
        )
    }

    /// Finishes the checks against the database: the key exists and is active, the signature
    /// matches its secret (opened with `master_keys`, compared in constant time), and an unsafe
    /// request is used only once. The replay guard's entry outlives the date window of every
    /// instance, whatever this one allows ([`UsedSignature::for_signature`]).
    ///
    /// A secret that does not open (sealed under a master key this instance lacks, or altered)
    /// is a `signature_mismatch` for the client, never a 500, and a warning naming the key and
    /// the fingerprints (never key material) for the operator.
    pub fn verify(
        &self,
        conn: &mut DbConnection,
        request: &SignedParts,
        master_keys: &Keyring,
    ) -> Result<Principal, AuthError> {
        let key =
            AccessKey::find(conn, &self.access_key_id)?.ok_or(AuthFailure::UnknownAccessKey)?;
        if key.revoked_at.is_some() {
            return Err(AuthFailure::RevokedAccessKey.into());
        }
        let string_to_sign =
            canonical::string_to_sign(&self.date_text, &self.canonical_request(request));
        let secret = key.open_secret(master_keys).map_err(|e| {
            log::warn!("the secret of access key {} cannot be opened: {e}", key.id);
            AuthFailure::SignatureMismatch
        })?;
        if !canonical::signature_matches(&secret, &string_to_sign, &self.signature) {
            return Err(AuthFailure::SignatureMismatch.into());
        }
        if !request.method.is_safe() {
            let used =
                UsedSignature::for_signature(canonical::hex_encode(&self.signature), self.date);
            if !used.record_first_use(conn)? {
                return Err(AuthFailure::ReplayedRequest.into());
            }
        }
        Ok(Principal {
            permissions: key.permission_set(),
            access_key_id: key.id,
            organization_id: key.organization_id,
        })
    }
}

/// The parts of a request a signature covers, owned so they can travel to the database thread.
#[derive(Debug)]
pub struct SignedParts {
    /// The method as sent.
    pub method: Method,
    /// The path exactly as sent.
    pub path: String,
    /// The query as sent, without `?` (empty when none).
    pub query: String,
    /// Every header as received.
    pub headers: HeaderMap,
    /// The body as sent.
    pub body: Bytes,
}
