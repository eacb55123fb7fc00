//! The domain core: the operations on user groups and users (create, get, list, update, soft
//! delete, membership) and the rules they keep (a group with active members is not deleted, the
//! organization keeps a live admin, live names, external ids and emails are unique), as
//! functions over a connection that return domain values or a [`DomainError`]. Nothing here
//! speaks HTTP: each dialect of the API maps these values and errors to its own answers.
//!
//! Each record has its row type (`Group`), its insert type (`NewGroup`) and its changes
//! (`GroupChanges`), with the queries as functions on them, and the row locks that make its
//! check-then-act writes atomic beside them. Every read of live rows goes through one "not
//! deleted" filter per table ([`group::not_deleted()`], [`user::not_deleted()`], most often inside
//! the organization's `visible_to`), so no query can forget the soft delete.
//!
//! The lifecycle lives beside the core in its own modules: [`lifecycle`] wraps each write with
//! the record's version, its condition (`If-Match`), `deleted_by` and the change feed's event
//! ([`events`]), and every dialect writes through it; [`deleted`] lists and restores deleted
//! rows; [`purge`] removes them for good after the retention; [`view`] is the API's JSON of a
//! row, which the routes answer with and the events store.
//!
//! A read of one row by its id ends in `get_result`, not `first`: `first` adds `LIMIT ?`, and
//! the bundled SQLite (3.50) then re-prepares the statement at every execution, as its planner reads
//! the bound limit; a group read measured 15 µs that way against 4 µs without it.

pub mod counts;
pub mod deleted;
mod error;
pub mod events;
pub mod group;
pub mod lifecycle;
pub mod live;
pub mod purge;
pub mod rules;
pub mod user;
pub mod view;

pub use error::{AdminChange, DomainError, InvalidField, Resource, UniqueField};
pub use group::{Group, GroupChanges, NewGroup};
pub use user::{NewUser, User, UserChanges};

pub use crate::ids::{AccessKeyId, GroupId, OrganizationId, UserId};
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

/// A position in a list's newest-first order (its sort time descending, then `id` descending):
/// a keyset page starts just after it. The routes carry it in their opaque `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The sort time of the last row already seen: its `created_at` in the lists of live rows,
    /// its `deleted_at` in the deleted listings ([`deleted::deletion_position`]).
    pub sort_time: chrono::NaiveDateTime,
    /// Its id (a group's or a user's, as text).
    pub id: String,
}

/// How a list request says where its page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// `page` of `limit` rows from the newest, skipping `(page - 1) * limit` rows: time linear
    /// in the rows skipped, so at most [`crate::limits::PAGE_OFFSET_MAX`] of them.
    Offset,
    /// Just after this position (keyset paging): the same cost at any depth.
    After(Position),
}

/// One page of a list, with what the next page needs.
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// How many rows match in all.
    pub total: i64,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
}

/// Rows per multi-row `INSERT` of a bulk write: at 19 columns a row (a group's) it stays far
/// under SQLite's 32,766 bound parameters, and a statement this size costs one round trip per
/// 500 rows.
pub const INSERT_CHUNK: usize = 500;

/// The shortest folded search text the trigram indexes can answer (a trigram is 3 characters);
/// a shorter one is answered by reading the organization's live rows (see `search_uses_index`).
pub const SEARCH_INDEX_MIN_CHARS: usize = 3;

/// True when the SQLite trigram index can narrow a search for `search` (already non-empty):
/// its folded form has at least [`SEARCH_INDEX_MIN_CHARS`] characters.
fn search_uses_index(search: &str) -> bool {
    fold_case(search).chars().count() >= SEARCH_INDEX_MIN_CHARS
}

/// The FTS5 query matching `search` (folded) as one phrase: with the trigram tokenizer, a
/// phrase matches every row holding it as a substring. Inside double quotes every character is
/// literal but the double quote itself, which is doubled.
fn trigram_phrase(search: &str) -> String {
    format!("\"{}\"", fold_case(search).replace('"', "\"\""))
}

/// Rows to skip for an offset page, or the error for a page deeper than the bound allows.
/// `None` when the page starts past the last row (an empty page, whatever its depth).
fn checked_offset(page: PageRequest, total: i64) -> Result<Option<i64>, DomainError> {
    let Some(offset) = page.offset().filter(|offset| *offset < total) else {
        return Ok(None);
    };
    if offset > crate::limits::PAGE_OFFSET_MAX {
        return Err(DomainError::PageTooDeep {
            max_page: crate::limits::PAGE_OFFSET_MAX / page.limit + 1,
        });
    }
    Ok(Some(offset))
}

/// Where the rows of a page start, in the terms the query reading them needs.
#[derive(Debug, Clone, Copy)]
enum Window<'a> {
    /// Skip this many rows of the list's order.
    Offset(i64),
    /// Only the rows after this position, in the list's order.
    After(&'a Position),
}

/// The paging every list shares, around the list's own two queries: `count`, how many rows
/// match in all, and `load`, at most `page.limit + 1` rows of the list's order from a window.
///
/// `known_total` is a total the caller has at no cost (the organization's live count). Without
/// one, the rows are counted only when the page cannot show their number (an offset page that is
/// the last one holds it: [`total_from_last_page`]) and, for an offset page that may be too deep,
/// first. An offset past the end is an empty page; deeper than
/// [`crate::limits::PAGE_OFFSET_MAX`] rows is [`DomainError::PageTooDeep`], whether the rows
/// were counted before the page or after it.
fn paged<T>(
    conn: &mut crate::db::DbConnection,
    page: PageRequest,
    start: &Start,
    known_total: Option<i64>,
    mut count: impl FnMut(&mut crate::db::DbConnection) -> Result<i64, DomainError>,
    mut load: impl FnMut(&mut crate::db::DbConnection, Window<'_>) -> Result<Vec<T>, DomainError>,
    position: impl Fn(&T) -> Position,
) -> Result<ListPage<T>, DomainError> {
    let total = match known_total {
        Some(total) => Some(total),
        None if must_count_first(start, page) => Some(count(conn)?),
        None => None,
    };
    let window = match (start, total) {
        (Start::After(after), _) => Window::After(after),
        // Not counted yet: the offset exists and is within the bound.
        (Start::Offset, None) => Window::Offset(page.offset().unwrap_or(0)),
        (Start::Offset, Some(total)) => match checked_offset(page, total)? {
            Some(offset) => Window::Offset(offset),
            None => {
                return Ok(ListPage {
                    items: Vec::new(),
                    total,
                    next: None,
                })
            }
        },
    };
    let mut items = load(conn, window)?;
    let next = next_position(&mut items, page.limit, position);
    let total = match total.or_else(|| total_from_last_page(start, page, items.len(), &next)) {
        Some(total) => total,
        None => count(conn)?,
    };
    if matches!(start, Start::Offset) {
        // A page past the end (counted only now) is empty, and deeper than the bound is
        // refused, exactly as when the count comes first.
        checked_offset(page, total)?;
    }
    Ok(ListPage { items, total, next })
}

/// True when a filtered list must count its matches before reading its page: an offset page
/// whose depth is past the bound (or past any count) must know the total to answer.
fn must_count_first(start: &Start, page: PageRequest) -> bool {
    matches!(start, Start::Offset)
        && page
            .offset()
            .is_none_or(|offset| offset > crate::limits::PAGE_OFFSET_MAX)
}

/// The total of a filtered list as its page shows it, when it does: an offset page that is the
/// last one (no next position) and is not empty past the end holds the last match, so the
/// total is the rows skipped plus its own. A cursor page does not know the rows before it.
fn total_from_last_page(
    start: &Start,
    page: PageRequest,
    items: usize,
    next: &Option<Position>,
) -> Option<i64> {
    let skipped = match start {
        Start::Offset => page.offset()?,
        Start::After(_) => return None,
    };
    let items = i64::try_from(items).ok()?;
    (next.is_none() && (items > 0 || skipped == 0)).then_some(skipped + items)
}

/// Cuts `items` (loaded with one row more than `limit`) to the page and returns where the next
/// page starts: after its last row, when the extra row shows there is one.
fn next_position<T>(
    items: &mut Vec<T>,
    limit: i64,
    position: impl Fn(&T) -> Position,
) -> Option<Position> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if items.len() <= limit {
        return None;
    }
    items.truncate(limit);
    items.last().map(position)
}

/// Brings the planner's view of the groups and users up to date after a bulk write (the
/// import), outside any transaction. PostgreSQL: `VACUUM (ANALYZE)`, because a table that grew by
/// a million rows without statistics looks tiny to the planner, which then reads a whole
/// organization through its btree instead of the trigram indexes (and vacuuming now spares the
/// requests that would otherwise meet autovacuum's pass over the new rows). SQLite: nothing;
/// its searches do not depend on statistics (see the lists' `+organization_id`).
pub fn refresh_statistics(conn: &mut crate::db::DbConnection) -> Result<(), DomainError> {
    use diesel::connection::SimpleConnection;
    if let crate::db::DbConnection::Pg(c) = conn {
        c.batch_execute("VACUUM (ANALYZE) user_groups, users, live_counts")?;
    }
    Ok(())
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
    fn a_trigram_phrase_quotes_the_whole_search_and_doubles_its_quotes() {
        assert_eq!(trigram_phrase("Say \"Hi\" OR x"), "\"say \"\"hi\"\" or x\"");
        assert!(search_uses_index("abc"));
        assert!(!search_uses_index("ab"));
        assert!(!search_uses_index("é"));
    }

    #[test]
    fn an_offset_page_may_skip_up_to_the_bound_and_past_the_end_is_simply_empty() {
        let max = crate::limits::PAGE_OFFSET_MAX;
        let at_bound = PageRequest {
            page: max / 20 + 1,
            limit: 20,
        };
        let beyond = PageRequest {
            page: max / 20 + 2,
            limit: 20,
        };

        assert_eq!(checked_offset(at_bound, max + 100), Ok(Some(max)));
        assert_eq!(
            checked_offset(beyond, max + 100),
            Err(DomainError::PageTooDeep {
                max_page: max / 20 + 1
            })
        );
        assert_eq!(checked_offset(beyond, 5), Ok(None));
    }

    #[test]
    fn only_a_last_offset_page_that_holds_rows_or_starts_the_list_knows_its_total() {
        let page = PageRequest { page: 3, limit: 20 };
        let first = PageRequest { page: 1, limit: 20 };
        let more = Some(Position {
            sort_time: chrono::NaiveDateTime::default(),
            id: "x".to_owned(),
        });

        assert_eq!(
            total_from_last_page(&Start::Offset, page, 7, &None),
            Some(47)
        );
        assert_eq!(
            total_from_last_page(&Start::Offset, first, 0, &None),
            Some(0)
        );
        assert_eq!(total_from_last_page(&Start::Offset, page, 0, &None), None);
        assert_eq!(total_from_last_page(&Start::Offset, page, 20, &more), None);
        let after = Start::After(more.clone().unwrap());
        assert_eq!(total_from_last_page(&after, page, 7, &None), None);
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
