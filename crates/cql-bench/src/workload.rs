//! The workloads: schema, statements and the values of request number `i`.

use clap::ValueEnum;

/// Keyspace and tables every driver uses.
pub(crate) const SETUP: &[&str] = &[
    "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = \
     {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE TABLE IF NOT EXISTS bench.kv \
     (pk bigint PRIMARY KEY, c1 int, c2 text, c3 double, c4 blob)",
    "CREATE TABLE IF NOT EXISTS bench.page \
     (pk int, ck int, c1 bigint, c2 text, c3 double, PRIMARY KEY (pk, ck))",
];

/// Rows of `bench.kv` that the setup writes and `select` reads.
pub(crate) const KV_KEYS: i64 = 1000;
/// Rows in the one partition of `bench.page` that `select_page` reads.
pub(crate) const PAGE_ROWS: i32 = 100;
/// Statements in one `batch` request.
pub(crate) const BATCH_SIZE: usize = 10;

/// Insert one row of `bench.kv` (5 columns).
pub(crate) const INSERT: &str = "INSERT INTO bench.kv (pk, c1, c2, c3, c4) VALUES (?, ?, ?, ?, ?)";
/// Select one row of `bench.kv` by key.
pub(crate) const SELECT: &str = "SELECT pk, c1, c2, c3, c4 FROM bench.kv WHERE pk = ?";
/// Select the 100-row partition of `bench.page`.
pub(crate) const SELECT_PAGE: &str = "SELECT pk, ck, c1, c2, c3 FROM bench.page WHERE pk = ?";
/// The unprepared statement: one row by a literal key, no bound values.
pub(crate) const UNPREPARED: &str = "SELECT pk, c1, c2, c3, c4 FROM bench.kv WHERE pk = 42";

/// The text column's value.
pub(crate) const TEXT: &str = "benchmark-value-0123456789";
/// The blob column's value.
pub(crate) const BLOB: &[u8] = &[0xab; 32];

/// A kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum Workload {
    /// Prepared insert of one row (5 columns).
    Insert,
    /// Prepared select of one row by key.
    Select,
    /// Prepared select of a 100-row partition.
    SelectPage,
    /// Unprepared select of one row, no values.
    Unprepared,
    /// Unlogged batch of 10 prepared inserts.
    Batch,
}

impl Workload {
    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Select => "select",
            Self::SelectPage => "select_page",
            Self::Unprepared => "unprepared",
            Self::Batch => "batch",
        }
    }

    /// The statement a prepared workload prepares; the query text for `unprepared`.
    pub(crate) fn statement(self) -> &'static str {
        match self {
            Self::Insert | Self::Batch => INSERT,
            Self::Select => SELECT,
            Self::SelectPage => SELECT_PAGE,
            Self::Unprepared => UNPREPARED,
        }
    }
}

/// The row `insert` writes for request `i`: it overwrites one of the rows the setup created.
///
/// Never a new key: creating a partition costs the server more than overwriting one, so whichever
/// driver ran first would be served more slowly (an early version of this benchmark had
/// twice the server CPU per insert for the driver run first).
pub(crate) fn insert_row(i: u64) -> (i64, i32, &'static str, f64, &'static [u8]) {
    let pk = (i % KV_KEYS as u64) as i64;
    (pk, i as i32, TEXT, i as f64 * 0.5, BLOB)
}

/// The key `select` reads for request `i`.
pub(crate) fn select_key(i: u64) -> i64 {
    (i % KV_KEYS as u64) as i64
}

/// The literal inserts the setup runs to fill both tables.
pub(crate) fn setup_rows() -> Vec<String> {
    let blob: String = BLOB.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = Vec::new();
    for pk in 0..KV_KEYS {
        out.push(format!(
            "INSERT INTO bench.kv (pk, c1, c2, c3, c4) VALUES ({pk}, {pk}, '{TEXT}', 1.5, 0x{blob})"
        ));
    }
    for ck in 0..PAGE_ROWS {
        out.push(format!(
            "INSERT INTO bench.page (pk, ck, c1, c2, c3) VALUES (0, {ck}, {ck}, '{TEXT}', 2.5)"
        ));
    }
    out
}
