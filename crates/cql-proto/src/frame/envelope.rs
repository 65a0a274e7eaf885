//! Whole-frame encoding and decoding: header, envelope (tracing id, warnings, custom payload)
//! and compression around a request or response body.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use uuid::Uuid;

use super::{
    BodyExtensions, Compression, DEFAULT_MAX_FRAME_SIZE, Frame, FrameError, FrameFlags,
    FrameHeader, ProtocolVersion,
};
use crate::codec::{self, Reader};
use crate::codes::Opcode;
use crate::error::EncodeError;
use crate::request::Request;
use crate::response::Response;

/// A custom payload: a `[bytes map]`.
type CustomPayload = HashMap<String, Option<Bytes>>;

/// How to frame a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions<'a> {
    /// Ask the server to trace the request (flag 0x02).
    pub tracing: bool,
    /// A custom payload (flag 0x04).
    pub custom_payload: Option<&'a CustomPayload>,
    /// Compress the body (flag 0x01). STARTUP and OPTIONS are never compressed.
    pub compression: Option<Compression>,
}

/// How to frame a response.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseOptions<'a> {
    /// The tracing session id (flag 0x02).
    pub tracing_id: Option<Uuid>,
    /// Warnings (flag 0x08); an empty slice sends no warning flag.
    pub warnings: &'a [String],
    /// A custom payload (flag 0x04).
    pub custom_payload: Option<&'a CustomPayload>,
    /// Compress the body (flag 0x01).
    pub compression: Option<Compression>,
}

/// How to open a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The negotiated compression, used when a frame is flagged compressed.
    pub compression: Option<Compression>,
    /// The cap on a decompressed body.
    pub max_decompressed_len: usize,
    /// Negotiated extensions that change body layouts.
    pub extensions: BodyExtensions,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            compression: None,
            max_decompressed_len: DEFAULT_MAX_FRAME_SIZE,
            extensions: BodyExtensions::NONE,
        }
    }
}

/// A decoded request frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEnvelope {
    /// The stream id.
    pub stream: i16,
    /// The protocol version of the frame.
    pub version: ProtocolVersion,
    /// Whether tracing was requested.
    pub tracing: bool,
    /// The custom payload, when present.
    pub custom_payload: Option<CustomPayload>,
    /// The request.
    pub request: Request,
}

/// A decoded response frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseEnvelope {
    /// The stream id (-1 for events).
    pub stream: i16,
    /// The protocol version of the frame.
    pub version: ProtocolVersion,
    /// The tracing session id, when the request was traced.
    pub tracing_id: Option<Uuid>,
    /// Server warnings (empty when none).
    pub warnings: Vec<String>,
    /// The custom payload, when present. Boxed: it is rare, and every response is moved
    /// through the driver's layers.
    pub custom_payload: Option<Box<CustomPayload>>,
    /// The response.
    pub response: Response,
}

/// Writes a frame: header placeholder, envelope and body via `body`, optional compression, then
/// the patched length. On error `buf` is restored to its previous length.
fn encode_frame(
    buf: &mut BytesMut,
    mut header: FrameHeader,
    compression: Option<Compression>,
    body: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    // v5 frames are never compressed themselves: their segments are (v5 spec, section 2.4).
    let compression = compression.filter(|_| !header.version.is_v5_or_later());
    if compression.is_some() {
        header.flags |= FrameFlags::COMPRESSION;
    }
    header.encode(buf);
    let body_start = buf.len();
    let result = body(buf).and_then(|()| {
        if let Some(c) = compression {
            // Copy the plain body out and compress it back in place. (Splitting the buffer
            // instead would make the next reserve copy every frame already queued in `buf`.)
            let raw = buf[body_start..].to_vec();
            buf.truncate(body_start);
            c.compress(&raw, buf)?;
        }
        let len = buf.len() - body_start;
        let len32 = u32::try_from(len)
            .ok()
            .filter(|l| *l <= i32::MAX as u32)
            .ok_or(EncodeError::TooLong {
                what: "frame body",
                len,
            })?;
        buf[start + 5..start + 9].copy_from_slice(&len32.to_be_bytes());
        Ok(())
    });
    if result.is_err() {
        buf.truncate(start);
    }
    result
}

/// Appends a whole request frame to `buf`, writing the body in place and patching the length.
pub fn encode_request(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    stream: i16,
    request: &Request,
    options: &RequestOptions<'_>,
) -> Result<(), EncodeError> {
    let compression = match request {
        Request::Startup(_) | Request::Options => None,
        _ => options.compression,
    };
    let header = FrameHeader {
        version,
        is_response: false,
        flags: FrameFlags::EMPTY
            .set_if(FrameFlags::TRACING, options.tracing)
            .set_if(FrameFlags::CUSTOM_PAYLOAD, options.custom_payload.is_some()),
        stream,
        opcode: request.opcode(),
        length: 0,
    };
    encode_frame(buf, header, compression, |buf| {
        if let Some(p) = options.custom_payload {
            codec::write_bytes_map(buf, p)?;
        }
        request.encode_body(version, buf)
    })
}

/// Appends a whole response frame to `buf`, writing the body in place and patching the length.
pub fn encode_response(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    stream: i16,
    response: &Response,
    options: &ResponseOptions<'_>,
) -> Result<(), EncodeError> {
    let header = FrameHeader {
        version,
        is_response: true,
        flags: FrameFlags::EMPTY
            .set_if(FrameFlags::TRACING, options.tracing_id.is_some())
            .set_if(FrameFlags::WARNING, !options.warnings.is_empty())
            .set_if(FrameFlags::CUSTOM_PAYLOAD, options.custom_payload.is_some()),
        stream,
        opcode: response.opcode(),
        length: 0,
    };
    encode_frame(buf, header, options.compression, |buf| {
        if let Some(id) = &options.tracing_id {
            codec::write_uuid(buf, id);
        }
        if !options.warnings.is_empty() {
            codec::write_string_list(buf, options.warnings)?;
        }
        if let Some(p) = options.custom_payload {
            codec::write_bytes_map(buf, p)?;
        }
        response.encode_body(version, buf)
    })
}

/// The frame's body, decompressed when flagged.
fn plain_body(
    frame: &Frame,
    compression: Option<Compression>,
    max_len: usize,
) -> Result<Bytes, FrameError> {
    // Some servers flag an empty body as compressed: there is nothing to decompress. In v5
    // compression belongs to the segments and the frame flag is "deprecated and ignored"
    // (v5 spec, section 2.4).
    if !frame.header.flags.contains(FrameFlags::COMPRESSION)
        || frame.body.is_empty()
        || frame.header.version.is_v5_or_later()
    {
        return Ok(frame.body.clone());
    }
    let c = compression.ok_or(FrameError::UnexpectedCompression)?;
    c.decompress(&frame.body, max_len)
}

/// Decodes a response frame (envelope and body), decompressing with `compression` when the
/// frame is flagged compressed (bounded by [`DEFAULT_MAX_FRAME_SIZE`]).
pub fn decode_response(
    frame: &Frame,
    compression: Option<Compression>,
) -> Result<ResponseEnvelope, FrameError> {
    decode_response_limited(frame, compression, DEFAULT_MAX_FRAME_SIZE)
}

/// [`decode_response`] with an explicit cap on the decompressed body.
pub fn decode_response_limited(
    frame: &Frame,
    compression: Option<Compression>,
    max_len: usize,
) -> Result<ResponseEnvelope, FrameError> {
    decode_response_with(
        frame,
        &DecodeOptions {
            compression,
            max_decompressed_len: max_len,
            extensions: BodyExtensions::NONE,
        },
    )
}

/// Decodes a response frame with explicit [`DecodeOptions`].
pub fn decode_response_with(
    frame: &Frame,
    options: &DecodeOptions,
) -> Result<ResponseEnvelope, FrameError> {
    let h = frame.header;
    if !h.is_response {
        return Err(FrameError::WrongDirection {
            expected: "response",
        });
    }
    if !Response::is_response_opcode(h.opcode) {
        return Err(unknown(h.opcode, "response"));
    }
    let body = plain_body(frame, options.compression, options.max_decompressed_len)?;
    let mut r = Reader::new(&body);
    let tracing_id = if h.flags.contains(FrameFlags::TRACING) {
        Some(r.read_uuid("tracing id")?)
    } else {
        None
    };
    let warnings = if h.flags.contains(FrameFlags::WARNING) {
        r.read_string_list("warnings")?
    } else {
        Vec::new()
    };
    let custom_payload = if h.flags.contains(FrameFlags::CUSTOM_PAYLOAD) {
        Some(Box::new(r.read_bytes_map("custom payload")?))
    } else {
        None
    };
    let rest = body.slice_ref(r.rest());
    let response = Response::decode_body_with(h.opcode, h.version, options.extensions, rest)?;
    Ok(ResponseEnvelope {
        stream: h.stream,
        version: h.version,
        tracing_id,
        warnings,
        custom_payload,
        response,
    })
}

/// Decodes a request frame (envelope and body), decompressing with `compression` when the
/// frame is flagged compressed (bounded by [`DEFAULT_MAX_FRAME_SIZE`]).
pub fn decode_request(
    frame: &Frame,
    compression: Option<Compression>,
) -> Result<RequestEnvelope, FrameError> {
    decode_request_limited(frame, compression, DEFAULT_MAX_FRAME_SIZE)
}

/// [`decode_request`] with an explicit cap on the decompressed body.
pub fn decode_request_limited(
    frame: &Frame,
    compression: Option<Compression>,
    max_len: usize,
) -> Result<RequestEnvelope, FrameError> {
    decode_request_with(
        frame,
        &DecodeOptions {
            compression,
            max_decompressed_len: max_len,
            extensions: BodyExtensions::NONE,
        },
    )
}

/// Decodes a request frame with explicit [`DecodeOptions`].
pub fn decode_request_with(
    frame: &Frame,
    options: &DecodeOptions,
) -> Result<RequestEnvelope, FrameError> {
    let h = frame.header;
    if h.is_response {
        return Err(FrameError::WrongDirection {
            expected: "request",
        });
    }
    if !Request::is_request_opcode(h.opcode) {
        return Err(unknown(h.opcode, "request"));
    }
    let body = plain_body(frame, options.compression, options.max_decompressed_len)?;
    let mut r = Reader::new(&body);
    let custom_payload = if h.flags.contains(FrameFlags::CUSTOM_PAYLOAD) {
        Some(r.read_bytes_map("custom payload")?)
    } else {
        None
    };
    let rest = body.slice_ref(r.rest());
    let request = Request::decode_body_with(h.opcode, h.version, options.extensions, rest)?;
    Ok(RequestEnvelope {
        stream: h.stream,
        version: h.version,
        tracing: h.flags.contains(FrameFlags::TRACING),
        custom_payload,
        request,
    })
}

fn unknown(opcode: Opcode, direction: &'static str) -> FrameError {
    FrameError::UnknownOpcode { opcode, direction }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Query, QueryParameters};

    #[test]
    fn a_failed_encode_leaves_the_buffer_as_it_was() {
        let q = Request::Query(Query {
            query: "x".into(),
            params: QueryParameters {
                keyspace: Some("ks".into()),
                ..QueryParameters::default()
            },
        });
        let mut buf = BytesMut::from(&b"queued"[..]);
        // keyspace is v5-only
        let r = encode_request(
            &mut buf,
            ProtocolVersion::V4,
            1,
            &q,
            &RequestOptions::default(),
        );
        assert!(r.is_err());
        assert_eq!(&buf[..], b"queued");
        encode_request(
            &mut buf,
            ProtocolVersion::V5,
            1,
            &q,
            &RequestOptions::default(),
        )
        .unwrap();
        assert_eq!(&buf[..6], b"queued");
        let frame = super::super::FrameDecoder::default()
            .decode(&mut buf.split_off(6))
            .unwrap()
            .unwrap();
        assert_eq!(decode_request(&frame, None).unwrap().request, q);
    }

    #[test]
    fn frames_are_appended_after_queued_frames() {
        let mut buf = BytesMut::new();
        for stream in 0..3 {
            encode_request(
                &mut buf,
                ProtocolVersion::V4,
                stream,
                &Request::Options,
                &RequestOptions::default(),
            )
            .unwrap();
        }
        let mut d = super::super::FrameDecoder::default();
        for stream in 0..3 {
            let f = d.decode(&mut buf).unwrap().unwrap();
            assert_eq!(f.header.stream, stream);
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn empty_body_flagged_compressed_is_accepted() {
        let frame = Frame {
            header: FrameHeader {
                version: ProtocolVersion::V4,
                is_response: true,
                flags: FrameFlags::COMPRESSION,
                stream: 0,
                opcode: Opcode::READY,
                length: 0,
            },
            body: Bytes::new(),
        };
        let env = decode_response(&frame, Some(Compression::Lz4)).unwrap();
        assert_eq!(env.response, Response::Ready);
        // A request frame is refused where a response is expected.
        let mut req = frame;
        req.header.is_response = false;
        assert!(matches!(
            decode_response(&req, None),
            Err(FrameError::WrongDirection { .. })
        ));
    }
}
