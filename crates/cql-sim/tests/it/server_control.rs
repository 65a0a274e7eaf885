//! The HTTP+JSON control channel: node state and counters, stop/start/pause, fault rules that
//! CQL clients then meet, and clear errors for bad requests; and the binary's `--dc` layout and
//! `--control-port`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cql_sim::{ControlServer, SimCluster};
use cql_testkit::RawClient;
use cql_testkit::query::{error_code, unavailable};
use proto::codes::{Consistency, ErrorCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one HTTP request; the status and the JSON body.
async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answered in time")
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(head.contains("Content-Type: application/json"), "{head}");
    (status, serde_json::from_str(body).expect("JSON body"))
}

async fn start(nodes: usize) -> (Arc<SimCluster>, ControlServer) {
    let cluster = Arc::new(SimCluster::builder().nodes(nodes).start().await.unwrap());
    let control = ControlServer::start(Arc::clone(&cluster), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (cluster, control)
}

#[tokio::test]
async fn nodes_and_counters_are_reported_and_nodes_stop_and_start() {
    let (cluster, control) = start(2).await;
    let addr = control.local_addr();
    assert_eq!(
        http(addr, "GET", "/health", None).await,
        (200, json!({"ok": true}))
    );
    let mut c = RawClient::ready(cluster.node(1).addr()).await;
    c.ok("SELECT key FROM system.local").await;
    let (status, nodes) = http(addr, "GET", "/nodes", None).await;
    assert_eq!(status, 200);
    let nodes = nodes.as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(
        nodes[1]["address"],
        json!(cluster.node(1).addr().to_string())
    );
    assert_eq!(nodes[1]["datacenter"], json!("datacenter1"));
    assert_eq!(nodes[1]["up"], json!(true));
    assert_eq!(nodes[1]["requests_by_opcode"]["QUERY"], json!(1));
    assert_eq!(nodes[0]["requests_by_opcode"]["QUERY"], json!(0));

    let (status, _) = http(addr, "POST", "/nodes/1/stop", None).await;
    assert_eq!(status, 200);
    assert!(!cluster.node(1).is_up());
    assert!(RawClient::connect(cluster.node(1).addr()).await.is_err());
    let (_, n) = http(addr, "POST", "/nodes/1/start", None).await;
    assert_eq!(n[0]["up"], json!(true));
    RawClient::ready(cluster.node(1).addr()).await;
    let (_, n) = http(addr, "POST", "/nodes/all/pause", None).await;
    assert_eq!(n.as_array().unwrap().len(), 2);
    assert!(cluster.node(0).is_paused() && cluster.node(1).is_paused());
    http(addr, "POST", "/nodes/all/resume", None).await;
    assert!(!cluster.node(0).is_paused());
}

#[tokio::test]
async fn injected_faults_reach_cql_clients_until_cleared() {
    let (cluster, control) = start(1).await;
    let addr = control.local_addr();
    let mut c = RawClient::ready(cluster.contact_point()).await;
    let rule = r#"{"match": {"query_contains": "system.local"},
        "action": {"error": {"unavailable": {"consistency": "QUORUM", "required": 2, "alive": 1}}},
        "times": 1}"#;
    let (status, _) = http(addr, "POST", "/nodes/0/faults", Some(rule)).await;
    assert_eq!(status, 200);
    let r = c.query("SELECT key FROM system.local").await;
    assert_eq!(unavailable(&r), (Consistency::QUORUM, 2, 1));
    // `times: 1`: the next one executes.
    c.ok("SELECT key FROM system.local").await;
    let rule = r#"{"match": "statements", "action": {"error": "overloaded"}}"#;
    http(addr, "POST", "/nodes/all/faults", Some(rule)).await;
    for _ in 0..2 {
        let r = c.query("SELECT key FROM system.local").await;
        assert_eq!(error_code(&r), ErrorCode::OVERLOADED);
    }
    let (status, _) = http(addr, "DELETE", "/nodes/0/faults", None).await;
    assert_eq!(status, 200);
    c.ok("SELECT key FROM system.local").await;
}

#[tokio::test]
async fn a_nodes_live_connections_are_listed() {
    let (cluster, control) = start(1).await;
    let addr = control.local_addr();
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    c.startup_with(&[("DRIVER_NAME", "ctl-driver"), ("DRIVER_VERSION", "9.9")])
        .await;
    c.ok("SELECT key FROM system.local").await;
    let (status, clients) = http(addr, "GET", "/nodes/0/clients", None).await;
    assert_eq!(status, 200);
    let clients = clients.as_array().unwrap();
    assert_eq!(clients.len(), 1, "{clients:?}");
    let me = &clients[0];
    assert_eq!(me["driver_name"], json!("ctl-driver"));
    assert_eq!(me["driver_version"], json!("9.9"));
    assert_eq!(me["startup_options"]["DRIVER_NAME"], json!("ctl-driver"));
    assert_eq!(me["connection_stage"], json!("ready"));
    assert_eq!(me["protocol_version"], json!(4));
    assert_eq!(me["request_count"], json!(2));
    assert_eq!(me["username"], json!("anonymous"));
    assert_eq!(me["ssl_enabled"], json!(false));
    assert_eq!(http(addr, "POST", "/nodes/0/clients", None).await.0, 405);
    drop(c);
    let mut left = 1;
    for _ in 0..100 {
        let (_, clients) = http(addr, "GET", "/nodes/0/clients", None).await;
        left = clients.as_array().map_or(1, Vec::len);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "a closed connection is no longer listed");
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let (_cluster, control) = start(1).await;
    let addr = control.local_addr();
    let (status, body) = http(addr, "GET", "/nope", None).await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("/nope"));
    assert_eq!(http(addr, "POST", "/nodes/7/stop", None).await.0, 404);
    assert_eq!(http(addr, "POST", "/nodes/x/stop", None).await.0, 400);
    assert_eq!(http(addr, "GET", "/nodes/0/stop", None).await.0, 405);
    let (status, body) = http(addr, "POST", "/nodes/0/faults", Some("{not json")).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("not JSON"));
    let (status, body) = http(
        addr,
        "POST",
        "/nodes/0/faults",
        Some(r#"{"match": "statements", "action": "boom"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("unknown action"));
    let huge = "x".repeat(70 * 1024);
    assert_eq!(
        http(addr, "POST", "/nodes/0/faults", Some(&huge)).await.0,
        413
    );
    // A non-loopback address is refused.
    let cluster = Arc::new(SimCluster::builder().start().await.unwrap());
    assert!(
        ControlServer::start(cluster, "0.0.0.0:0".parse().unwrap())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_binary_lays_out_data_centres_and_serves_control() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let base = format!("127.{}.252.1", std::process::id() % 200 + 20);
    /// Kills the process however the test ends.
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_cql-sim"))
        .args(["--dc", "dc1:2:r1,r2", "--dc", "dc2:1", "--port", "19442"])
        .args(["--shard-aware-port", "0", "--control-port", "0"])
        .args(["--address-base", &base])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map(Child)
        .expect("spawn cql-sim");
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("a line");
        if line == "ready" {
            break;
        }
        lines.push(line);
    }
    assert_eq!(lines.len(), 4, "{lines:?}");
    let control: SocketAddr = lines[3]
        .strip_prefix("control ")
        .expect("a control line")
        .parse()
        .unwrap();
    let (_, nodes) = http(control, "GET", "/nodes", None).await;
    let layout: Vec<(String, String)> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["datacenter"].as_str().unwrap().to_owned(),
                n["rack"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let pair = |d: &str, r: &str| (d.to_owned(), r.to_owned());
    assert_eq!(
        layout,
        vec![pair("dc1", "r1"), pair("dc1", "r2"), pair("dc2", "rack1")]
    );
    http(control, "POST", "/nodes/2/stop", None).await;
    let (_, n) = http(control, "GET", "/nodes/2", None).await;
    assert_eq!(n["up"], json!(false));
}
