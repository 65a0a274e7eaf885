//! Host filters: which nodes the session connects to at all.
//!
//! A filter is a predicate over the [`Peer`]s read from `system.local` and `system.peers`. A
//! rejected node gets no connection pool and never appears in a query plan (an attempt routed
//! to it fails with `ConnectionPoolError::NodeDisabledByHostFilter`), and the control
//! connection avoids it after the first; it still appears in the `ClusterState`, with
//! `Node::is_enabled` false, so token and replica lookups see the whole ring. Set one with
//! [`SessionBuilder::host_filter`](crate::SessionBuilder::host_filter).

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

pub use transport::Peer;

/// Decides whether the session opens connections to a node.
pub trait HostFilter: Send + Sync {
    /// Whether `peer` is accepted.
    fn accept(&self, peer: &Peer) -> bool;
}

/// Accepts every node (the same as having no filter).
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAllHostFilter;

impl HostFilter for AcceptAllHostFilter {
    fn accept(&self, _peer: &Peer) -> bool {
        true
    }
}

/// Accepts the nodes whose address (the one the driver connects to, after address
/// translation) is in a list given up front.
#[derive(Debug, Clone)]
pub struct AllowListHostFilter {
    allowed: HashSet<SocketAddr>,
}

impl AllowListHostFilter {
    /// A filter accepting exactly these addresses. Each item is resolved now (`"host:port"`,
    /// `"ip:port"`, a `SocketAddr`, ...), and every address it resolves to is allowed; an item
    /// that does not resolve is an error.
    pub fn new<I, A>(allowed_iter: I) -> Result<Self, io::Error>
    where
        I: IntoIterator<Item = A>,
        A: ToSocketAddrs,
    {
        let mut allowed = HashSet::new();
        for item in allowed_iter {
            allowed.extend(item.to_socket_addrs()?);
        }
        Ok(Self { allowed })
    }
}

impl HostFilter for AllowListHostFilter {
    fn accept(&self, peer: &Peer) -> bool {
        self.allowed.contains(&peer.address)
    }
}

/// Accepts the nodes of one datacenter (nodes with no known datacenter are rejected).
#[derive(Debug, Clone)]
pub struct DcHostFilter {
    local_dc: String,
}

impl DcHostFilter {
    /// A filter accepting the nodes of `local_dc`.
    pub fn new(local_dc: String) -> Self {
        Self { local_dc }
    }
}

impl HostFilter for DcHostFilter {
    fn accept(&self, peer: &Peer) -> bool {
        peer.datacenter.as_deref() == Some(self.local_dc.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(addr: &str, dc: Option<&str>) -> Peer {
        Peer::new(addr.parse().expect("address")).with_datacenter(dc.map(str::to_owned))
    }

    #[test]
    fn allow_list_accepts_only_listed_addresses() {
        let filter = AllowListHostFilter::new(["127.0.0.1:9042", "127.0.0.2:9042"])
            .expect("literal addresses resolve");
        assert!(filter.accept(&peer("127.0.0.1:9042", None)));
        assert!(filter.accept(&peer("127.0.0.2:9042", None)));
        assert!(!filter.accept(&peer("127.0.0.3:9042", None)));
        // The port is part of the address.
        assert!(!filter.accept(&peer("127.0.0.1:9043", None)));
    }

    #[test]
    fn allow_list_reports_an_unresolvable_item() {
        assert!(AllowListHostFilter::new(["not an address"]).is_err());
    }

    #[test]
    fn dc_filter_accepts_its_datacenter_only() {
        let filter = DcHostFilter::new("dc1".to_owned());
        assert!(filter.accept(&peer("127.0.0.1:9042", Some("dc1"))));
        assert!(!filter.accept(&peer("127.0.0.1:9042", Some("dc2"))));
        assert!(!filter.accept(&peer("127.0.0.1:9042", None)));
        assert!(AcceptAllHostFilter.accept(&peer("127.0.0.1:9042", None)));
    }
}
