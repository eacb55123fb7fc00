//! Fair shares of the pool: no organization holds more than half of the database connections
//! for reads at once, nor more than the machine has cores, so one tenant's costly reads (a
//! search no index narrows, a deep page) can slow that tenant down but never leave the others
//! without a connection.
//!
//! The authentication middleware runs each verified request inside [`as_tenant`] with the
//! organization it acts for; [`super::run`] then takes one of that organization's places
//! before it takes a connection, and gives it back when the work on the connection ends (not
//! when the client stops waiting: the place follows the connection). A request over its
//! organization's share waits for a place without holding a blocking thread or a connection,
//! first come first served within its organization, for at most the pool's connection timeout,
//! and is then answered 503 with `Retry-After` like any other wait for a connection that did
//! not end in time. Work outside a request (the key lookup before the organization is known,
//! the health checks, the operator's commands) is outside every share, and so are writes
//! ([`super::write`] says why).
//!
//! Why a fixed share, and not one that grows while nobody else asks: a connection given to a
//! costly read cannot be taken back until the read ends, so a tenant allowed the whole pool
//! while it was idle would make the next tenant wait a whole read for its first connection.
//! A share of half keeps connections free for the others at any moment, and costs one tenant
//! little: its reads are short, so a few connections carry it (docs/BENCHMARKS.md, "Fair shares
//! of the database").

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::StoreError;
use crate::metrics;

tokio::task_local! {
    /// The organization the request being served acts for.
    static TENANT: Arc<str>;
}

/// Runs `work` as the request of `tenant` (an organization's id): every [`super::run`] inside
/// it takes a place in that organization's share of the pool.
pub async fn as_tenant<F: Future>(tenant: &str, work: F) -> F::Output {
    TENANT.scope(Arc::from(tenant), work).await
}

/// The organization of the request being served, if the work runs inside [`as_tenant`].
fn current_tenant() -> Option<Arc<str>> {
    TENANT.try_with(Arc::clone).ok()
}

/// The places of each organization that holds or awaits one (the others have no entry, so the
/// map stays as small as the number of organizations being served).
#[derive(Debug)]
pub(super) struct Shares {
    per_tenant: usize,
    tenants: Mutex<HashMap<Arc<str>, Arc<Semaphore>>>,
}

/// How many connections one organization may hold for reads at once, in a pool of
/// `connections` on a machine of `cores`: half the connections, and no more than the cores, at
/// least one. The cores count because a read that no index narrows keeps a core busy while it
/// runs (on SQLite this process's, on PostgreSQL the server's, often the same machine's): more
/// such reads at once than cores make no tenant faster and every other tenant slower. (Half the
/// cores was measured too: on 2 cores it cost one organization's signed GETs at 32 connections
/// 30 % on SQLite and 55 % on PostgreSQL, and helped the other organizations only while the
/// machine was crowded by other work; see docs/BENCHMARKS.md.)
fn places_per_tenant(connections: usize, cores: usize) -> usize {
    (connections / 2).min(cores).max(1)
}

/// One organization's place in the pool, given back when dropped.
#[derive(Debug)]
pub(super) struct Place {
    permit: Option<OwnedSemaphorePermit>,
    tenant: Arc<str>,
    shares: Arc<Shares>,
}

impl Shares {
    /// Shares of a pool of `connections` on this machine (see [`places_per_tenant`]).
    pub(super) fn for_pool(connections: u32) -> Shares {
        let connections = usize::try_from(connections).unwrap_or(usize::MAX);
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Shares::with_places(places_per_tenant(connections, cores))
    }

    /// Shares of `per_tenant` places for each organization.
    fn with_places(per_tenant: usize) -> Shares {
        Shares {
            per_tenant,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// A place for the current request's organization, waiting at most `wait`; `None` for work
    /// outside any request's organization.
    pub(super) async fn enter(
        self: &Arc<Self>,
        wait: Duration,
    ) -> Result<Option<Place>, StoreError> {
        let Some(tenant) = current_tenant() else {
            return Ok(None);
        };
        let semaphore = {
            let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(
                tenants
                    .entry(Arc::clone(&tenant))
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant))),
            )
        };
        let waiting = Instant::now();
        // Taken under a place from here on: a timed-out wait still tidies the entry up.
        let mut place = Place {
            permit: None,
            tenant,
            shares: Arc::clone(self),
        };
        let acquired = tokio::time::timeout(wait, semaphore.acquire_owned()).await;
        metrics::record_share_wait(waiting.elapsed());
        match acquired {
            Ok(Ok(permit)) => {
                place.permit = Some(permit);
                Ok(Some(place))
            }
            Ok(Err(closed)) => Err(StoreError::internal(closed)),
            Err(_) => Err(StoreError::unavailable(format!(
                "the organization's requests held their share of the database connections \
                 for longer than {wait:?}"
            ))),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut tenants = self
            .shares
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only the map holds the semaphore: nobody of this organization holds or awaits a
        // place (those who do hold a clone, taken under this lock).
        if tenants
            .get(&self.tenant)
            .is_some_and(|semaphore| Arc::strong_count(semaphore) == 1)
        {
            tenants.remove(&self.tenant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_may_hold_half_the_connections_and_no_more_than_the_cores_and_always_one() {
        assert_eq!(places_per_tenant(4, 2), 2, "SQLite's pool on two cores");
        assert_eq!(places_per_tenant(4, 8), 2, "SQLite's pool on eight cores");
        assert_eq!(
            places_per_tenant(10, 16),
            5,
            "PostgreSQL's pool on sixteen cores"
        );
        assert_eq!(
            places_per_tenant(10, 2),
            2,
            "PostgreSQL's pool on two cores"
        );
        assert_eq!(places_per_tenant(1, 1), 1, "never none");
    }

    /// `work` driven to its end on a runtime of this thread, with timers.
    fn block_on<F: Future>(work: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(work)
    }

    #[test]
    fn an_organization_holds_its_share_and_another_still_gets_a_place() {
        block_on(async {
            let shares = Arc::new(Shares::with_places(2));
            let wait = Duration::from_millis(50);

            let (first, second, third) = as_tenant("a", async {
                (
                    shares.enter(wait).await,
                    shares.enter(wait).await,
                    shares.enter(wait).await,
                )
            })
            .await;
            let other = as_tenant("b", shares.enter(wait)).await;

            assert!(first.unwrap().is_some() && second.is_ok());
            assert!(
                matches!(third, Err(StoreError::Unavailable { .. })),
                "a third place is over the share"
            );
            assert!(
                other.unwrap().is_some(),
                "another organization is not kept waiting"
            );
        });
    }

    #[test]
    fn a_place_given_back_goes_to_the_next_request_and_an_idle_organization_leaves_no_entry() {
        block_on(async {
            let shares = Arc::new(Shares::with_places(1));
            let wait = Duration::from_millis(50);

            let held = as_tenant("a", shares.enter(wait)).await.unwrap();
            let refused = as_tenant("a", shares.enter(wait)).await;
            drop(held);
            let next = as_tenant("a", shares.enter(wait)).await.unwrap();
            let outside = shares.enter(wait).await.unwrap();

            assert!(refused.is_err() && next.is_some() && outside.is_none());
            drop(next);
            assert!(shares.tenants.lock().unwrap().is_empty());
        });
    }
}
