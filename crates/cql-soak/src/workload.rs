//! The mixed load: unique idempotent writes and batches at QUORUM, reads and paged reads of
//! acknowledged records, and LWT inserts, at most `concurrency` at once; then the read-back of
//! every acknowledged record.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use session::{Batch, BatchType, PreparedStatement, QueryResult, Session, Statement};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::recovery::Recovery;
use crate::rng::{Rng, mix};
use crate::stats::{Failure, Kind, Stats, execution_cause, pager_cause, row_cause, rows_cause};

/// Records per partition of `soak.kv`: record `id` is row `(id / ROWS, id % ROWS)`.
const ROWS: u64 = 8;
/// Records per batch.
const BATCH: u64 = 4;
/// Rows per page of a paged read.
const PAGE_ROWS: i32 = 3;

/// The schema the load runs on.
pub(crate) const SCHEMA: [&str; 3] = [
    "CREATE KEYSPACE soak WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    "CREATE TABLE soak.kv (k bigint, c int, v bigint, PRIMARY KEY (k, c))",
    "CREATE TABLE soak.lwt (k bigint PRIMARY KEY, v bigint)",
];

/// The prepared statements and the record of what was acknowledged.
#[derive(Debug)]
pub(crate) struct Workload {
    pub(crate) session: Arc<Session>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) recovery: Arc<Recovery>,
    seed: u64,
    /// The request timeout; each request's watchdog is derived from it.
    timeout: Duration,
    insert: PreparedStatement,
    select: PreparedStatement,
    page: PreparedStatement,
    lwt: PreparedStatement,
    lwt_select: PreparedStatement,
    batch: Batch,
    next_id: AtomicU64,
    next_lwt: AtomicU64,
    /// Ids of acknowledged records of `soak.kv`.
    acked: Mutex<Vec<u64>>,
    /// Keys of applied LWT inserts.
    lwt_acked: Mutex<Vec<u64>>,
    /// The epoch ends once this many records are acknowledged, so every epoch holds as much
    /// data at its end and memory can be compared between epochs.
    epoch_records: usize,
}

/// What the final read-back found.
#[derive(Debug, Default)]
pub(crate) struct ReadBack {
    /// Acknowledged records read (kv and LWT).
    pub(crate) checked: u64,
    /// Of them, records of `soak.kv`.
    pub(crate) kv: u64,
    /// Acknowledged records missing: a violation.
    pub(crate) lost: u64,
    /// Partitions or keys that could not be read after retries: a violation.
    pub(crate) unreadable: u64,
}

impl ReadBack {
    /// Adds another read-back's counts to these.
    pub(crate) fn add(&mut self, other: &Self) {
        self.checked += other.checked;
        self.kv += other.kv;
        self.lost += other.lost;
        self.unreadable += other.unreadable;
    }
}

impl Workload {
    /// Prepares the statements on a session whose schema exists.
    pub(crate) async fn prepare(
        session: Arc<Session>,
        stats: Arc<Stats>,
        recovery: Arc<Recovery>,
        seed: u64,
        timeout: Duration,
        epoch_records: usize,
    ) -> anyhow::Result<Self> {
        let idempotent = |mut p: PreparedStatement| {
            p.set_is_idempotent(true);
            p
        };
        let insert = idempotent(
            session
                .prepare("INSERT INTO soak.kv (k, c, v) VALUES (?, ?, ?)")
                .await?,
        );
        let select = idempotent(
            session
                .prepare("SELECT v FROM soak.kv WHERE k = ? AND c = ?")
                .await?,
        );
        let mut page = idempotent(
            session
                .prepare("SELECT c, v FROM soak.kv WHERE k = ?")
                .await?,
        );
        page.set_page_size(PAGE_ROWS);
        let lwt = session
            .prepare("INSERT INTO soak.lwt (k, v) VALUES (?, ?) IF NOT EXISTS")
            .await?;
        let lwt_select = idempotent(
            session
                .prepare("SELECT v FROM soak.lwt WHERE k = ?")
                .await?,
        );
        let mut batch = Batch::new(BatchType::Unlogged);
        for _ in 0..BATCH {
            batch.append_statement(insert.clone());
        }
        batch.set_is_idempotent(true);
        Ok(Self {
            session,
            stats,
            recovery,
            seed,
            timeout,
            insert,
            select,
            page,
            lwt,
            lwt_select,
            batch,
            next_id: AtomicU64::new(0),
            next_lwt: AtomicU64::new(0),
            acked: Mutex::new(Vec::new()),
            lwt_acked: Mutex::new(Vec::new()),
            epoch_records,
        })
    }

    /// The value of record `id`: unique per record and seed.
    fn value(&self, id: u64) -> i64 {
        mix(id ^ self.seed) as i64
    }

    /// How long a single request may take before it counts as hung: its timeout plus a margin
    /// for scheduling on a loaded machine.
    fn watchdog(&self) -> Duration {
        self.timeout + Duration::from_secs(3)
    }

    /// Empties the tables and forgets what was acknowledged (after a read-back), so the
    /// in-process cluster's data stays bounded over a long run.
    pub(crate) async fn truncate(&self) -> anyhow::Result<()> {
        for table in ["soak.kv", "soak.lwt"] {
            // Dropping an epoch's rows takes the sim a while: a generous timeout, and retries.
            let mut truncate = Statement::new(format!("TRUNCATE {table}"));
            truncate.set_request_timeout(Some(Duration::from_secs(60)));
            let mut attempts = 0;
            while let Err(e) = self.session.query_unpaged(truncate.clone(), ()).await {
                attempts += 1;
                if attempts == 3 {
                    return Err(e.into());
                }
            }
        }
        lock(&self.acked).clear();
        lock(&self.lwt_acked).clear();
        Ok(())
    }

    /// Runs the load until `until`, `max_requests` or a full epoch, at most `concurrency` at once, then waits
    /// for every request to end. Returns how many were started.
    pub(crate) async fn run(
        self: &Arc<Self>,
        rng: &mut Rng,
        concurrency: usize,
        until: Instant,
        max_requests: u64,
    ) -> u64 {
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut started = 0;
        while started < max_requests && Instant::now() < until && !self.epoch_full() {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                break;
            };
            let roll = rng.below(100);
            let pick = rng.next_u64();
            let this = Arc::clone(self);
            tokio::spawn(async move {
                match roll {
                    0..50 => this.write().await,
                    50..65 => this.batch().await,
                    65..85 => this.read(pick).await,
                    85..95 => this.page(pick).await,
                    _ => this.lwt().await,
                }
                drop(permit);
            });
            started += 1;
        }
        // Every request ends within its watchdog: taking every permit back waits for them.
        let drain = Duration::from_secs(4) * 4 + self.watchdog();
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        if tokio::time::timeout(drain, permits.acquire_many(all))
            .await
            .is_err()
        {
            tracing::error!("requests still running {drain:?} after the load stopped");
        }
        started
    }

    /// Whether the epoch holds its share of acknowledged records.
    pub(crate) fn epoch_full(&self) -> bool {
        lock(&self.acked).len() >= self.epoch_records
    }

    fn served(&self, result: &QueryResult) {
        self.recovery
            .served(result.request_coordinator().node().address.ip());
    }

    async fn write(&self) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let row = ((id / ROWS) as i64, (id % ROWS) as i32, self.value(id));
        let done = self
            .stats
            .track(Kind::Write, self.watchdog(), async {
                Ok(self
                    .session
                    .execute_unpaged(&self.insert, row)
                    .await
                    .map_err(|e| execution_cause(&e))?)
            })
            .await;
        if let Some(Ok(result)) = done {
            self.served(&result);
            lock(&self.acked).push(id);
        }
    }

    async fn batch(&self) {
        let first = self.next_id.fetch_add(BATCH, Ordering::Relaxed);
        let rows: Vec<(i64, i32, i64)> = (first..first + BATCH)
            .map(|id| ((id / ROWS) as i64, (id % ROWS) as i32, self.value(id)))
            .collect();
        let done = self
            .stats
            .track(Kind::Batch, self.watchdog(), async {
                Ok(self
                    .session
                    .batch(&self.batch, rows)
                    .await
                    .map_err(|e| execution_cause(&e))?)
            })
            .await;
        if let Some(Ok(result)) = done {
            self.served(&result);
            lock(&self.acked).extend(first..first + BATCH);
        }
    }

    /// An acknowledged record chosen by `pick`, if any.
    fn some_acked(&self, pick: u64) -> Option<u64> {
        let acked = lock(&self.acked);
        let n = acked.len() as u64;
        (n > 0).then(|| acked[(pick % n) as usize])
    }

    async fn read(&self, pick: u64) {
        let Some(id) = self.some_acked(pick) else {
            return;
        };
        let key = ((id / ROWS) as i64, (id % ROWS) as i32);
        let done = self
            .stats
            .track(Kind::Read, self.watchdog(), async {
                let result = self
                    .session
                    .execute_unpaged(&self.select, key)
                    .await
                    .map_err(|e| execution_cause(&e))?;
                self.served(&result);
                let rows = result.into_rows_result().map_err(|e| rows_cause(&e))?;
                Ok(rows
                    .maybe_first_row::<(i64,)>()
                    .map(|row| row.map(|(v,)| v))
                    .map_err(|e| rows_cause(&e))?)
            })
            .await;
        match done {
            Some(Ok(Some(v))) if v != self.value(id) => {
                tracing::error!(id, v, "a record read back with another value");
                self.stats.corrupt.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ok(None)) => {
                tracing::warn!(id, "an acknowledged record was not found by a read");
                self.stats.read_misses.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    async fn page(&self, pick: u64) {
        let Some(id) = self.some_acked(pick) else {
            return;
        };
        let partition = id / ROWS;
        // Each page is a request with its own timeout, so each has its own watchdog: a whole
        // read is allowed as many as it has pages (a page may end on the last row and be
        // followed by an empty one), and one more. A watchdog over the whole read would count
        // it as hung when a stall of the shared runtime delayed it between two pages.
        let page_watchdog = self.watchdog();
        let pages = (ROWS as u32).div_ceil(PAGE_ROWS as u32) + 1;
        let done = self
            .stats
            .track(Kind::Page, page_watchdog * (pages + 1), async {
                let pager = within(
                    page_watchdog,
                    self.session
                        .execute_iter(self.page.clone(), (partition as i64,)),
                )
                .await?
                .map_err(|e| pager_cause(&e))?;
                let mut rows = pager
                    .rows_stream::<(i32, i64)>()
                    .map_err(|e| rows_cause(&e))?;
                let mut seen = Vec::new();
                while let Some(row) = within(page_watchdog, rows.try_next())
                    .await?
                    .map_err(|e| row_cause(&e))?
                {
                    seen.push(row);
                }
                Ok(seen)
            })
            .await;
        if let Some(Ok(rows)) = done {
            let found = rows.iter().any(|&(c, _)| c as u64 == id % ROWS);
            let wrong = rows
                .iter()
                .filter(|&&(c, v)| v != self.value(partition * ROWS + c as u64))
                .count() as u64;
            if !found {
                self.stats.short_pages.fetch_add(1, Ordering::Relaxed);
            }
            self.stats.corrupt.fetch_add(wrong, Ordering::Relaxed);
        }
    }

    async fn lwt(&self) {
        let key = self.next_lwt.fetch_add(1, Ordering::Relaxed);
        let done = self
            .stats
            .track(Kind::Lwt, self.watchdog(), async {
                let result = self
                    .session
                    .execute_unpaged(&self.lwt, (key as i64, self.value(key)))
                    .await
                    .map_err(|e| execution_cause(&e))?;
                self.served(&result);
                let rows = result.into_rows_result().map_err(|e| rows_cause(&e))?;
                let applied = rows
                    .rows::<(bool,)>()
                    .ok()
                    .and_then(|mut r| r.next())
                    .and_then(Result::ok)
                    .is_some_and(|(applied,)| applied);
                Ok(applied)
            })
            .await;
        match done {
            Some(Ok(true)) => lock(&self.lwt_acked).push(key),
            Some(Ok(false)) => {
                self.stats.lwt_not_applied.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// Reads every acknowledged record back at QUORUM (the profile's consistency), a partition
    /// per request, `concurrency` at once, each retried up to 3 times.
    pub(crate) async fn read_back(self: &Arc<Self>, concurrency: usize) -> ReadBack {
        let mut partitions: Vec<(u64, Vec<u64>)> = Vec::new();
        {
            let mut acked = lock(&self.acked).clone();
            acked.sort_unstable();
            for id in acked {
                match partitions.last_mut() {
                    Some((p, cs)) if *p == id / ROWS => cs.push(id % ROWS),
                    _ => partitions.push((id / ROWS, vec![id % ROWS])),
                }
            }
        }
        let lwt_keys = lock(&self.lwt_acked).clone();
        let out = Arc::new(Mutex::new(ReadBack::default()));
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for (partition, cs) in partitions {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                break;
            };
            let (this, out) = (Arc::clone(self), Arc::clone(&out));
            tasks.spawn(async move {
                let stored = this.read_partition(partition).await;
                let mut out = lock(&out);
                out.checked += cs.len() as u64;
                out.kv += cs.len() as u64;
                match stored {
                    Some(stored) => {
                        for c in cs {
                            match stored.iter().find(|(sc, _)| *sc as u64 == c) {
                                None => {
                                    tracing::error!(partition, c, "an acknowledged write is lost");
                                    out.lost += 1;
                                }
                                Some(&(_, v)) if v != this.value(partition * ROWS + c) => {
                                    this.stats.corrupt.fetch_add(1, Ordering::Relaxed);
                                }
                                Some(_) => {}
                            }
                        }
                    }
                    None => out.unreadable += 1,
                }
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        for key in lwt_keys {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                break;
            };
            let (this, out) = (Arc::clone(self), Arc::clone(&out));
            tasks.spawn(async move {
                let found = this.read_lwt(key).await;
                let mut out = lock(&out);
                out.checked += 1;
                match found {
                    Some(true) => {}
                    Some(false) => {
                        tracing::error!(key, "an applied LWT insert is lost");
                        out.lost += 1;
                    }
                    None => out.unreadable += 1,
                }
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        std::mem::take(&mut *lock(&out))
    }

    async fn read_partition(&self, partition: u64) -> Option<Vec<(i32, i64)>> {
        self.verify(|| async move {
            let result = self
                .session
                .execute_unpaged(&self.page, (partition as i64,))
                .await
                .map_err(|e| execution_cause(&e))?;
            let rows = result.into_rows_result().map_err(|e| rows_cause(&e))?;
            let rows = rows.rows::<(i32, i64)>().map_err(|e| rows_cause(&e))?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| rows_cause(&e))?)
        })
        .await
    }

    async fn read_lwt(&self, key: u64) -> Option<bool> {
        let row = self
            .verify(|| async move {
                let result = self
                    .session
                    .execute_unpaged(&self.lwt_select, (key as i64,))
                    .await
                    .map_err(|e| execution_cause(&e))?;
                let rows = result.into_rows_result().map_err(|e| rows_cause(&e))?;
                Ok(rows
                    .maybe_first_row::<(i64,)>()
                    .map_err(|e| rows_cause(&e))?)
            })
            .await?;
        Some(row.is_some_and(|(v,)| v == self.value(key)))
    }

    /// Runs one read of the read-back, tracked as [`Kind::Verify`], up to 3 times until it
    /// succeeds; `None` when every try failed or hung.
    async fn verify<T, F, Fut>(&self, read: F) -> Option<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        for _ in 0..3 {
            if let Some(Ok(v)) = self
                .stats
                .track(Kind::Verify, self.watchdog(), read())
                .await
            {
                return Some(v);
            }
        }
        None
    }
}

/// `request`'s output, or [`Failure::Hung`] when it takes longer than `watchdog`.
async fn within<F: Future>(watchdog: Duration, request: F) -> Result<F::Output, Failure> {
    tokio::time::timeout(watchdog, request)
        .await
        .map_err(|_| Failure::Hung)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
