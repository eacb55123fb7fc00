//! Per-access-key rate limits: a budget of reads (GET and HEAD) and one of writes (every other
//! method), each so many requests a minute, as Onlive documents (1000 and 100 by default).
//!
//! The authentication middleware counts a request only once its signature is verified, so an
//! unsigned or forged flood never spends a real key's budget, and it counts before routing, so
//! a 429 wins over every answer that comes after it in the contract's order (404/405, 403, 415,
//! 400, …). The buckets are governor's keyed GCRA: a key may spend its whole minute's budget at
//! once, and it then comes back one request every `60 / limit` seconds, never more than the
//! limit in reserve. Buckets live in this process's memory: every instance behind a load
//! balancer grants a key the full budget.
//!
//! The buckets refill by std's monotonic clock; [`RateLimits::per_minute_with_clock`] takes any
//! governor [`Clock`] instead, so a test can move time on (`governor::clock::FakeRelativeClock`)
//! rather than wait for a request to come back.
//!
//! [`FailedAttempts`] is the other limit kept here: failed client authentications at the token
//! endpoint, per client id. It refuses failures only, never a correct credential.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::http::Method;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// Which budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestClass {
    /// GET and HEAD.
    Read,
    /// Every other method.
    Write,
}

impl RequestClass {
    /// The class of a request made with `method`.
    pub fn of(method: &Method) -> Self {
        if method == Method::GET || method == Method::HEAD {
            RequestClass::Read
        } else {
            RequestClass::Write
        }
    }
}

/// The outcome of counting one request against its key's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// This class of request has no limit (configured as 0).
    Unlimited,
    /// Served; `remaining` more requests of this class would be served right now.
    Allowed {
        /// The limit of this class, per minute.
        limit: u32,
        /// The requests of this class the key may still make at once.
        remaining: u32,
    },
    /// Over the limit; the next request of this class is served after `retry_after`.
    Refused {
        /// The limit of this class, per minute.
        limit: u32,
        /// How long until the key's next request of this class would be served.
        retry_after: Duration,
    },
}

type KeyedLimiter<C> =
    RateLimiter<String, DefaultKeyedStateStore<String>, C, StateInformationMiddleware>;

/// The buckets of one class, whatever clock they refill by. Behind a trait object so that
/// [`RateLimits`] (and so `Limits` and `AppState`) keeps one type for every clock.
trait Buckets: Send + Sync {
    /// Spends one request of `access_key_id`: the requests left at once, or how long until the
    /// next one would be served.
    fn spend(&self, access_key_id: &str) -> Result<u32, Duration>;

    /// Forgets the buckets that are full again.
    fn forget_full(&self);
}

impl<C> Buckets for KeyedLimiter<C>
where
    C: Clock + Send + Sync,
{
    fn spend(&self, access_key_id: &str) -> Result<u32, Duration> {
        match self.check_key(&access_key_id.to_owned()) {
            Ok(snapshot) => Ok(snapshot.remaining_burst_capacity()),
            Err(not_until) => Err(not_until.wait_time_from(self.clock().now())),
        }
    }

    fn forget_full(&self) {
        self.retain_recent();
        self.shrink_to_fit();
    }
}

/// One class's limit and the buckets of every key that spent from it.
struct Budget {
    per_minute: NonZeroU32,
    buckets: Box<dyn Buckets>,
}

impl Budget {
    fn new<C>(per_minute: u32, clock: C) -> Option<Arc<Budget>>
    where
        C: Clock + Send + Sync + 'static,
    {
        let per_minute = NonZeroU32::new(per_minute)?;
        let limiter = KeyedLimiter::new(
            Quota::per_minute(per_minute),
            DefaultKeyedStateStore::default(),
            clock,
        );
        Some(Arc::new(Budget {
            per_minute,
            buckets: Box::new(limiter),
        }))
    }

    fn check(&self, access_key_id: &str) -> Decision {
        let limit = self.per_minute.get();
        match self.buckets.spend(access_key_id) {
            Ok(remaining) => Decision::Allowed { limit, remaining },
            Err(retry_after) => Decision::Refused { limit, retry_after },
        }
    }
}

/// The read and write budgets of every access key, shared by all of this process's workers
/// (cloning shares the buckets). The default has no limits at all.
#[derive(Clone, Default)]
pub struct RateLimits {
    reads: Option<Arc<Budget>>,
    writes: Option<Arc<Budget>>,
}

impl RateLimits {
    /// `reads` and `writes` requests a minute per access key, with fresh buckets; 0 turns that
    /// class's limit off.
    pub fn per_minute(reads: u32, writes: u32) -> Self {
        Self::per_minute_with_clock(reads, writes, DefaultClock::default())
    }

    /// [`RateLimits::per_minute`] with buckets that refill by `clock`; both classes share it
    /// (a clone of governor's `FakeRelativeClock` shows the same time as the original).
    pub fn per_minute_with_clock<C>(reads: u32, writes: u32, clock: C) -> Self
    where
        C: Clock + Clone + Send + Sync + 'static,
    {
        RateLimits {
            reads: Budget::new(reads, clock.clone()),
            writes: Budget::new(writes, clock),
        }
    }

    /// No limits.
    pub fn off() -> Self {
        Self::default()
    }

    fn budget(&self, class: RequestClass) -> Option<&Budget> {
        match class {
            RequestClass::Read => self.reads.as_deref(),
            RequestClass::Write => self.writes.as_deref(),
        }
    }

    /// The limit per minute of `class`, or `None` when it has none.
    pub fn limit(&self, class: RequestClass) -> Option<u32> {
        self.budget(class).map(|budget| budget.per_minute.get())
    }

    /// Counts one request of `class` by `access_key_id`; a refused request spends nothing.
    pub fn check(&self, access_key_id: &str, class: RequestClass) -> Decision {
        match self.budget(class) {
            Some(budget) => budget.check(access_key_id),
            None => Decision::Unlimited,
        }
    }

    /// Forgets the buckets that are full again, so memory follows the keys in recent use.
    pub fn forget_full_buckets(&self) {
        for budget in [&self.reads, &self.writes].into_iter().flatten() {
            budget.buckets.forget_full();
        }
    }
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits")
            .field("reads_per_minute", &self.limit(RequestClass::Read))
            .field("writes_per_minute", &self.limit(RequestClass::Write))
            .finish()
    }
}

/// Failed client authentications a client id may have in one [`FAILED_ATTEMPTS_WINDOW`]; the
/// token endpoint answers each failure past them 429 instead of 401 until the window ends.
pub const FAILED_ATTEMPTS_PER_WINDOW: u32 = 10;

/// The window failed attempts are counted in: a minute from the client id's first failure.
pub const FAILED_ATTEMPTS_WINDOW: Duration = Duration::from_secs(60);

/// Most client ids [`FailedAttempts`] tracks at once; an id that finds no room is not counted.
pub const FAILED_ATTEMPTS_CAPACITY: usize = 16_384;

/// Client ids longer than this are counted under their first this-many bytes, so an entry's size
/// is bounded whatever a caller sends.
const TRACKED_ID_BYTES: usize = 128;

/// The failures of one client id in its current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Window {
    fn is_over(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.started) >= FAILED_ATTEMPTS_WINDOW
    }

    /// Counts one failure at `now`; `Err(retry_after)` when it is past the window's allowance.
    fn record(&mut self, now: Instant) -> Result<(), Duration> {
        if self.is_over(now) {
            *self = Window {
                started: now,
                failures: 0,
            };
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures > FAILED_ATTEMPTS_PER_WINDOW {
            Err(FAILED_ATTEMPTS_WINDOW - now.saturating_duration_since(self.started))
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Default)]
struct Tracked {
    by_id: HashMap<String, Window>,
    last_sweep: Option<Instant>,
}

/// Failed token requests per client id on this instance: past [`FAILED_ATTEMPTS_PER_WINDOW`] in
/// a [`FAILED_ATTEMPTS_WINDOW`], each further failure is answered 429 until the window ends.
/// Clones share the counts.
///
/// Only failures are counted and only failures are refused: the endpoint checks the credentials
/// first and serves a correct one whatever failed before it, so no flood of failures, for the
/// key's own id or for any number of others, can lock a client out. (The secrets are long random
/// strings: guessing one is not the threat this guards against; the 429 tells a misconfigured
/// client to stop, and the count is what an operator's metrics see.)
///
/// Memory is bounded: at most [`FAILED_ATTEMPTS_CAPACITY`] ids of at most 128 bytes each. A full
/// map first forgets the windows that ended (at most once a second, so a flood does not buy a
/// sweep per request); an id that still finds no room is not counted, its failure answered 401
/// like any other. No window is shared between ids, so one id's failures never change another's
/// answer.
#[derive(Clone, Default)]
pub struct FailedAttempts {
    tracked: Arc<Mutex<Tracked>>,
}

impl fmt::Debug for FailedAttempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailedAttempts")
            .field("tracked", &self.tracked_ids())
            .finish()
    }
}

/// The part of `client_id` that is counted (see [`TRACKED_ID_BYTES`]).
fn tracked_id(client_id: &str) -> &str {
    if client_id.len() <= TRACKED_ID_BYTES {
        return client_id;
    }
    let mut end = TRACKED_ID_BYTES;
    while !client_id.is_char_boundary(end) {
        end -= 1;
    }
    &client_id[..end]
}

impl FailedAttempts {
    /// Counts one failed authentication of `client_id`: `Err(retry_after)` when it is past the
    /// id's allowance for now.
    pub fn record_failure(&self, client_id: &str) -> Result<(), Duration> {
        self.record_failure_at(client_id, Instant::now())
    }

    /// [`FailedAttempts::record_failure`] at `now`.
    pub fn record_failure_at(&self, client_id: &str, now: Instant) -> Result<(), Duration> {
        let mut tracked = self.tracked.lock().unwrap_or_else(PoisonError::into_inner);
        let id = tracked_id(client_id);
        if let Some(window) = tracked.by_id.get_mut(id) {
            return window.record(now);
        }
        let may_sweep = tracked
            .last_sweep
            .is_none_or(|last| now.saturating_duration_since(last) >= Duration::from_secs(1));
        if tracked.by_id.len() >= FAILED_ATTEMPTS_CAPACITY && may_sweep {
            tracked.by_id.retain(|_, window| !window.is_over(now));
            tracked.last_sweep = Some(now);
        }
        if tracked.by_id.len() >= FAILED_ATTEMPTS_CAPACITY {
            return Ok(());
        }
        let mut window = Window {
            started: now,
            failures: 0,
        };
        let counted = window.record(now);
        tracked.by_id.insert(id.to_owned(), window);
        counted
    }

    /// How many client ids have a window now.
    pub fn tracked_ids(&self) -> usize {
        let tracked = self.tracked.lock().unwrap_or_else(PoisonError::into_inner);
        tracked.by_id.len()
    }

    /// Forgets the windows that ended, so memory follows the ids failing now.
    pub fn forget_ended(&self) {
        let now = Instant::now();
        let mut tracked = self.tracked.lock().unwrap_or_else(PoisonError::into_inner);
        tracked.by_id.retain(|_, window| !window.is_over(now));
        tracked.by_id.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_head_are_reads_and_every_other_method_is_a_write() {
        for method in [Method::GET, Method::HEAD] {
            assert_eq!(RequestClass::of(&method), RequestClass::Read, "{method}");
        }
        for method in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert_eq!(RequestClass::of(&method), RequestClass::Write, "{method}");
        }
    }

    #[test]
    fn a_key_spends_its_budget_then_is_refused_until_a_request_comes_back() {
        let limits = RateLimits::per_minute(3, 1);

        let answers: Vec<Decision> = (0..4)
            .map(|_| limits.check("key", RequestClass::Read))
            .collect();

        let remaining: Vec<u32> = answers[..3]
            .iter()
            .map(|decision| match decision {
                Decision::Allowed {
                    limit: 3,
                    remaining,
                } => *remaining,
                other => panic!("expected an allowed read, got {other:?}"),
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        match answers[3] {
            Decision::Refused { limit, retry_after } => {
                assert_eq!(limit, 3);
                // One read comes back every 20 seconds.
                assert!(retry_after > Duration::from_secs(19), "{retry_after:?}");
                assert!(retry_after <= Duration::from_secs(20), "{retry_after:?}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_refused_request_is_served_once_the_clock_has_moved_on_by_its_retry_after() {
        let clock = governor::clock::FakeRelativeClock::default();
        let limits = RateLimits::per_minute_with_clock(3, 1, clock.clone());
        for _ in 0..3 {
            limits.check("key", RequestClass::Read);
        }

        let refused = limits.check("key", RequestClass::Read);
        clock.advance(Duration::from_secs(20) - Duration::from_nanos(1));
        let still_refused = limits.check("key", RequestClass::Read);
        clock.advance(Duration::from_nanos(1));
        let served = limits.check("key", RequestClass::Read);

        // The clock stood still, so the wait is exactly one refill period.
        assert_eq!(
            refused,
            Decision::Refused {
                limit: 3,
                retry_after: Duration::from_secs(20)
            }
        );
        assert!(
            matches!(still_refused, Decision::Refused { .. }),
            "{still_refused:?}"
        );
        assert_eq!(
            served,
            Decision::Allowed {
                limit: 3,
                remaining: 0
            }
        );
    }

    #[test]
    fn forgetting_full_buckets_does_not_hand_a_spent_key_a_fresh_budget() {
        let clock = governor::clock::FakeRelativeClock::default();
        let limits = RateLimits::per_minute_with_clock(2, 1, clock.clone());
        limits.check("spent", RequestClass::Read);
        limits.check("spent", RequestClass::Read);
        // Half a refill period: one read is back, so the bucket is neither empty nor full.
        clock.advance(Duration::from_secs(30));
        limits.check("spent", RequestClass::Read);

        limits.forget_full_buckets();
        let after = limits.check("spent", RequestClass::Read);

        assert!(matches!(after, Decision::Refused { .. }), "{after:?}");
    }

    #[test]
    fn keys_and_classes_have_budgets_of_their_own() {
        let limits = RateLimits::per_minute(1, 1);
        assert!(matches!(
            limits.check("a", RequestClass::Write),
            Decision::Allowed { .. }
        ));

        assert!(matches!(
            limits.check("a", RequestClass::Write),
            Decision::Refused { .. }
        ));
        assert!(matches!(
            limits.check("a", RequestClass::Read),
            Decision::Allowed { .. }
        ));
        assert!(matches!(
            limits.check("b", RequestClass::Write),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn a_limit_of_zero_turns_that_class_off() {
        let limits = RateLimits::per_minute(0, 2);

        assert_eq!(limits.limit(RequestClass::Read), None);
        assert_eq!(limits.limit(RequestClass::Write), Some(2));
        for _ in 0..100 {
            assert_eq!(limits.check("key", RequestClass::Read), Decision::Unlimited);
        }
        assert_eq!(
            format!("{limits:?}"),
            "RateLimits { reads_per_minute: None, writes_per_minute: Some(2) }"
        );
    }

    #[test]
    fn the_eleventh_failure_in_a_minute_is_refused_until_the_minute_from_the_first_is_over() {
        let attempts = FailedAttempts::default();
        let start = Instant::now();
        for i in 0..FAILED_ATTEMPTS_PER_WINDOW {
            let at = start + Duration::from_secs(u64::from(i));
            assert_eq!(
                attempts.record_failure_at("OLAKA", at),
                Ok(()),
                "attempt {i}"
            );
        }

        let refused = attempts.record_failure_at("OLAKA", start + Duration::from_secs(20));
        let other = attempts.record_failure_at("OLAKB", start + Duration::from_secs(20));
        let later = attempts.record_failure_at("OLAKA", start + FAILED_ATTEMPTS_WINDOW);

        assert_eq!(refused, Err(Duration::from_secs(40)));
        assert_eq!(other, Ok(()), "another client id has a count of its own");
        assert_eq!(later, Ok(()), "a new minute, a new count");
    }

    #[test]
    fn a_flood_of_distinct_client_ids_stays_within_the_bound_and_refuses_no_other_id() {
        let attempts = FailedAttempts::default();
        let now = Instant::now();
        for _ in 0..FAILED_ATTEMPTS_PER_WINDOW {
            attempts.record_failure_at("OLAKTARGET", now).unwrap();
        }
        for i in 0..(2 * FAILED_ATTEMPTS_CAPACITY) {
            let random = format!("{i:x}{}", "x".repeat(1000));
            let _ = attempts.record_failure_at(&random, now);
        }

        assert!(attempts.tracked_ids() <= FAILED_ATTEMPTS_CAPACITY);
        let tracked = attempts.tracked.lock().unwrap();
        assert!(tracked.by_id.keys().all(|id| id.len() <= TRACKED_ID_BYTES));
        drop(tracked);
        assert!(
            attempts.record_failure_at("OLAKTARGET", now).is_err(),
            "the flood did not reset the target's count"
        );
        assert_eq!(
            attempts.record_failure_at("OLAKNEVERSEEN", now),
            Ok(()),
            "an id crowded out of the map is not refused for others' failures"
        );
    }

    #[test]
    fn windows_that_ended_are_forgotten() {
        let attempts = FailedAttempts::default();
        let _ = attempts.record_failure_at("OLAKA", Instant::now() - FAILED_ATTEMPTS_WINDOW);
        let _ = attempts.record_failure("OLAKB");

        attempts.forget_ended();

        assert_eq!(attempts.tracked_ids(), 1);
    }
}
