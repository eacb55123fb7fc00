//! The replay guard. A signature of an unsafe request is recorded the moment authentication
//! succeeds and kept until its own date plus the allowed skew; recording it twice fails on the
//! primary key, so every instance sharing the database refuses the replay.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::used_signatures;
use crate::db::DbConnection;
use crate::error::ApiError;

/// A recorded signature.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = used_signatures)]
pub struct UsedSignature {
    /// The signature, lowercase hex.
    pub signature: String,
    /// When it may be forgotten: past this, its date is out of the window anyway.
    pub expires_at: NaiveDateTime,
}

impl UsedSignature {
    /// Records a first use; `Ok(false)` when the signature was already used.
    pub fn record_first_use(&self, conn: &mut DbConnection) -> Result<bool, ApiError> {
        match diesel::insert_into(used_signatures::table)
            .values(self)
            .execute(conn)
        {
            Ok(_) => Ok(true),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets signatures that expired before `now`; returns how many.
    pub fn prune_expired(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, ApiError> {
        Ok(
            diesel::delete(used_signatures::table.filter(used_signatures::expires_at.lt(now)))
                .execute(conn)?,
        )
    }
}
