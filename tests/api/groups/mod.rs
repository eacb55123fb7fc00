//! User groups: create, list, get, update and the soft delete, row by row of the contract.
//!
//! One file per route; the rules that span routes (a group's members, the permissions) have a
//! file each.

mod create;
mod cursor;
mod delete;
mod get;
mod list;
mod membership;
mod permissions;
mod update;

use usergroups::api::CreateGroup;

/// A create request with a name and nothing else.
fn named(name: &str) -> CreateGroup {
    CreateGroup {
        name: name.into(),
        ..CreateGroup::default()
    }
}
