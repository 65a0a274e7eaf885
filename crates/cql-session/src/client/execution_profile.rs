//! Execution profiles: named bundles of request options (consistency, timeouts, policies).
//!
//! A session has a default profile; a statement may name another with
//! `set_execution_profile_handle`. A [`ExecutionProfileHandle`] can be re-pointed at a new
//! profile at run time ([`ExecutionProfileHandle::map_to_another_profile`]), and every statement
//! and session holding the handle sees the change on its next request.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::consistency::{Consistency, SerialConsistency};
use crate::policies::load_balancing::{DefaultPolicy, LoadBalancingPolicy};
use crate::policies::retry::{DefaultRetryPolicy, RetryPolicy};
use crate::policies::speculative_execution::SpeculativeExecutionPolicy;
use crate::policies::throttle::RequestThrottler;

/// The default request timeout: 30 seconds.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Request options shared by the statements that use the profile.
#[derive(Debug, Clone)]
pub struct ExecutionProfile {
    pub(crate) consistency: Consistency,
    pub(crate) serial_consistency: Option<SerialConsistency>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) load_balancing_policy: Arc<dyn LoadBalancingPolicy>,
    pub(crate) retry_policy: Arc<dyn RetryPolicy>,
    pub(crate) speculative_execution_policy: Option<Arc<dyn SpeculativeExecutionPolicy>>,
    /// The profile's own request throttler, used instead of the session's.
    pub(crate) request_throttler: Option<Arc<dyn RequestThrottler>>,
}

impl Default for ExecutionProfile {
    fn default() -> Self {
        Self {
            consistency: Consistency::LocalQuorum,
            serial_consistency: Some(SerialConsistency::LocalSerial),
            request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            attempt_timeout: None,
            load_balancing_policy: Arc::new(DefaultPolicy::default()),
            retry_policy: Arc::new(DefaultRetryPolicy::new()),
            speculative_execution_policy: None,
            request_throttler: None,
        }
    }
}

impl ExecutionProfile {
    /// A builder starting from the defaults: `LOCAL_QUORUM`, `LOCAL_SERIAL`, a 30 s request
    /// timeout, the [`DefaultPolicy`], the [`DefaultRetryPolicy`] and no speculative execution.
    pub fn builder() -> ExecutionProfileBuilder {
        ExecutionProfileBuilder {
            profile: Self::default(),
        }
    }

    /// A builder starting from this profile.
    pub fn to_builder(&self) -> ExecutionProfileBuilder {
        ExecutionProfileBuilder {
            profile: self.clone(),
        }
    }

    /// Wraps the profile in a handle that statements and sessions can share.
    pub fn into_handle(self) -> ExecutionProfileHandle {
        ExecutionProfileHandle(Arc::new(ArcSwap::from_pointee(self)))
    }

    /// The consistency.
    pub fn get_consistency(&self) -> Consistency {
        self.consistency
    }

    /// The serial consistency.
    pub fn get_serial_consistency(&self) -> Option<SerialConsistency> {
        self.serial_consistency
    }

    /// The request timeout (`None`: no client-side timeout).
    pub fn get_request_timeout(&self) -> Option<Duration> {
        self.request_timeout
    }

    /// The timeout of each single attempt (`None`: only the request timeout applies).
    pub fn get_attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
    }

    /// The load-balancing policy.
    pub fn get_load_balancing_policy(&self) -> &Arc<dyn LoadBalancingPolicy> {
        &self.load_balancing_policy
    }

    /// The retry policy.
    pub fn get_retry_policy(&self) -> &Arc<dyn RetryPolicy> {
        &self.retry_policy
    }

    /// The speculative execution policy, if any.
    pub fn get_speculative_execution_policy(&self) -> Option<&Arc<dyn SpeculativeExecutionPolicy>> {
        self.speculative_execution_policy.as_ref()
    }

    /// The profile's own request throttler, if any (else the session's applies).
    pub fn get_request_throttler(&self) -> Option<&Arc<dyn RequestThrottler>> {
        self.request_throttler.as_ref()
    }
}

/// Builds an [`ExecutionProfile`].
#[derive(Debug, Clone)]
pub struct ExecutionProfileBuilder {
    profile: ExecutionProfile,
}

impl ExecutionProfileBuilder {
    /// Sets the consistency.
    #[must_use]
    pub fn consistency(mut self, consistency: Consistency) -> Self {
        self.profile.consistency = consistency;
        self
    }

    /// Sets the serial consistency.
    #[must_use]
    pub fn serial_consistency(mut self, serial_consistency: Option<SerialConsistency>) -> Self {
        self.profile.serial_consistency = serial_consistency;
        self
    }

    /// Sets the request timeout (`None`: no client-side timeout).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.profile.request_timeout = timeout;
        self
    }

    /// Sets the timeout of each single attempt, so a slow node is given up on and the retry
    /// policy can try the next one before the request timeout runs out (`None`: attempts only
    /// end with the request timeout). An extension over the `scylla` crate.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.profile.attempt_timeout = timeout;
        self
    }

    /// Sets the load-balancing policy.
    #[must_use]
    pub fn load_balancing_policy(mut self, policy: Arc<dyn LoadBalancingPolicy>) -> Self {
        self.profile.load_balancing_policy = policy;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry_policy(mut self, policy: Arc<dyn RetryPolicy>) -> Self {
        self.profile.retry_policy = policy;
        self
    }

    /// Sets (or clears) the speculative execution policy.
    #[must_use]
    pub fn speculative_execution_policy(
        mut self,
        policy: Option<Arc<dyn SpeculativeExecutionPolicy>>,
    ) -> Self {
        self.profile.speculative_execution_policy = policy;
        self
    }

    /// Sets (or clears) the profile's own request throttler: its statements are admitted by it
    /// instead of by the session's
    /// ([`SessionBuilder::request_throttler`](crate::client::session_builder::SessionBuilder::request_throttler)),
    /// so a class of requests (e.g. background jobs) can have a budget of its own.
    #[must_use]
    pub fn request_throttler(mut self, throttler: Option<Arc<dyn RequestThrottler>>) -> Self {
        self.profile.request_throttler = throttler;
        self
    }

    /// The profile.
    pub fn build(self) -> ExecutionProfile {
        self.profile
    }
}

/// A shared, re-pointable reference to an [`ExecutionProfile`]. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct ExecutionProfileHandle(Arc<ArcSwap<ExecutionProfile>>);

impl ExecutionProfileHandle {
    /// The profile the handle points at now.
    pub fn to_profile(&self) -> ExecutionProfile {
        (*self.0.load_full()).clone()
    }

    /// A builder starting from the profile the handle points at now.
    pub fn pointee_to_builder(&self) -> ExecutionProfileBuilder {
        self.0.load().to_builder()
    }

    /// Points the handle (and every clone of it) at another profile.
    pub fn map_to_another_profile(&mut self, profile: ExecutionProfile) {
        self.0.store(Arc::new(profile));
    }

    /// The current profile, owned for the duration of a request.
    pub(crate) fn load_full(&self) -> Arc<ExecutionProfile> {
        self.0.load_full()
    }
}

impl Default for ExecutionProfileHandle {
    fn default() -> Self {
        ExecutionProfile::default().into_handle()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_remaps_for_every_clone() {
        let mut h = ExecutionProfile::builder()
            .consistency(Consistency::One)
            .build()
            .into_handle();
        let clone = h.clone();
        assert_eq!(clone.to_profile().get_consistency(), Consistency::One);
        h.map_to_another_profile(
            h.pointee_to_builder()
                .consistency(Consistency::All)
                .request_timeout(None)
                .build(),
        );
        let p = clone.to_profile();
        assert_eq!(p.get_consistency(), Consistency::All);
        assert_eq!(p.get_request_timeout(), None);
        assert_eq!(
            p.get_serial_consistency(),
            Some(SerialConsistency::LocalSerial)
        );
    }
}
