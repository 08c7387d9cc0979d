//! Request rate limits: a bucket per API key, and per client address for requests without a key (and for refused
//! keys, so guessing keys is slow), kept by `governor` (GCRA: a bucket of `per_minute` requests refilled evenly over
//! the minute, checked without a lock on the whole table).
//!
//! The buckets live in the process: with several processes behind a balancer each enforces its own share. They
//! protect capacity; no data rule depends on them. Buckets back at their full capacity are dropped every
//! `SWEEP_EVERY` checks, so the table holds the callers of about the last minute, and a check never scans it.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Checks between two sweeps of the buckets back at full capacity.
const SWEEP_EVERY: u64 = 4_096;

/// The outcome of one check, with what the rate-limit headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests allowed per minute.
    pub limit: u32,
    /// Requests left now.
    pub remaining: u32,
    /// Seconds until the next request is allowed (when refused) or the bucket is full again.
    pub reset_seconds: u64,
}

/// The buckets of one quota.
struct Buckets {
    per_minute: u32,
    limiter: DefaultKeyedRateLimiter<String, StateInformationMiddleware>,
}

impl Buckets {
    fn new(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).expect("at least one"));
        Buckets {
            per_minute,
            limiter: DefaultKeyedRateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
        }
    }

    fn check(&self, identity: &str) -> Decision {
        let seconds_per_request = 60.0 / f64::from(self.per_minute);
        match self.limiter.check_key(&identity.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let missing = self.per_minute.saturating_sub(remaining);
                Decision {
                    allowed: true,
                    limit: self.per_minute,
                    remaining,
                    reset_seconds: ((f64::from(missing) * seconds_per_request).ceil() as u64).max(1),
                }
            }
            Err(not_until) => Decision {
                allowed: false,
                limit: self.per_minute,
                remaining: 0,
                reset_seconds: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64,
            },
        }
    }
}

/// The buckets of keys and of client addresses.
pub struct RateLimiter {
    addresses: Buckets,
    keys: Buckets,
    checks: AtomicU64,
}

impl RateLimiter {
    /// Buckets of `anonymous_per_minute` requests per client address and `keyed_per_minute` per key.
    pub fn new(anonymous_per_minute: u32, keyed_per_minute: u32) -> Self {
        RateLimiter {
            addresses: Buckets::new(anonymous_per_minute),
            keys: Buckets::new(keyed_per_minute),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request from the bucket of a client address.
    pub fn by_address(&self, address: &str) -> Decision {
        self.sweep_now_and_then();
        self.addresses.check(address)
    }

    /// Takes one request from the bucket of a key (by its prefix).
    pub fn by_key(&self, prefix: &str) -> Decision {
        self.sweep_now_and_then();
        self.keys.check(prefix)
    }

    fn sweep_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for buckets in [&self.addresses, &self.keys] {
                buckets.limiter.retain_recent();
                buckets.limiter.shrink_to_fit();
            }
        }
    }

    /// Buckets held (keys and addresses).
    pub fn len(&self) -> usize {
        self.addresses.limiter.len() + self.keys.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_limit_then_refuses_and_buckets_are_separate() {
        let limiter = RateLimiter::new(3, 5);
        for i in 0..3 {
            let decision = limiter.by_address("a");
            assert!(decision.allowed);
            assert_eq!(decision.remaining, 2 - i);
        }
        let refused = limiter.by_address("a");
        assert!(!refused.allowed);
        assert!(refused.reset_seconds >= 1 && refused.reset_seconds <= 20);
        assert!(limiter.by_address("b").allowed, "another caller keeps its own bucket");
        assert_eq!(
            limiter.by_key("a").remaining,
            4,
            "a key's bucket is apart from an address's"
        );
    }

    #[test]
    fn full_buckets_are_swept_so_the_table_does_not_grow_with_callers_long_gone() {
        // At 10^7 requests a minute one request is refilled within 6 µs, so by the next sweep every caller's bucket is
        // full again and is dropped: the table holds about the callers since the last sweep, not every caller seen.
        let limiter = RateLimiter::new(10_000_000, 10_000_000);
        for caller in 0..(3 * SWEEP_EVERY) {
            limiter.by_address(&format!("client-{caller}"));
        }
        assert!(
            (limiter.len() as u64) < 2 * SWEEP_EVERY,
            "{} buckets held after {} callers",
            limiter.len(),
            3 * SWEEP_EVERY
        );
    }
}
