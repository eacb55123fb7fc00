//! The stored records and their queries: each table has its row type (`Group`), its insert type
//! (`NewGroup`) and, where rows change, its changeset (`GroupChangeset`), with the queries as
//! functions on them. Every read of groups and users goes through one "live" filter per table,
//! so no query can forget the soft delete.

pub mod access_key;
pub mod group;
pub mod organization;
pub mod used_signature;
pub mod user;

pub use access_key::AccessKey;
pub use group::{Group, GroupChanges, NewGroup};
pub use organization::Organization;
pub use used_signature::UsedSignature;
pub use user::{NewUser, Role, User, UserChanges};

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

/// A new time-ordered id (UUID v7, lowercase), so "createdAt, then id" is creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
