//! Organizations: the tenants. Every group, user and access key belongs to exactly one, and
//! nothing of one organization is visible to another's keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::organizations;
use crate::db::{self, DbConnection, StoreError};
use crate::ids::OrganizationId;

/// An organization row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = organizations)]
pub struct Organization {
    /// UUID v7.
    pub id: OrganizationId,
    /// Display name.
    pub name: String,
    /// When it was created.
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

impl Organization {
    /// Creates an organization named `name`.
    pub fn create(conn: &mut DbConnection, name: &str) -> Result<Organization, StoreError> {
        let org = Organization {
            id: OrganizationId::new(),
            name: name.to_owned(),
            created_at: db::now(),
        };
        diesel::insert_into(organizations::table)
            .values(&org)
            .execute(conn)?;
        Ok(org)
    }

    /// Finds an organization by id.
    pub fn find(
        conn: &mut DbConnection,
        id: &OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        Ok(organizations::table
            .find(id)
            .select(Organization::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// Every organization, oldest first.
    pub fn list(conn: &mut DbConnection) -> Result<Vec<Organization>, StoreError> {
        Ok(organizations::table
            .order((organizations::created_at.asc(), organizations::id.asc()))
            .select(Organization::as_select())
            .load(conn)?)
    }

    /// True when the database holds no organization yet (a first start).
    pub fn none_exist(conn: &mut DbConnection) -> Result<bool, StoreError> {
        let count: i64 = organizations::table.count().get_result(conn)?;
        Ok(count == 0)
    }
}
