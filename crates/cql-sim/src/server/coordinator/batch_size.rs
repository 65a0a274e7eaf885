//! Cassandra's batch size thresholds (`batch_size_warn_threshold`, 5 KiB, and
//! `batch_size_fail_threshold`, 50 KiB): a batch spanning more than one partition whose data is
//! over the first gets a client warning, over the second it is refused before anything is
//! written.
//!
//! Cassandra measures the mutations' data size; the sim measures the bound values' bytes (a
//! batch of literals counts as empty), which is what drivers control and tests send.

use std::sync::Arc;

use crate::CqlError;
use crate::cql::ast::Statement;
use crate::exec::{BoundValue, CachedStatement};

/// `batch_size_warn_threshold` (Cassandra 4's default, 5 KiB).
pub(super) const WARN_BYTES: u64 = 5 * 1024;
/// `batch_size_fail_threshold` (Cassandra 4's default, 50 KiB).
pub(super) const FAIL_BYTES: u64 = 50 * 1024;

/// The data size of a batch: the bytes of its bound values.
pub(super) fn data_size(items: &[(Arc<CachedStatement>, Vec<BoundValue>)]) -> u64 {
    items
        .iter()
        .flat_map(|(_, values)| values)
        .map(|v| match v {
            BoundValue::Value(b) => b.len() as u64,
            BoundValue::Null | BoundValue::Unset => 0,
        })
        .sum()
}

/// `[ks.t1, ks.t2]`: the tables a batch writes, as Cassandra lists them in its messages.
fn table_names(
    items: &[(Arc<CachedStatement>, Vec<BoundValue>)],
    keyspace: Option<&str>,
) -> String {
    let mut names: Vec<String> = items
        .iter()
        .filter_map(|(s, _)| match &s.parsed.statement {
            Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. } => Some(format!(
                "{}.{}",
                table.keyspace.as_deref().or(keyspace).unwrap_or(""),
                table.name
            )),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    format!("[{}]", names.join(", "))
}

/// Cassandra's `FBUtilities.prettyPrintMemory`: bytes, or KiB/MiB/GiB with three decimals.
fn pretty(bytes: u64) -> String {
    const K: u64 = 1024;
    match bytes {
        b if b >= K * K * K => format!("{:.3}GiB", b as f64 / (K * K * K) as f64),
        b if b >= K * K => format!("{:.3}MiB", b as f64 / (K * K) as f64),
        b if b >= K => format!("{:.3}KiB", b as f64 / K as f64),
        b => format!("{b} bytes"),
    }
}

/// Checks a batch of `partitions` partitions and `size` bytes against the thresholds: the
/// client warning to send, or Cassandra's `Batch too large` refusal.
pub(super) fn check(
    items: &[(Arc<CachedStatement>, Vec<BoundValue>)],
    keyspace: Option<&str>,
    partitions: usize,
    size: u64,
) -> Result<Option<String>, CqlError> {
    // Cassandra only checks batches spanning several mutations (CASSANDRA-10876).
    if partitions <= 1 || size <= WARN_BYTES {
        return Ok(None);
    }
    if size > FAIL_BYTES {
        return Err(CqlError::invalid("Batch too large"));
    }
    Ok(Some(format!(
        "Batch for {} is of size {}, exceeding specified threshold of {} by {}.",
        table_names(items, keyspace),
        pretty(size),
        pretty(WARN_BYTES),
        pretty(size - WARN_BYTES)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_cassandra_prints_memory() {
        assert_eq!(pretty(512), "512 bytes");
        assert_eq!(pretty(5120), "5.000KiB");
        assert_eq!(pretty(6000), "5.859KiB");
        assert_eq!(pretty(3 * 1024 * 1024 / 2), "1.500MiB");
    }

    #[test]
    fn one_partition_or_a_small_batch_is_not_checked() {
        assert_eq!(check(&[], None, 1, FAIL_BYTES + 1).ok(), Some(None));
        assert_eq!(check(&[], None, 3, WARN_BYTES).ok(), Some(None));
        let w = check(&[], None, 2, 6000).ok().flatten();
        assert_eq!(
            w.as_deref(),
            Some(
                "Batch for [] is of size 5.859KiB, exceeding specified threshold of 5.000KiB by 880 bytes."
            )
        );
        assert!(
            matches!(check(&[], None, 2, FAIL_BYTES + 1), Err(CqlError::Invalid(m)) if m == "Batch too large")
        );
    }
}
