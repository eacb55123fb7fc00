//! The ids of organizations, groups, users and access keys, one type each, so a call that takes
//! a group id and an organization id cannot be given them the other way round. Each is stored
//! as text and compared as the exact text it holds: parsing and case rules stay with whoever
//! reads an id from outside (the routes accept a hyphenated UUID in any case and pass it on in
//! lowercase, the form the service mints).
//!
//! The JSON shapes in [`crate::api`] keep plain strings: they are the wire format the SDK shares,
//! and the SDK builds without this module.

use std::fmt;

use diesel::{
    backend::Backend,
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    serialize::{self, Output, ToSql},
    sql_types::Text,
};
use serde::Serialize;

/// Defines one id type over a `String`, with its text and column impls.
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow, Serialize,
        )]
        #[diesel(sql_type = Text)]
        // Printed in JSON exactly as the plain string it replaced.
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, owned.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Generic over the backend, so the same impls serve SQLite, PostgreSQL and the
        // connection enum over both.
        impl<DB> ToSql<Text, DB> for $name
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.0.as_str().to_sql(out)
            }
        }

        impl<DB> FromSql<Text, DB> for $name
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                String::from_sql(bytes).map($name)
            }
        }
    };
}

/// Defines `new()` for an id the service mints itself.
macro_rules! time_ordered_new {
    ($name:ident) => {
        impl $name {
            /// A new id: a UUID v7 in lowercase, so ordering by "createdAt, then id" is creation
            /// order.
            // Not `Default`: a default that differs on every call would surprise.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                $name(uuid::Uuid::now_v7().to_string())
            }
        }
    };
}

define_id!(
    /// An organization's id; the service mints lowercase UUID v7s ([`OrganizationId::new`]).
    OrganizationId
);
define_id!(
    /// A user group's id; the service mints lowercase UUID v7s ([`GroupId::new`]).
    GroupId
);
define_id!(
    /// A user's id; the service mints lowercase UUID v7s ([`UserId::new`]).
    UserId
);
define_id!(
    /// An access key's public id (`OLAK…`), the one sent in every request's `Credential`.
    AccessKeyId
);

time_ordered_new!(OrganizationId);
time_ordered_new!(GroupId);
time_ordered_new!(UserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_prints_and_serializes_as_its_text() {
        let id = GroupId::from("550e8400-e29b-41d4-a716-446655440000");
        assert_eq!(id.to_string(), id.as_str());
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"550e8400-e29b-41d4-a716-446655440000\""
        );
        assert_eq!(String::from(id.clone()), id.into_inner());
    }

    #[test]
    fn new_ids_are_distinct_lowercase_uuids_v7() {
        let first = UserId::new();
        assert_ne!(first, UserId::new());
        let parsed = uuid::Uuid::try_parse(first.as_str()).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert_eq!(parsed.to_string(), first.as_str());
    }
}
