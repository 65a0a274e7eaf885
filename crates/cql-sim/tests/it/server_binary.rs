//! The `cql-sim` binary starts, prints its nodes and "ready", serves, and exits 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use cql_testkit::RawClient;

#[tokio::test]
async fn binary_starts_serves_and_stops_on_sigterm() {
    let base = format!("127.{}.251.1", std::process::id() % 200 + 20);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cql-sim"))
        .args([
            "--nodes",
            "2",
            "--shards",
            "2",
            "--port",
            "19342",
            "--shard-aware-port",
            "19343",
        ])
        .args(["--address-base", &base, "--seed", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cql-sim");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a line from cql-sim");
        if line == "ready" {
            break;
        }
        lines.push(line);
    }
    assert_eq!(
        lines,
        vec![
            format!("{base}:19342"),
            format!("127.{}.251.2:19342", std::process::id() % 200 + 20)
        ]
    );
    let mut c = RawClient::ready(lines[1].parse().unwrap()).await;
    c.ok("SELECT key FROM system.local").await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "cql-sim did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(code.success(), "exit status {code:?}");
}

#[tokio::test]
async fn binary_tablets_flag_makes_nts_keyspaces_tablet_based() {
    let base = format!("127.{}.252.1", std::process::id() % 200 + 20);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cql-sim"))
        .args(["--nodes", "2", "--port", "19442", "--shard-aware-port", "0"])
        .args(["--address-base", &base, "--seed", "5", "--tablets"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cql-sim");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a line from cql-sim")
        != "ready"
    {}
    let mut c = RawClient::ready(format!("{base}:19442").parse().unwrap()).await;
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1}")
        .await;
    c.ok("CREATE TABLE ks.t (k int PRIMARY KEY)").await;
    let r = c.ok("SELECT table_name FROM system.tablets").await;
    let rows = cql_testkit::query::values(&r);
    // Two nodes of one shard, RF 1: two tablets by default.
    assert_eq!(rows.len(), 2, "{rows:?}");
    child.kill().expect("kill");
    let _ = child.wait();
}
