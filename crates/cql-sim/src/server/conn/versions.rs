//! Frames a connection cannot serve: a protocol version the node does not speak, refused with
//! the frame and message the modelled server sends, and framing errors the stream cannot
//! recover from.

use bytes::BytesMut;
use proto::frame::{FrameError, ProtocolVersion};

use super::{AfterFrame, Connection, Outgoing, protocol_error};

/// The `PROTOCOL_VERSIONS` of SUPPORTED, as Cassandra writes them: `3/v3, 4/v4, 5/v5`.
pub(super) fn supported_versions(max: ProtocolVersion) -> Vec<String> {
    (3..=max.0).map(|v| format!("{v}/v{v}")).collect()
}

impl Connection {
    /// Rejects a frame of a version this node does not serve (before the decoder sees it),
    /// with the error frame and message the modelled server sends. (A served version other
    /// than the connection's is refused in `handle_frame`.)
    pub(super) async fn check_version(&self, buf: &BytesMut) -> Option<AfterFrame> {
        let first = *buf.first()?;
        let version = first & 0x7f;
        let max = self.shared.cluster.config.max_protocol_version;
        let stream = match (buf.get(2), buf.get(3)) {
            (Some(a), Some(b)) => i16::from_be_bytes([*a, *b]),
            _ => 0,
        };
        let (reply_version, msg) = if (3..=max.0).contains(&version) {
            return None;
        } else if self.shared.cluster.config.scylla_extensions {
            // Scylla: `Invalid or unsupported protocol version: 5`, in its own version.
            (
                max,
                format!("Invalid or unsupported protocol version: {version}"),
            )
        } else if version == 5 && max == ProtocolVersion::V4 {
            // Cassandra 3.11 knows v5 as a beta it serves only with the USE_BETA flag, and
            // answers in the version asked.
            (
                ProtocolVersion::V5,
                "Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset".into(),
            )
        } else {
            (
                max,
                format!(
                    "Invalid or unsupported protocol version ({version}); supported versions are ({})",
                    supported_versions(max).join(", ")
                ),
            )
        };
        let out = self.frame(reply_version, stream, protocol_error(msg));
        let _ = self.send(Outgoing::Frame(out)).await;
        let _ = self.send(Outgoing::Close).await;
        Some(AfterFrame::Close)
    }

    /// A framing error the stream cannot recover from: report it and close.
    pub(super) async fn fatal(&self, buf: &BytesMut, e: FrameError) {
        let stream = match (buf.get(2), buf.get(3)) {
            (Some(a), Some(b)) => i16::from_be_bytes([*a, *b]),
            _ => 0,
        };
        let version = buf
            .first()
            .map(|b| b & 0x7f)
            .filter(|v| *v == 3)
            .map_or(ProtocolVersion::V4, ProtocolVersion);
        let msg = match e {
            FrameError::TooLarge { len, max } => {
                format!("Request is too big: length {len} exceeds maximum allowed length {max}.")
            }
            other => other.to_string(),
        };
        let out = self.frame(version, stream, protocol_error(msg));
        let _ = self.send(Outgoing::Frame(out)).await;
        let _ = self.send(Outgoing::Close).await;
    }
}
