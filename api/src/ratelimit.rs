//! Request rate limits: a token bucket per API key, and per client address for
//! requests without a key (and for refused keys, so guessing keys is slow).
//!
//! The buckets live in the process: with several processes behind a balancer
//! each enforces its own share. They protect capacity; no data rule depends
//! on them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Most buckets kept before idle full ones are dropped.
const MAX_BUCKETS: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

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

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes one request from `identity`'s bucket of `per_minute` requests.
    pub fn check(&self, identity: &str, per_minute: u32) -> Decision {
        let now = Instant::now();
        let capacity = per_minute.max(1) as f64;
        let rate = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < capacity);
        }
        let bucket = buckets.entry(identity.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * rate).min(capacity);
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let reset_seconds = if allowed {
            ((capacity - bucket.tokens) / rate).ceil() as u64
        } else {
            ((1.0 - bucket.tokens) / rate).ceil() as u64
        };
        Decision {
            allowed,
            limit: per_minute,
            remaining: bucket.tokens.floor() as u32,
            reset_seconds: reset_seconds.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_limit_then_refuses_and_buckets_are_separate() {
        let limiter = RateLimiter::default();
        for i in 0..3 {
            let decision = limiter.check("a", 3);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, 2 - i);
        }
        let refused = limiter.check("a", 3);
        assert!(!refused.allowed);
        assert!(refused.reset_seconds >= 1 && refused.reset_seconds <= 20);
        assert!(limiter.check("b", 3).allowed, "another caller keeps its own bucket");
    }
}
