//! Exactly-once accounting: every request is counted when issued and once more when it ends
//! (ok, failed with a cause, or hung past its watchdog), per kind.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use session::errors::{
    ExecutionError, NextPageError, NextRowError, PagerExecutionError, RequestAttemptError,
};

use crate::timeline::Timeline;

/// The kinds of request the soak issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// An idempotent prepared INSERT at QUORUM of one unique record.
    Write,
    /// A prepared SELECT of one acknowledged record.
    Read,
    /// A paged SELECT of a whole partition (`execute_iter`, pages of 3 rows).
    Page,
    /// An idempotent unlogged batch of unique records.
    Batch,
    /// A non-idempotent `INSERT ... IF NOT EXISTS`.
    Lwt,
    /// A schema change (ALTER TABLE ADD, CREATE TABLE) made by the fault schedule.
    Ddl,
    /// A read of the final check (every acknowledged record, at QUORUM).
    Verify,
}

impl Kind {
    /// Every kind, in report order.
    pub(crate) const ALL: [Self; 7] = [
        Self::Write,
        Self::Read,
        Self::Page,
        Self::Batch,
        Self::Lwt,
        Self::Ddl,
        Self::Verify,
    ];

    /// The kind's name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::Read => "read",
            Self::Page => "page",
            Self::Batch => "batch",
            Self::Lwt => "lwt",
            Self::Ddl => "ddl",
            Self::Verify => "verify",
        }
    }
}

/// One kind's counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) issued: AtomicU64,
    pub(crate) ok: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) hung: AtomicU64,
}

impl Counters {
    /// Requests that ended: ok, failed or hung.
    pub(crate) fn ended(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
            + self.hung.load(Ordering::Relaxed)
    }
}

/// The counters of every kind, and the failures by cause.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    kinds: [Counters; Kind::ALL.len()],
    causes: Mutex<BTreeMap<(Kind, String), u64>>,
    /// Reads during the load that found no row for an acknowledged record.
    pub(crate) read_misses: AtomicU64,
    /// Rows whose value is not the one written: a violation.
    pub(crate) corrupt: AtomicU64,
    /// Pages that ended with fewer rows than were acknowledged before they started.
    pub(crate) short_pages: AtomicU64,
    /// LWT inserts of a fresh key that answered "not applied".
    pub(crate) lwt_not_applied: AtomicU64,
    /// When each fault, stall and hang happened.
    pub(crate) timeline: Timeline,
}

/// How a tracked request failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// It ended with an error: the cause, for grouping.
    Cause(String),
    /// A part of it (a page) outlived its own watchdog: the request hung.
    Hung,
}

impl From<String> for Failure {
    fn from(cause: String) -> Self {
        Self::Cause(cause)
    }
}

impl Stats {
    /// The counters of `kind`.
    pub(crate) fn of(&self, kind: Kind) -> &Counters {
        &self.kinds[kind as usize]
    }

    /// Runs one request of `kind` under a watchdog of `watchdog`, counting it issued and then
    /// ended exactly once. `None` when the watchdog fired or the request says a part of it
    /// outlived its own ([`Failure::Hung`]): the request hung.
    pub(crate) async fn track<T>(
        &self,
        kind: Kind,
        watchdog: Duration,
        request: impl Future<Output = Result<T, Failure>>,
    ) -> Option<Result<T, String>> {
        let c = self.of(kind);
        c.issued.fetch_add(1, Ordering::Relaxed);
        let from = self.timeline.now();
        match tokio::time::timeout(watchdog, request).await {
            Err(_) | Ok(Err(Failure::Hung)) => {
                c.hung.fetch_add(1, Ordering::Relaxed);
                self.timeline.hung(kind, from);
                tracing::error!(
                    kind = kind.name(),
                    ?watchdog,
                    "request outlived its deadline"
                );
                None
            }
            Ok(Ok(v)) => {
                c.ok.fetch_add(1, Ordering::Relaxed);
                Some(Ok(v))
            }
            Ok(Err(Failure::Cause(cause))) => {
                c.failed.fetch_add(1, Ordering::Relaxed);
                let mut causes = self.causes.lock().unwrap_or_else(|e| e.into_inner());
                *causes.entry((kind, cause.clone())).or_default() += 1;
                Some(Err(cause))
            }
        }
    }

    /// Failures by kind and cause.
    pub(crate) fn causes(&self) -> BTreeMap<(Kind, String), u64> {
        self.causes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The cause of a failed request, for grouping: the error's variant, and for a server error
/// the server's error kind (`server WriteTimeout`), without addresses, counts or durations.
pub(crate) fn execution_cause(error: &ExecutionError) -> String {
    match error {
        ExecutionError::LastAttemptError { error, .. } => attempt_cause(error),
        other => variant(other),
    }
}

/// [`execution_cause`] for a pager's error.
pub(crate) fn pager_cause(error: &PagerExecutionError) -> String {
    match error {
        PagerExecutionError::NextPageError(NextPageError::RequestFailure(e)) => execution_cause(e),
        other => format!("pager {}", variant(other)),
    }
}

/// [`execution_cause`] for a row stream's error.
pub(crate) fn row_cause(error: &NextRowError) -> String {
    match error {
        NextRowError::NextPageError(NextPageError::RequestFailure(e)) => execution_cause(e),
        other => format!("rows {}", variant(other)),
    }
}

/// The cause of an error reading a result's rows.
pub(crate) fn rows_cause(error: &impl std::fmt::Debug) -> String {
    format!("rows {}", variant(error))
}

fn attempt_cause(error: &RequestAttemptError) -> String {
    match error {
        RequestAttemptError::DbError(db, _) => format!("server {}", variant(db)),
        other => variant(other),
    }
}

/// The variant name at the start of a `Debug` text.
pub(crate) fn variant(error: &impl std::fmt::Debug) -> String {
    let text = format!("{error:?}");
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn every_request_ends_once_and_a_stuck_one_counts_as_hung() {
        let stats = Stats::default();
        let ok = stats.track(Kind::Write, Duration::from_secs(1), async { Ok(()) });
        assert!(matches!(ok.await, Some(Ok(()))));
        let failed = stats.track(Kind::Write, Duration::from_secs(1), async {
            Err::<(), _>(Failure::from("Overloaded".to_owned()))
        });
        assert!(matches!(failed.await, Some(Err(_))));
        let stuck = stats.track(Kind::Write, Duration::from_secs(1), async {
            std::future::pending::<Result<(), Failure>>().await
        });
        assert!(stuck.await.is_none());
        let page_hung = stats.track(Kind::Page, Duration::from_secs(9), async {
            Err::<(), _>(Failure::Hung)
        });
        assert!(
            page_hung.await.is_none(),
            "a part that hung hangs the request"
        );
        let c = stats.of(Kind::Write);
        assert_eq!(c.issued.load(Ordering::Relaxed), 3);
        assert_eq!(c.ended(), 3);
        assert_eq!(c.hung.load(Ordering::Relaxed), 1);
        assert_eq!(stats.of(Kind::Page).hung.load(Ordering::Relaxed), 1);
        assert_eq!(stats.causes().len(), 1);
        let hangs: Vec<Kind> = stats.timeline.hangs().iter().map(|h| h.kind).collect();
        assert_eq!(
            hangs,
            [Kind::Write, Kind::Page],
            "each hang is on the timeline"
        );
    }

    #[test]
    fn causes_name_the_variant_without_details() {
        let timeout = ExecutionError::RequestTimeout {
            timeout: Duration::from_secs(2),
            attempts: Default::default(),
        };
        assert_eq!(execution_cause(&timeout), "RequestTimeout");
        assert_eq!(
            execution_cause(&ExecutionError::SessionClosed),
            "SessionClosed"
        );
    }
}
