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

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

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

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// One class's limit and the buckets of every key that spent from it.
struct Budget {
    per_minute: NonZeroU32,
    limiter: KeyedLimiter,
}

impl Budget {
    fn new(per_minute: u32) -> Option<Arc<Budget>> {
        let per_minute = NonZeroU32::new(per_minute)?;
        Some(Arc::new(Budget {
            per_minute,
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute))
                .with_middleware::<StateInformationMiddleware>(),
        }))
    }

    fn check(&self, access_key_id: &str) -> Decision {
        let limit = self.per_minute.get();
        match self.limiter.check_key(&access_key_id.to_owned()) {
            Ok(snapshot) => Decision::Allowed {
                limit,
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Decision::Refused {
                limit,
                retry_after: not_until.wait_time_from(self.limiter.clock().now()),
            },
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
        RateLimits {
            reads: Budget::new(reads),
            writes: Budget::new(writes),
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
            budget.limiter.retain_recent();
            budget.limiter.shrink_to_fit();
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
}
