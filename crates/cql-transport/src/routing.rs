//! Shards and the [`Sharder`]: which shard of a Scylla node owns a token, and which local source
//! ports land a connection on a shard through the shard-aware port. Named as in the `scylla`
//! crate (`routing::{Shard, ShardCount, Sharder}`); the formula itself is `cql-proto`'s
//! [`proto::shard_of`].

use std::num::NonZeroU16;

use proto::{ShardingInfo, Token};
use rand::Rng;

/// A shard of a Scylla node, numbered from 0.
pub type Shard = u32;

/// The number of shards of a node (never zero).
pub type ShardCount = NonZeroU16;

/// The local source ports the driver picks from for shard-aware connections by default: the
/// IANA ephemeral range, inclusive.
const EPHEMERAL_PORTS: (u16, u16) = (49152, 65535);

/// A node's sharding parameters, with the computations that depend on them: the shard of a
/// token (`biased-token-round-robin`) and the shard a source port lands on at the shard-aware
/// port (`port % nr_shards`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharder {
    /// The node's shard count (`SCYLLA_NR_SHARDS`).
    pub nr_shards: ShardCount,
    /// The token bits the formula ignores (`SCYLLA_SHARDING_IGNORE_MSB`).
    pub msb_ignore: u8,
}

impl Sharder {
    /// A sharder for `nr_shards` shards ignoring the `msb_ignore` most significant token bits.
    pub fn new(nr_shards: ShardCount, msb_ignore: u8) -> Self {
        Self {
            nr_shards,
            msb_ignore,
        }
    }

    /// The sharder of a node's SUPPORTED sharding keys; `None` when the counts do not fit the
    /// `scylla` crate's types (more than 65535 shards, or an ignore count above 255).
    pub fn from_sharding_info(info: &ShardingInfo) -> Option<Self> {
        let nr_shards = u16::try_from(info.nr_shards)
            .ok()
            .and_then(NonZeroU16::new)?;
        let msb_ignore = u8::try_from(info.ignore_msb).ok()?;
        Some(Self::new(nr_shards, msb_ignore))
    }

    /// The shard owning `token` on a node that replicates it.
    pub fn shard_of(&self, token: Token) -> Shard {
        proto::shard_of(
            token,
            u32::from(self.nr_shards.get()),
            u32::from(self.msb_ignore),
        )
    }

    /// The shard a connection from local port `source_port` lands on at the shard-aware port.
    pub fn shard_of_source_port(&self, source_port: u16) -> Shard {
        Shard::from(source_port % self.nr_shards.get())
    }

    /// A random local port of the ephemeral range (49152–65535) that lands on `shard`; a shard
    /// beyond the count is taken modulo the count.
    pub fn draw_source_port_for_shard(&self, shard: Shard) -> u16 {
        let mut ports = self.iter_source_ports_for_shard(shard);
        // The ephemeral range holds 16384 ports, more than any u16 shard count, so every shard
        // has one; the range's first port is only a formal fallback.
        ports.next().unwrap_or(EPHEMERAL_PORTS.0)
    }

    /// Every local port of the ephemeral range (49152–65535) that lands on `shard`, each once,
    /// starting at a random one and wrapping around. A shard beyond the count is taken modulo
    /// the count.
    pub fn iter_source_ports_for_shard(&self, shard: Shard) -> impl Iterator<Item = u16> + use<> {
        let n = u32::from(self.nr_shards.get());
        let (lo, hi) = (u32::from(EPHEMERAL_PORTS.0), u32::from(EPHEMERAL_PORTS.1));
        let first = lo + (shard % n + n - lo % n) % n;
        let count = if first > hi { 0 } else { (hi - first) / n + 1 };
        let start = if count == 0 {
            0
        } else {
            rand::thread_rng().gen_range(0..count)
        };
        (0..count).filter_map(move |i| u16::try_from(first + (start + i) % count * n).ok())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn sharder(n: u16, msb: u8) -> Sharder {
        Sharder::new(NonZeroU16::new(n).expect("nonzero"), msb)
    }

    #[test]
    fn shard_of_matches_the_formula_written_out() {
        // biased = token + 2^63 = 2^63 for token 0; << 12 wraps to 0: shard 0 of any count.
        assert_eq!(sharder(8, 12).shard_of(Token(0)), 0);
        // token MAX: biased = 2^64 - 1; without ignored bits (2^64 - 1) * 4 / 2^64 = 3.
        assert_eq!(sharder(4, 0).shard_of(Token::MAX), 3);
        // token 0 without ignored bits: 2^63 * 3 / 2^64 = 1.5, truncated.
        assert_eq!(sharder(3, 0).shard_of(Token(0)), 1);
    }

    #[test]
    fn source_ports_land_on_their_shard_and_cover_the_range_once() {
        let s = sharder(7, 12);
        let mut all = HashSet::new();
        for shard in 0..7 {
            let ports: Vec<u16> = s.iter_source_ports_for_shard(shard).collect();
            assert!(ports.iter().all(|p| s.shard_of_source_port(*p) == shard));
            let distinct: HashSet<u16> = ports.iter().copied().collect();
            assert_eq!(distinct.len(), ports.len(), "no port twice");
            all.extend(distinct);
            let drawn = s.draw_source_port_for_shard(shard);
            assert!((49152..=65535).contains(&drawn));
            assert_eq!(s.shard_of_source_port(drawn), shard);
        }
        assert_eq!(
            all.len(),
            65535 - 49152 + 1,
            "every ephemeral port is some shard's"
        );
    }

    #[test]
    fn sharding_info_converts_when_it_fits() {
        let info = ShardingInfo {
            shard: 1,
            nr_shards: 4,
            partitioner: "org.apache.cassandra.dht.Murmur3Partitioner".into(),
            algorithm: proto::scylla::BIASED_TOKEN_ROUND_ROBIN.into(),
            ignore_msb: 12,
            shard_aware_port: Some(19042),
            shard_aware_port_ssl: None,
        };
        assert_eq!(Sharder::from_sharding_info(&info), Some(sharder(4, 12)));
        let huge = ShardingInfo {
            nr_shards: 70_000,
            ..info
        };
        assert_eq!(Sharder::from_sharding_info(&huge), None);
    }
}
