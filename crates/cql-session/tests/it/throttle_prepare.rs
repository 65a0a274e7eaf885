//! The request throttler bounds prepares as it bounds executes (as the Java driver's does):
//! with every permit taken, `Session::prepare` and `Session::prepare_batch` fail at once with
//! the typed throttle error when there is no queue, wait in the queue (sending nothing) when
//! there is one, and fail with the typed timeout when the queue outlasts the request timeout.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use cql_session::errors::{PrepareError, ThrottleError};
use cql_session::policies::throttle::{ConcurrencyLimitingThrottler, RequestThrottler};
use cql_session::statement::Statement;
use cql_session::{Batch, BatchType, Session};
use cql_sim::SimCluster;
use cql_testkit::wait_until;
use proto::codes::Opcode;

use crate::common::{self, bounded, create_ks_t};

const INSERT: &str = "INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, 'x')";

/// A one-node cluster with `ks.t`, and a session throttled by a concurrency limit of 1 with a
/// queue of `queue`.
async fn throttled(queue: usize) -> (SimCluster, Session, Arc<ConcurrencyLimitingThrottler>) {
    let cluster = common::sim(1, 1).await;
    let limit = NonZeroUsize::new(1).expect("non-zero");
    let throttler = Arc::new(ConcurrencyLimitingThrottler::new(limit, queue));
    let session = common::connect_with(cluster.contact_point(), |b| {
        b.request_throttler(throttler.clone())
    })
    .await;
    create_ks_t(&session, 1).await;
    (cluster, session, throttler)
}

fn prepares(cluster: &SimCluster) -> u64 {
    cluster.node(0).request_count_of(Opcode::PREPARE)
}

#[tokio::test]
async fn a_full_throttler_without_a_queue_refuses_a_prepare_at_once() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session, throttler) = throttled(0).await;
        // Another request holds the only permit.
        throttler.acquire().await.expect("the one permit");
        let before = prepares(&cluster);
        let err = session
            .prepare(INSERT)
            .await
            .expect_err("no permit, no queue");
        assert!(
            matches!(
                err,
                PrepareError::Throttled(ThrottleError::ConcurrencyLimit {
                    max_concurrent_requests: 1,
                    queued: 0
                })
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("max_queue_size"), "{err}");
        assert_eq!(
            prepares(&cluster),
            before,
            "a refused prepare sends nothing"
        );
        assert_eq!(session.get_metrics().get_throttle_rejected_num(), 1);

        let mut batch = Batch::new(BatchType::Logged);
        batch.append_statement(INSERT);
        let err = session
            .prepare_batch(&batch)
            .await
            .expect_err("the batch's statement is refused too");
        assert!(matches!(err, PrepareError::Throttled(_)), "{err:?}");
        assert_eq!(prepares(&cluster), before);

        throttler.release();
        session.prepare(INSERT).await.expect("a free permit");
        assert!(prepares(&cluster) > before);
        assert_eq!((throttler.in_flight(), throttler.queue_size()), (0, 0));
    })
    .await;
}

#[tokio::test]
async fn a_queued_prepare_waits_for_a_permit_and_sends_nothing_meanwhile() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session, throttler) = throttled(10).await;
        throttler.acquire().await.expect("the one permit");
        let before = prepares(&cluster);
        let prepare = session.prepare(INSERT);
        let release = async {
            wait_until(Duration::from_secs(5), "the prepare queued", || {
                throttler.queue_size() == 1
            })
            .await;
            // Give the queued prepare a chance to (wrongly) go ahead.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let sent_while_queued = prepares(&cluster) - before;
            throttler.release();
            sent_while_queued
        };
        let (prepared, sent_while_queued) = tokio::join!(prepare, release);
        prepared.expect("prepared once the permit was free");
        assert_eq!(sent_while_queued, 0, "a queued prepare sends nothing");
        assert!(prepares(&cluster) > before);
        assert!(session.get_metrics().get_throttled_num() >= 1);
        // The prepare held the permit and gave it back.
        assert_eq!((throttler.in_flight(), throttler.queue_size()), (0, 0));
    })
    .await;
}

#[tokio::test]
async fn a_prepare_queued_past_its_request_timeout_fails_with_the_typed_timeout() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session, throttler) = throttled(10).await;
        throttler.acquire().await.expect("the one permit");
        let before = prepares(&cluster);
        let mut statement = Statement::new(INSERT);
        statement.set_request_timeout(Some(Duration::from_millis(200)));
        let started = tokio::time::Instant::now();
        let err = session
            .prepare(statement)
            .await
            .expect_err("the permit is never free");
        assert!(
            matches!(err, PrepareError::RequestTimeout { timeout } if timeout == Duration::from_millis(200)),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(prepares(&cluster), before);
        assert_eq!(throttler.queue_size(), 0, "the timed-out prepare left the queue");
        throttler.release();
        assert_eq!(throttler.in_flight(), 0);
    })
    .await;
}
