//! The answers of creates sent with an `Idempotency-Key`: the first request's answer is stored
//! under (access key, idempotency key) in the same transaction as the create, with a digest of
//! the request, and kept for [`crate::limits::IDEMPOTENCY_KEY_SECONDS`]. A later request with
//! the same key gets that answer again if it is the same request, or is refused if it is not.
//!
//! The key is claimed first, before anything else of the write: a row inserted in a savepoint.
//! A concurrent request with the same key then waits on the primary key (PostgreSQL) or the
//! write lock (SQLite) until the first commits, and finds its answer instead of running the
//! create a second time; if the first rolled back, the second's claim simply succeeds.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys;
use crate::db::{DbConnection, StoreError};
use crate::ids::AccessKeyId;
use crate::limits::IDEMPOTENCY_KEY_SECONDS;

/// A stored answer: its status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The HTTP status of the first answer.
    pub status: u16,
    /// Its body, as sent.
    pub body: String,
}

/// What claiming an `Idempotency-Key` found (not to be confused with the signed request's
/// `auth::verify::Claim`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is new (or its answer expired): this request runs, and its answer is stored.
    New,
    /// The same request was answered before: this is its answer.
    Answered(StoredAnswer),
    /// The key was used for another request.
    Reused,
}

/// The digest that tells two requests with one key apart: method, path and body.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(method.as_bytes());
    digest.update(b"\n");
    digest.update(path.as_bytes());
    digest.update(b"\n");
    digest.update(body);
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Claims `key` of `access_key_id` for the request digested as `hash`, inside the transaction
/// open on `conn`, at `now`. See the module docs.
pub fn claim(
    conn: &mut DbConnection,
    access_key_id: &AccessKeyId,
    key: &str,
    hash: &str,
    now: NaiveDateTime,
) -> Result<KeyClaim, StoreError> {
    let this = || {
        idempotency_keys::table
            .filter(idempotency_keys::access_key_id.eq(access_key_id))
            .filter(idempotency_keys::idempotency_key.eq(key))
    };
    // An expired answer no longer holds its key (the prune task may not have run yet).
    diesel::delete(this().filter(idempotency_keys::expires_at.le(now))).execute(conn)?;
    let expires_at = now + TimeDelta::seconds(IDEMPOTENCY_KEY_SECONDS as i64);
    // In a savepoint: on PostgreSQL a refused insert would otherwise abort the transaction.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::access_key_id.eq(access_key_id),
                idempotency_keys::idempotency_key.eq(key),
                idempotency_keys::request_hash.eq(hash),
                idempotency_keys::status.eq(0),
                idempotency_keys::body.eq(""),
                idempotency_keys::expires_at.eq(expires_at),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(KeyClaim::New),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let (stored_hash, status, body) = this()
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::body,
                ))
                .get_result::<(String, i32, String)>(conn)?;
            if stored_hash != hash {
                return Ok(KeyClaim::Reused);
            }
            let status = u16::try_from(status)
                .ok()
                .filter(|s| *s >= 200)
                .ok_or_else(|| StoreError::internal("an idempotency key's answer is unfinished"))?;
            Ok(KeyClaim::Answered(StoredAnswer { status, body }))
        }
        Err(e) => Err(e.into()),
    }
}

/// Stores the answer of the request that claimed `key`.
pub fn complete(
    conn: &mut DbConnection,
    access_key_id: &AccessKeyId,
    key: &str,
    answer: &StoredAnswer,
) -> Result<(), StoreError> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::access_key_id.eq(access_key_id))
            .filter(idempotency_keys::idempotency_key.eq(key)),
    )
    .set((
        idempotency_keys::status.eq(i32::from(answer.status)),
        idempotency_keys::body.eq(&answer.body),
    ))
    .execute(conn)?;
    Ok(())
}

/// Gives `key` up: the request that claimed it was refused and changed nothing, so a retry is
/// judged afresh rather than answered with the refusal.
pub fn release(
    conn: &mut DbConnection,
    access_key_id: &AccessKeyId,
    key: &str,
) -> Result<(), StoreError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::access_key_id.eq(access_key_id))
            .filter(idempotency_keys::idempotency_key.eq(key)),
    )
    .execute(conn)?;
    Ok(())
}

/// Forgets the answers that expired before `now`; returns how many.
pub fn prune_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.lt(now)))
            .execute(conn)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_digest_covers_method_path_and_body() {
        let base = request_hash("POST", "/api/v1/users", b"{}");
        assert_eq!(base.len(), 64);
        assert_ne!(base, request_hash("PUT", "/api/v1/users", b"{}"));
        assert_ne!(base, request_hash("POST", "/api/v1/users/", b"{}"));
        assert_ne!(base, request_hash("POST", "/api/v1/users", b"{ }"));
        assert_eq!(base, request_hash("POST", "/api/v1/users", b"{}"));
    }
}
