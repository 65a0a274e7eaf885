//! The `scylla` 1.x builder options of issue 14, each shown by its effect on a `cql-sim`
//! cluster: the host filter, the timestamp generator, the keyspaces to fetch, write
//! coalescing, and the local address and port range of connections (seen by the sim node's
//! `client_addrs`).

use std::net::{IpAddr, Ipv4Addr};
use std::num::{NonZeroU64, NonZeroUsize};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cql_session::client::session_builder::{PoolSize, ShardAwarePortRange, WriteCoalescingDelay};
use cql_session::policies::host_filter::{AllowListHostFilter, DcHostFilter};
use cql_session::policies::timestamp_generator::{MonotonicTimestampGenerator, TimestampGenerator};
use cql_session::{Batch, BatchType, Session, SessionBuilder, Statement};
use cql_sim::SimCluster;
use proto::codes::Opcode;

use crate::common::{self, bounded, create_ks_t};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_rejected_by_the_host_filter_serves_no_request() {
    bounded(LIMIT, async {
        let cluster = common::sim(3, 2).await;
        let addrs = cluster.node_addrs();
        let rejected = addrs[2];
        let filter = AllowListHostFilter::new([addrs[0], addrs[1]]).expect("addresses");
        let session =
            common::connect_with(cluster.contact_point(), |b| b.host_filter(Arc::new(filter)))
                .await;
        // RF 3: the rejected node replicates every partition, so token-aware routing would
        // pick it for a third of the requests if the filter did not take it out of the plans.
        create_ks_t(&session, 3).await;
        let insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, 'x')")
            .await
            .expect("prepare");
        let before: Vec<u64> = cluster
            .nodes()
            .iter()
            .map(|n| n.request_count_of(Opcode::EXECUTE) + n.request_count_of(Opcode::QUERY))
            .collect();
        for pk in 0..100i32 {
            let result = session
                .execute_unpaged(&insert, (pk,))
                .await
                .expect("insert");
            assert_ne!(result.request_coordinator().node().address, rejected);
            let result = session
                .query_unpaged("SELECT pk FROM ks.t WHERE pk = 1", ())
                .await
                .expect("select");
            assert_ne!(result.request_coordinator().node().address, rejected);
        }
        let served: Vec<u64> = cluster
            .nodes()
            .iter()
            .zip(&before)
            .map(|(n, b)| {
                n.request_count_of(Opcode::EXECUTE) + n.request_count_of(Opcode::QUERY) - b
            })
            .collect();
        assert_eq!(
            served[2], 0,
            "the rejected node served requests: {served:?}"
        );
        assert_eq!(served[0] + served[1], 200, "{served:?}");
        assert!(served[0] > 0 && served[1] > 0, "{served:?}");
        // No connection at all reaches the rejected node, yet it is part of the cluster state.
        assert_eq!(cluster.node(2).open_connections(), 0);
        let state = session.get_cluster_state();
        let node = state
            .node(rejected)
            .expect("rejected node in the cluster state");
        assert!(!node.is_enabled());
        assert!(node.pool().is_none());
        assert_eq!(state.nodes().iter().filter(|n| n.is_enabled()).count(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dc_host_filter_keeps_the_session_in_its_datacenter() {
    bounded(LIMIT, async {
        let cluster = SimCluster::builder()
            .datacenter("dc1", 2)
            .datacenter("dc2", 1)
            .start()
            .await
            .expect("sim cluster");
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.host_filter(Arc::new(DcHostFilter::new("dc1".to_owned())))
        })
        .await;
        for _ in 0..30 {
            let result = session
                .query_unpaged("SELECT key FROM system.local", ())
                .await
                .expect("select");
            let node = result.request_coordinator().node();
            assert_eq!(node.datacenter.as_deref(), Some("dc1"));
        }
        for n in cluster.nodes() {
            let connected = n.open_connections() > 0;
            assert_eq!(connected, n.datacenter() == "dc1", "node {}", n.addr());
        }
    })
    .await;
}

/// Hands out the inner generator's timestamps and remembers each.
struct Recording<G> {
    inner: G,
    given: Mutex<Vec<i64>>,
}

impl<G: TimestampGenerator> TimestampGenerator for Recording<G> {
    fn next_timestamp(&self) -> i64 {
        let ts = self.inner.next_timestamp();
        self.given.lock().expect("lock").push(ts);
        ts
    }
}

impl<G> Recording<G> {
    fn take(&self) -> Vec<i64> {
        std::mem::take(&mut *self.given.lock().expect("lock"))
    }
}

/// Counts up from a fixed start, far from any real clock.
struct Counter(AtomicI64);

impl TimestampGenerator for Counter {
    fn next_timestamp(&self) -> i64 {
        self.0.fetch_add(10, Ordering::SeqCst)
    }
}

async fn writetime(session: &Session, pk: i32) -> i64 {
    session
        .query_unpaged(
            format!("SELECT WRITETIME(v) FROM ks.t WHERE pk = {pk} AND ck = 0"),
            (),
        )
        .await
        .expect("select")
        .into_rows_result()
        .expect("rows")
        .single_row::<(i64,)>()
        .expect("one row")
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_carry_the_generators_timestamp_unless_they_have_their_own() {
    bounded(LIMIT, async {
        let cluster = common::sim(1, 1).await;
        let generator = Arc::new(Recording {
            inner: Counter(AtomicI64::new(1_000_000_000)),
            given: Mutex::new(Vec::new()),
        });
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.timestamp_generator(Arc::clone(&generator) as Arc<dyn TimestampGenerator>)
        })
        .await;
        create_ks_t(&session, 1).await;
        generator.take();

        // Unprepared, without values.
        session
            .query_unpaged("INSERT INTO ks.t (pk, ck, v) VALUES (1, 0, 'a')", ())
            .await
            .expect("insert 1");
        let given = generator.take();
        assert_eq!(given.len(), 1);
        assert_eq!(writetime(&session, 1).await, given[0]);

        // Prepared.
        let insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, 'b')")
            .await
            .expect("prepare");
        generator.take();
        session
            .execute_unpaged(&insert, (2,))
            .await
            .expect("insert 2");
        let given = generator.take();
        assert_eq!(given.len(), 1);
        assert_eq!(writetime(&session, 2).await, given[0]);

        // A batch: one timestamp for all of its statements.
        let mut batch = Batch::new(BatchType::Logged);
        batch.append_statement(insert.clone());
        batch.append_statement(insert.clone());
        generator.take();
        session.batch(&batch, ((3,), (4,))).await.expect("batch");
        let given = generator.take();
        assert_eq!(given.len(), 1);
        assert_eq!(writetime(&session, 3).await, given[0]);
        assert_eq!(writetime(&session, 4).await, given[0]);

        // A statement's own timestamp wins, and the generator is not asked.
        let mut own = Statement::new("INSERT INTO ks.t (pk, ck, v) VALUES (5, 0, 'c')");
        own.set_timestamp(Some(42));
        generator.take();
        session.query_unpaged(own, ()).await.expect("insert 5");
        assert!(generator.take().is_empty());
        assert_eq!(writetime(&session, 5).await, 42);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monotonic_generator_orders_writes_to_one_cell() {
    bounded(LIMIT, async {
        let cluster = common::sim(1, 1).await;
        let generator = Arc::new(Recording {
            inner: MonotonicTimestampGenerator::new(),
            given: Mutex::new(Vec::new()),
        });
        let session = common::connect_with(cluster.contact_point(), |b| {
            b.timestamp_generator(Arc::clone(&generator) as Arc<dyn TimestampGenerator>)
        })
        .await;
        create_ks_t(&session, 1).await;
        let insert = session
            .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (7, 0, ?)")
            .await
            .expect("prepare");
        generator.take();
        for i in 0..50 {
            session
                .execute_unpaged(&insert, (i.to_string(),))
                .await
                .expect("insert");
        }
        let given = generator.take();
        assert_eq!(given.len(), 50);
        assert!(given.windows(2).all(|w| w[0] < w[1]), "{given:?}");
        assert_eq!(writetime(&session, 7).await, given[49]);
    })
    .await;
}

/// Creates `name` (SimpleStrategy, RF 1) with a table `t (pk int PRIMARY KEY, v text)`.
async fn create_keyspace(session: &Session, name: &str) {
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {name} WITH replication = \
                 {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
            ),
            (),
        )
        .await
        .expect("create keyspace");
    session
        .query_unpaged(
            format!("CREATE TABLE {name}.t (pk int PRIMARY KEY, v text)"),
            (),
        )
        .await
        .expect("create table");
}

/// Runs 60 prepared inserts into `keyspace.t`; returns how many reached a replica.
async fn inserts_reaching_a_replica(
    cluster: &SimCluster,
    session: &Session,
    keyspace: &str,
) -> u64 {
    let insert = session
        .prepare(format!("INSERT INTO {keyspace}.t (pk, v) VALUES (?, 'x')"))
        .await
        .expect("prepare");
    let replica_hits = || -> u64 {
        cluster
            .nodes()
            .iter()
            .map(|n| n.routing_stats().replica)
            .sum()
    };
    let before = replica_hits();
    for pk in 0..60i32 {
        session
            .execute_unpaged(&insert, (pk,))
            .await
            .expect("insert");
    }
    replica_hits() - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_keyspaces_to_fetch_have_tables_and_every_keyspace_routes() {
    bounded(LIMIT, async {
        let cluster = common::sim(3, 1).await;
        let contact = cluster.contact_point().to_string();
        let setup = SessionBuilder::new()
            .known_node(&contact)
            .build()
            .await
            .expect("connect");
        create_keyspace(&setup, "ks_a").await;
        create_keyspace(&setup, "ks_b").await;

        let session = SessionBuilder::new()
            .known_node(&contact)
            .keyspaces_to_fetch(["ks_a"])
            .build()
            .await
            .expect("connect");
        let state = session.get_cluster_state();
        assert!(
            state.table("ks_a", "t").is_some(),
            "ks_a.t was to be fetched"
        );
        let ks_b = state
            .keyspace("ks_b")
            .expect("ks_b's replication is still read");
        assert!(ks_b.tables.is_empty(), "ks_b's tables were fetched");
        // A schema change in the other keyspace does not bring its tables in either.
        session
            .query_unpaged("CREATE TABLE ks_b.t2 (pk int PRIMARY KEY)", ())
            .await
            .expect("create ks_b.t2");
        session.refresh_metadata().await.expect("refresh");
        let state = session.get_cluster_state();
        assert!(state.keyspace("ks_b").expect("ks_b").tables.is_empty());
        assert!(state.table("ks_a", "t").is_some());
        // RF 1 over 3 nodes: a request off its replica would be forwarded by the sim.
        assert_eq!(
            inserts_reaching_a_replica(&cluster, &session, "ks_a").await,
            60
        );
        assert_eq!(
            inserts_reaching_a_replica(&cluster, &session, "ks_b").await,
            60
        );

        // Without schema metadata, no keyspace has tables, and routing still works.
        let bare = SessionBuilder::new()
            .known_node(&contact)
            .fetch_schema_metadata(false)
            .build()
            .await
            .expect("connect");
        let state = bare.get_cluster_state();
        assert!(state.keyspace("ks_a").expect("ks_a").tables.is_empty());
        assert!(state.keyspace("ks_b").expect("ks_b").tables.is_empty());
        assert_eq!(
            inserts_reaching_a_replica(&cluster, &bare, "ks_b").await,
            60
        );
    })
    .await;
}

/// Runs `n` concurrent inserts on a one-connection session; returns the `write` calls its
/// connections made meanwhile.
async fn writes_for_concurrent_inserts(session: &Session, n: i32) -> u64 {
    let insert = session
        .prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, 0, 'x')")
        .await
        .expect("prepare");
    let writes = || -> u64 {
        session
            .get_cluster_state()
            .nodes()
            .iter()
            .filter_map(|node| node.pool())
            .flat_map(|pool| pool.connections())
            .map(|conn| conn.write_count())
            .sum()
    };
    let before = writes();
    let runs = (0..n).map(|pk| session.execute_unpaged(&insert, (pk,)));
    for r in futures::future::join_all(runs).await {
        r.expect("insert");
    }
    writes() - before
}

// One thread: every request is queued before the connection driver runs, so the counts do
// not depend on how busy the machine is.
#[tokio::test]
async fn write_coalescing_shares_write_calls_between_requests() {
    bounded(LIMIT, async {
        let cluster = common::sim(1, 1).await;
        let contact = cluster.contact_point().to_string();
        let connect = |coalescing: bool, delay: WriteCoalescingDelay| {
            let builder = SessionBuilder::new()
                .known_node(&contact)
                .pool_size(PoolSize::PerHost(NonZeroUsize::MIN))
                .write_coalescing(coalescing)
                .write_coalescing_delay(delay);
            async move { builder.build().await }
        };
        let off = connect(false, WriteCoalescingDelay::SmallNondeterministic)
            .await
            .expect("connect");
        create_ks_t(&off, 1).await;
        let on = connect(true, WriteCoalescingDelay::SmallNondeterministic)
            .await
            .expect("connect");
        let delayed = connect(
            true,
            WriteCoalescingDelay::Milliseconds(NonZeroU64::new(2).expect("non-zero")),
        )
        .await
        .expect("connect");
        let writes_off = writes_for_concurrent_inserts(&off, 300).await;
        let writes_on = writes_for_concurrent_inserts(&on, 300).await;
        let writes_delayed = writes_for_concurrent_inserts(&delayed, 300).await;
        // Off, every request is written on its own.
        assert!(writes_off >= 300, "off: {writes_off} writes for 300 requests");
        assert!(
            writes_on * 2 < writes_off,
            "on: {writes_on} writes, off: {writes_off}"
        );
        assert!(
            writes_delayed * 2 < writes_off,
            "delayed: {writes_delayed} writes, off: {writes_off}"
        );
        eprintln!("writes for 300 concurrent requests: off {writes_off}, on {writes_on}, 2 ms delay {writes_delayed}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_come_from_the_local_address_and_port_range_set() {
    bounded(LIMIT, async {
        let cluster = SimCluster::builder()
            .nodes(1)
            .shards(4)
            .address_base(Ipv4Addr::new(127, 0, 0, 3))
            .start()
            .await
            .expect("sim cluster");
        // Not the address the system would pick for a loopback peer (127.0.0.1).
        let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        let ports = 50_000..=50_999;
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .local_ip_address(Some(local))
            .shard_aware_local_port_range(
                ShardAwarePortRange::new(ports.clone()).expect("valid range"),
            )
            .build()
            .await
            .expect("connect");
        session
            .query_unpaged("SELECT key FROM system.local", ())
            .await
            .expect("select");
        let node = cluster.node(0);
        assert!(node.open_connections() >= 4, "one connection per shard");
        let clients = node.client_addrs();
        assert!(!clients.is_empty());
        for c in &clients {
            assert_eq!(c.ip(), local, "connection from {c}");
        }
        // The control connection and the pool's first connections use the normal port (from
        // any source port); the shard-aware ones, at least one per shard not yet covered, come
        // from the range (random ephemeral ports would hardly ever fall in it).
        let inside = clients.iter().filter(|c| ports.contains(&c.port())).count();
        assert!(inside >= 3, "{clients:?}");
    })
    .await;
}

/// Whether every connection `session` has to its nodes is broken (or gone).
fn all_connections_broken(session: &Session) -> bool {
    session
        .get_cluster_state()
        .nodes()
        .iter()
        .filter_map(|node| node.pool())
        .flat_map(|pool| pool.connections())
        .all(|conn| conn.is_broken())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_heartbeat_breaks_the_connection_after_the_keepalive_timeout() {
    bounded(LIMIT, async {
        let cluster = common::sim(1, 1).await;
        let connect = |timeout: Duration| {
            let builder = SessionBuilder::new()
                .known_node(cluster.contact_point().to_string())
                .keepalive_interval(Some(Duration::from_millis(100)))
                .keepalive_timeout(timeout)
                .unresponsive_node_after(None);
            async move { builder.build().await.expect("connect") }
        };
        let short = connect(Duration::from_millis(300)).await;
        let long = connect(Duration::from_secs(30)).await;
        assert!(!all_connections_broken(&short));
        cluster.node(0).pause();
        // Bounded: 100 polls of 50 ms.
        let mut broke = false;
        for _ in 0..100 {
            if all_connections_broken(&short) {
                broke = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            broke,
            "the 300 ms keepalive timeout did not break the connections"
        );
        assert!(
            !all_connections_broken(&long),
            "a 30 s keepalive timeout broke them as early"
        );
        cluster.node(0).resume();
    })
    .await;
}
