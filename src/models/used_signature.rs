//! The replay guard. A signature of an unsafe request is recorded the moment authentication
//! succeeds and kept until its own date plus the largest skew any instance may allow plus a
//! margin for clocks ([`RETENTION_SECONDS`]); recording it twice fails on the primary key, so
//! every instance sharing the database refuses the replay.
//!
//! The retention deliberately ignores the recording instance's own skew: every instance prunes
//! by the stored expiry, so an entry sized to a 60 s window would be forgotten while an instance
//! allowing 900 s (or the same one restarted with more) still accepts its date.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::{access_keys, used_signatures};
use crate::db::{DbConnection, StoreError};
use crate::ids::AccessKeyId;

/// What recording a signature for a key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstUse {
    /// Recorded: this is the signature's first use.
    Recorded,
    /// The signature was used before.
    Replayed,
    /// The key is revoked (or gone): nothing was recorded.
    KeyRevoked,
}

/// How far, in seconds, the clock of the instance that prunes may run ahead of the clock of an
/// instance that still accepts a date, before the guard could forget too early. Clocks kept in
/// sync by NTP differ by far less.
pub const CLOCK_MARGIN_SECONDS: u64 = 60;

/// The largest clock skew any instance may allow, in seconds. It is product-wide rather than
/// per instance because the replay guard keeps every used signature this long (plus a margin for
/// clocks) past its date ([`UsedSignature::for_signature`]): an instance allowing more would
/// accept again, once any instance pruned it, a write it had already accepted.
pub const MAX_SIGNATURE_SKEW_SECONDS: u64 = 3600;

/// How long past its signed date a used signature is kept, in seconds: the largest skew any
/// instance may allow plus [`CLOCK_MARGIN_SECONDS`].
pub const RETENTION_SECONDS: u64 = MAX_SIGNATURE_SKEW_SECONDS + CLOCK_MARGIN_SECONDS;

/// A recorded signature.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = used_signatures)]
pub struct UsedSignature {
    /// The signature, lowercase hex.
    pub signature: String,
    /// When it may be forgotten: past this, its date is out of every instance's window.
    pub expires_at: NaiveDateTime,
}

impl UsedSignature {
    /// The entry for `signature` (lowercase hex) of a request dated `date`: kept until
    /// `date` plus [`RETENTION_SECONDS`], whatever skew the recording instance allows.
    pub fn for_signature(signature: String, date: DateTime<Utc>) -> Self {
        // RETENTION_SECONDS is a small constant, far inside TimeDelta's range.
        let retention = TimeDelta::seconds(RETENTION_SECONDS as i64);
        let expires_at = date
            .checked_add_signed(retention)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        UsedSignature {
            signature,
            expires_at: expires_at.naive_utc(),
        }
    }

    /// Records a first use by the key `access_key_id`, in one statement that also checks the
    /// key is still live: the row is inserted only if the key is not revoked, so a write checks
    /// revocation at no extra round trip, inside its own transaction.
    pub fn record_for_live_key(
        &self,
        conn: &mut DbConnection,
        access_key_id: &AccessKeyId,
    ) -> Result<FirstUse, StoreError> {
        use diesel::sql_types::{Text, Timestamp};

        let from_live_key = access_keys::table
            .filter(access_keys::id.eq(access_key_id))
            .filter(access_keys::revoked_at.is_null())
            .select((
                self.signature.as_str().into_sql::<Text>(),
                self.expires_at.into_sql::<Timestamp>(),
            ));
        match diesel::insert_into(used_signatures::table)
            .values(from_live_key)
            .into_columns((used_signatures::signature, used_signatures::expires_at))
            .execute(conn)
        {
            Ok(0) => Ok(FirstUse::KeyRevoked),
            Ok(_) => Ok(FirstUse::Recorded),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Ok(FirstUse::Replayed)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets signatures that expired before `now`; returns how many.
    pub fn prune_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
        Ok(
            diesel::delete(used_signatures::table.filter(used_signatures::expires_at.lt(now)))
                .execute(conn)?,
        )
    }
}
