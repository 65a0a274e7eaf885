//! The handshake, run on the raw stream before the driver starts: OPTIONS → SUPPORTED,
//! STARTUP → READY or AUTHENTICATE → AUTH_RESPONSE / AUTH_CHALLENGE … → AUTH_SUCCESS.

use bytes::{Bytes, BytesMut};
use proto::frame::{self, Compression, Frame, RequestOptions};
use proto::request::{AuthResponse, Request, Startup};
use proto::response::Response;
use proto::scylla::{SCYLLA_LWT_ADD_METADATA_MARK, ScyllaExtensions, ShardingInfo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use proto::segment::{FrameReader, FrameWriter, SegmentCompression};

use super::{ConnectionInfo, Inbound};
use crate::config::ConnectionConfig;
use crate::error::{BrokenReason, ConnectionError};

/// How long a refused connection waits for the server to close it (see `await_close`).
const REFUSAL_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// The most AUTH_CHALLENGE rounds accepted before giving up.
const MAX_AUTH_ROUNDS: usize = 64;

/// Drives the handshake on `stream`; returns what was learned and any bytes read past the last
/// handshake response. From protocol v5 on, everything after the READY or AUTHENTICATE that
/// answers STARTUP travels in segments (v5 spec, section 2.3.1).
pub(crate) async fn handshake<S>(
    stream: &mut S,
    config: &ConnectionConfig,
) -> Result<(ConnectionInfo, Inbound), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut io = HandshakeIo {
        stream,
        read_buf: BytesMut::with_capacity(4096),
        reader: FrameReader::new(None, config.tuning.max_frame_size),
        writer: FrameWriter::new(None),
        compression: None,
        version: config.protocol_version,
        reply_version: config.protocol_version,
    };
    let result = negotiate(&mut io, config).await;
    if let Err(ConnectionError::UnsupportedProtocolVersion { .. }) = &result {
        io.await_close().await;
    }
    result
}

/// The handshake proper; see [`handshake`].
async fn negotiate<S>(
    io: &mut HandshakeIo<'_, S>,
    config: &ConnectionConfig,
) -> Result<(ConnectionInfo, Inbound), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let supported = match io.roundtrip(&Request::Options).await? {
        // Only one version is spoken on a connection: an answer in another one means the
        // server does not speak the version offered.
        Response::Supported { .. } if io.reply_version != io.version => {
            return Err(ConnectionError::UnsupportedProtocolVersion {
                offered: io.version,
                message: format!("the server answered in protocol {}", io.reply_version),
            });
        }
        Response::Supported { options } => options,
        other => return Err(io.refusal("OPTIONS", other)),
    };
    tracing::debug!(?supported, "SUPPORTED");
    let v5 = config.protocol_version.is_v5_or_later();
    let compression = config.compression.filter(|c| {
        // v5 compresses segments, with LZ4 only (section 2.3.2).
        (!v5 || SegmentCompression::from_negotiated(Some(*c)).is_ok())
            && c.is_available()
            && supported
                .get("COMPRESSION")
                .is_some_and(|v| v.iter().any(|n| n.eq_ignore_ascii_case(c.as_str())))
    });
    let mut options = proto::StringMap::new();
    let cql_version = supported
        .get("CQL_VERSION")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_else(|| "3.0.0".to_owned());
    options.insert(Startup::CQL_VERSION.to_owned(), cql_version);
    if let Some(c) = compression {
        options.insert(Startup::COMPRESSION.to_owned(), c.as_str().to_owned());
    }
    options.insert(Startup::DRIVER_NAME.to_owned(), config.driver_name.clone());
    options.insert(
        Startup::DRIVER_VERSION.to_owned(),
        config.driver_version.clone(),
    );
    let app = &config.application;
    for (key, value) in [
        (Startup::APPLICATION_NAME, &app.name),
        (Startup::APPLICATION_VERSION, &app.version),
        (Startup::CLIENT_ID, &app.client_id),
    ] {
        if let Some(v) = value {
            options.insert(key.to_owned(), v.clone());
        }
    }
    let mut lwt_mark = None;
    let mut scylla_metadata_id = false;
    let mut rate_limit_error_code = None;
    if config.scylla_extensions {
        let offered = ScyllaExtensions::from_supported(&supported);
        // A zero mask could never mark anything: treat it as not offered.
        lwt_mark = offered.lwt_optimization_meta_bit_mask.filter(|m| *m != 0);
        // Enabled when offered: result metadata ids are what keeps prepared result columns
        // from going stale across schema changes (`ConnectionInfo::scylla_metadata_id`).
        scylla_metadata_id = offered.use_metadata_id;
        // `startup_options` enables it whenever its code was offered.
        rate_limit_error_code = offered.rate_limit_error_code;
        let mut ext = offered.startup_options();
        if lwt_mark.is_none() {
            ext.remove(SCYLLA_LWT_ADD_METADATA_MARK);
        }
        options.extend(ext);
    }
    let startup = Request::Startup(Startup { options });
    let reply = io.roundtrip(&startup).await?;
    // The filter above kept only a compression segments can use.
    let segments = v5.then(|| SegmentCompression::from_negotiated(compression).unwrap_or_default());
    if matches!(reply, Response::Ready | Response::Authenticate { .. }) {
        match segments {
            // From here on, segments both ways; the frames inside are not compressed.
            Some(c) => {
                io.reader = FrameReader::new(Some(c), config.tuning.max_frame_size);
                io.writer = FrameWriter::new(Some(c));
            }
            // Responses after STARTUP may be compressed.
            None => io.compression = compression,
        }
    }
    match reply {
        Response::Ready => {}
        Response::Authenticate { authenticator } => io.authenticate(config, &authenticator).await?,
        other => return Err(io.refusal("STARTUP", other)),
    }
    let info = ConnectionInfo {
        peer: None,
        version: config.protocol_version,
        sharding: ShardingInfo::from_supported(&supported),
        supported: supported.into_iter().collect(),
        compression,
        keyspace: None,
        lwt_mark,
        scylla_metadata_id,
        segments,
        rate_limit_error_code,
    };
    Ok((
        info,
        Inbound {
            buf: std::mem::take(&mut io.read_buf),
            reader: Some(std::mem::replace(
                &mut io.reader,
                FrameReader::new(None, config.tuning.max_frame_size),
            )),
        },
    ))
}

struct HandshakeIo<'a, S> {
    stream: &'a mut S,
    read_buf: BytesMut,
    reader: FrameReader,
    writer: FrameWriter,
    compression: Option<Compression>,
    version: frame::ProtocolVersion,
    /// The version byte of the latest response frame.
    reply_version: frame::ProtocolVersion,
}

/// Whether `error`, the answer to a request sent at `offered` in a frame of `reply_version`,
/// says the server does not speak `offered`. Servers answer an unknown version with a
/// PROTOCOL_ERROR in the highest version they speak (Cassandra: "Invalid or unsupported
/// protocol version (5); supported versions are (3/v3, 4/v4)"; Scylla: "Invalid or unsupported
/// protocol version: 5"; Cassandra 3 for v5: "Beta version of the protocol used ...").
fn is_version_refusal(
    error: &proto::response::ErrorBody,
    offered: frame::ProtocolVersion,
    reply_version: frame::ProtocolVersion,
) -> bool {
    if error.code != proto::codes::ErrorCode::PROTOCOL_ERROR {
        return false;
    }
    let message = error.message.to_ascii_lowercase();
    reply_version != offered
        || message.contains("protocol version")
        || message.contains("beta version")
}

impl<S: AsyncRead + AsyncWrite + Unpin> HandshakeIo<'_, S> {
    /// After a refused protocol version: waits (briefly) for the server to close, as servers
    /// do after that error, so the closing side is the server's. The retry one version lower
    /// may then reuse the same local port (Scylla's shard-aware port picks it), which a socket
    /// left in TIME_WAIT on our side would block.
    async fn await_close(&mut self) {
        let mut sink = [0u8; 256];
        let drain = async {
            while let Ok(n) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(REFUSAL_CLOSE_WAIT, drain).await;
    }

    /// The error for an unexpected answer to `during`: a refusal of the offered protocol version
    /// is [`ConnectionError::UnsupportedProtocolVersion`], so the caller can retry lower.
    fn refusal(&self, during: &'static str, response: Response) -> ConnectionError {
        match response {
            Response::Error(e) if is_version_refusal(&e, self.version, self.reply_version) => {
                ConnectionError::UnsupportedProtocolVersion {
                    offered: self.version,
                    message: e.message,
                }
            }
            other => ConnectionError::from_response(during, other.into()),
        }
    }

    async fn roundtrip(&mut self, request: &Request) -> Result<Response, ConnectionError> {
        let mut buf = BytesMut::with_capacity(128);
        let opts = RequestOptions {
            compression: self.compression,
            ..RequestOptions::default()
        };
        frame::encode_request(
            self.writer.frame_buf(&mut buf),
            self.version,
            0,
            request,
            &opts,
        )
        .map_err(ConnectionError::Encode)?;
        self.writer
            .seal(&mut buf)
            .map_err(|e| ConnectionError::Broken(BrokenReason::Framing(Box::new(e.into()))))?;
        self.stream
            .write_all(&buf)
            .await
            .map_err(|e| ConnectionError::Broken(e.into()))?;
        self.stream
            .flush()
            .await
            .map_err(|e| ConnectionError::Broken(e.into()))?;
        let frame = self.read_frame().await?;
        self.reply_version = frame.header.version;
        let env = frame::decode_response(&frame, self.compression)
            .map_err(|e| ConnectionError::Decode(Box::new(e)))?;
        Ok(env.response)
    }

    async fn read_frame(&mut self) -> Result<Frame, ConnectionError> {
        loop {
            match self.reader.decode(&mut self.read_buf) {
                Ok(Some(f)) if f.header.stream == 0 => return Ok(f),
                Ok(Some(f)) => tracing::debug!(
                    stream = f.header.stream,
                    "frame on another stream during the handshake dropped"
                ),
                Ok(None) => {
                    let n = self
                        .stream
                        .read_buf(&mut self.read_buf)
                        .await
                        .map_err(|e| ConnectionError::Broken(e.into()))?;
                    if n == 0 {
                        return Err(ConnectionError::Broken(BrokenReason::Eof));
                    }
                }
                Err(e) => {
                    return Err(ConnectionError::Broken(BrokenReason::CorruptFrame(
                        Box::new(e),
                    )));
                }
            }
        }
    }

    async fn authenticate(
        &mut self,
        config: &ConnectionConfig,
        authenticator: &str,
    ) -> Result<(), ConnectionError> {
        let provider = config.authenticator.as_ref().ok_or_else(|| {
            ConnectionError::Auth(format!("the server requires authentication ({authenticator}) but no authenticator is configured"))
        })?;
        tracing::debug!(authenticator, "authenticating");
        let (mut token, mut session) = provider
            .start_session(authenticator)
            .await
            .map_err(ConnectionError::Auth)?;
        for _ in 0..MAX_AUTH_ROUNDS {
            let req = Request::AuthResponse(AuthResponse {
                token: token.take().map(Bytes::from),
            });
            match self.roundtrip(&req).await? {
                Response::AuthSuccess { token } => {
                    return session
                        .success(token.as_deref())
                        .await
                        .map_err(ConnectionError::Auth);
                }
                Response::AuthChallenge { token: challenge } => {
                    token = session
                        .evaluate_challenge(challenge.as_deref())
                        .await
                        .map_err(ConnectionError::Auth)?;
                }
                other => {
                    return Err(ConnectionError::from_response(
                        "AUTH_RESPONSE",
                        other.into(),
                    ));
                }
            }
        }
        Err(ConnectionError::Auth(format!(
            "no AUTH_SUCCESS after {MAX_AUTH_ROUNDS} challenges"
        )))
    }
}
