//! The handshake, run on the raw stream before the driver starts: OPTIONS → SUPPORTED,
//! STARTUP → READY or AUTHENTICATE → AUTH_RESPONSE / AUTH_CHALLENGE … → AUTH_SUCCESS.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use proto::frame::{self, Compression, Frame, FrameDecoder, RequestOptions};
use proto::request::{AuthResponse, Request, Startup};
use proto::response::Response;
use proto::scylla::{SCYLLA_LWT_ADD_METADATA_MARK, ScyllaExtensions, ShardingInfo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::ConnectionInfo;
use crate::config::ConnectionConfig;
use crate::error::{BrokenReason, ConnectionError};

/// The most AUTH_CHALLENGE rounds accepted before giving up.
const MAX_AUTH_ROUNDS: usize = 64;

/// Drives the handshake on `stream`; returns what was learned and any bytes read past the last
/// handshake response.
pub(crate) async fn handshake<S>(
    stream: &mut S,
    config: &ConnectionConfig,
) -> Result<(ConnectionInfo, BytesMut), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut io = HandshakeIo {
        stream,
        read_buf: BytesMut::with_capacity(4096),
        decoder: FrameDecoder::new(config.tuning.max_frame_size),
        compression: None,
        version: config.protocol_version,
    };
    let supported = match io.roundtrip(&Request::Options).await? {
        Response::Supported { options } => options,
        other => return Err(ConnectionError::from_response("OPTIONS", other.into())),
    };
    tracing::debug!(?supported, "SUPPORTED");
    let compression = config.compression.filter(|c| {
        c.is_available()
            && supported
                .get("COMPRESSION")
                .is_some_and(|v| v.iter().any(|n| n.eq_ignore_ascii_case(c.as_str())))
    });
    let mut options = HashMap::new();
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
    let mut lwt_mark = None;
    let mut scylla_metadata_id = false;
    if config.scylla_extensions {
        let offered = ScyllaExtensions::from_supported(&supported);
        // A zero mask could never mark anything: treat it as not offered.
        lwt_mark = offered.lwt_optimization_meta_bit_mask.filter(|m| *m != 0);
        // Enabled when offered: result metadata ids are what keeps prepared result columns
        // from going stale across schema changes (`ConnectionInfo::scylla_metadata_id`).
        scylla_metadata_id = offered.use_metadata_id;
        let mut ext = offered.startup_options();
        if lwt_mark.is_none() {
            ext.remove(SCYLLA_LWT_ADD_METADATA_MARK);
        }
        options.extend(ext);
    }
    let startup = Request::Startup(Startup { options });
    let reply = io.roundtrip(&startup).await?;
    // Responses after STARTUP may be compressed.
    io.compression = compression;
    match reply {
        Response::Ready => {}
        Response::Authenticate { authenticator } => io.authenticate(config, &authenticator).await?,
        other => return Err(ConnectionError::from_response("STARTUP", other.into())),
    }
    let info = ConnectionInfo {
        peer: None,
        version: config.protocol_version,
        sharding: ShardingInfo::from_supported(&supported),
        supported,
        compression,
        keyspace: None,
        lwt_mark,
        scylla_metadata_id,
    };
    Ok((info, io.read_buf))
}

struct HandshakeIo<'a, S> {
    stream: &'a mut S,
    read_buf: BytesMut,
    decoder: FrameDecoder,
    compression: Option<Compression>,
    version: frame::ProtocolVersion,
}

impl<S: AsyncRead + AsyncWrite + Unpin> HandshakeIo<'_, S> {
    async fn roundtrip(&mut self, request: &Request) -> Result<Response, ConnectionError> {
        let mut buf = BytesMut::with_capacity(128);
        let opts = RequestOptions {
            compression: self.compression,
            ..RequestOptions::default()
        };
        frame::encode_request(&mut buf, self.version, 0, request, &opts)
            .map_err(ConnectionError::Encode)?;
        self.stream
            .write_all(&buf)
            .await
            .map_err(|e| ConnectionError::Broken(e.into()))?;
        self.stream
            .flush()
            .await
            .map_err(|e| ConnectionError::Broken(e.into()))?;
        let frame = self.read_frame().await?;
        let env = frame::decode_response(&frame, self.compression)
            .map_err(|e| ConnectionError::Decode(Box::new(e)))?;
        Ok(env.response)
    }

    async fn read_frame(&mut self) -> Result<Frame, ConnectionError> {
        loop {
            match self.decoder.decode(&mut self.read_buf) {
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
