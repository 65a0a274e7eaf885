//! The driver's own requests are bounded: a node that keeps its connections open but stops
//! answering (a paused process, a half-open partition) cannot stall a metadata refresh or a
//! prepare.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cql_session::SessionBuilder;
use cql_session::policies::throttle::ConcurrencyLimitingThrottler;
use cql_session::statement::Statement;
use cql_sim::SimCluster;
use cql_testkit::wait_until;
use proto::codes::Opcode;

use crate::common::{self, bounded};

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

/// `prepare` returns with the first node's PREPARED answer: a node that holds its connection
/// open and answers nothing cannot stall it. Its PREPARE finishes in the background, still
/// holding the throttler's permit, and reaches the node once it answers again.
#[tokio::test]
async fn prepare_returns_with_the_first_answer_while_a_node_is_silent() {
    bounded(Duration::from_secs(60), async {
        let cluster = common::sim(3, 1).await;
        let limit = NonZeroUsize::new(4).expect("non-zero");
        let throttler = Arc::new(ConcurrencyLimitingThrottler::new(limit, 0));
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.request_throttler(throttler.clone())
        })
        .await;
        common::create_ks_t(&session, 3).await;
        let prepares = |n: usize| cluster.node(n).request_count_of(Opcode::PREPARE);
        let before: Vec<u64> = (0..3).map(prepares).collect();
        let silent = cluster.node(2);
        silent.pause();

        let mut statement = Statement::new("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)");
        statement.set_request_timeout(Some(Duration::from_secs(20)));
        let started = Instant::now();
        let prepared = session
            .prepare(statement)
            .await
            .expect("two of three nodes answer");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited {:?} for the silent node (its limit is 20 s)",
            started.elapsed()
        );
        assert_eq!(prepared.get_variable_col_specs().len(), 3);
        for (n, was) in before.iter().enumerate().take(2) {
            assert!(prepares(n) > *was, "node {n} got the PREPARE");
        }
        assert_eq!(
            throttler.in_flight(),
            1,
            "the silent node's PREPARE is still on the wire and holds its permit"
        );

        silent.resume();
        wait_until(
            Duration::from_secs(10),
            "the background PREPARE reaches the node and gives its permit back",
            || prepares(2) > before[2] && throttler.in_flight() == 0,
        )
        .await;
    })
    .await;
}
