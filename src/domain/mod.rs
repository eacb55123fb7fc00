//! The domain core: the operations on user groups and users (create, get, list, update, soft
//! delete, membership) and the rules they keep (a group with active members is not deleted, the
//! organization keeps a live admin, live names, external ids and emails are unique), as
//! functions over a connection that return domain values or a [`DomainError`]. Nothing here
//! speaks HTTP: each dialect of the API maps these values and errors to its own answers.
//!
//! Each record has its row type (`Group`), its insert type (`NewGroup`) and its changes
//! (`GroupChanges`), with the queries as functions on them, and the row locks that make its
//! check-then-act writes atomic beside them. Every read goes through one "live" filter per
//! table, so no query can forget the soft delete.

mod error;
pub mod group;
pub mod user;

pub use error::{AdminChange, DomainError, InvalidField, Resource, UniqueField};
pub use group::{Group, GroupChanges, NewGroup};
pub use user::{NewUser, User, UserChanges};

pub use crate::ids::{GroupId, OrganizationId, UserId};
pub use crate::role::Role;

/// A page request as the list routes take it: `page` from 1, `limit` from 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: i64,
    /// Items per page.
    pub limit: i64,
}

impl PageRequest {
    /// Rows to skip, or `None` when the page lies beyond any possible row count.
    pub fn offset(&self) -> Option<i64> {
        (self.page - 1).checked_mul(self.limit)
    }
}

/// The form of a text that case-insensitive search and uniqueness compare.
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and the escape character itself
/// taken literally (the contract's search is a plain substring match).
pub fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in fold_case(needle).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How strongly a row is locked by a write transaction on PostgreSQL. On SQLite every write
/// transaction already holds the database's single write lock (`BEGIN IMMEDIATE`), so the same
/// reads need no lock clause there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// `FOR UPDATE`: the row is about to change (update, delete).
    Exclusive,
    /// `FOR SHARE`: the row must stay as it is until commit (a user joining the group).
    Shared,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn a_page_beyond_any_row_count_has_no_offset() {
        let far = PageRequest {
            page: i64::MAX,
            limit: 100,
        };
        assert_eq!(far.offset(), None);
        let second = PageRequest { page: 2, limit: 20 };
        assert_eq!(second.offset(), Some(20));
    }
}
