//! The two checksums of v5 framing: CRC24 over a segment header, CRC32 over its payload.
//!
//! Both follow Cassandra's `Crc.java`, which servers run, where it says more than the spec
//! (errata 1 and 2 in `specs/README.md`).

/// The CRC24 register's initial value (spec section 2.1).
const CRC24_INIT: u32 = 0x87_5060;

/// The CRC24 polynomial with its x^24 term (spec section 2.1).
const CRC24_POLY: u32 = 0x197_4F0B;

/// The bytes fed to the CRC32 before the payload (errata 1).
pub const CRC32_SEED: [u8; 4] = [0xFA, 0x2D, 0x55, 0xCA];

/// The CRC-32 after [`CRC32_SEED`] alone, so each payload's checksum starts from it.
const CRC32_AFTER_SEED: u32 = 0x4477_7ED3;

/// The CRC24 of `bytes`: the 3 (uncompressed) or 5 (LZ4) header bytes in wire order.
///
/// Each byte is XORed into bits 16 to 23, then 8 rounds shift left and XOR the polynomial when
/// bit 24 is set. A header has at most 5 bytes, so a lookup table would buy nothing.
pub fn crc24(bytes: &[u8]) -> u32 {
    let mut crc = CRC24_INIT;
    for &b in bytes {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= CRC24_POLY;
            }
        }
    }
    crc & 0xFF_FFFF
}

/// The CRC32 of a segment payload: standard CRC-32 (IEEE) of [`CRC32_SEED`] then `payload`.
pub fn crc32(payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(CRC32_AFTER_SEED);
    hasher.update(payload);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_after_seed_is_the_seed_checksum() {
        assert_eq!(crc32fast::hash(&CRC32_SEED), CRC32_AFTER_SEED);
        let mut seeded = CRC32_SEED.to_vec();
        seeded.extend_from_slice(b"payload");
        assert_eq!(crc32(b"payload"), crc32fast::hash(&seeded));
    }

    #[test]
    fn crc24_of_nothing_is_the_initial_value() {
        assert_eq!(crc24(&[]), CRC24_INIT);
    }
}
