//! The driver's own requests are bounded: a node that keeps its connections open but stops
//! answering (a paused process, a half-open partition) cannot stall a metadata refresh.

use std::time::{Duration, Instant};

use cql_session::SessionBuilder;
use cql_sim::SimCluster;

use crate::common::bounded;

#[tokio::test]
async fn refresh_metadata_gives_up_on_a_silent_node_and_recovers() {
    let cluster = SimCluster::builder().start().await.expect("sim cluster");
    let session = bounded(
        Duration::from_secs(20),
        SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .internal_request_timeout(Duration::from_millis(300))
            .build(),
    )
    .await
    .expect("connects");
    let node = cluster.node(0);
    node.pause();
    let started = Instant::now();
    let refreshed = bounded(Duration::from_secs(20), session.refresh_metadata()).await;
    assert!(
        refreshed.is_err(),
        "a paused node cannot answer: {refreshed:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the internal request timeout, took {:?}",
        started.elapsed()
    );
    node.resume();
    bounded(Duration::from_secs(20), session.refresh_metadata())
        .await
        .expect("answers again");
}
