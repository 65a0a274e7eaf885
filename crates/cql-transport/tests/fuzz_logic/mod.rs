//! What the `connection` fuzz target does with one input, shared by the cargo-fuzz target
//! `fuzz/fuzz_targets/connection.rs` (through `#[path]`) and the corpus replay test
//! `tests/it/fuzz_corpus.rs`, so the replay runs the very code the fuzzer ran.
//!
//! `cql-transport`'s connection (reader, decoder, stream table, decompression, timeouts) is fed
//! arbitrary server bytes. Input: `[mode] bytes...`. A scripted peer answers the handshake
//! (OPTIONS, STARTUP) at protocol v4, with compression chosen by `mode % 3` (none, LZ4, Snappy)
//! and, when `mode & 4`, Scylla's sharding keys; then it writes the rest of the input as the
//! server's bytes, in chunks cut at each 0xFF byte (so reads split frames everywhere; at most
//! 32 cuts, the rest goes in one write), while
//! four QUERY requests are in flight; with `mode & 8` it closes its end after the bytes, else
//! it keeps the connection open and reads what the client sends.
//!
//! The runtime's clock is paused, so timeouts pass at once. Checked: nothing panics, and each
//! request ends (with a response or a typed error) within its timeout: a request still
//! pending after the connection's request timeout and the connect timeout have both passed
//! is a hang.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::BytesMut;
use cql_transport::{Connection, ConnectionConfig};
use proto::frame::{self, Compression, FrameDecoder, ProtocolVersion, ResponseOptions};
use proto::request::{Query, Request};
use proto::response::Response;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// The most writes the peer cuts the input into (at its first 0xFF bytes; the rest goes in
/// one write). Each cut costs a round through the scheduler (the peer's write, the driver's
/// read and decode): the fuzzer learns that 0xFF bytes find new paths and fills inputs with
/// them, and inputs with hundreds of cuts ran 3 to 5 times slower than the rest. Every
/// placement of up to this many cuts stays expressible.
const MAX_CUTS: usize = 32;

/// Longer than every timeout of the connection (connect 5 s by default, request 1 s below).
const HANG: Duration = Duration::from_secs(60);

/// The connection's frame size cap (the default is 256 MiB), as the codec's targets cap
/// theirs. Arbitrary bytes often announce a huge body, for which the decoder reserves the
/// buffer at once: under AddressSanitizer, mapping, poisoning and freeing hundreds of MiB per
/// input took most of the target's time. The cap's paths (a body over it breaks the
/// connection, one under it waits for its bytes) are the same at 1 MiB.
const MAX_FRAME: usize = 1 << 20;

/// One runtime for every input, rather than one built (timer wheel) per input.
/// Each input ends its tasks before returning, so inputs stay independent; the paused clock
/// just keeps going.
static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// Runs one input; panics when the connection panics or a request outlives its timeout.
pub(crate) fn connection(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime")
    });
    runtime.block_on(run(mode, bytes.to_vec()));
}

async fn run(mode: u8, bytes: Vec<u8>) {
    let compression = match mode % 3 {
        0 => None,
        1 => Some(Compression::Lz4),
        _ => Some(Compression::Snappy),
    };
    let (client, server) = tokio::io::duplex(1 << 14);
    let peer = tokio::spawn(peer(server, mode & 4 != 0, mode & 8 != 0, bytes));
    let mut config = ConnectionConfig::default();
    config.protocol_version = ProtocolVersion::V4;
    config.protocol_version_fallback = false;
    config.compression = compression;
    config.tuning.max_frame_size = MAX_FRAME;
    config.tuning.request_timeout = Some(Duration::from_secs(1));
    config.tuning.heartbeat_interval = Some(Duration::from_millis(300));
    let opened = tokio::time::timeout(HANG, Connection::open(client, &config)).await;
    let Ok(opened) = opened else {
        panic!("opening the connection outlived its connect timeout");
    };
    if let Ok((conn, driver)) = opened {
        let mut driver = tokio::spawn(driver);
        let requests = (0..4).map(|i| {
            let conn = conn.clone();
            async move {
                let query = Request::Query(Query {
                    query: format!("SELECT * FROM ks.t WHERE k = {i}").into(),
                    params: Default::default(),
                });
                tokio::time::timeout(HANG, conn.request(&query)).await
            }
        });
        for ended in futures_join_all(requests).await {
            assert!(ended.is_ok(), "a request outlived its timeout");
        }
        conn.close();
        drop(conn);
        if tokio::time::timeout(HANG, &mut driver).await.is_err() {
            driver.abort();
            let _ = driver.await;
        }
    }
    peer.abort();
    let _ = peer.await;
}

/// Polls the futures together until each is done (`futures::future::join_all`, without the
/// dependency): the requests are all in flight while the peer's bytes arrive.
async fn futures_join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut out = Vec::with_capacity(handles.len());
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    // Poll all of them together until each is done.
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in &mut pending {
            if let Some(f) = slot.as_mut() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        out.push(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out
}

/// The server end: the handshake, then the fuzz bytes.
async fn peer(io: DuplexStream, sharded: bool, close: bool, bytes: Vec<u8>) {
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut buf = BytesMut::new();
    let mut decoder = FrameDecoder::default();
    let mut answered = 0;
    while answered < 2 {
        let frame = match decoder.decode(&mut buf) {
            Ok(Some(f)) => f,
            Ok(None) => match rd.read_buf(&mut buf).await {
                Ok(n) if n > 0 => continue,
                _ => return,
            },
            Err(_) => return,
        };
        let Ok(env) = frame::decode_request(&frame, None) else {
            return;
        };
        let response = match env.request {
            Request::Options => {
                let mut options = vec![
                    ("CQL_VERSION".to_owned(), vec!["3.4.5".to_owned()]),
                    (
                        "COMPRESSION".to_owned(),
                        vec!["lz4".to_owned(), "snappy".to_owned()],
                    ),
                ];
                if sharded {
                    for (k, v) in [
                        ("SCYLLA_SHARD", "1"),
                        ("SCYLLA_NR_SHARDS", "4"),
                        ("SCYLLA_SHARDING_ALGORITHM", "biased-token-round-robin"),
                        ("SCYLLA_SHARDING_IGNORE_MSB", "12"),
                    ] {
                        options.push((k.to_owned(), vec![v.to_owned()]));
                    }
                }
                Response::Supported {
                    options: options.into_iter().collect(),
                }
            }
            Request::Startup(_) => Response::Ready,
            _ => return,
        };
        answered += 1;
        // Neither SUPPORTED nor READY is compressed: the client asks for compression in STARTUP.
        let mut out = BytesMut::new();
        if frame::encode_response(
            &mut out,
            env.version,
            env.stream,
            &response,
            &ResponseOptions::default(),
        )
        .is_err()
            || wr.write_all(&out).await.is_err()
        {
            return;
        }
    }
    let mut cuts = 0;
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let end = match rest.iter().position(|&b| b == 0xFF) {
            Some(at) if cuts < MAX_CUTS => at + 1,
            _ => rest.len(),
        };
        cuts += 1;
        let (chunk, tail) = rest.split_at(end);
        if wr.write_all(chunk).await.is_err() {
            return;
        }
        rest = tail;
        tokio::task::yield_now().await;
    }
    if close {
        let _ = wr.shutdown().await;
        return;
    }
    // Keep the connection open, draining what the client writes (heartbeats, requests).
    let mut sink = vec![0u8; 4096];
    while matches!(rd.read(&mut sink).await, Ok(n) if n > 0) {}
}
