//! A node that keeps its connections open and stops answering (a paused process) costs little:
//! its connections notice within two probe intervals, it goes to the end of every plan, and
//! idempotent requests waiting on it move to the other replicas. No request fails, and every
//! acknowledged write reads back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cql_session::{Consistency, ExecutionProfile, SessionBuilder};
use cql_sim::SimCluster;

use crate::common::{bounded, create_ks_t};

const WRITERS: i32 = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_fails_no_idempotent_request_and_loses_no_write() {
    bounded(Duration::from_secs(120), async {
        let cluster = SimCluster::builder()
            .nodes(3)
            .shards(2)
            .start()
            .await
            .expect("sim cluster");
        let profile = ExecutionProfile::builder()
            .consistency(Consistency::Quorum)
            .request_timeout(Some(Duration::from_secs(2)))
            .build();
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .default_execution_profile_handle(profile.into_handle())
            .build()
            .await
            .expect("connect");
        create_ks_t(&session, 3).await;
        let mut insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, 'x')")
            .await
            .expect("prepare");
        insert.set_is_idempotent(true);
        let session = Arc::new(session);
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (session, insert) = (Arc::clone(&session), insert.clone());
                let (done, stop) = (Arc::clone(&done), Arc::clone(&stop));
                tokio::spawn(async move {
                    let mut acked = Vec::new();
                    let mut failed = Vec::new();
                    // Bounded by count as well as by the stop flag.
                    for i in 0..1_000_000i32 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let pk = w * 1_000_000 + i;
                        match session.execute_unpaged(&insert, (pk,)).await {
                            Ok(_) => {
                                acked.push(pk);
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => failed.push(e.to_string()),
                        }
                    }
                    (acked, failed)
                })
            })
            .collect();

        let phase = |d: Duration| {
            let done = Arc::clone(&done);
            async move {
                let before = done.load(Ordering::Relaxed);
                tokio::time::sleep(d).await;
                done.load(Ordering::Relaxed) - before
            }
        };
        let warm = phase(Duration::from_secs(1)).await;
        let paused = cluster.node(1);
        paused.pause();
        let during = phase(Duration::from_secs(3)).await;
        paused.resume();
        let after = phase(Duration::from_secs(1)).await;
        stop.store(true, Ordering::Relaxed);
        let mut acked = Vec::new();
        let mut failed = Vec::new();
        for w in writers {
            let (a, f) = w.await.expect("writer");
            acked.extend(a);
            failed.extend(f);
        }
        let failovers = session.get_metrics().get_unresponsive_failovers_num();
        eprintln!(
            "writes/s: before {warm}, paused {:.0}, after {after}; failovers {failovers}",
            during as f64 / 3.0
        );
        assert!(
            failed.is_empty(),
            "{} failed, e.g. {:?}",
            failed.len(),
            &failed[..failed.len().min(3)]
        );
        assert!(during > 0, "writes went on while the node was paused");
        assert!(
            failovers > 0,
            "requests waiting on the paused node moved on"
        );

        let rows = session
            .query_unpaged("SELECT pk FROM ks.t", ())
            .await
            .expect("read back")
            .into_rows_result()
            .expect("rows");
        let mut stored: Vec<i32> = rows
            .rows::<(i32,)>()
            .expect("typed rows")
            .map(|r| r.expect("row").0)
            .collect();
        stored.sort_unstable();
        acked.sort_unstable();
        let missing: Vec<_> = acked
            .iter()
            .filter(|k| stored.binary_search(k).is_err())
            .take(5)
            .collect();
        assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
    })
    .await;
}
