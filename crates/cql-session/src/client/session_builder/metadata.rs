//! The options of [`SessionBuilder`] about metadata and the session's identity.

use std::time::Duration;

use super::SessionBuilder;
use crate::client::self_identity::SelfIdentity;

/// Metadata refreshes, host name resolution and the identity sent to the nodes.
impl SessionBuilder {
    /// How often the topology and schema are read again without an event telling to (events
    /// can be lost while the control connection reconnects); default 60 s, as the `scylla`
    /// crate's.
    #[must_use]
    pub fn cluster_metadata_refresh_interval(mut self, interval: Duration) -> Self {
        self.config.cluster_metadata_refresh_interval = interval;
        self
    }

    /// How long resolving a known node's host name may take (default 5 s; `None`: as long as
    /// the system's resolver takes).
    #[must_use]
    pub fn hostname_resolution_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.hostname_resolution_timeout = timeout;
        self
    }

    /// Whether the metadata is read again right after a schema change is agreed on (default
    /// on), so routing knows a new table at once; off, it follows the schema change event.
    #[must_use]
    pub fn refresh_metadata_on_auto_schema_agreement(mut self, refresh: bool) -> Self {
        self.config.refresh_metadata_on_auto_schema_agreement = refresh;
        self
    }

    /// On Scylla, the server-side timeout of the driver's metadata reads, sent as
    /// `USING TIMEOUT` (default 2 s); each read is bounded on the client too. Cassandra has no
    /// such clause: nothing is added there.
    #[must_use]
    pub fn metadata_request_serverside_timeout(mut self, timeout: Duration) -> Self {
        self.config.metadata_request_serverside_timeout = Some(timeout);
        self
    }

    /// What each connection's STARTUP says about the driver and the application.
    #[must_use]
    pub fn custom_identity(mut self, identity: SelfIdentity) -> Self {
        self.config.identity = identity;
        self
    }
}
