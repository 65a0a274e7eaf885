//! Topology changes on a large data set: the runtime keeps running while data streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cql_testkit::RawClient;
use proto::ColumnType;

use super::SimCluster;
use crate::server::node::lock;
use crate::storage::{PartitionKey, Row};

const PARTITIONS: i32 = 2_000;
const ROWS_PER_PARTITION: i32 = 100;

/// Stores `PARTITIONS` x `ROWS_PER_PARTITION` rows of `ks.t` on their replicas directly
/// (copies of one row written through CQL), so a large data set costs no request per row.
async fn fill(cluster: &SimCluster, c: &mut RawClient<tokio::io::DuplexStream>) {
    c.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}").await;
    c.ok("CREATE TABLE ks.t (k int, c int, v int, PRIMARY KEY (k, c))")
        .await;
    c.ok("INSERT INTO ks.t (k, c, v) VALUES (0, 0, 7)").await;
    let mut data = lock(&cluster.inner.data);
    let table = data.table_id("ks", "t").unwrap();
    let template_key = PartitionKey {
        token: proto::murmur3_token(&0i32.to_be_bytes()).0,
        key: Bytes::copy_from_slice(&0i32.to_be_bytes()),
    };
    let holder = data.replicas("ks", template_key.token, 0)[0];
    let template = data.store_mut(holder).tables[&table].partitions[&template_key].clone();
    let row: Row = template.rows.values().next().cloned().unwrap();
    for k in 0..PARTITIONS {
        let kb = k.to_be_bytes();
        let key = PartitionKey {
            token: proto::murmur3_token(&kb).0,
            key: Bytes::copy_from_slice(&kb),
        };
        let mut p = template.clone();
        p.key_values = vec![key.key.clone()];
        p.rows.clear();
        for c in 0..ROWS_PER_PARTITION {
            let cb = c.to_be_bytes();
            let enc = crate::key_encoding::encode_key(&[(&ColumnType::Int, false)], &[&cb]);
            let mut r = row.clone();
            r.clustering = vec![Bytes::copy_from_slice(&cb)];
            p.rows.insert(enc, r);
        }
        for r in data.replicas("ks", key.token, 0) {
            let store = data.store_mut(r);
            store
                .tables
                .entry(table)
                .or_default()
                .partitions
                .insert(key.clone(), p.clone());
        }
    }
}

/// Adding a node to a cluster holding 200,000 rows: a ticker on the same (single-threaded)
/// runtime never waits long, writes made during the stream reach the new node, and every
/// partition ends up on every replica of the new ring with all its rows.
#[tokio::test(flavor = "current_thread")]
async fn adding_a_node_streams_in_steps_that_keep_the_runtime_responsive() {
    let cluster = SimCluster::builder()
        .nodes(3)
        .seed(3)
        .start()
        .await
        .unwrap();
    let node0 = cluster.node(0);
    let mut c = RawClient::from_stream(node0.connect_in_process().unwrap());
    c.startup(None).await;
    fill(&cluster, &mut c).await;

    let stop = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            let mut max_gap = Duration::ZERO;
            let mut last = Instant::now();
            while !stop.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(2)).await;
                let now = Instant::now();
                max_gap = max_gap.max(now - last);
                last = now;
            }
            max_gap
        }
    });
    // A writer adding rows while the stream runs (each lands on the current replicas and on
    // the new node when it will replicate the key).
    let writer = tokio::spawn({
        let stop = Arc::clone(&stop);
        let mut w = RawClient::from_stream(node0.connect_in_process().unwrap());
        async move {
            w.startup(None).await;
            let mut written = 0;
            while !stop.load(Ordering::Acquire) && written < 400 {
                let k = written % PARTITIONS;
                w.ok(&format!(
                    "INSERT INTO ks.t (k, c, v) VALUES ({k}, {}, 1)",
                    1_000 + written
                ))
                .await;
                written += 1;
                tokio::task::yield_now().await;
            }
            written
        }
    });
    tokio::task::yield_now().await;
    let started = Instant::now();
    let added = cluster.add_node(None).await.unwrap();
    let took = started.elapsed();
    stop.store(true, Ordering::Release);
    let max_gap = ticker.await.unwrap();
    let written = writer.await.unwrap();
    eprintln!(
        "add_node took {took:?}; the ticker's longest gap was {max_gap:?}; {written} writes ran during it"
    );
    assert!(
        max_gap < Duration::from_millis(200),
        "the runtime stalled for {max_gap:?} while streaming"
    );
    assert!(written > 0, "no write ran during the stream");

    let mut data = lock(&cluster.inner.data);
    let table = data.table_id("ks", "t").unwrap();
    let mut on_new = 0;
    for k in 0..PARTITIONS {
        let kb = k.to_be_bytes();
        let key = PartitionKey {
            token: proto::murmur3_token(&kb).0,
            key: Bytes::copy_from_slice(&kb),
        };
        let extra = (0..written).filter(|w| w % PARTITIONS == k).count();
        let ring = data.replicas("ks", key.token, 0);
        on_new += usize::from(ring.contains(&added.index()));
        for r in ring {
            let rows = data
                .store_mut(r)
                .tables
                .get(&table)
                .and_then(|t| t.partitions.get(&key))
                .map_or(0, |p| p.rows.len());
            assert_eq!(
                rows,
                ROWS_PER_PARTITION as usize + extra,
                "partition {k} on replica {r}"
            );
        }
    }
    assert!(on_new > 0, "the new node replicates no partition");
}
