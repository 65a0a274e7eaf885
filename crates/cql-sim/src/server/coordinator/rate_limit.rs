//! Scylla's per-partition rate limit (`per_partition_rate_limit`): operations on one partition
//! of a limited table are counted per second, and those over the limit are rejected with
//! Scylla's rate-limit error (the code advertised under `SCYLLA_RATE_LIMIT_ERROR`), or with a
//! configuration error on connections that did not enable the extension, as Scylla answers them.
//!
//! Scylla's accounting is statistical (each replica rejects a growing share of the operations
//! once over the limit, so up to RF times the limit may pass); the sim counts accepted
//! operations per partition in fixed one-second windows and rejects every one past the limit,
//! so tests see the limit exactly.

use std::collections::HashMap;

use proto::codes::ErrorCode;
use proto::response::{ErrorBody, ErrorDetails, RateLimitReached};

use crate::cql::ast::{Conditions, Statement};
use crate::schema::Catalog;

/// The error code this server advertises for rate-limit errors (Scylla's
/// `exception_code::RATE_LIMIT_ERROR`).
pub(crate) const RATE_LIMIT_ERROR_CODE: i32 = 0xF000;

/// Past this many tracked partitions, windows of earlier seconds are dropped.
const PRUNE_ABOVE: usize = 4096;

/// One limited partition's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    second: u64,
    accepted: u32,
}

/// Accepted operations per (keyspace, table, partition token, write?) in the current second.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: HashMap<(String, String, i64, bool), Window>,
}

impl RateLimiter {
    /// Counts one operation at second `now`; `false` when `limit` operations were already
    /// accepted in that second (the operation is rejected and not counted).
    pub(crate) fn admit(
        &mut self,
        keyspace: &str,
        table: &str,
        token: i64,
        write: bool,
        limit: u32,
        now: u64,
    ) -> bool {
        if self.windows.len() > PRUNE_ABOVE {
            self.windows.retain(|_, w| w.second == now);
        }
        let key = (keyspace.to_owned(), table.to_owned(), token, write);
        let w = self.windows.entry(key).or_insert(Window {
            second: now,
            accepted: 0,
        });
        if w.second != now {
            *w = Window {
                second: now,
                accepted: 0,
            };
        }
        if w.accepted >= limit {
            return false;
        }
        w.accepted += 1;
        true
    }
}

/// The limited operation a statement is: its table, whether it writes, and the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limited {
    pub(crate) keyspace: String,
    pub(crate) table: String,
    pub(crate) write: bool,
    pub(crate) limit: u32,
}

/// The limit `st` runs under, if its table has one for its kind of operation. Reads
/// (SELECT) and writes (INSERT, UPDATE, DELETE) are limited; lightweight transactions are not.
pub(crate) fn limited(catalog: &Catalog, st: &Statement, current: Option<&str>) -> Option<Limited> {
    let (name, write) = match st {
        Statement::Select(s) => (&s.table, false),
        Statement::Insert {
            table,
            if_not_exists: false,
            ..
        } => (table, true),
        Statement::Update {
            table, conditions, ..
        }
        | Statement::Delete {
            table, conditions, ..
        } if *conditions == Conditions::None => (table, true),
        _ => return None,
    };
    let t = catalog.table_or_err(name, current).ok()?;
    let limit = t.params.rate_limit.limit(write)?;
    Some(Limited {
        keyspace: t.keyspace.clone(),
        table: t.name.clone(),
        write,
        limit,
    })
}

/// The answer to a rejected operation: Scylla's rate-limit error when the connection enabled
/// `SCYLLA_RATE_LIMIT_ERROR`, else a CONFIG_ERROR with the same message (as the extension
/// document says servers answer drivers that do not know it).
pub(crate) fn rejection(
    keyspace: &str,
    table: &str,
    write: bool,
    by_coordinator: bool,
    extension_enabled: bool,
) -> ErrorBody {
    let message = format!(
        "Per-partition rate limit reached for {} in table {keyspace}.{table}, rejected by {}",
        if write { "write" } else { "read" },
        if by_coordinator {
            "coordinator"
        } else {
            "replicas"
        }
    );
    if !extension_enabled {
        return ErrorBody {
            code: ErrorCode::CONFIG_ERROR,
            message,
            details: ErrorDetails::None,
        };
    }
    RateLimitReached {
        op_type: if write {
            RateLimitReached::WRITE
        } else {
            RateLimitReached::READ
        },
        rejected_by_coordinator: by_coordinator,
    }
    .to_error(RATE_LIMIT_ERROR_CODE, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_gets_its_limit_per_second_and_others_are_separate() {
        let mut l = RateLimiter::default();
        assert!(l.admit("ks", "t", 1, true, 2, 10));
        assert!(l.admit("ks", "t", 1, true, 2, 10));
        assert!(!l.admit("ks", "t", 1, true, 2, 10));
        // Another partition, the reads of the same one, and the next second are not limited.
        assert!(l.admit("ks", "t", 2, true, 2, 10));
        assert!(l.admit("ks", "t", 1, false, 2, 10));
        assert!(l.admit("ks", "t", 1, true, 2, 11));
        assert!(!l.admit("ks", "t", 9, true, 0, 11));
    }

    #[test]
    fn rejections_carry_scyllas_details_or_a_config_error() {
        let e = rejection("ks", "t", true, false, true);
        assert_eq!(e.code.0, RATE_LIMIT_ERROR_CODE);
        assert_eq!(
            e.message,
            "Per-partition rate limit reached for write in table ks.t, rejected by replicas"
        );
        let d = RateLimitReached::from_error(&e, RATE_LIMIT_ERROR_CODE);
        assert_eq!(
            d,
            Some(RateLimitReached {
                op_type: RateLimitReached::WRITE,
                rejected_by_coordinator: false
            })
        );
        let e = rejection("ks", "t", false, true, false);
        assert_eq!(e.code, ErrorCode::CONFIG_ERROR);
        assert!(
            e.message
                .contains("for read in table ks.t, rejected by coordinator")
        );
    }
}
