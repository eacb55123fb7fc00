//! Checking a signed request, in the order `signing.md` §4 gives, with one reason code per
//! failure. The header checks and the string to sign are pure ([`Claim::from_headers`],
//! [`Claim::string_to_sign`]); the key comes from the instance's cache or, when the cache has
//! nothing fresh, from the database ([`load_key`]), and the signature is compared against it
//! ([`Claim::check`]). An unsafe request's signature is recorded by its own write transaction
//! ([`ReplayGuard`]), which checks the key's revocation in the same statement.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use chrono::{DateTime, Utc};

use super::canonical;
use super::header::{self, DATE_HEADER};
use super::key_cache::CachedKey;
use super::PermissionSet;
use crate::db::{DbConnection, StoreError, TransactionError};
use crate::ids::{AccessKeyId, OrganizationId};
use crate::models::used_signature::{FirstUse, MAX_SIGNATURE_SKEW_SECONDS};
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
    /// An `Authorization: Bearer` token that is unknown, expired, or of a revoked key (the three
    /// are one answer).
    InvalidToken,
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
            AuthFailure::InvalidToken => "invalid_token",
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

impl TransactionError for AuthError {
    fn is_retryable(&self) -> bool {
        matches!(self, AuthError::Store(e) if e.is_retryable())
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
    pub fn canonical_request(&self, request: &SignedParts<'_>) -> Vec<u8> {
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
            request.path,
            request.query,
            &headers,
            &signed,
            request.body,
        )
    }

    /// The string the client signed, if it signed `request` under this claim: built before any
    /// database work, so no connection is held while the body is hashed.
    pub fn string_to_sign(&self, request: &SignedParts<'_>) -> String {
        canonical::string_to_sign(&self.date_text, &self.canonical_request(request))
    }

    /// Checks the claim against the key it names, as read from the database or the cache: the
    /// key is active and the signature matches its secret, compared in constant time. A secret
    /// that does not open is a `signature_mismatch` (the cause was logged when the key was read).
    pub fn check(&self, key: &CachedKey, string_to_sign: &str) -> Result<Principal, AuthFailure> {
        if key.revoked {
            return Err(AuthFailure::RevokedAccessKey);
        }
        let matches = key.secret().is_some_and(|secret| {
            canonical::signature_matches(secret, string_to_sign, &self.signature)
        });
        if !matches {
            return Err(AuthFailure::SignatureMismatch);
        }
        Ok(Principal {
            access_key_id: key.access_key_id.clone(),
            organization_id: key.organization_id.clone(),
            permissions: key.permissions,
        })
    }

    /// The replay-guard entry an unsafe `method` must record before its request may act
    /// (`None` for a safe method). Its entry outlives the date window of every instance,
    /// whatever this one allows ([`UsedSignature::for_signature`]).
    pub fn replay_guard(&self, method: &Method) -> Option<ReplayGuard> {
        (!method.is_safe()).then(|| ReplayGuard {
            access_key_id: self.access_key_id.clone(),
            entry: UsedSignature::for_signature(canonical::hex_encode(&self.signature), self.date),
        })
    }
}

/// Reads the key `id` for the cache, opening its secret with `master_keys`. A secret that does
/// not open (sealed under a master key this instance lacks, or altered) leaves the entry without
/// one, so its signatures are mismatches for the client, never a 500, and a warning names the key
/// and the fingerprints (never key material) for the operator.
pub fn load_key(
    conn: &mut DbConnection,
    id: &AccessKeyId,
    master_keys: &Keyring,
) -> Result<Option<Arc<CachedKey>>, StoreError> {
    let Some(key) = AccessKey::find(conn, id)? else {
        return Ok(None);
    };
    let secret = match key.open_secret(master_keys) {
        Ok(secret) => Some(secret),
        Err(e) => {
            log::warn!("the secret of access key {} cannot be opened: {e}", key.id);
            None
        }
    };
    Ok(Some(Arc::new(CachedKey::new(
        key.id.clone(),
        key.organization_id.clone(),
        key.permission_set(),
        key.revoked_at.is_some(),
        secret,
    ))))
}

/// The use of a signature an unsafe request still has to record: inside the request's own write
/// transaction, so a write commits once; or alone, for a request refused before it reached the
/// database. Recording it also checks, in the same statement, that the key was not revoked
/// meanwhile.
#[derive(Debug, Clone)]
pub struct ReplayGuard {
    access_key_id: AccessKeyId,
    entry: UsedSignature,
}

impl ReplayGuard {
    /// The key whose signature this is.
    pub fn access_key_id(&self) -> &AccessKeyId {
        &self.access_key_id
    }

    /// Records the first use: `replayed_request` when the signature was used before,
    /// `revoked_access_key` when the key was revoked since it was read.
    pub fn record(&self, conn: &mut DbConnection) -> Result<(), AuthError> {
        match self.entry.record_for_live_key(conn, &self.access_key_id)? {
            FirstUse::Recorded => Ok(()),
            FirstUse::Replayed => Err(AuthFailure::ReplayedRequest.into()),
            FirstUse::KeyRevoked => Err(AuthFailure::RevokedAccessKey.into()),
        }
    }
}

/// The parts of a request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedParts<'a> {
    /// The method as sent.
    pub method: &'a Method,
    /// The path exactly as sent.
    pub path: &'a str,
    /// The query as sent, without `?` (empty when none).
    pub query: &'a str,
    /// Every header as received.
    pub headers: &'a HeaderMap,
    /// The body as sent.
    pub body: &'a [u8],
}
