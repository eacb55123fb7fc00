//! The `cursor` of the list routes: an opaque token naming where the next page starts, so a
//! client can page a list of any size at the same cost per page (keyset paging), and so paging
//! newest first while others write never skips or repeats a row that stayed live throughout.
//!
//! A cursor is the base64url text (no padding) of a versioned binary payload followed by its
//! HMAC-SHA256 tag (16 bytes) under a key derived from the sealing master key:
//!
//! ```text
//! version (1) | list (1: b'g' groups, b'u' users, b'G' / b'U' deleted ones) | page (8)
//!     | sort time (8, Unix seconds: the creation's, or the deletion's on the deleted lists)
//!     | filters (8: SHA-256 of search and userGroupId) | organization (16) | row id (16)
//! ```
//!
//! The tag makes any edited or invented cursor a 400, never a query; the organization and the
//! filters it names must be the caller's and the request's, so a cursor can neither reach
//! another organization's rows nor carry one search into another. Rotating the master key
//! retires the cursors issued before (a 400: the client starts again from the first page).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::DateTime;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::domain::{OrganizationId, Position};
use crate::limits;
use crate::secrets::Keyring;

/// The payload version this code writes and reads.
const VERSION: u8 = 1;
/// Bytes of the tag kept (128 bits).
const TAG_BYTES: usize = 16;
/// Bytes of the payload before the tag.
const PAYLOAD_BYTES: usize = 1 + 1 + 8 + 8 + 8 + 16 + 16;
/// The length of every cursor's text (base64 without padding).
const TEXT_CHARS: usize = ((PAYLOAD_BYTES + TAG_BYTES) * 4).div_ceil(3);
// The bound the OpenAPI document states must hold every cursor this code writes.
const _: () = assert!(TEXT_CHARS <= limits::CURSOR_MAX);

/// Which list a cursor pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// `GET /api/v1/user-groups`.
    Groups,
    /// `GET /api/v1/users`.
    Users,
    /// `GET /api/v1/deleted-user-groups` (its position's time is the deletion's).
    DeletedGroups,
    /// `GET /api/v1/deleted-users` (its position's time is the deletion's).
    DeletedUsers,
}

impl List {
    fn tag(self) -> u8 {
        match self {
            List::Groups => b'g',
            List::Users => b'u',
            List::DeletedGroups => b'G',
            List::DeletedUsers => b'U',
        }
    }
}

/// What a valid cursor holds: the page it opens and the position that page starts after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The page number this cursor's page has (the page that issued it, plus one).
    pub page: i64,
    /// The last row of the page that issued it.
    pub after: Position,
}

/// The request a cursor belongs to: its list, organization and filters.
pub struct Scope<'a> {
    /// The list.
    pub list: List,
    /// The caller's organization.
    pub organization_id: &'a OrganizationId,
    /// The `search` parameter as sent (absent and empty are the same filter).
    pub search: Option<&'a str>,
    /// The `userGroupId` parameter, lowercase (users only).
    pub group_id: Option<&'a str>,
}

impl Scope<'_> {
    /// A digest of the filters, so a cursor is only valid for the filters that issued it.
    fn filters(&self) -> [u8; 8] {
        let mut digest = Sha256::new();
        digest.update(self.search.unwrap_or_default().as_bytes());
        digest.update([0]);
        digest.update(self.group_id.unwrap_or_default().as_bytes());
        let mut filters = [0; 8];
        filters.copy_from_slice(&digest.finalize()[..8]);
        filters
    }
}

/// The cursor MAC key: derived from the sealing master key, so every instance sharing the
/// master key accepts the others' cursors, and a cursor is never signed with the key itself.
fn mac(keys: &Keyring) -> Result<Hmac<Sha256>, ApiError> {
    let master = keys.sealing_key();
    let mut derive = Hmac::<Sha256>::new_from_slice(master.to_hex().as_bytes())
        .map_err(|e| ApiError::internal(format!("cursor key: {e}")))?;
    derive.update(b"usergroups list cursor v1");
    Hmac::<Sha256>::new_from_slice(&derive.finalize().into_bytes())
        .map_err(|e| ApiError::internal(format!("cursor key: {e}")))
}

/// A UUID's 16 bytes; `None` for text that is not a UUID.
fn uuid_bytes(text: &str) -> Option<[u8; 16]> {
    uuid::Uuid::try_parse(text).ok().map(|id| id.into_bytes())
}

/// The cursor of the page after the one that ends at `after`; that page is number `page`.
pub fn encode(
    keys: &Keyring,
    scope: &Scope<'_>,
    page: i64,
    after: &Position,
) -> Result<String, ApiError> {
    let (Some(organization), Some(id)) = (
        uuid_bytes(scope.organization_id.as_str()),
        uuid_bytes(&after.id),
    ) else {
        return Err(ApiError::internal("a stored id is not a UUID"));
    };
    let mut bytes = Vec::with_capacity(PAYLOAD_BYTES + TAG_BYTES);
    bytes.push(VERSION);
    bytes.push(scope.list.tag());
    bytes.extend_from_slice(&page.to_be_bytes());
    bytes.extend_from_slice(&after.sort_time.and_utc().timestamp().to_be_bytes());
    bytes.extend_from_slice(&scope.filters());
    bytes.extend_from_slice(&organization);
    bytes.extend_from_slice(&id);
    let mut mac = mac(keys)?;
    mac.update(&bytes);
    bytes.extend_from_slice(&mac.finalize().into_bytes()[..TAG_BYTES]);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The 400 of a cursor that this request cannot use.
fn refused(why: &str) -> ApiError {
    ApiError::invalid_field("cursor", format!("cursor {why}"))
}

/// Reads a cursor sent for `scope`: any cursor this service did not issue, or issued for
/// another list, organization or filters, is a 400 on `cursor`.
pub fn decode(keys: &Keyring, scope: &Scope<'_>, text: &str) -> Result<Cursor, ApiError> {
    let not_ours = || refused("is not one this list issued (use the nextCursor of a page)");
    if text.len() > limits::CURSOR_MAX {
        return Err(not_ours());
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| not_ours())?;
    if bytes.len() != PAYLOAD_BYTES + TAG_BYTES {
        return Err(not_ours());
    }
    let (payload, tag) = bytes.split_at(PAYLOAD_BYTES);
    let mut mac = mac(keys)?;
    mac.update(payload);
    mac.verify_truncated_left(tag).map_err(|_| not_ours())?;
    // From here on the payload is one this service wrote.
    let field = |at: usize| -> [u8; 8] {
        let mut value = [0; 8];
        value.copy_from_slice(&payload[at..at + 8]);
        value
    };
    if payload[0] != VERSION || payload[1] != scope.list.tag() {
        return Err(not_ours());
    }
    let page = i64::from_be_bytes(field(2));
    let seconds = i64::from_be_bytes(field(10));
    let organization = uuid::Uuid::from_slice(&payload[26..42]).map_err(|_| not_ours())?;
    if organization.to_string() != scope.organization_id.as_str() {
        return Err(not_ours());
    }
    if field(18) != scope.filters() {
        return Err(refused(
            "was issued for another search or userGroupId (send the same filters, or none \
             and no cursor)",
        ));
    }
    let id = uuid::Uuid::from_slice(&payload[42..58]).map_err(|_| not_ours())?;
    let sort_time = DateTime::from_timestamp(seconds, 0)
        .ok_or_else(not_ours)?
        .naive_utc();
    Ok(Cursor {
        page,
        after: Position {
            sort_time,
            id: id.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(organization_id: &'a OrganizationId, search: Option<&'a str>) -> Scope<'a> {
        Scope {
            list: List::Groups,
            organization_id,
            search,
            group_id: None,
        }
    }

    fn position() -> Position {
        Position {
            sort_time: DateTime::from_timestamp(1_764_590_400, 0)
                .unwrap()
                .naive_utc(),
            id: uuid::Uuid::now_v7().to_string(),
        }
    }

    #[test]
    fn a_cursor_reads_back_as_the_page_and_position_it_was_made_of() {
        let keys = Keyring::ephemeral().unwrap();
        let org = OrganizationId::from(uuid::Uuid::new_v4().to_string());
        let after = position();

        let text = encode(&keys, &scope(&org, Some("sales")), 7, &after).unwrap();
        let cursor = decode(&keys, &scope(&org, Some("sales")), &text).unwrap();

        assert_eq!(cursor, Cursor { page: 7, after });
    }

    #[test]
    fn a_cursor_with_any_byte_changed_is_refused() {
        let keys = Keyring::ephemeral().unwrap();
        let org = OrganizationId::from(uuid::Uuid::new_v4().to_string());
        let text = encode(&keys, &scope(&org, None), 2, &position()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();

        for at in 0..bytes.len() {
            let mut edited = bytes.clone();
            edited[at] ^= 1;
            let edited = URL_SAFE_NO_PAD.encode(edited);
            assert!(
                decode(&keys, &scope(&org, None), &edited).is_err(),
                "byte {at}"
            );
        }
    }

    #[test]
    fn a_cursor_of_another_organization_filter_or_key_is_refused() {
        let keys = Keyring::ephemeral().unwrap();
        let org = OrganizationId::from(uuid::Uuid::new_v4().to_string());
        let other = OrganizationId::from(uuid::Uuid::new_v4().to_string());
        let text = encode(&keys, &scope(&org, Some("a")), 2, &position()).unwrap();

        assert!(decode(&keys, &scope(&other, Some("a")), &text).is_err());
        assert!(decode(&keys, &scope(&org, Some("b")), &text).is_err());
        assert!(decode(
            &Keyring::ephemeral().unwrap(),
            &scope(&org, Some("a")),
            &text
        )
        .is_err());
        let users = Scope {
            list: List::Users,
            ..scope(&org, Some("a"))
        };
        assert!(decode(&keys, &users, &text).is_err());
    }
}
