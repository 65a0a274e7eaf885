//! Bounded polls of a condition.

use std::future::Future;
use std::time::Duration;

/// How often [`wait_until`] and [`wait_until_async`] re-check their condition.
const POLL: Duration = Duration::from_millis(10);

/// Polls `cond` every 10 ms until it holds; panics naming `what` once `limit` has passed.
///
/// Uses `tokio::time`, so it also works (without real waiting) under a paused clock.
pub async fn wait_until<F: FnMut() -> bool>(limit: Duration, what: &str, mut cond: F) {
    let start = tokio::time::Instant::now();
    loop {
        if cond() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for: {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The async variant of [`wait_until`]: `cond` is awaited each round (each evaluation is itself
/// bounded by `limit`, and a timed-out evaluation counts as `false`).
pub async fn wait_until_async<F, Fut>(limit: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if tokio::time::timeout(limit, cond()).await.unwrap_or(false) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for: {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn returns_once_the_condition_holds() {
        let mut n = 0;
        wait_until(Duration::from_secs(1), "three polls", || {
            n += 1;
            n >= 3
        })
        .await;
        assert_eq!(n, 3);
    }

    #[tokio::test(start_paused = true)]
    #[should_panic(expected = "timed out after 100ms waiting for: never")]
    async fn panics_after_the_limit() {
        wait_until(Duration::from_millis(100), "never", || false).await;
    }

    #[tokio::test(start_paused = true)]
    async fn the_async_variant_awaits_the_condition() {
        let mut n = 0;
        wait_until_async(Duration::from_secs(1), "two polls", || {
            n += 1;
            let done = n >= 2;
            async move { done }
        })
        .await;
        assert_eq!(n, 2);
    }
}
