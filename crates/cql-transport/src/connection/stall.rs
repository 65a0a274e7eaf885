//! The driver's watch for a peer that keeps the connection open and stops answering (see
//! [`crate::health`]): with requests waiting and nothing read for `after`, one OPTIONS probe; with
//! nothing read for `after` again, the connection flags itself unresponsive until it reads.

use std::time::Duration;

use tokio::time::Instant;

/// What the driver must do after [`StallWatch::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StallAction {
    /// Nothing now.
    None,
    /// Send an OPTIONS probe and call [`StallWatch::probe_sent`].
    Probe,
    /// The connection stopped answering: flag it (done by `check`), tell the node.
    Flagged,
}

/// Per-connection state of the watch, owned by the driver task.
#[derive(Debug)]
pub(super) struct StallWatch {
    /// A probe's stream id is taken and its answer not in: no second probe.
    pub(super) probe_in_flight: bool,
    /// When the probe was sent, until anything is read.
    probe_sent_at: Option<Instant>,
    /// The connection counts itself unresponsive.
    pub(super) flagged: bool,
    /// The last check found no request waiting: the next request re-arms the watch.
    idle: bool,
    /// When requests started waiting after an idle spell.
    busy_since: Instant,
}

impl StallWatch {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            probe_in_flight: false,
            probe_sent_at: None,
            flagged: false,
            idle: true,
            busy_since: now,
        }
    }

    /// Whether a read must call [`Self::on_read`] (one branch on the hot path).
    #[inline]
    pub(super) fn wants_reads(&self) -> bool {
        self.flagged || self.probe_sent_at.is_some()
    }

    /// Something was read: the peer answers. Returns whether the connection was flagged (the
    /// node must be told, and the timer looked at again).
    pub(super) fn on_read(&mut self) -> bool {
        self.probe_sent_at = None;
        std::mem::take(&mut self.flagged)
    }

    /// A request was taken from the queue. After an idle spell, returns when to check first.
    #[inline]
    pub(super) fn on_request(&mut self, after: Duration) -> Option<Instant> {
        if !self.idle {
            return None;
        }
        self.idle = false;
        self.busy_since = Instant::now();
        Some(self.busy_since + after)
    }

    /// The probe went out at `now`.
    pub(super) fn probe_sent(&mut self, now: Instant) {
        self.probe_in_flight = true;
        self.probe_sent_at = Some(now);
    }

    /// Looks at the connection at `now`; returns what to do and when to look again.
    pub(super) fn check(
        &mut self,
        now: Instant,
        after: Duration,
        last_read: Instant,
        waiting: bool,
    ) -> (StallAction, Instant) {
        if self.flagged {
            // Only a read ends it; `on_read` asks for a new check.
            return (StallAction::None, now + super::NEVER);
        }
        if let Some(sent) = self.probe_sent_at {
            if now >= sent + after {
                self.flagged = true;
                self.probe_sent_at = None;
                return (StallAction::Flagged, now + super::NEVER);
            }
            return (StallAction::None, sent + after);
        }
        if !waiting {
            self.idle = true;
            return (StallAction::None, now + super::NEVER);
        }
        let quiet_since = last_read.max(self.busy_since);
        if now < quiet_since + after {
            return (StallAction::None, quiet_since + after);
        }
        if self.probe_in_flight {
            // An earlier probe is unanswered though other frames arrived since: look later.
            return (StallAction::None, now + after);
        }
        (StallAction::Probe, now + after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AFTER: Duration = Duration::from_millis(100);

    #[test]
    fn a_silent_peer_is_probed_then_flagged_and_a_read_clears_it() {
        let t0 = Instant::now();
        let mut w = StallWatch::new(t0);
        let first = w.on_request(AFTER);
        let busy = w.busy_since;
        assert_eq!(first, Some(busy + AFTER));
        // Not yet quiet long enough.
        let (a, next) = w.check(busy + AFTER / 2, AFTER, t0, true);
        assert_eq!((a, next), (StallAction::None, busy + AFTER));
        let (a, _) = w.check(busy + AFTER, AFTER, t0, true);
        assert_eq!(a, StallAction::Probe);
        w.probe_sent(busy + AFTER);
        assert!(w.wants_reads());
        let (a, next) = w.check(busy + AFTER + AFTER / 2, AFTER, t0, true);
        assert_eq!((a, next), (StallAction::None, busy + 2 * AFTER));
        let (a, _) = w.check(busy + 2 * AFTER, AFTER, t0, true);
        assert_eq!(a, StallAction::Flagged);
        assert!(w.flagged);
        assert!(w.on_read(), "the first read after the flag reports it");
        assert!(!w.on_read());
        assert!(!w.wants_reads());
    }

    #[test]
    fn a_read_before_the_probe_deadline_keeps_the_peer_responsive() {
        let t0 = Instant::now();
        let mut w = StallWatch::new(t0);
        w.on_request(AFTER);
        let busy = w.busy_since;
        assert_eq!(w.check(busy + AFTER, AFTER, t0, true).0, StallAction::Probe);
        w.probe_sent(busy + AFTER);
        assert!(!w.on_read(), "answered: nothing was flagged");
        // The probe's own answer is still out; reads since then mean the peer is alive.
        let read = busy + AFTER + Duration::from_millis(1);
        let (a, next) = w.check(busy + 2 * AFTER, AFTER, read, true);
        assert_eq!((a, next), (StallAction::None, read + AFTER));
        assert!(!w.flagged);
    }

    #[test]
    fn an_idle_connection_is_not_probed_and_the_next_request_rearms() {
        let t0 = Instant::now();
        let mut w = StallWatch::new(t0);
        w.on_request(AFTER);
        let (a, _) = w.check(t0 + 10 * AFTER, AFTER, t0, false);
        assert_eq!(a, StallAction::None);
        assert!(
            w.on_request(AFTER).is_some(),
            "idle, so the next request re-arms"
        );
        assert!(w.on_request(AFTER).is_none(), "already armed");
    }
}
