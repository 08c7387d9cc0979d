//! Request rate limits: a bucket per API key, and per client address for requests without a key (and for refused
//! keys, so guessing keys is slow), kept by `governor` (GCRA: a bucket of `per_minute` requests refilled evenly over
//! the minute, checked without a lock on the whole table).
//!
//! The buckets live in the process, or, with `--redis-url`, in Redis, shared by every process behind a balancer: one
//! script runs the same GCRA atomically in one round trip (`GCRA`), keyed `rl:key:<prefix>` and `rl:ip:<address>`.
//! When Redis cannot be reached (within `REDIS_TIMEOUT`), each process falls back to its own buckets at its share of
//! the limit (the limit ÷ `--processes`), says so in its log and in `/metrics`, and tries Redis again after
//! `RETRY_AFTER`. They protect capacity; no data rule depends on them. Buckets back at their full capacity are dropped
//! every `SWEEP_EVERY` checks, so the table holds the callers of about the last minute, and a check never scans it.

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
    /// The buckets shared in Redis, when configured.
    shared: Option<Shared>,
}

/// How long a check waits for Redis before falling back.
pub const REDIS_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(200);
/// How long a process keeps its own buckets before trying Redis again.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// GCRA in one script, run atomically by Redis: `KEYS[1]` the bucket, `ARGV[1]` the milliseconds one request
/// refills, `ARGV[2]` the burst (the limit a minute). The theoretical arrival time is kept in milliseconds of
/// Redis's own clock, so every process agrees. Answers `{allowed, remaining, seconds to reset or retry}`.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return {0, 0, math.ceil((allow_at - now) / 1000)}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
local remaining = math.floor((now - allow_at) / interval)
return {1, remaining, math.max(1, math.ceil((new_tat - now) / 1000))}
";

/// The buckets in Redis, and this process's share for when Redis cannot be reached.
struct Shared {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    script: redis::Script,
    addresses: Buckets,
    keys: Buckets,
    /// Redis answered the last check.
    up: std::sync::atomic::AtomicBool,
    /// When this process may try Redis again after it failed (milliseconds since `started`).
    retry_at: AtomicU64,
    started: std::time::Instant,
}

impl RateLimiter {
    /// Buckets of `anonymous_per_minute` requests per client address and `keyed_per_minute` per key.
    pub fn new(anonymous_per_minute: u32, keyed_per_minute: u32) -> Self {
        RateLimiter {
            addresses: Buckets::new(anonymous_per_minute),
            keys: Buckets::new(keyed_per_minute),
            checks: AtomicU64::new(0),
            shared: None,
        }
    }

    /// The same limits shared by every process through Redis at `url`; `processes` processes share them, so each
    /// falls back to a `processes`-th of each limit when Redis cannot be reached. A URL that does not read is refused.
    pub fn shared(self, url: &str, processes: u32) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("`{url}` is not a Redis URL: {e}"))?;
        let share = |limit: u32| Buckets::new((limit / processes.max(1)).max(1));
        let shared = Shared {
            client,
            connection: tokio::sync::Mutex::new(None),
            script: redis::Script::new(GCRA),
            addresses: share(self.addresses.per_minute),
            keys: share(self.keys.per_minute),
            up: std::sync::atomic::AtomicBool::new(true),
            retry_at: AtomicU64::new(0),
            started: std::time::Instant::now(),
        };
        Ok(RateLimiter {
            shared: Some(shared),
            ..self
        })
    }

    /// Whether the limits are shared through Redis right now (`None`: not configured).
    pub fn shared_up(&self) -> Option<bool> {
        self.shared.as_ref().map(|s| s.up.load(Ordering::Relaxed))
    }

    /// Takes one request from the bucket of a client address.
    pub async fn by_address(&self, address: &str) -> Decision {
        self.sweep_now_and_then();
        match &self.shared {
            None => self.addresses.check(address),
            Some(shared) => shared.check("ip", address, &self.addresses, &shared.addresses).await,
        }
    }

    /// Takes one request from the bucket of a key (by its prefix).
    pub async fn by_key(&self, prefix: &str) -> Decision {
        self.sweep_now_and_then();
        match &self.shared {
            None => self.keys.check(prefix),
            Some(shared) => shared.check("key", prefix, &self.keys, &shared.keys).await,
        }
    }

    fn sweep_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let shared = self.shared.iter().flat_map(|s| [&s.addresses, &s.keys]);
            for buckets in [&self.addresses, &self.keys].into_iter().chain(shared) {
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

impl Shared {
    /// One request from the shared bucket `kind:identity` of `limits`, or from this process's share when Redis cannot
    /// be reached.
    async fn check(&self, kind: &str, identity: &str, limits: &Buckets, share: &Buckets) -> Decision {
        let elapsed = self.started.elapsed().as_millis() as u64;
        if elapsed >= self.retry_at.load(Ordering::Relaxed) {
            match tokio::time::timeout(REDIS_TIMEOUT, self.run(kind, identity, limits.per_minute)).await {
                Ok(Ok((allowed, remaining, seconds))) => {
                    if !self.up.swap(true, Ordering::Relaxed) {
                        tracing::warn!("rate limits are shared through Redis again");
                    }
                    return Decision {
                        allowed: allowed == 1,
                        limit: limits.per_minute,
                        remaining: remaining.clamp(0, i64::from(limits.per_minute)) as u32,
                        reset_seconds: seconds.max(1) as u64,
                    };
                }
                failed => {
                    let reason = match failed {
                        Ok(Err(error)) => error.to_string(),
                        _ => format!("no answer within {} ms", REDIS_TIMEOUT.as_millis()),
                    };
                    *self.connection.lock().await = None;
                    self.retry_at
                        .store(elapsed + RETRY_AFTER.as_millis() as u64, Ordering::Relaxed);
                    if self.up.swap(false, Ordering::Relaxed) {
                        tracing::warn!(
                            %reason,
                            share = share.per_minute,
                            "Redis cannot be reached: this process enforces its own share of the rate limits"
                        );
                    }
                }
            }
        }
        share.check(identity)
    }

    async fn run(&self, kind: &str, identity: &str, per_minute: u32) -> redis::RedisResult<(i64, i64, i64)> {
        let mut connection = {
            let mut held = self.connection.lock().await;
            if held.is_none() {
                *held = Some(self.client.get_multiplexed_async_connection().await?);
            }
            held.clone().expect("just connected")
        };
        let interval = (60_000 / u64::from(per_minute.max(1))).max(1);
        let answer: Vec<i64> = self
            .script
            .key(format!("rl:{kind}:{identity}"))
            .arg(interval)
            .arg(per_minute)
            .invoke_async(&mut connection)
            .await?;
        match answer.as_slice() {
            [allowed, remaining, seconds] => Ok((*allowed, *remaining, *seconds)),
            _ => Err((
                redis::ErrorKind::TypeError,
                "the rate-limit script answered three numbers",
            )
                .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_limit_then_refuses_and_buckets_are_separate() {
        let limiter = RateLimiter::new(3, 5);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let by_address = |a: &str| rt.block_on(limiter.by_address(a));
        let by_key = |k: &str| rt.block_on(limiter.by_key(k));
        for i in 0..3 {
            let decision = by_address("a");
            assert!(decision.allowed);
            assert_eq!(decision.remaining, 2 - i);
        }
        let refused = by_address("a");
        assert!(!refused.allowed);
        assert!(refused.reset_seconds >= 1 && refused.reset_seconds <= 20);
        assert!(by_address("b").allowed, "another caller keeps its own bucket");
        assert_eq!(by_key("a").remaining, 4, "a key's bucket is apart from an address's");
    }

    #[test]
    fn full_buckets_are_swept_so_the_table_does_not_grow_with_callers_long_gone() {
        // At 10^7 requests a minute one request is refilled within 6 µs, so by the next sweep every caller's bucket is
        // full again and is dropped: the table holds about the callers since the last sweep, not every caller seen.
        let limiter = RateLimiter::new(10_000_000, 10_000_000);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for caller in 0..(3 * SWEEP_EVERY) {
            rt.block_on(limiter.by_address(&format!("client-{caller}")));
        }
        assert!(
            (limiter.len() as u64) < 2 * SWEEP_EVERY,
            "{} buckets held after {} callers",
            limiter.len(),
            3 * SWEEP_EVERY
        );
    }
}
