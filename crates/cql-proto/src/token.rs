//! Partition tokens: Cassandra's `Murmur3Partitioner`, composite partition keys, and Scylla's
//! token-to-shard formula.

use bytes::{BufMut, BytesMut};

use crate::error::EncodeError;

/// A token of the Murmur3 partitioner: a signed 64-bit position on the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub i64);

impl Token {
    /// The smallest token, `-2^63` (never produced by [`murmur3_token`]).
    pub const MIN: Self = Self(i64::MIN);
    /// The largest token, `2^63 - 1`.
    pub const MAX: Self = Self(i64::MAX);

    /// A token of value `value`, with `i64::MIN` (reserved for the ring's minimum) normalized
    /// to `i64::MAX` as Scylla does; the `scylla` crate's constructor.
    pub const fn new(value: i64) -> Self {
        Self(if value == i64::MIN { i64::MAX } else { value })
    }

    /// The token's value; the `scylla` crate's accessor for the field.
    pub const fn value(&self) -> i64 {
        self.0
    }
}

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// A tail byte as Cassandra reads it: a signed Java `byte` sign-extended to 64 bits.
fn tail_byte(b: u8) -> u64 {
    i64::from(b as i8) as u64
}

/// The token of a partition key under Scylla's CDC partitioner (`CDCPartitioner`, the CDC log
/// tables' partitioner): the key's first 8 bytes as a big-endian signed integer (the stream id's
/// high half); a key shorter than 8 bytes gets the minimum token.
pub fn cdc_token(key: &[u8]) -> Token {
    match key.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        Some(b) => Token(i64::from_be_bytes(b)),
        None => Token::MIN,
    }
}

/// The token of a serialized partition key under Cassandra's `Murmur3Partitioner`.
///
/// This is MurmurHash3 x64_128 with seed 0, returning the first 64-bit half, with Cassandra's
/// quirk: the tail bytes (after the last full 16-byte block) are read as *signed* bytes, so a
/// byte >= 0x80 is sign-extended before it is shifted in. `i64::MIN` maps to `i64::MAX`, since
/// the minimum token is reserved.
///
/// The empty key hashes to `Token(0)` here (Scylla's behaviour; Cassandra gives the empty key the
/// minimum token, but rejects empty partition keys in user tables).
pub fn murmur3_token(key: &[u8]) -> Token {
    let len = key.len();
    let mut h1: u64 = 0;
    let mut h2: u64 = 0;
    let mut blocks = key.chunks_exact(16);
    for block in &mut blocks {
        let mut a = [0u8; 8];
        a.copy_from_slice(&block[..8]);
        let mut k1 = u64::from_le_bytes(a);
        a.copy_from_slice(&block[8..]);
        let mut k2 = u64::from_le_bytes(a);

        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);

        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let mut k1: u64 = 0;
    let mut k2: u64 = 0;
    for (i, &b) in tail.iter().enumerate().skip(8) {
        k2 ^= tail_byte(b) << ((i - 8) * 8);
    }
    if tail.len() > 8 {
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
    }
    for (i, &b) in tail.iter().enumerate().take(8) {
        k1 ^= tail_byte(b) << (i * 8);
    }
    if !tail.is_empty() {
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
    }

    h1 ^= len as u64;
    h2 ^= len as u64;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);

    let t = h1 as i64;
    Token(if t == i64::MIN { i64::MAX } else { t })
}

/// Serializes a partition key from the serialized values of its components.
///
/// A single component is its bytes unchanged; a composite key writes each component as a
/// `[short]` length, the bytes, and a `0x00` end-of-component byte.
pub fn serialize_partition_key(
    components: &[&[u8]],
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if let [single] = components {
        buf.put_slice(single);
        return Ok(());
    }
    for c in components {
        push_composite_key_component(buf, c)?;
    }
    Ok(())
}

/// Appends one component of a composite (multi-column) partition key: a `[short]` length, the
/// bytes, and a `0x00` end-of-component byte. [`serialize_partition_key`] in steps, for callers
/// that find the components one at a time.
pub fn push_composite_key_component(
    buf: &mut BytesMut,
    component: &[u8],
) -> Result<(), EncodeError> {
    let len = u16::try_from(component.len()).map_err(|_| EncodeError::TooLong {
        what: "partition key component",
        len: component.len(),
    })?;
    buf.put_u16(len);
    buf.put_slice(component);
    buf.put_u8(0);
    Ok(())
}

/// The shard owning `token` on a Scylla node with `nr_shards` shards, by the
/// `biased-token-round-robin` algorithm with parameter `ignore_msb`
/// (`SCYLLA_SHARDING_IGNORE_MSB`).
///
/// `nr_shards == 0` gives shard 0; `ignore_msb >= 64` shifts every bit out, also giving shard 0.
pub fn shard_of(token: Token, nr_shards: u32, ignore_msb: u32) -> u32 {
    let biased = (token.0 as u64).wrapping_add(1u64 << 63);
    let shifted = biased.checked_shl(ignore_msb).unwrap_or(0);
    // The product of a u64 and a u32 shifted right by 64 is below nr_shards, so it fits a u32.
    ((u128::from(shifted) * u128::from(nr_shards)) >> 64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_key_layout() {
        // Example from a public Q&A on composite keys: ('hello', 1) ->
        // 00 05 68 65 6c 6c 6f 00 00 04 00 00 00 01 00.
        let mut b = BytesMut::new();
        serialize_partition_key(&[b"hello", &[0, 0, 0, 1]], &mut b).unwrap();
        assert_eq!(
            &b[..],
            &[0, 5, b'h', b'e', b'l', b'l', b'o', 0, 0, 4, 0, 0, 0, 1, 0]
        );
        let mut b = BytesMut::new();
        serialize_partition_key(&[&[0, 0, 0, 1]], &mut b).unwrap();
        assert_eq!(&b[..], &[0, 0, 0, 1]);
    }
}
