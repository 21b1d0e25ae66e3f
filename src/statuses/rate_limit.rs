//! Per-key request rate, counted in this process with `governor` (keyed GCRA limiters,
//! one per rate), and the daily budget counted in the database (see
//! `storage::api_keys::record_use`).
//!
//! With several replicas each allows the per-second rate on its own; the daily budget
//! is shared. Time comes from the injected [`Clock`], so tests move time instead of
//! sleeping. governor sees that clock in whole seconds: within a second its time stands
//! still, so a key gets exactly its rate per UTC second and the full rate again when the
//! second turns (a fixed one-second window, as the status API has always counted).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::{Quota, RateLimiter as Governor, clock::Clock as GovernorClock};

use crate::clock::Clock;

const DAY_MS: i64 = 86_400_000;

/// The injected clock as governor reads it: whole seconds since the epoch.
#[derive(Clone, Debug)]
struct WholeSeconds(Clock);

impl GovernorClock for WholeSeconds {
    type Instant = Duration;

    fn now(&self) -> Duration {
        let secs = self.0.now_ms().div_euclid(1000);
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    }
}

type KeyedLimiter = Governor<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    WholeSeconds,
    governor::middleware::NoOpMiddleware<Duration>,
>;

/// Requests per key per second, one keyed limiter for each rate in use.
#[derive(Debug)]
pub struct RateLimiter {
    clock: WholeSeconds,
    by_rate: RwLock<HashMap<NonZeroU32, Arc<KeyedLimiter>>>,
}

impl RateLimiter {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock: WholeSeconds(clock),
            by_rate: RwLock::default(),
        }
    }

    /// Counts a request of `key` now; `Err(retry_after_secs)` past `per_second`.
    pub fn check_second(&self, key: &str, per_second: u32) -> Result<(), u64> {
        let Some(rate) = NonZeroU32::new(per_second) else {
            return Err(1);
        };
        let limiter = self.limiter(rate);
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs()
                .saturating_add(u64::from(wait.subsec_nanos() > 0))
                .max(1)
        })
    }

    fn limiter(&self, rate: NonZeroU32) -> Arc<KeyedLimiter> {
        let known = match self.by_rate.read() {
            Ok(guard) => guard.get(&rate).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&rate).cloned(),
        };
        if let Some(limiter) = known {
            return limiter;
        }
        let mut by_rate = match self.by_rate.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        by_rate
            .entry(rate)
            .or_insert_with(|| {
                Arc::new(Governor::dashmap_with_clock(
                    Quota::per_second(rate),
                    self.clock.clone(),
                ))
            })
            .clone()
    }
}

/// Days since the epoch (UTC) of `now_ms`, the unit of the daily budget.
pub fn day_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(DAY_MS)
}

/// Whole seconds from `now_ms` to the next UTC midnight (at least 1).
pub fn secs_to_midnight(now_ms: i64) -> u64 {
    let next = (day_of(now_ms) + 1) * DAY_MS;
    let secs = (next - now_ms + 999) / 1000;
    u64::try_from(secs.max(1)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter_at(t: i64) -> (Clock, RateLimiter) {
        let clock = Clock::manual(t);
        (clock.clone(), RateLimiter::new(clock))
    }

    /// Whether `times` requests in a row of `key` at `rate` all pass.
    fn admits(limiter: &RateLimiter, key: &str, rate: u32, times: u32) -> bool {
        (0..times).all(|_| limiter.check_second(key, rate) == Ok(()))
    }

    #[test]
    fn a_key_gets_its_rate_per_second_and_more_in_the_next_second() {
        let t = 1_700_000_000_000;
        let (clock, limiter) = limiter_at(t);
        assert!(admits(&limiter, "a", 3, 3));
        clock.set(t + 999);
        assert_eq!(limiter.check_second("a", 3), Err(1));
        clock.set(t);
        assert_eq!(limiter.check_second("b", 3), Ok(()), "keys are separate");
        clock.set(t + 1000);
        assert_eq!(limiter.check_second("a", 3), Ok(()));
    }

    #[test]
    fn the_whole_rate_comes_back_when_the_second_turns_and_a_rate_of_zero_refuses() {
        let t = 1_700_000_000_500;
        let (clock, limiter) = limiter_at(t);
        assert!(admits(&limiter, "a", 2, 2));
        assert_eq!(limiter.check_second("a", 2), Err(1));
        assert_eq!(
            limiter.check_second("a", 5),
            Ok(()),
            "each rate counts on its own"
        );
        clock.set(t + 500);
        assert!(admits(&limiter, "a", 2, 2), "a new second");
        assert_eq!(limiter.check_second("a", 2), Err(1));
        assert_eq!(limiter.check_second("z", 0), Err(1));
    }

    #[test]
    fn the_daily_budget_resets_at_utc_midnight() {
        let midnight = 19_000 * DAY_MS;
        assert_eq!(day_of(midnight - 1) + 1, day_of(midnight));
        assert_eq!(secs_to_midnight(midnight - 1), 1);
        assert_eq!(secs_to_midnight(midnight - 3_600_000), 3600);
    }
}
