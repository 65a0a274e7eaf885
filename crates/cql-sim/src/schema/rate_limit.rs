//! Scylla's `per_partition_rate_limit` table option: its two limits, validated as Scylla does,
//! and the schema-extension blob Scylla stores under that name in `system_schema.tables`'
//! `extensions`.

use std::collections::BTreeMap;

use crate::error::{CqlError, Result};

/// The option's name, also the key of its blob in `extensions`.
pub const RATE_LIMIT_OPTION: &str = "per_partition_rate_limit";

const MAX_WRITES: &str = "max_writes_per_second";
const MAX_READS: &str = "max_reads_per_second";

/// A table's per-partition operation limits (`None`: unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `max_writes_per_second`.
    pub max_writes_per_second: Option<u32>,
    /// `max_reads_per_second`.
    pub max_reads_per_second: Option<u32>,
}

impl RateLimit {
    /// Parses the option's map as Scylla does: each key optional, a non-negative 32-bit
    /// number, no other key.
    pub fn from_options(mut opts: BTreeMap<String, String>) -> Result<Self> {
        let mut take = |key: &str| -> Result<Option<u32>> {
            let Some(v) = opts.remove(key) else {
                return Ok(None);
            };
            let n: i64 = v.trim().parse().map_err(|_| {
                CqlError::Config(format!(
                    "Invalid value for {key} option: expected a non-negative number"
                ))
            })?;
            u32::try_from(n).map(Some).map_err(|_| {
                CqlError::Config(format!(
                    "Value for {key} is out of range accepted by 32-bit numbers"
                ))
            })
        };
        let limit = Self {
            max_writes_per_second: take(MAX_WRITES)?,
            max_reads_per_second: take(MAX_READS)?,
        };
        if !opts.is_empty() {
            let keys: Vec<&str> = opts.keys().map(String::as_str).collect();
            return Err(CqlError::Config(format!(
                "Unknown keys in map for per_partition_rate_limit extension: {}",
                keys.join(", ")
            )));
        }
        Ok(limit)
    }

    /// The limit of reads (`write == false`) or writes.
    pub fn limit(&self, write: bool) -> Option<u32> {
        if write {
            self.max_writes_per_second
        } else {
            self.max_reads_per_second
        }
    }

    /// Whether neither operation is limited.
    pub fn is_unlimited(&self) -> bool {
        self.max_writes_per_second.is_none() && self.max_reads_per_second.is_none()
    }

    /// The extension blob Scylla writes: its serializer's `map<string, string>`, a
    /// little-endian `u32` count, then each key and value as a little-endian `u32` length and
    /// the bytes, keys in order.
    pub fn to_extension(&self) -> Vec<u8> {
        let mut pairs = Vec::new();
        if let Some(n) = self.max_reads_per_second {
            pairs.push((MAX_READS, n.to_string()));
        }
        if let Some(n) = self.max_writes_per_second {
            pairs.push((MAX_WRITES, n.to_string()));
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
        for (k, v) in &pairs {
            for s in [k.as_bytes(), v.as_bytes()] {
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn limits_are_parsed_and_bad_maps_refused_as_scylla_does() {
        let l = RateLimit::from_options(opts(&[("max_writes_per_second", "5")])).unwrap();
        assert_eq!(l.limit(true), Some(5));
        assert_eq!(l.limit(false), None);
        let err = |p: &[(&str, &str)]| match RateLimit::from_options(opts(p)) {
            Err(CqlError::Config(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(err(&[("max_reads_per_second", "x")]).contains("non-negative number"));
        assert!(err(&[("max_reads_per_second", "-1")]).contains("out of range"));
        assert!(err(&[("max_reads_per_second", "4294967296")]).contains("out of range"));
        assert!(err(&[("max_rows", "1")]).ends_with("extension: max_rows"));
    }

    #[test]
    fn the_extension_blob_is_scyllas_little_endian_string_map() {
        let l = RateLimit {
            max_writes_per_second: Some(7),
            max_reads_per_second: Some(10),
        };
        let mut want = vec![2, 0, 0, 0];
        for s in ["max_reads_per_second", "10", "max_writes_per_second", "7"] {
            want.extend_from_slice(&[s.len() as u8, 0, 0, 0]);
            want.extend_from_slice(s.as_bytes());
        }
        assert_eq!(l.to_extension(), want);
    }
}
