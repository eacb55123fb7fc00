//! Every bound the service puts on client input, in one place: the lengths and sizes that
//! validation enforces, the OpenAPI document states (a test compares the two), and the README's
//! tables repeat. A bound exists either because the contract gives it or because without it one
//! request could cost the service more than its size (see each item).

/// A group's `name`, in Unicode characters after trimming (the contract).
pub const GROUP_NAME_MAX: usize = 255;
/// A group's `description`, in Unicode characters (the contract).
pub const GROUP_DESCRIPTION_MAX: usize = 2_000;
/// A group's `externalId`, in Unicode characters (the contract).
pub const GROUP_EXTERNAL_ID_MAX: usize = 255;
/// A group's `extraFields`, in bytes of its compact JSON text (the contract: 64 KiB).
pub const EXTRA_FIELDS_MAX_BYTES: usize = 64 * 1024;
/// How deep arrays and objects may nest inside `extraFields` (the object itself is level 1).
/// Deeper documents are legal JSON, but common parsers recurse per level and fail on them
/// (Python's `json` near 1,000), so storing one would make every later page that holds it
/// unreadable to such clients.
pub const EXTRA_FIELDS_MAX_DEPTH: usize = 32;
/// A user's `firstName` and `lastName`, each, in Unicode characters after trimming (the contract).
pub const USER_NAME_MAX: usize = 100;
/// A user's `email`, in characters (the contract, as RFC 5321 bounds a path).
pub const EMAIL_MAX: usize = 254;
/// A user's `avatar` URL, in characters (the contract).
pub const AVATAR_MAX: usize = 2_048;
/// The `search` query parameter, in Unicode characters. Nothing longer can be a substring of a
/// name or an email, and a search pattern of unbounded length is refused by SQLite (its LIKE
/// takes at most 50,000 bytes of pattern) and costs time in the pattern's length on every row.
pub const SEARCH_MAX: usize = 255;
/// The `limit` query parameter of the list routes (the contract).
pub const PAGE_LIMIT_MAX: i64 = 100;
/// The most rows an offset page (`page`) may skip. Skipping rows costs time linear in their
/// number on both backends, so a deep `page` of a large organization would cost as much as
/// reading it all; deeper pages are a 400 that points to `cursor`, whose pages cost the same
/// at any depth. 10,000 rows is page 501 at 20 a page, page 101 at 100.
pub const PAGE_OFFSET_MAX: i64 = 10_000;
/// The `cursor` query parameter, in characters: the base64url text of a fixed-size payload and
/// its tag (`routes::cursor`), so anything longer is refused before it is decoded.
pub const CURSOR_MAX: usize = 100;
/// How many bad fields a 400 lists; the rest are only counted (`omittedErrors`), so an answer
/// never grows with the number of problems in the request.
pub const FIELD_ERRORS_SHOWN: usize = 50;
/// How many characters of a field's name a listed error repeats (longer names end in `…`).
pub const FIELD_NAME_SHOWN: usize = 64;
/// How many characters of a message a listed error carries (longer ones end in `…`).
pub const FIELD_MESSAGE_SHOWN: usize = 160;
/// A group name written through the nscale dialect: a Kubernetes label value (the contract).
pub const LABEL_VALUE_MAX: usize = 63;
/// How many `metadata.tags` a group may carry. Tags are stored in one column and shown on every
/// read of the group, so without a bound one write could make every later list answer large.
pub const GROUP_TAGS_MAX: usize = 64;
/// A tag's `name` and `value`, each, in Unicode characters.
pub const GROUP_TAG_TEXT_MAX: usize = 255;
/// How many `spec.roleIDs` a group may list. There are three built-in roles; the bound leaves
/// room for the catalogue to grow while refusing a list that could only be repeats.
pub const GROUP_ROLE_IDS_MAX: usize = 16;
/// How many `spec.serviceAccountIDs` a group may list: each is looked up among the
/// organization's access keys in the write's transaction.
pub const GROUP_SERVICE_ACCOUNT_IDS_MAX: usize = 100;
/// How many `spec.userIDs` one write may set. Each listed user is checked and joined in the
/// write's one transaction, which holds the group's lock; the bound keeps that transaction (and
/// the lock) short. A larger group is built through several writes of the Onlive users routes.
pub const GROUP_MEMBERS_SET_MAX: usize = 1_000;
/// How many members one write may take out of a group (the nscale `spec.userIDs` of a PUT
/// lists the members to keep). Each member that leaves is a row written and an event in the
/// write's one transaction, which holds the SQLite writer (every organization's writes) or,
/// on PostgreSQL, the organization's event sequence until it commits: the bound keeps that
/// transaction to tens of milliseconds. A write that would take out more is refused at once,
/// before it changes anything (the members are counted up to the bound, not read whole).
/// With the [`GROUP_MEMBERS_SET_MAX`] users one write may add, one write moves at most 2,000.
pub const GROUP_MEMBERS_REMOVED_MAX: usize = 1_000;
/// How many members a read of a group lists (the nscale `spec.userIDs`). A group with more is
/// shown without the list, rather than with a part of it that a client could write back and so
/// remove the members left out; its members are listed page by page with
/// `GET /api/v1/users?userGroupId=`. Found by reading at most one id past the bound. 1,000 ids
/// are about 39 KB, so a group read stays far inside [`ANSWER_MAX_BYTES`].
pub const GROUP_MEMBERS_SHOWN_MAX: usize = 1_000;
/// The largest JSON body the service answers with, in bytes. One answer costs the service
/// time and memory in its size, and a read-only key may ask for it as often as its rate limit
/// allows, so no answer grows with the data: a page read by `cursor` (and the change feed)
/// ends early at the bound, its `nextCursor` continuing where it ended; a page read by `page`,
/// which cannot end early without skipping items, is a 400 naming the `limit` that fits; the
/// unpaged nscale list is a 400 pointing to the paged list. The largest single item (a group
/// with a 64 KiB `extraFields` and every text field at its bound, or its event) is under
/// 100 KiB, so every page holds at least one item.
pub const ANSWER_MAX_BYTES: usize = 512 * 1024;
/// Any id in a `spec` list, in characters: longer text can be no id of this service (access
/// key ids and UUIDs are shorter), so it is refused before it reaches a query.
pub const LISTED_ID_MAX: usize = 64;
/// The most live groups the nscale list (`GET /api/v1/organizations/{organizationID}/groups`,
/// unpaged, as nscale's) answers with. An organization with more is answered 400, pointing at the
/// paged Onlive list, rather than with an answer whose size and cost grow without bound.
pub const NSCALE_GROUP_LIST_MAX: usize = 1_000;

/// Days a soft-deleted group or user, and an event of the change feed, is kept before the purge
/// removes it, unless `USERGROUPS_RETENTION_DAYS` says otherwise.
pub const DEFAULT_RETENTION_DAYS: u64 = 30;

/// How long the first answer of a create sent with an `Idempotency-Key` is kept, in seconds.
pub const IDEMPOTENCY_KEY_SECONDS: u64 = 24 * 3600;

/// The longest `Idempotency-Key` accepted, in characters.
pub const IDEMPOTENCY_KEY_MAX: usize = 255;

/// The largest body `POST /oauth2/v2/token` reads, in bytes: a token request is a few hundred
/// bytes (a grant type, an access key id, its secret, perhaps a scope), and the endpoint is
/// unsigned, so it reads no more than that.
pub const TOKEN_BODY_MAX: usize = 4 * 1024;

/// Rows the purge removes per transaction: a batch holds its locks (and on SQLite the single
/// writer) only briefly, so requests keep being served while a large backlog is purged.
pub const PURGE_BATCH: i64 = 500;
