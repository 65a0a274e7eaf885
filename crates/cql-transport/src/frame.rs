//! Frame plumbing the driver task needs on top of cql-proto: patching the stream id into an
//! encoded frame and the 9-byte v4 header layout.

/// The length of a v3/v4 frame header: version, flags, stream (2), opcode, length (4).
pub(crate) const HEADER_LEN: usize = 9;

/// Writes `stream` into bytes 2..4 of an encoded v4 frame header.
pub(crate) fn patch_stream(frame: &mut [u8], stream: i16) {
    if let Some(dst) = frame.get_mut(2..4) {
        dst.copy_from_slice(&stream.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_bytes_2_and_3_big_endian() {
        let mut f = [0x04, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0];
        patch_stream(&mut f, 0x1234);
        assert_eq!(f, [0x04, 0x00, 0x12, 0x34, 0x05, 0, 0, 0, 0]);
        patch_stream(&mut f, -1);
        assert_eq!(&f[2..4], &[0xFF, 0xFF]);
        assert_eq!(HEADER_LEN, 9);
    }
}
