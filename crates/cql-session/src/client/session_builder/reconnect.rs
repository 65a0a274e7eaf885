//! The option of [`SessionBuilder`] about reconnecting to nodes.

use std::sync::Arc;

use super::SessionBuilder;
use crate::policies::reconnect::ReconnectPolicy;

/// Reconnection.
impl SessionBuilder {
    /// How long each node's connection pool waits between refill attempts that open nothing
    /// (a node that is down, or refusing connections): the policy makes one
    /// [`ReconnectPolicySession`](crate::policies::reconnect::ReconnectPolicySession) per pool.
    /// The default is an
    /// [`ExponentialReconnectPolicy`](crate::policies::reconnect::ExponentialReconnectPolicy)
    /// (100 ms doubling to 10 s, with jitter). A broken connection, or a node reported up,
    /// starts a refill at once whatever the policy. Unstable in the `scylla` crate (behind
    /// `--cfg scylla_unstable`), stable here.
    #[must_use]
    pub fn reconnect_policy(mut self, policy: Arc<dyn ReconnectPolicy>) -> Self {
        self.config.reconnect_policy = Some(policy);
        self
    }
}
