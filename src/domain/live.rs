//! The one "not deleted" filter of each table, and the filter of an organization's live rows
//! built on it (Lemmy's `hide_removed_and_deleted()` habit): every read of live groups or users
//! uses these, so no query can forget the soft delete. They sit apart from the groups' and
//! users' modules because those modules, and the counts, all read each other's rows.

/// Live groups.
pub mod groups {
    use diesel::prelude::*;

    use crate::db::schema::user_groups;
    use crate::ids::OrganizationId;

    /// The one "not deleted" filter of groups, which every read of live groups uses (most of them
    /// inside [`visible_to`]).
    #[diesel::dsl::auto_type]
    pub fn not_deleted() -> _ {
        user_groups::deleted_at.is_null()
    }

    /// The filter of the organization's live groups, which every read of them by organization uses.
    #[diesel::dsl::auto_type(no_type_alias)]
    pub fn visible_to<'a>(organization_id: &'a OrganizationId) -> _ {
        user_groups::organization_id
            .eq(organization_id)
            .and(not_deleted())
    }
}

/// Live users.
pub mod users {
    use diesel::prelude::*;

    use crate::db::schema::users;
    use crate::ids::OrganizationId;

    /// The one "not deleted" filter of users. Every read of live users uses it: inside
    /// [`visible_to`], or alone where the rows are already bounded another way (a group's members,
    /// found through the group's index).
    #[diesel::dsl::auto_type]
    pub fn not_deleted() -> _ {
        users::deleted_at.is_null()
    }

    /// The filter of the organization's live users, which every read of them by organization uses.
    #[diesel::dsl::auto_type(no_type_alias)]
    pub fn visible_to<'a>(organization_id: &'a OrganizationId) -> _ {
        users::organization_id
            .eq(organization_id)
            .and(not_deleted())
    }
}
