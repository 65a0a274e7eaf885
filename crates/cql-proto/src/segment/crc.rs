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
/// The spec's algorithm XORs each byte into bits 16 to 23, then shifts left 8 times, XORing the
/// polynomial whenever bit 24 is set; a table holds those 8 rounds for every byte value,
/// since this runs twice per segment on the hot path.
pub fn crc24(bytes: &[u8]) -> u32 {
    let mut crc = CRC24_INIT;
    for &b in bytes {
        let index = ((crc >> 16) ^ u32::from(b)) & 0xFF;
        crc = ((crc << 8) ^ CRC24_TABLE[index as usize]) & 0xFF_FFFF;
    }
    crc
}

/// The 8 shift-and-XOR rounds of the spec's CRC24 applied to `byte << 16`, for every byte.
const CRC24_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 16;
        let mut round = 0;
        while round < 8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= CRC24_POLY;
            }
            round += 1;
        }
        table[i] = crc & 0xFF_FFFF;
        i += 1;
    }
    table
};

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

    /// The spec's algorithm, one bit at a time.
    fn crc24_bitwise(bytes: &[u8]) -> u32 {
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

    #[test]
    fn crc24_table_matches_the_bitwise_algorithm() {
        for b in 0..=255u8 {
            for len in 1..=5 {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| b.wrapping_mul(31).wrapping_add(i))
                    .collect();
                assert_eq!(crc24(&bytes), crc24_bitwise(&bytes), "{bytes:02x?}");
            }
        }
    }

    #[test]
    fn crc24_of_nothing_is_the_initial_value() {
        assert_eq!(crc24(&[]), CRC24_INIT);
    }
}
