//! Whether a node answers at all.
//!
//! A node can keep its TCP connections open and stop answering (a long GC pause, a half-open
//! partition, a stuck shard). Nothing breaks, so nothing marks it down, and every request sent
//! to it waits out its timeout. Each connection watches for that: when requests wait and
//! nothing has been read for [`ConnectionTuning::unresponsive_after`], it sends an OPTIONS probe;
//! if nothing at all is read within the same time again, the connection counts itself
//! *unresponsive* (it stays open) until it reads anything. A node is unresponsive while any of its
//! connections is. A node busy with one slow query still answers the probe, so a slow query
//! alone never marks it.
//!
//! [`ConnectionTuning::unresponsive_after`]: crate::config::ConnectionTuning::unresponsive_after

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// The default of [`crate::config::ConnectionTuning::unresponsive_after`]: 300 ms.
pub const DEFAULT_UNRESPONSIVE_AFTER: Duration = Duration::from_millis(300);

/// The answering state of one node's connections, shared by its pool and every connection it
/// opens. Reading it is one atomic load.
#[derive(Debug, Default)]
pub struct NodeHealth {
    /// Connections currently flagged unresponsive.
    unresponsive: AtomicUsize,
    /// How many times a connection was flagged, since the pool started.
    episodes: AtomicU64,
}

impl NodeHealth {
    /// Whether every connection of the node answers (true when no connection has been flagged
    /// unresponsive, and for a node without connections).
    pub fn is_responsive(&self) -> bool {
        self.unresponsive.load(Ordering::Relaxed) == 0
    }

    /// Connections flagged unresponsive now.
    pub fn unresponsive_connections(&self) -> usize {
        self.unresponsive.load(Ordering::Relaxed)
    }

    /// How many times one of the node's connections was flagged unresponsive.
    pub fn unresponsive_episodes(&self) -> u64 {
        self.episodes.load(Ordering::Relaxed)
    }

    /// A connection stopped answering.
    pub(crate) fn flag(&self) {
        self.episodes.fetch_add(1, Ordering::Relaxed);
        self.unresponsive.fetch_add(1, Ordering::AcqRel);
    }

    /// A flagged connection read something again, or ended.
    pub(crate) fn unflag(&self) {
        // Never below zero: each unflag follows its own flag.
        let _ = self
            .unresponsive
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_responsive_until_a_connection_flags_and_again_once_all_unflag() {
        let h = NodeHealth::default();
        assert!(h.is_responsive());
        h.flag();
        h.flag();
        assert!(!h.is_responsive());
        h.unflag();
        assert!(!h.is_responsive());
        h.unflag();
        assert!(h.is_responsive());
        h.unflag();
        assert!(h.is_responsive(), "an extra unflag does not wrap");
        assert_eq!(h.unresponsive_episodes(), 2);
    }
}
