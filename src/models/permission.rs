//! What an access key may do. A key carries a set of permissions; each route requires one, and a
//! key without it is answered 403, in each dialect's words (`routes::onlive::error`: "Access key
//! is not allowed to <action>").
//!
//! A new key gets [`PermissionSet::default_grant`], the six permissions over live groups and
//! users. The lifecycle permissions (reading deleted rows, restoring them, reading the change
//! feed) are granted only when asked for by name (`key create --permissions`): a key made before
//! they existed, or made without thinking about them, cannot see deleted data.

use std::fmt;
use std::str::FromStr;

/// One permission an access key can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// List and get user groups.
    UserGroupsRead,
    /// Create and update user groups.
    UserGroupsWrite,
    /// Delete user groups.
    UserGroupsDelete,
    /// List and get users.
    UsersRead,
    /// Create and update users.
    UsersWrite,
    /// Delete users.
    UsersDelete,
    /// List deleted user groups (not granted by default).
    UserGroupsReadDeleted,
    /// Restore deleted user groups (not granted by default).
    UserGroupsRestore,
    /// List deleted users (not granted by default).
    UsersReadDeleted,
    /// Restore deleted users (not granted by default).
    UsersRestore,
    /// Read the change feed (not granted by default).
    EventsRead,
}

impl Permission {
    /// Every permission, in the order they are listed.
    pub const ALL: [Permission; 11] = [
        Permission::UserGroupsRead,
        Permission::UserGroupsWrite,
        Permission::UserGroupsDelete,
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::UsersDelete,
        Permission::UserGroupsReadDeleted,
        Permission::UserGroupsRestore,
        Permission::UsersReadDeleted,
        Permission::UsersRestore,
        Permission::EventsRead,
    ];

    /// The permissions a new key gets unless told otherwise: those over live groups and users.
    pub const DEFAULT_GRANT: [Permission; 6] = [
        Permission::UserGroupsRead,
        Permission::UserGroupsWrite,
        Permission::UserGroupsDelete,
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::UsersDelete,
    ];

    /// The permission's name, as the CLI takes it and the key listing shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::UserGroupsRead => "user-groups:read",
            Permission::UserGroupsWrite => "user-groups:write",
            Permission::UserGroupsDelete => "user-groups:delete",
            Permission::UsersRead => "users:read",
            Permission::UsersWrite => "users:write",
            Permission::UsersDelete => "users:delete",
            Permission::UserGroupsReadDeleted => "user-groups:read-deleted",
            Permission::UserGroupsRestore => "user-groups:restore",
            Permission::UsersReadDeleted => "users:read-deleted",
            Permission::UsersRestore => "users:restore",
            Permission::EventsRead => "events:read",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown permission {name:?} (known: {})", known.join(", "))
            })
    }
}

/// A set of permissions, stored as their comma-separated names.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct PermissionSet(u16);

impl PermissionSet {
    /// Every permission, the lifecycle ones included.
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    /// What a new key gets unless told otherwise ([`Permission::DEFAULT_GRANT`]).
    pub fn default_grant() -> Self {
        Permission::DEFAULT_GRANT.into_iter().collect()
    }

    /// True when the set holds `permission`.
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// The permissions held, in their listed order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// The names of the permissions held.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }

    /// The set an access key row stores (comma-separated names); a stored name this version does
    /// not know grants nothing, so a newer version's permission never widens an older one's key.
    pub fn from_stored(list: &str) -> Self {
        list.split(',')
            .filter_map(|name| name.trim().parse().ok())
            .collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        PermissionSet(iter.into_iter().fold(0, |bits, p| bits | p.bit()))
    }
}

impl FromStr for PermissionSet {
    type Err = String;

    /// Parses comma-separated names; blanks around names are ignored.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(Permission::from_str)
            .collect()
    }
}

impl fmt::Display for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permission_list_round_trips_through_its_text_form() {
        let set: PermissionSet = "users:read, user-groups:delete".parse().unwrap();
        assert!(set.contains(Permission::UsersRead));
        assert!(set.contains(Permission::UserGroupsDelete));
        assert!(!set.contains(Permission::UsersWrite));
        assert_eq!(set.to_string(), "user-groups:delete,users:read");
        assert_eq!(set.to_string().parse::<PermissionSet>().unwrap(), set);
    }

    #[test]
    fn an_unknown_permission_is_refused_with_the_known_names() {
        let err = "users:read,groups:nuke"
            .parse::<PermissionSet>()
            .unwrap_err();
        assert!(
            err.contains("groups:nuke") && err.contains("users:delete"),
            "{err}"
        );
    }

    #[test]
    fn the_full_set_holds_all_eleven_permissions() {
        assert_eq!(PermissionSet::all().iter().count(), 11);
    }

    #[test]
    fn the_default_grant_holds_no_lifecycle_permission() {
        let default = PermissionSet::default_grant();
        assert_eq!(default.iter().count(), 6);
        for lifecycle in [
            Permission::UserGroupsReadDeleted,
            Permission::UserGroupsRestore,
            Permission::UsersReadDeleted,
            Permission::UsersRestore,
            Permission::EventsRead,
        ] {
            assert!(!default.contains(lifecycle), "{lifecycle}");
        }
    }
}
