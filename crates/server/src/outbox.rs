//! What the outboxes (webhook deliveries, mails) share: when a failed send is tried again.

use std::time::Duration;

/// Sends are retried for this long after the thing sent was queued, then given up.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3_600_000;
const MOST_BETWEEN_RETRIES_MS: i64 = 3_600_000;

/// When to try again a send that failed for the `attempts + 1`th time: `first_retry` after the
/// first, doubling, at most an hour apart; `None` once 24 hours have passed since it was queued.
pub fn retry_at(first_retry: Duration, attempts: u32, created_at_ms: i64, now_ms: i64) -> Option<i64> {
    let first = i64::try_from(first_retry.as_millis()).unwrap_or(i64::MAX);
    let wait = first.saturating_mul(1_i64 << attempts.min(20)).min(MOST_BETWEEN_RETRIES_MS);
    let at = now_ms.saturating_add(wait);
    (at - created_at_ms <= GIVE_UP_AFTER_MS).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_after_a_day() {
        let first = Duration::from_secs(10);
        assert_eq!(retry_at(first, 0, 0, 1_000), Some(11_000));
        assert_eq!(retry_at(first, 3, 0, 1_000), Some(81_000));
        assert_eq!(retry_at(first, 30, 0, 1_000), Some(3_601_000), "at most an hour apart");
        assert_eq!(retry_at(first, 30, 0, GIVE_UP_AFTER_MS), None, "given up after a day");
    }
}
