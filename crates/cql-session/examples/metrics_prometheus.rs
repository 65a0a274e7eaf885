//! Prometheus metrics from a session: the `metrics` feature reports per-node and per-shard
//! figures through the `metrics` facade, `metrics-exporter-prometheus` renders them, and this
//! example serves the text on `http://127.0.0.1:<port>/metrics` while it runs requests.
//!
//! ```sh
//! cargo run -p cql-session --features metrics --example metrics_prometheus
//! # keep serving for 60 s after the requests, to point Prometheus or curl at it:
//! SERVE_SECS=60 cargo run -p cql-session --features metrics --example metrics_prometheus
//! ```
//!
//! Against the embedded cluster, it then reads its own `/metrics` over HTTP and checks that each
//! node's `cql_requests_total` grew by the EXECUTE requests that node received (the simulator's
//! own count), and exits with an error if not.

mod common;

use std::collections::HashMap;
use std::error::Error;
use std::time::Duration;

use cql_session::SessionBuilder;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const INSERTS: i32 = 300;

/// Answers every connection with the current Prometheus text.
async fn serve(listener: TcpListener, handle: PrometheusHandle) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            // The request line is all this server needs; the rest is ignored.
            let _ = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut request)).await;
            let body = handle.render();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}

/// `GET /metrics` from `addr`: the body.
async fn scrape(addr: std::net::SocketAddr) -> Result<String, Box<dyn Error>> {
    let mut socket = TcpStream::connect(addr).await?;
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), socket.read_to_string(&mut response)).await??;
    let (_, body) = response.split_once("\r\n\r\n").ok_or("no HTTP body")?;
    Ok(body.to_owned())
}

/// `cql_requests_total` per node (summed over shards) in Prometheus text.
fn requests_per_node(text: &str) -> HashMap<String, u64> {
    let mut per_node = HashMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("cql_requests_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let node = labels
            .split(',')
            .find_map(|l| l.strip_prefix("node=\""))
            .map(|n| n.trim_end_matches('"').to_owned());
        if let (Some(node), Ok(v)) = (node, value.trim().parse::<f64>()) {
            *per_node.entry(node).or_insert(0) += v as u64;
        }
    }
    per_node
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The recorder first: the session takes its metric handles from it.
    let handle = PrometheusBuilder::new().install_recorder()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let metrics_addr = listener.local_addr()?;
    tokio::spawn(serve(listener, handle));
    println!("serving Prometheus metrics on http://{metrics_addr}/metrics");

    let (nodes, cluster) = common::cluster_nodes(None).await?;
    let session = SessionBuilder::new().known_nodes(&nodes).build().await?;
    session
        .query_unpaged(
            "CREATE KEYSPACE IF NOT EXISTS metrics_demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
            (),
        )
        .await?;
    session
        .query_unpaged(
            "CREATE TABLE IF NOT EXISTS metrics_demo.t (pk int PRIMARY KEY, v int)",
            (),
        )
        .await?;
    let insert = session
        .prepare("INSERT INTO metrics_demo.t (pk, v) VALUES (?, ?)")
        .await?;

    let executes = |c: &cql_sim::SimCluster| -> HashMap<String, u64> {
        c.nodes()
            .iter()
            .map(|n| {
                let count = n.request_count_of(proto::codes::Opcode::EXECUTE);
                (n.addr().to_string(), count)
            })
            .collect()
    };
    let before = requests_per_node(&scrape(metrics_addr).await?);
    let server_before = cluster.as_ref().map(executes);
    for pk in 0..INSERTS {
        session.execute_unpaged(&insert, (pk, pk * 2)).await?;
    }
    let after = requests_per_node(&scrape(metrics_addr).await?);

    let mut nodes_seen: Vec<&String> = after.keys().collect();
    nodes_seen.sort();
    println!("requests per node during the run (driver's cql_requests_total):");
    for node in &nodes_seen {
        let delta = after[*node] - before.get(*node).copied().unwrap_or(0);
        println!("  {node}: {delta}");
    }
    if let (Some(cluster), Some(server_before)) = (&cluster, server_before) {
        let server_after = executes(cluster);
        for (node, count) in &server_after {
            let server = count - server_before.get(node).copied().unwrap_or(0);
            let driver =
                after.get(node).copied().unwrap_or(0) - before.get(node).copied().unwrap_or(0);
            if server != driver {
                return Err(format!(
                    "node {node}: the server received {server} EXECUTEs, the metrics say {driver}"
                )
                .into());
            }
        }
        println!("each node's figure matches the EXECUTEs the simulator counted");
    }
    if let Some(secs) = std::env::var("SERVE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        println!("serving for {secs} s more");
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
    println!("done");
    Ok(())
}
