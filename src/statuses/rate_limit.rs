//! Per-key request rate: a fixed one-second window counted in this process, and the
//! daily budget counted in the database (see `storage::api_keys::record_use`).
//!
//! With several replicas each allows the per-second rate on its own; the daily budget
//! is shared. Times come from the injected clock, so tests move time instead of sleeping.

use std::collections::HashMap;
use std::sync::Mutex;

const DAY_MS: i64 = 86_400_000;

/// Requests per key in the current second.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    /// Counts a request of `key` at `now_ms`; `Err(retry_after_secs)` past `per_second`.
    pub fn check_second(&self, key: &str, now_ms: i64, per_second: u32) -> Result<(), u64> {
        let second = now_ms.div_euclid(1000);
        let mut windows = match self.windows.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = windows.entry(key.to_owned()).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        if entry.1 >= per_second {
            return Err(1);
        }
        entry.1 += 1;
        Ok(())
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

    #[test]
    fn a_key_gets_its_rate_per_second_and_more_in_the_next_second() {
        let limiter = RateLimiter::default();
        let t = 1_700_000_000_000;
        for _ in 0..3 {
            assert_eq!(limiter.check_second("a", t, 3), Ok(()));
        }
        assert_eq!(limiter.check_second("a", t + 999, 3), Err(1));
        assert_eq!(limiter.check_second("b", t, 3), Ok(()), "keys are separate");
        assert_eq!(limiter.check_second("a", t + 1000, 3), Ok(()));
    }

    #[test]
    fn the_daily_budget_resets_at_utc_midnight() {
        let midnight = 19_000 * DAY_MS;
        assert_eq!(day_of(midnight - 1) + 1, day_of(midnight));
        assert_eq!(secs_to_midnight(midnight - 1), 1);
        assert_eq!(secs_to_midnight(midnight - 3_600_000), 3600);
    }
}
