//! Throttling and backpressure against `cql-sim`: the session's request throttlers bound the
//! requests at the server, refuse with a typed error beyond their queue, give permits back when
//! callers drop their futures, and pace by rate; the per-connection in-flight limit fails fast
//! with a typed error.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cql_session::Session;
use cql_session::errors::{ExecutionError, NotSentReason, RequestAttemptError, ThrottleError};
use cql_session::policies::throttle::{ConcurrencyLimitingThrottler, RateLimitingThrottler};
use cql_session::statement::PreparedStatement;
use cql_sim::SimCluster;
use cql_testkit::wait_until;
use futures::future::join_all;
use proto::codes::Opcode;

use crate::common::{self, bounded, create_ks_t};

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("non-zero")
}

async fn cluster() -> SimCluster {
    common::sim(1, 1).await
}

async fn insert(session: &Session) -> PreparedStatement {
    create_ks_t(session, 1).await;
    session
        .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, 'x')")
        .await
        .expect("prepare")
}

/// Waits (bounded) until `done` holds.
async fn until(done: impl Fn() -> bool) {
    wait_until(
        Duration::from_secs(2),
        "the throttled requests' state",
        done,
    )
    .await;
}

// A current-thread runtime: a finished request's caller counts it before the next one starts,
// so "received by the server minus finished" is exactly what is in flight.
#[tokio::test]
async fn a_concurrency_limit_of_8_holds_at_the_server_and_all_200_succeed() {
    bounded(Duration::from_secs(60), async {
        let cluster = cluster().await;
        let throttler = Arc::new(ConcurrencyLimitingThrottler::new(nz(8), 1_000));
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.request_throttler(throttler.clone())
        })
        .await;
        let insert = insert(&session).await;
        cluster.node(0).set_delay(Some(Duration::from_millis(20)));
        let base = cluster.node(0).request_count_of(Opcode::EXECUTE);
        let finished = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let sampler = async {
            let mut max = 0;
            for _ in 0..100_000 {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let received = cluster.node(0).request_count_of(Opcode::EXECUTE) - base;
                max = max.max(received - finished.load(Ordering::Acquire));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            max
        };
        let callers = async {
            let results = join_all((0..200).map(|i| {
                let (session, insert, finished) = (&session, &insert, &finished);
                async move {
                    let r = session.execute_unpaged(insert, (i,)).await;
                    finished.fetch_add(1, Ordering::AcqRel);
                    r
                }
            }))
            .await;
            stop.store(true, Ordering::Release);
            results
        };
        let (max, results) = tokio::join!(sampler, callers);
        for r in results {
            r.expect("every request succeeds");
        }
        assert!(max <= 8, "{max} requests were in flight at the server");
        assert!(max >= 2, "the requests never overlapped (max {max})");
        assert_eq!((throttler.in_flight(), throttler.queue_size()), (0, 0));
        assert!(session.get_metrics().get_throttled_num() >= 150);
    })
    .await;
}

#[tokio::test]
async fn beyond_the_queue_a_request_gets_the_typed_throttle_error() {
    bounded(Duration::from_secs(30), async {
        let cluster = cluster().await;
        let throttler = Arc::new(ConcurrencyLimitingThrottler::new(nz(1), 0));
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.request_throttler(throttler.clone())
        })
        .await;
        let insert = insert(&session).await;
        cluster.node(0).set_delay(Some(Duration::from_millis(300)));
        let first = session.execute_unpaged(&insert, (1,));
        let second = async {
            until(|| throttler.in_flight() == 1).await;
            session.execute_unpaged(&insert, (2,)).await
        };
        let (first, second) = tokio::join!(first, second);
        first.expect("the first request runs");
        let err = second.expect_err("no room and no queue");
        assert!(
            matches!(
                err,
                ExecutionError::Throttled(ThrottleError::ConcurrencyLimit {
                    max_concurrent_requests: 1,
                    queued: 0
                })
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("max_queue_size"), "{err}");
        assert_eq!(session.get_metrics().get_throttle_rejected_num(), 1);
        assert_eq!(throttler.in_flight(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_profile_throttler_limits_its_statements_only() {
    bounded(Duration::from_secs(30), async {
        let cluster = cluster().await;
        // No session-wide throttler: only the profile's statements are limited.
        let session = common::connect(cluster.contact_point()).await;
        let plain = insert(&session).await;
        let throttler = Arc::new(ConcurrencyLimitingThrottler::new(nz(1), 0));
        let profile = cql_session::ExecutionProfile::builder()
            .request_throttler(Some(throttler.clone()))
            .build();
        assert!(profile.get_request_throttler().is_some());
        let mut limited = plain.clone();
        limited.set_execution_profile_handle(Some(profile.into_handle()));
        cluster.node(0).set_delay(Some(Duration::from_millis(300)));
        let first = session.execute_unpaged(&limited, (1,));
        let others = async {
            until(|| throttler.in_flight() == 1).await;
            // While the first holds the only permit: the profile's next statement is refused
            // at once, and a statement of another profile is not limited by it.
            tokio::join!(
                session.execute_unpaged(&plain, (3,)),
                session.execute_unpaged(&limited, (2,))
            )
        };
        let (first, (unlimited, second)) = tokio::join!(first, others);
        first.expect("the first limited request runs");
        unlimited.expect("a statement of another profile is not throttled");
        let err = second.expect_err("no room and no queue in the profile's throttler");
        assert!(
            matches!(
                err,
                ExecutionError::Throttled(ThrottleError::ConcurrencyLimit {
                    max_concurrent_requests: 1,
                    queued: 0
                })
            ),
            "{err:?}"
        );
        assert_eq!(throttler.in_flight(), 0, "the permit was given back");
    })
    .await;
}

#[tokio::test]
async fn dropped_futures_give_their_places_and_permits_back() {
    bounded(Duration::from_secs(30), async {
        let cluster = cluster().await;
        let throttler = Arc::new(ConcurrencyLimitingThrottler::new(nz(1), 1_000));
        let session = Arc::new(
            common::connect_with(cluster.contact_point(), |b| {
                b.request_throttler(throttler.clone())
            })
            .await,
        );
        let insert = insert(&session).await;
        cluster.node(0).set_delay(Some(Duration::from_millis(200)));
        // The running request is dropped too, mid-flight: its permit must come back.
        let tasks: Vec<_> = (0..101)
            .map(|i| {
                let (session, insert) = (Arc::clone(&session), insert.clone());
                tokio::spawn(async move { session.execute_unpaged(&insert, (i,)).await })
            })
            .collect();
        until(|| throttler.in_flight() == 1 && throttler.queue_size() == 100).await;
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            assert!(t.await.is_err_and(|e| e.is_cancelled()));
        }
        assert_eq!((throttler.in_flight(), throttler.queue_size()), (0, 0));
        cluster.node(0).set_delay(None);
        session
            .execute_unpaged(&insert, (1_000,))
            .await
            .expect("a request still runs");
        assert_eq!(throttler.in_flight(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_of_200_per_second_paces_400_requests() {
    bounded(Duration::from_secs(60), async {
        let cluster = cluster().await;
        let rate = NonZeroU32::new(200).expect("non-zero");
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.request_throttler(Arc::new(RateLimitingThrottler::new(rate, 1_000)))
        })
        .await;
        let insert = insert(&session).await;
        // Let the setup's requests' tokens refill: the burst is 20.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let results = join_all((0..400).map(|i| session.execute_unpaged(&insert, (i,)))).await;
        let took = started.elapsed();
        for r in results {
            r.expect("every request succeeds");
        }
        // 380 after the burst of 20, at 200/s: 1.9 s. A lower bound only.
        assert!(took >= Duration::from_millis(1_500), "took {took:?}");
    })
    .await;
}

#[tokio::test]
async fn a_full_connection_fails_fast_with_the_typed_in_flight_error() {
    bounded(Duration::from_secs(30), async {
        let cluster = cluster().await;
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.connection_max_in_flight(nz(1))
                .connection_backpressure(cql_session::client::session_builder::Backpressure::Error)
        })
        .await;
        let insert = insert(&session).await;
        cluster.node(0).set_delay(Some(Duration::from_millis(300)));
        let base = cluster.node(0).request_count_of(Opcode::EXECUTE);
        let first = session.execute_unpaged(&insert, (1,));
        let second = async {
            until(|| cluster.node(0).request_count_of(Opcode::EXECUTE) > base).await;
            session.execute_unpaged(&insert, (2,)).await
        };
        let (first, second) = tokio::join!(first, second);
        first.expect("the first request runs");
        let err = second.expect_err("the connection is full");
        let ExecutionError::LastAttemptError { error, attempts } = &err else {
            panic!("{err:?}");
        };
        assert!(
            matches!(
                error,
                RequestAttemptError::NotSent(NotSentReason::InFlightLimitReached { limit: 1 })
            ),
            "{error:?}"
        );
        assert_eq!(attempts.len(), 1, "one node, tried once");
        assert!(
            err.to_string().contains("connection_max_in_flight"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_full_connection_that_waits_runs_requests_one_at_a_time() {
    bounded(Duration::from_secs(30), async {
        let cluster = cluster().await;
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.connection_max_in_flight(nz(1))
        })
        .await;
        let insert = insert(&session).await;
        cluster.node(0).set_delay(Some(Duration::from_millis(100)));
        let started = Instant::now();
        let results = join_all((0..4).map(|i| session.execute_unpaged(&insert, (i,)))).await;
        for r in results {
            r.expect("every request waits its turn");
        }
        assert!(started.elapsed() >= Duration::from_millis(400));
    })
    .await;
}
