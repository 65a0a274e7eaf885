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

/// A response frame as routed by the driver: header fields and the body as on the wire (maybe
/// compressed). Decoding the body is the caller's work, off the driver task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The version byte with the direction bit cleared.
    pub version: u8,
    /// The header flags (compression, tracing, custom payload, warning, beta).
    pub flags: u8,
    /// The stream id.
    pub stream: i16,
    /// The opcode.
    pub opcode: u8,
    /// The body, as on the wire.
    pub body: bytes::Bytes,
}

/// Splits one frame off the front of `buf`; `Ok(None)` means more bytes are needed.
/// The length is checked against `max_body` before anything is reserved.
pub(crate) fn decode_frame(
    buf: &mut bytes::BytesMut,
    max_body: usize,
) -> Result<Option<RawFrame>, String> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let version = buf[0] & 0x7F;
    if !(3..=4).contains(&version) {
        return Err(format!("unsupported protocol version byte {:#04x}", buf[0]));
    }
    let len = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) as usize;
    if len > max_body {
        return Err(format!(
            "frame body of {len} bytes exceeds the {max_body} byte limit"
        ));
    }
    if buf.len() < HEADER_LEN + len {
        buf.reserve(HEADER_LEN + len - buf.len());
        return Ok(None);
    }
    let header = buf.split_to(HEADER_LEN);
    let body = buf.split_to(len).freeze();
    Ok(Some(RawFrame {
        version,
        flags: header[1],
        stream: i16::from_be_bytes([header[2], header[3]]),
        opcode: header[4],
        body,
    }))
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
