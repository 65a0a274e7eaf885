//! Scylla sharding parameters of a node, as learned from SUPPORTED.

use std::collections::HashMap;

/// A Scylla node's sharding parameters plus the shard a given connection landed on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sharding {
    /// The shard serving the connection that reported this.
    pub shard: u32,
    /// Number of shards on the node.
    pub nr_shards: u32,
    /// `SCYLLA_SHARDING_IGNORE_MSB`.
    pub ignore_msb: u8,
    /// `SCYLLA_SHARD_AWARE_PORT`, if the node listens on one.
    pub shard_aware_port: Option<u16>,
    /// `SCYLLA_SHARD_AWARE_PORT_SSL`, if the node listens on one.
    pub shard_aware_port_ssl: Option<u16>,
    /// `SCYLLA_PARTITIONER`, e.g. `org.apache.cassandra.dht.Murmur3Partitioner`.
    pub partitioner: Option<String>,
    /// `SCYLLA_SHARDING_ALGORITHM`, e.g. `biased-token-round-robin`.
    pub algorithm: Option<String>,
}

impl Sharding {
    /// Parses the Scylla keys of a SUPPORTED map; `None` when the node is not Scylla (or the
    /// required keys are missing or malformed).
    pub fn from_supported(options: &HashMap<String, Vec<String>>) -> Option<Self> {
        fn first<'a>(o: &'a HashMap<String, Vec<String>>, k: &str) -> Option<&'a str> {
            o.get(k).and_then(|v| v.first()).map(String::as_str)
        }
        let shard = first(options, "SCYLLA_SHARD")?.parse().ok()?;
        let nr_shards: u32 = first(options, "SCYLLA_NR_SHARDS")?.parse().ok()?;
        if nr_shards == 0 || shard >= nr_shards {
            return None;
        }
        Some(Self {
            shard,
            nr_shards,
            ignore_msb: first(options, "SCYLLA_SHARDING_IGNORE_MSB")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            shard_aware_port: first(options, "SCYLLA_SHARD_AWARE_PORT")
                .and_then(|v| v.parse().ok()),
            shard_aware_port_ssl: first(options, "SCYLLA_SHARD_AWARE_PORT_SSL")
                .and_then(|v| v.parse().ok()),
            partitioner: first(options, "SCYLLA_PARTITIONER").map(str::to_owned),
            algorithm: first(options, "SCYLLA_SHARDING_ALGORITHM").map(str::to_owned),
        })
    }

    /// The shard owning `token` (Scylla's `biased-token-round-robin`).
    pub fn shard_of(&self, token: i64) -> u32 {
        shard_of(token, self.nr_shards, self.ignore_msb)
    }
}

/// Scylla's `biased-token-round-robin`: bias the token to unsigned, drop `ignore_msb` high bits,
/// and scale into `0..nr_shards`.
pub(crate) fn shard_of(token: i64, nr_shards: u32, ignore_msb: u8) -> u32 {
    if nr_shards == 0 {
        return 0;
    }
    let biased = (token as u64).wrapping_add(1 << 63);
    let shifted = if ignore_msb >= 64 {
        0
    } else {
        biased << ignore_msb
    };
    // The product's top 64 bits are below nr_shards, so the cast is lossless.
    ((u128::from(shifted) * u128::from(nr_shards)) >> 64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scylla_supported_keys() {
        let mut o = HashMap::new();
        for (k, v) in [
            ("SCYLLA_SHARD", "3"),
            ("SCYLLA_NR_SHARDS", "8"),
            ("SCYLLA_SHARDING_IGNORE_MSB", "12"),
            ("SCYLLA_SHARD_AWARE_PORT", "19042"),
            ("SCYLLA_SHARDING_ALGORITHM", "biased-token-round-robin"),
        ] {
            o.insert(k.to_owned(), vec![v.to_owned()]);
        }
        let s = Sharding::from_supported(&o).expect("scylla");
        assert_eq!(
            (s.shard, s.nr_shards, s.ignore_msb, s.shard_aware_port),
            (3, 8, 12, Some(19042))
        );
        o.insert("SCYLLA_SHARD".into(), vec!["9".into()]);
        assert_eq!(Sharding::from_supported(&o), None, "shard out of range");
        assert_eq!(Sharding::from_supported(&HashMap::new()), None);
    }

    #[test]
    fn shard_formula_by_hand() {
        // ignore_msb 0: biased = token + 2^63; shard = biased * n / 2^64.
        assert_eq!(shard_of(i64::MIN, 4, 0), 0); // biased 0
        assert_eq!(shard_of(0, 4, 0), 2); // biased 2^63 -> half
        assert_eq!(shard_of(i64::MAX, 4, 0), 3);
        assert_eq!(shard_of(-(1 << 62), 4, 0), 1); // biased 2^62 -> a quarter
        // ignore_msb 1: biased 2^62 << 1 = 2^63 -> half of 4 shards.
        assert_eq!(shard_of(-(1 << 62), 4, 1), 2);
        assert_eq!(shard_of(123, 1, 12), 0);
    }
}
