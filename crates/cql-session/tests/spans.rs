//! `tracing` spans per request and per attempt: a capturing subscriber sees one `cql.request`
//! span per request and one `cql.attempt` child per attempt, with the OpenTelemetry database
//! fields, the retry decision after a failed attempt, and the shard that answered.
//!
//! A test binary of its own with one global subscriber: `tracing` caches each callsite's
//! interest process-wide, and thread-local subscribers set by tests running in parallel race
//! on that cache (a span disabled for one test's subscriber can stay disabled for another's).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cql_session::errors::ExecutionError;
use cql_session::policies::load_balancing::DefaultPolicy;
use cql_session::{ExecutionProfile, SessionBuilder};
use cql_sim::server::faults;
use cql_sim::{FaultAction, FaultRule, RequestMatcher, SimCluster};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Runs `f` within `limit`: a hung request fails the test instead of hanging it.
async fn bounded<F: Future>(limit: Duration, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .expect("test timed out")
}

/// A span the subscriber saw: its name, its parent's name and every field recorded on it.
#[derive(Debug, Clone, Default)]
struct Captured {
    name: &'static str,
    id: u64,
    parent: Option<u64>,
    fields: HashMap<String, String>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Records every span of the driver's request target, in creation order.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().target() != cql_session::observability::spans::SPAN_TARGET {
            return;
        }
        let mut span = Captured {
            name: attrs.metadata().name(),
            id: id.into_u64(),
            parent: ctx
                .span(id)
                .and_then(|s| s.parent())
                .map(|p| p.id().into_u64()),
            ..Captured::default()
        };
        attrs.record(&mut Fields(&mut span.fields));
        self.0.lock().unwrap().push(span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some(span) = spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}

impl Capture {
    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// One test, so one subscriber for the whole process: its level filter is reloaded between the
/// two parts (which rebuilds `tracing`'s interest cache).
#[tokio::test]
async fn request_and_attempt_spans() {
    let capture = Capture::default();
    let (level, reload) = tracing_subscriber::reload::Layer::new(LevelFilter::TRACE);
    tracing_subscriber::registry()
        .with(level)
        .with(capture.clone())
        .init();
    a_request_span_has_one_attempt_span_per_attempt_with_the_otel_fields(&capture).await;
    reload.reload(LevelFilter::INFO).unwrap();
    a_subscriber_filtering_out_debug_gets_no_request_spans(&capture).await;
}

async fn a_request_span_has_one_attempt_span_per_attempt_with_the_otel_fields(capture: &Capture) {
    bounded(Duration::from_secs(30), async {
        let cluster = SimCluster::builder()
            .nodes(3)
            .shards(2)
            .start()
            .await
            .unwrap();
        // Replicas in ring order, not shuffled: the same node is tried first for a key.
        let policy = DefaultPolicy::builder()
            .enable_shuffling_replicas(false)
            .build();
        let profile = ExecutionProfile::builder()
            .load_balancing_policy(policy)
            .build();
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .default_execution_profile_handle(profile.into_handle())
            .build()
            .await
            .unwrap();
        session
            .query_unpaged(
                "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
                (),
            )
            .await
            .unwrap();
        session
            .query_unpaged(
                "CREATE TABLE ks.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))",
                (),
            )
            .await
            .unwrap();
        let mut insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)")
            .await
            .unwrap();
        insert.set_is_idempotent(true);
        capture.take();

        // The node the plan tries first for this key answers its next EXECUTE with Overloaded:
        // the retry policy moves the idempotent insert to the next node, which answers.
        let replicas = cluster.nodes();
        let first = {
            // The node the plan tries first: find it with a request traced by the spans.
            session
                .execute_unpaged(&insert, (1i32, 1i32, "a"))
                .await
                .unwrap();
            let spans = capture.take();
            let attempt = spans.iter().find(|s| s.name == "cql.attempt").unwrap();
            let address = attempt.field("server.address").unwrap().to_owned();
            replicas
                .iter()
                .position(|n| n.addr().ip().to_string() == address)
                .unwrap()
        };
        cluster.node(first).add_fault(FaultRule::times(
            RequestMatcher::QueryContains("ks.t".into()),
            FaultAction::Error(faults::overloaded()),
            1,
        ));
        session
            .execute_unpaged(&insert, (1i32, 1i32, "a"))
            .await
            .unwrap();

        let spans = capture.take();
        let requests: Vec<_> = spans.iter().filter(|s| s.name == "cql.request").collect();
        assert_eq!(requests.len(), 1, "one request span: {spans:#?}");
        let request = requests[0];
        assert_eq!(request.field("db.system"), Some("cassandra"));
        assert_eq!(request.field("db.namespace"), Some("ks"));
        assert_eq!(request.field("db.operation.name"), Some("INSERT"));
        assert_eq!(
            request.field("db.query.text"),
            Some("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)")
        );
        assert_eq!(request.field("db.cassandra.idempotence"), Some("true"));
        assert!(request.field("db.cassandra.consistency_level").is_some());
        assert_eq!(request.field("error.type"), None, "the request succeeded");

        let attempts: Vec<_> = spans.iter().filter(|s| s.name == "cql.attempt").collect();
        assert_eq!(attempts.len(), 2, "two attempts: {spans:#?}");
        for (i, a) in attempts.iter().enumerate() {
            assert_eq!(
                a.parent,
                Some(request.id),
                "attempt {i} is the request's child"
            );
            assert_eq!(a.field("attempt"), Some(i.to_string().as_str()));
            assert!(a.field("server.port").is_some());
            assert!(a.field("node").is_some(), "the node's host id");
            assert!(a.field("db.cassandra.coordinator.dc").is_some());
            assert!(a.field("shard").is_some(), "attempt {i} names its shard");
        }
        let failed = attempts[0];
        assert_eq!(
            failed.field("server.address"),
            Some(replicas[first].addr().ip().to_string().as_str())
        );
        assert_eq!(failed.field("error.type"), Some("OVERLOADED"));
        assert_eq!(failed.field("retry_decision"), Some("retry_next_target"));
        let answered = attempts[1];
        assert_ne!(
            answered.field("server.address"),
            failed.field("server.address")
        );
        assert_eq!(answered.field("error.type"), None);
        let shard: u32 = answered.field("shard").unwrap().parse().unwrap();
        assert!(shard < 2, "one of the node's two shards");

        // A failed request records its error kind on the request span.
        let missing = session
            .query_unpaged("SELECT * FROM ks.missing", ())
            .await
            .unwrap_err();
        assert!(matches!(missing, ExecutionError::LastAttemptError { .. }));
        let spans = capture.take();
        let request = spans.iter().find(|s| s.name == "cql.request").unwrap();
        assert_eq!(request.field("db.operation.name"), Some("SELECT"));
        assert_eq!(request.field("error.type"), Some("INVALID"));
        assert!(request.field("error").is_some());
    })
    .await;
}

async fn a_subscriber_filtering_out_debug_gets_no_request_spans(capture: &Capture) {
    // The spans are DEBUG: a subscriber at INFO disables their callsites, so the driver makes
    // none (and allocates nothing for them), while requests run as usual.
    assert!(!tracing::enabled!(
        target: cql_session::observability::spans::SPAN_TARGET,
        tracing::Level::DEBUG
    ));
    bounded(Duration::from_secs(30), async {
        let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .build()
            .await
            .unwrap();
        session
            .query_unpaged("SELECT * FROM system.local", ())
            .await
            .unwrap();
    })
    .await;
    let spans = capture.take();
    assert!(
        spans
            .iter()
            .all(|s| s.name != "cql.request" && s.name != "cql.attempt"),
        "{spans:#?}"
    );
}
