//! How long a node's pool waits between attempts to refill it: a [`ReconnectPolicy`] gives
//! each pool its own [`ReconnectPolicySession`], which the refill loop tells how each fill round
//! went and asks for the next delay.
//!
//! The names are the `scylla` crate's (where this API needs `--cfg scylla_unstable` and the
//! `unstable-reconnect-policy` feature); here it is stable.
//!
//! A fill round opens every missing connection of the pool at once. After it:
//! - a round that opened at least one connection calls
//!   [`on_successful_fill`](ReconnectPolicySession::on_successful_fill);
//! - a round that added no connection to the pool (every attempt failed, or each landed on a
//!   shard that had enough) calls [`on_fill_error`](ReconnectPolicySession::on_fill_error),
//!   then the pool waits [`get_delay`](ReconnectPolicySession::get_delay) before the next round
//!   (less when a broken connection or a node coming back wakes it).
//!
//! A round that added connections but left some missing is followed at once by another.

use std::fmt::Debug;
use std::time::Duration;

use rand::Rng;

/// The reconnection state of one pool, made by [`ReconnectPolicy::new_session`]. It is owned
/// by that pool's refill task, so its methods take `&mut self`.
pub trait ReconnectPolicySession: Send + Debug {
    /// How long the pool waits before its next fill round, after a round that added no
    /// connection.
    fn get_delay(&self) -> Duration;

    /// A fill round opened at least one connection.
    fn on_successful_fill(&mut self);

    /// A fill round added no connection to the pool; [`Self::get_delay`] is asked next.
    fn on_fill_error(&mut self);
}

/// Makes the per-pool [`ReconnectPolicySession`]s: one per node, when its pool starts.
pub trait ReconnectPolicy: Send + Sync + Debug {
    /// The state of a new pool.
    fn new_session(&self) -> Box<dyn ReconnectPolicySession>;
}

/// Exponential backoff: the delay starts at `min_fill_backoff`, is multiplied by
/// `fill_backoff_multiplier` after each fill round that added no connection, up to
/// `max_fill_backoff`, and goes back to the minimum once a round opens a connection.
///
/// With jitter (the default) each delay is drawn uniformly from `[d/2, d]` for the current
/// delay `d`, so pools that lost their node at the same moment do not retry in step.
///
/// The default is this crate's reconnection before policies existed: 100 ms, doubling, at most
/// 10 s, with jitter (the `scylla` crate starts at 50 ms, without jitter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExponentialReconnectPolicy {
    min_fill_backoff: Duration,
    max_fill_backoff: Duration,
    fill_backoff_multiplier: u32,
    jitter: bool,
}

impl ExponentialReconnectPolicy {
    /// 100 ms, doubling, at most 10 s, with jitter.
    pub fn new() -> Self {
        Self {
            min_fill_backoff: Duration::from_millis(100),
            max_fill_backoff: Duration::from_secs(10),
            fill_backoff_multiplier: 2,
            jitter: true,
        }
    }

    /// The first delay, and the delay after a fill round that opened a connection.
    #[must_use]
    pub fn with_min_fill_backoff(mut self, value: Duration) -> Self {
        self.min_fill_backoff = value;
        self
    }

    /// The longest delay.
    #[must_use]
    pub fn with_max_fill_backoff(mut self, value: Duration) -> Self {
        self.max_fill_backoff = value;
        self
    }

    /// What each fill round that added no connection multiplies the delay by (default 2).
    #[must_use]
    pub fn with_fill_backoff_multiplier(mut self, value: u32) -> Self {
        self.fill_backoff_multiplier = value;
        self
    }

    /// Whether each delay is drawn from `[d/2, d]` (default on) or is exactly `d`. An
    /// extension over the `scylla` crate.
    #[must_use]
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }
}

impl Default for ExponentialReconnectPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl ReconnectPolicy for ExponentialReconnectPolicy {
    fn new_session(&self) -> Box<dyn ReconnectPolicySession> {
        Box::new(ExponentialSession {
            policy: self.clone(),
            current: self.min_fill_backoff,
        })
    }
}

#[derive(Debug)]
struct ExponentialSession {
    policy: ExponentialReconnectPolicy,
    current: Duration,
}

impl ReconnectPolicySession for ExponentialSession {
    fn get_delay(&self) -> Duration {
        if !self.policy.jitter {
            return self.current;
        }
        let millis = u64::try_from(self.current.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }

    fn on_successful_fill(&mut self) {
        self.current = self.policy.min_fill_backoff;
    }

    fn on_fill_error(&mut self) {
        self.current = self
            .current
            .saturating_mul(self.policy.fill_backoff_multiplier)
            .min(self.policy.max_fill_backoff);
    }
}

/// The same delay after every fill round that added no connection. An extension over the
/// `scylla` crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstantReconnectPolicy {
    delay: Duration,
}

impl ConstantReconnectPolicy {
    /// Waits `delay` between fill rounds that open nothing.
    pub fn new(delay: Duration) -> Self {
        Self { delay }
    }
}

impl ReconnectPolicy for ConstantReconnectPolicy {
    fn new_session(&self) -> Box<dyn ReconnectPolicySession> {
        Box::new(*self)
    }
}

impl ReconnectPolicySession for ConstantReconnectPolicy {
    fn get_delay(&self) -> Duration {
        self.delay
    }

    fn on_successful_fill(&mut self) {}

    fn on_fill_error(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The delays after `n` fill rounds that opened nothing, without jitter.
    fn delays(policy: &ExponentialReconnectPolicy, n: usize) -> Vec<Duration> {
        let mut s = policy.new_session();
        (0..n)
            .map(|_| {
                s.on_fill_error();
                s.get_delay()
            })
            .collect()
    }

    #[test]
    fn exponential_doubles_up_to_the_cap_and_resets_on_success() {
        let p = ExponentialReconnectPolicy::new().with_jitter(false);
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            delays(&p, 8),
            ms(&[200, 400, 800, 1600, 3200, 6400, 10_000, 10_000])
        );
        let mut s = p.new_session();
        s.on_fill_error();
        s.on_fill_error();
        s.on_successful_fill();
        s.on_fill_error();
        assert_eq!(s.get_delay(), Duration::from_millis(200));

        let tripled = ExponentialReconnectPolicy::new()
            .with_min_fill_backoff(Duration::from_millis(10))
            .with_max_fill_backoff(Duration::from_millis(500))
            .with_fill_backoff_multiplier(3)
            .with_jitter(false);
        assert_eq!(delays(&tripled, 4), ms(&[30, 90, 270, 500]));
    }

    #[test]
    fn exponential_jitter_stays_within_half_to_full_delay() {
        // The backoff the pool used before policies: after the n-th failure, a delay drawn
        // from [cap/2, cap] with cap = 100 ms * 2^n, at most 10 s.
        let mut s = ExponentialReconnectPolicy::new().new_session();
        let mut seen = std::collections::HashSet::new();
        for n in 1..=10u32 {
            s.on_fill_error();
            let cap = Duration::from_millis(100)
                .saturating_mul(1 << n)
                .min(Duration::from_secs(10));
            for _ in 0..50 {
                let d = s.get_delay();
                assert!(d >= cap / 2 && d <= cap, "{d:?} for cap {cap:?}");
                seen.insert(d);
            }
        }
        assert!(seen.len() > 20, "jittered: {} distinct delays", seen.len());
    }

    #[test]
    fn constant_is_constant() {
        let mut s = ConstantReconnectPolicy::new(Duration::from_millis(70)).new_session();
        for _ in 0..5 {
            s.on_fill_error();
            assert_eq!(s.get_delay(), Duration::from_millis(70));
        }
        s.on_successful_fill();
        assert_eq!(s.get_delay(), Duration::from_millis(70));
    }
}
