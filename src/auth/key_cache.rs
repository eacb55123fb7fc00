//! Each instance's cache of access keys: what a signature is checked against (the opened
//! secret), who the key acts for and what it may do, so a request signed by a known key needs
//! no key query.
//!
//! An entry is trusted for [`FRESHNESS`] (one second) after it was read from the database;
//! after that the next request reads the key again. So a key revoked on any instance (or with
//! `usergroups key revoke`) is refused by every instance within that second for reads; writes
//! are refused at once, because each write checks the key's `revoked_at` in the same statement
//! that records its signature ([`crate::models::UsedSignature::record_for_live_key`]).
//!
//! Ids that name no key are remembered as well, in a map of their own, so a flood of forged
//! requests naming unknown ids cannot push real keys out, and costs at most what a request
//! naming a real key costs when its entry has expired: one indexed lookup. Both maps are
//! bounded ([`CAPACITY`] entries each); a full map first forgets its expired entries, then
//! everything.
//!
//! The opened secret is wiped from memory when its entry is dropped and never appears in a
//! `Debug` output or a log line.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::PermissionSet;
use crate::ids::{AccessKeyId, OrganizationId};

/// How long an entry read from the database is trusted.
pub const FRESHNESS: Duration = Duration::from_secs(1);

/// Most entries of each map (known keys, unknown ids).
pub const CAPACITY: usize = 4096;

/// A key as the cache holds it.
pub struct CachedKey {
    /// The key's id.
    pub access_key_id: AccessKeyId,
    /// The organization the key acts for.
    pub organization_id: OrganizationId,
    /// What the key may do.
    pub permissions: PermissionSet,
    /// Whether the key was revoked when it was read.
    pub revoked: bool,
    /// The opened secret; `None` when it could not be opened (sealed under a master key this
    /// instance lacks), which makes every signature a mismatch.
    secret: Option<Zeroizing<String>>,
}

impl CachedKey {
    /// An entry for a key read from the database, with its secret opened (or not).
    pub fn new(
        access_key_id: AccessKeyId,
        organization_id: OrganizationId,
        permissions: PermissionSet,
        revoked: bool,
        secret: Option<Zeroizing<String>>,
    ) -> Self {
        CachedKey {
            access_key_id,
            organization_id,
            permissions,
            revoked,
            secret,
        }
    }

    /// The opened secret, if it could be opened.
    pub fn secret(&self) -> Option<&str> {
        self.secret.as_deref().map(String::as_str)
    }
}

impl fmt::Debug for CachedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedKey")
            .field("access_key_id", &self.access_key_id)
            .field("organization_id", &self.organization_id)
            .field("permissions", &self.permissions)
            .field("revoked", &self.revoked)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What the cache knows about an id right now.
#[derive(Debug)]
pub enum Lookup {
    /// A key, read from the database less than [`FRESHNESS`] ago.
    Known(Arc<CachedKey>),
    /// No key has this id, as of less than [`FRESHNESS`] ago.
    Unknown,
    /// Nothing fresh: the key must be read from the database.
    Miss,
}

struct Entry<T> {
    value: T,
    read_at: Instant,
}

#[derive(Default)]
struct Maps {
    known: HashMap<AccessKeyId, Entry<Arc<CachedKey>>>,
    unknown: HashMap<AccessKeyId, Entry<()>>,
}

/// The cache; cheap to share (one per [`crate::AppState`], cloned with it).
#[derive(Clone)]
pub struct KeyCache {
    maps: Arc<Mutex<Maps>>,
    freshness: Duration,
}

impl Default for KeyCache {
    /// An empty cache trusting entries for [`FRESHNESS`].
    fn default() -> Self {
        KeyCache::with_freshness(FRESHNESS)
    }
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("KeyCache")
            .field("known", &maps.known.len())
            .field("unknown", &maps.unknown.len())
            .finish()
    }
}

fn is_fresh(read_at: Instant, now: Instant, freshness: Duration) -> bool {
    now.saturating_duration_since(read_at) < freshness
}

/// Inserts into a bounded map: a full map forgets its expired entries first, then everything,
/// so each insert costs constant time on average.
fn bounded_insert<T>(
    map: &mut HashMap<AccessKeyId, Entry<T>>,
    id: AccessKeyId,
    entry: Entry<T>,
    freshness: Duration,
) {
    if map.len() >= CAPACITY && !map.contains_key(&id) {
        let now = entry.read_at;
        map.retain(|_, e| is_fresh(e.read_at, now, freshness));
        if map.len() >= CAPACITY {
            map.clear();
        }
    }
    map.insert(id, entry);
}

impl KeyCache {
    /// An empty cache trusting entries for `freshness`. The service always uses [`FRESHNESS`],
    /// the bound the README promises; a longer one is for tests that count statements.
    pub fn with_freshness(freshness: Duration) -> Self {
        KeyCache {
            maps: Arc::default(),
            freshness,
        }
    }

    /// What is known about `id` now.
    pub fn lookup(&self, id: &AccessKeyId) -> Lookup {
        self.lookup_at(id, Instant::now())
    }

    fn lookup_at(&self, id: &AccessKeyId, now: Instant) -> Lookup {
        let maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = maps
            .known
            .get(id)
            .filter(|e| is_fresh(e.read_at, now, self.freshness))
        {
            return Lookup::Known(entry.value.clone());
        }
        if maps
            .unknown
            .get(id)
            .is_some_and(|e| is_fresh(e.read_at, now, self.freshness))
        {
            return Lookup::Unknown;
        }
        Lookup::Miss
    }

    /// Remembers what the database said about `id` just now: the key, or `None` for no key.
    pub fn store(&self, id: AccessKeyId, key: Option<Arc<CachedKey>>) {
        self.store_at(id, key, Instant::now());
    }

    fn store_at(&self, id: AccessKeyId, key: Option<Arc<CachedKey>>, read_at: Instant) {
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        match key {
            Some(value) => {
                maps.unknown.remove(&id);
                bounded_insert(
                    &mut maps.known,
                    id,
                    Entry { value, read_at },
                    self.freshness,
                );
            }
            None => {
                maps.known.remove(&id);
                let entry = Entry { value: (), read_at };
                bounded_insert(&mut maps.unknown, id, entry, self.freshness);
            }
        }
    }

    /// Forgets `id`, so the next request reads it from the database (after a write found the
    /// key revoked, for instance).
    pub fn forget(&self, id: &AccessKeyId) {
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        maps.known.remove(id);
        maps.unknown.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, secret: &str) -> Arc<CachedKey> {
        Arc::new(CachedKey::new(
            AccessKeyId::from(id),
            OrganizationId::from("org"),
            PermissionSet::default(),
            false,
            Some(Zeroizing::new(secret.to_owned())),
        ))
    }

    #[test]
    fn an_entry_is_trusted_for_one_second_and_then_read_again() {
        let cache = KeyCache::default();
        let start = Instant::now();
        let id = AccessKeyId::from("OLAKA");
        cache.store_at(id.clone(), Some(key("OLAKA", "s")), start);

        assert!(matches!(
            cache.lookup_at(&id, start + Duration::from_millis(999)),
            Lookup::Known(_)
        ));
        assert!(matches!(
            cache.lookup_at(&id, start + FRESHNESS),
            Lookup::Miss
        ));
    }

    #[test]
    fn an_unknown_id_is_remembered_apart_and_a_flood_of_them_keeps_the_real_keys() {
        let cache = KeyCache::default();
        let now = Instant::now();
        let real = AccessKeyId::from("OLAKREAL");
        cache.store_at(real.clone(), Some(key("OLAKREAL", "s")), now);
        for i in 0..(3 * CAPACITY) {
            cache.store_at(AccessKeyId::from(format!("FORGED{i}").as_str()), None, now);
        }

        assert!(matches!(cache.lookup_at(&real, now), Lookup::Known(_)));
        let last = AccessKeyId::from(format!("FORGED{}", 3 * CAPACITY - 1).as_str());
        assert!(matches!(cache.lookup_at(&last, now), Lookup::Unknown));
        let maps = cache.maps.lock().unwrap();
        assert!(maps.unknown.len() <= CAPACITY);
    }

    #[test]
    fn a_cached_key_never_shows_its_secret_in_debug_output() {
        let cache = KeyCache::default();
        let id = AccessKeyId::from("OLAKA");
        cache.store(id.clone(), Some(key("OLAKA", "super-secret-value")));

        let Lookup::Known(entry) = cache.lookup(&id) else {
            panic!("a fresh entry");
        };
        let shown = format!("{entry:?} {cache:?}");

        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert_eq!(entry.secret(), Some("super-secret-value"));
    }
}
