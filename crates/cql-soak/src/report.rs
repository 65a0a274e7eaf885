//! The summary printed at the end of a run, and the verdict.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::recovery::{Recovery, quantile};
use crate::resources::Sample;
use crate::stats::{Kind, Stats};
use crate::timeline;
use crate::workload::ReadBack;

/// Descriptors or tasks above the steady state's count that still pass: none. A pool that
/// reconnected keeps its size, so the counts come back exactly once the faults are over.
const GROWTH_SLACK: u64 = 0;

/// Resident memory growth that still passes, besides half the baseline figure (the middle
/// epoch's end, or the first's on a run of fewer than 4 epochs): a 10-minute release run rose
/// from 663 to 1273 MiB over its first 5 epochs and then stayed at 1273 MiB for 23 more; a
/// 2-minute debug run grew 28% from its first epoch to its second with as many records.
const RSS_SLACK_KIB: u64 = 64 * 1024;

/// Everything one run measured.
#[derive(Debug)]
pub(crate) struct Summary<'a> {
    pub(crate) seed: u64,
    pub(crate) load_time: Duration,
    pub(crate) started: u64,
    pub(crate) stats: &'a Stats,
    pub(crate) read_back: &'a ReadBack,
    /// (time into the faulted load, sample): the steady state first, then each epoch's settled
    /// end.
    pub(crate) samples: &'a [(Duration, Sample)],
    pub(crate) after_read_back: Sample,
    pub(crate) recovery: &'a Recovery,
    pub(crate) injected: BTreeMap<&'static str, u64>,
    pub(crate) faults_ok: bool,
}

/// Stalls this long are listed with the faults of their time.
const STALL_SHOWN: Duration = Duration::from_secs(2);

/// Hangs printed with their context, at most.
const HANGS_SHOWN: usize = 20;

impl Summary<'_> {
    /// Prints the summary; whether every check passed.
    pub(crate) fn print(&self) -> bool {
        let mut violations: Vec<String> = Vec::new();
        let secs = self.load_time.as_secs_f64().max(1e-9);
        println!(
            "\n== requests ({:.0} s of faulted load, {} started, {:.0}/s) ==",
            secs,
            self.started,
            self.started as f64 / secs
        );
        println!(
            "{:<8} {:>10} {:>10} {:>8} {:>6}",
            "kind", "issued", "ok", "failed", "hung"
        );
        for kind in Kind::ALL {
            let c = self.stats.of(kind);
            let issued = c.issued.load(Ordering::Relaxed);
            let ended = c.ended();
            let hung = c.hung.load(Ordering::Relaxed);
            println!(
                "{:<8} {:>10} {:>10} {:>8} {:>6}",
                kind.name(),
                issued,
                c.ok.load(Ordering::Relaxed),
                c.failed.load(Ordering::Relaxed),
                hung
            );
            if hung > 0 {
                violations.push(format!("{hung} {} requests hung", kind.name()));
            }
            if ended > issued {
                violations.push(format!(
                    "{} {} requests ended twice",
                    ended - issued,
                    kind.name()
                ));
            } else if ended < issued {
                violations.push(format!(
                    "{} {} requests never ended",
                    issued - ended,
                    kind.name()
                ));
            }
        }
        let causes = self.stats.causes();
        if !causes.is_empty() {
            println!("\n== failures by cause (counted, not violations) ==");
            for ((kind, cause), n) in &causes {
                println!("{:<8} {cause:<50} {n:>8}", kind.name());
            }
        }

        println!("\n== faults injected ==");
        let injected: Vec<String> = self
            .injected
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!("{}", injected.join(", "));
        if !self.faults_ok {
            violations.push("the fault schedule panicked".into());
        }
        println!("\n== recovery after a fault (until the node serves a request again) ==");
        for (fault, times) in self.recovery.measured() {
            println!(
                "{fault:<14} n {:>4}  p50 {:>8.1?}  p99 {:>8.1?}  max {:>8.1?}",
                times.len(),
                quantile(&times, 0.5),
                quantile(&times, 0.99),
                quantile(&times, 1.0)
            );
        }
        for (fault, n) in self.recovery.unrecovered() {
            println!("{fault:<14} {n} not served again before the end of the load");
        }

        self.print_timeline();

        let rb = self.read_back;
        let corrupt = self.stats.corrupt.load(Ordering::Relaxed);
        println!(
            "\n== read-back at QUORUM after the faults ==\n{} acknowledged records ({} kv, rest \
             lwt) checked, {} lost, {} unreadable, {} with a wrong value",
            rb.checked, rb.kv, rb.lost, rb.unreadable, corrupt
        );
        println!(
            "during the load: {} reads missed an acknowledged record, {} pages missed one, \
             {} LWT inserts of a fresh key not applied",
            self.stats.read_misses.load(Ordering::Relaxed),
            self.stats.short_pages.load(Ordering::Relaxed),
            self.stats.lwt_not_applied.load(Ordering::Relaxed)
        );
        if rb.lost > 0 {
            violations.push(format!("{} acknowledged writes lost", rb.lost));
        }
        if rb.unreadable > 0 {
            violations.push(format!(
                "{} read-back requests failed 3 times",
                rb.unreadable
            ));
        }
        if corrupt > 0 {
            violations.push(format!("{corrupt} rows with a value never written"));
        }

        println!("\n== resources (steady state, during the load, settled end) ==");
        for (at, s) in self.samples {
            println!("{:>7.1?}  {s}", at);
        }
        println!("after the read-back: {}", self.after_read_back);
        if let (Some((_, start)), Some((_, end))) = (self.samples.first(), self.samples.last()) {
            if end.fds > start.fds + GROWTH_SLACK {
                violations.push(format!(
                    "open descriptors grew from {} to {}",
                    start.fds, end.fds
                ));
            }
            if end.tasks > start.tasks + GROWTH_SLACK {
                violations.push(format!("tasks grew from {} to {}", start.tasks, end.tasks));
            }
        }
        // Every epoch ends holding at most `--epoch-records` records. The allocator's
        // high-water mark rises over the first epochs, then stays: growth over the second half
        // of the epochs (from the first epoch's end on a short run) is a leak, not data.
        let epochs = self.samples.len().saturating_sub(1);
        let from = if epochs >= 4 { 1 + epochs / 2 } else { 1 };
        if let (Some((at, base)), Some((_, last))) = (self.samples.get(from), self.samples.last()) {
            let grown = last.rss_kib.saturating_sub(base.rss_kib);
            println!(
                "rss at {at:.0?} {:.1} MiB, after the last epoch {:.1} MiB: grew {:.1} MiB",
                base.rss_kib as f64 / 1024.0,
                last.rss_kib as f64 / 1024.0,
                grown as f64 / 1024.0
            );
            if grown > base.rss_kib / 2 + RSS_SLACK_KIB {
                violations.push(format!(
                    "resident memory grew {:.1} MiB after {at:.0?}",
                    grown as f64 / 1024.0
                ));
            }
        }

        if violations.is_empty() {
            println!("\ncql-soak: PASS (seed {})", self.seed);
            true
        } else {
            println!("\ncql-soak: FAIL (seed {})", self.seed);
            for v in &violations {
                println!("  violation: {v}");
            }
            false
        }
    }
}

impl Summary<'_> {
    /// Prints the runtime's stalls and each hung request with the faults and stalls of its
    /// time, so a hang can be told from a stall of the whole process.
    fn print_timeline(&self) {
        let t = &self.stats.timeline;
        let stalls = t.stalls();
        println!(
            "\n== runtime stalls (a {:?} timer late by {:?} or more) ==",
            timeline::TICK,
            timeline::STALL
        );
        let longest = stalls.iter().map(|&(_, lag)| lag).max().unwrap_or_default();
        println!(
            "{} stalls, longest {longest:.1?}; latest timer {:.1?}",
            stalls.len(),
            t.max_lag()
        );
        for &(at, lag) in stalls.iter().filter(|&&(_, lag)| lag >= STALL_SHOWN) {
            let faults = t.faults_during(at.saturating_sub(lag), at);
            println!("  at {at:>7.1?}: {lag:.1?}, during {}", names(&faults));
        }
        let hangs = t.hangs();
        if hangs.is_empty() {
            return;
        }
        println!("\n== hung requests: what ran while each waited ==");
        for h in hangs.iter().take(HANGS_SHOWN) {
            let faults = t.faults_during(h.from, h.to);
            let stalled: Duration = t.stalls_during(h.from, h.to).iter().map(|&(_, l)| l).sum();
            println!(
                "  {:<6} {:>7.1?} .. {:>7.1?}: stalled {stalled:.1?}, faults {}",
                h.kind.name(),
                h.from,
                h.to,
                names(&faults)
            );
        }
        if hangs.len() > HANGS_SHOWN {
            println!("  ... and {} more", hangs.len() - HANGS_SHOWN);
        }
    }
}

/// `add-node, pause(1)`: the faults' names and targets.
fn names(faults: &[timeline::FaultSpan]) -> String {
    if faults.is_empty() {
        return "none".into();
    }
    let names: Vec<String> = faults
        .iter()
        .map(|f| match f.target {
            Some(n) => format!("{}({n})", f.name),
            None => f.name.to_owned(),
        })
        .collect();
    names.join(", ")
}
