//! The `metrics` feature: per-node and per-shard figures reach the process's recorder and match
//! what the server saw (the sim's own request counts per node).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cql_sim::server::faults;
use cql_sim::{FaultAction, FaultRule, RequestMatcher};
use cql_testkit::wait_until;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use proto::codes::Opcode;

use crate::common::{self, bounded, create_ks_t};

/// Every series by name and labels (`name{k=v,...}`, labels sorted), as one atomic each.
#[derive(Default, Clone)]
struct Series(Arc<Mutex<HashMap<String, Arc<AtomicU64>>>>);

struct HistogramCount(Arc<AtomicU64>);

impl metrics::HistogramFn for HistogramCount {
    fn record(&self, _value: f64) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn series_name(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

impl Series {
    fn slot(&self, key: &Key) -> Arc<AtomicU64> {
        let labels: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
        let name = series_name(key.name(), &labels);
        Arc::clone(self.0.lock().unwrap().entry(name).or_default())
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(&series_name(name, labels))
            .map_or(0, |v| v.load(Ordering::Relaxed))
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0
            .lock()
            .unwrap()
            .get(&series_name(name, labels))
            .map(|v| f64::from_bits(v.load(Ordering::Relaxed)))
    }
}

impl Recorder for Series {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.slot(key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.slot(key))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(HistogramCount(self.slot(key))))
    }
}

/// The process's recorder: installed once, shared by the tests of this module.
fn recorder() -> &'static Series {
    static SERIES: OnceLock<Series> = OnceLock::new();
    SERIES.get_or_init(|| {
        let series = Series::default();
        metrics::set_global_recorder(series.clone()).expect("no other recorder in this binary");
        series
    })
}

/// `cql_requests_total` of `node`, over its shards.
fn requests_of(series: &Series, node: &str, shards: u32) -> u64 {
    (0..shards)
        .map(|s| {
            series.get(
                "cql_requests_total",
                &[("node", node), ("shard", &s.to_string())],
            )
        })
        .sum()
}

#[tokio::test]
async fn per_node_and_shard_metrics_match_what_each_node_received() {
    let series = recorder();
    bounded(Duration::from_secs(60), async {
        let (cluster, session) = common::sim_session(3, 2).await;
        create_ks_t(&session, 3).await;
        let mut insert = common::prepare_insert(&session).await;
        insert.set_is_idempotent(true);
        let nodes: Vec<String> = cluster
            .nodes()
            .iter()
            .map(|n| n.addr().to_string())
            .collect();
        let executes = || -> Vec<u64> {
            cluster
                .nodes()
                .iter()
                .map(|n| n.request_count_of(Opcode::EXECUTE))
                .collect()
        };
        let before_server = executes();
        let before_client: Vec<u64> = nodes.iter().map(|n| requests_of(series, n, 2)).collect();

        for k in 0..90i32 {
            session.execute_unpaged(&insert, (k, k, "v")).await.unwrap();
        }
        let server: Vec<u64> = executes()
            .iter()
            .zip(&before_server)
            .map(|(a, b)| a - b)
            .collect();
        let client: Vec<u64> = nodes
            .iter()
            .zip(&before_client)
            .map(|(n, b)| requests_of(series, n, 2) - b)
            .collect();
        assert_eq!(
            client, server,
            "attempts per node, as counted by the driver and the server"
        );
        assert_eq!(server.iter().sum::<u64>(), 90);
        assert!(
            server.iter().all(|&n| n > 0),
            "every node took some of the 90: {server:?}"
        );

        // One Overloaded answer from node 0: counted under its kind, and retried elsewhere.
        cluster.node(0).add_fault(FaultRule::times(
            RequestMatcher::QueryContains("ks.t".into()),
            FaultAction::Error(faults::overloaded()),
            1,
        ));
        let errors = |kind: &str| -> u64 {
            (0..2)
                .map(|s| {
                    series.get(
                        "cql_request_errors_total",
                        &[
                            ("kind", kind),
                            ("node", &nodes[0]),
                            ("shard", &s.to_string()),
                        ],
                    )
                })
                .sum()
        };
        let mut k = 1000;
        while errors("OVERLOADED") == 0 && k < 1300 {
            session.execute_unpaged(&insert, (k, k, "v")).await.unwrap();
            k += 1;
        }
        assert_eq!(errors("OVERLOADED"), 1);

        // The sampled gauges: one connection per shard on every node.
        wait_until(Duration::from_secs(10), "open connections sampled", || {
            nodes
                .iter()
                .all(|n| series.gauge("cql_open_connections", &[("node", n)]) == Some(2.0))
        })
        .await;
        // Unlabelled: every session of this test binary sets it, so only "sampled" is checked.
        wait_until(Duration::from_secs(10), "session counters sampled", || {
            series.get("cql_session_requests_total", &[]) > 0
        })
        .await;
        assert!(
            series.get(
                "cql_request_duration_seconds",
                &[("node", &nodes[1]), ("shard", "0")]
            ) + series.get(
                "cql_request_duration_seconds",
                &[("node", &nodes[1]), ("shard", "1")]
            ) >= client[1]
        );
    })
    .await;
}
