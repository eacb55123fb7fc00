//! A user's role: one type for the stored column (diesel text), the JSON the API reads and
//! writes (serde), and the OpenAPI schema (utoipa), so the three cannot drift apart.

use std::fmt;
use std::str::FromStr;

#[cfg(feature = "server")]
use diesel::{
    backend::Backend,
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    serialize::{self, Output, ToSql},
    sql_types::Text,
};
use serde::{Deserialize, Serialize};

/// What a user may do in the organization's products.
// The column and schema derives are the server's; the client only needs the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "server",
    derive(utoipa::ToSchema, AsExpression, FromSqlRow),
    schema(description = "A user's role: `creator` (the default), `editor` or `admin`."),
    diesel(sql_type = Text)
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The default role.
    Creator,
    /// An editor.
    Editor,
    /// An administrator; the organization always keeps at least one live admin.
    Admin,
}

impl Role {
    /// The role's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Creator => "creator",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        match name {
            "creator" => Ok(Role::Creator),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            _ => Err(()),
        }
    }
}

// Generic over the backend, so the same impls serve SQLite, PostgreSQL and the connection enum
// over both.
#[cfg(feature = "server")]
impl<DB> ToSql<Text, DB> for Role
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

#[cfg(feature = "server")]
impl<DB> FromSql<Text, DB> for Role
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let name = String::from_sql(bytes)?;
        name.parse()
            .map_err(|()| format!("unknown role {name:?} in the database").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_from_its_name_and_its_json() {
        for role in [Role::Creator, Role::Editor, Role::Admin] {
            assert_eq!(role.as_str().parse(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert_eq!("Admin".parse::<Role>(), Err(()));
    }
}
