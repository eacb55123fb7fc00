//! The built-in roles a group can grant (the nscale dialect's `spec.roleIDs` and its roles
//! listing). The catalogue is fixed for the product: each role's id is a constant, the same on
//! every installation, so a client can hard-code it and a group written on one installation
//! means the same on another. It is a leaf so that the domain (which validates `roleIDs`
//! against it), the routes (which list it) and the SDK read the one table.

/// One built-in role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinRole {
    /// The role's fixed id, a lowercase UUID.
    pub id: &'static str,
    /// The role's name (`administrator`, `user`, `reader`).
    pub name: &'static str,
    /// What the role is for, for a person.
    pub description: &'static str,
}

/// The id of `administrator`.
pub const ADMINISTRATOR_ID: &str = "1f3a0c6e-8b52-4f0d-9a3e-6c1d2b7e4a01";
/// The id of `user`.
pub const USER_ID: &str = "1f3a0c6e-8b52-4f0d-9a3e-6c1d2b7e4a02";
/// The id of `reader`.
pub const READER_ID: &str = "1f3a0c6e-8b52-4f0d-9a3e-6c1d2b7e4a03";

/// The time the listing shows as every role's `creationTime`: the catalogue's, fixed with it,
/// so the listing is the same on every installation and at every call.
pub const CATALOGUE_TIME: &str = "2026-12-03T00:00:00Z";

/// Every built-in role, in the order the listing shows them.
pub const BUILTIN_ROLES: [BuiltinRole; 3] = [
    BuiltinRole {
        id: ADMINISTRATOR_ID,
        name: "administrator",
        description: "Manages the organization: its groups, users and access keys.",
    },
    BuiltinRole {
        id: USER_ID,
        name: "user",
        description: "Uses the organization's products and changes what it owns.",
    },
    BuiltinRole {
        id: READER_ID,
        name: "reader",
        description: "Reads the organization's resources and changes nothing.",
    },
];

/// The built-in role with this id, if any. Ids are compared exactly: the catalogue's ids are
/// lowercase, as every id this service shows.
pub fn by_id(id: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|role| role.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_id_is_a_lowercase_uuid_and_unique() {
        for (index, role) in BUILTIN_ROLES.iter().enumerate() {
            let parsed = uuid::Uuid::parse_str(role.id).expect("a UUID");
            assert_eq!(parsed.to_string(), role.id, "{} is lowercase", role.name);
            assert!(BUILTIN_ROLES[..index]
                .iter()
                .all(|other| other.id != role.id));
        }
    }

    #[test]
    fn roles_are_found_by_id_and_unknown_ids_are_not() {
        assert_eq!(by_id(READER_ID).map(|role| role.name), Some("reader"));
        assert_eq!(by_id("1F3A0C6E-8B52-4F0D-9A3E-6C1D2B7E4A03"), None);
    }
}
