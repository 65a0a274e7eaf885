//! Pool filling, shard-aware placement, replacement and backoff with a fake connector.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proto::Token;

use super::*;
use cql_testkit::FakeNode;

use crate::testing::fake_node;

const SHARDS: u32 = 4;

fn scylla_node(shard: u32) -> FakeNode {
    let mut node = fake_node();
    for (k, v) in [
        ("SCYLLA_SHARD", shard.to_string()),
        ("SCYLLA_NR_SHARDS", SHARDS.to_string()),
        (
            "SCYLLA_PARTITIONER",
            "org.apache.cassandra.dht.Murmur3Partitioner".to_owned(),
        ),
        (
            "SCYLLA_SHARDING_ALGORITHM",
            "biased-token-round-robin".to_owned(),
        ),
        ("SCYLLA_SHARDING_IGNORE_MSB", "0".to_owned()),
        ("SCYLLA_SHARD_AWARE_PORT", "19042".to_owned()),
        (
            "SCYLLA_LWT_ADD_METADATA_MARK",
            "LWT_OPTIMIZATION_META_BIT_MASK=2147483648".to_owned(),
        ),
    ] {
        node = node.with_supported(k, &[&v]);
    }
    node
}

struct Fake {
    /// Connections through the normal port land on shards round robin.
    next_shard: AtomicUsize,
    attempts: AtomicUsize,
    shard_aware_attempts: AtomicUsize,
    /// Fail the first N attempts with "connection refused".
    fail_first: usize,
    /// Source ports reported as in use.
    busy_ports: Vec<u16>,
    scylla: bool,
}

fn connector(fake: Arc<Fake>) -> Connector {
    Arc::new(
        move |addr: SocketAddr, source: Option<u16>, config: ConnectionConfig| {
            let fake = Arc::clone(&fake);
            Box::pin(async move {
                let n = fake.attempts.fetch_add(1, Ordering::SeqCst);
                if n < fake.fail_first {
                    return Err(ConnectionError::Connect {
                        addr,
                        source: Arc::new(std::io::Error::from(
                            std::io::ErrorKind::ConnectionRefused,
                        )),
                    });
                }
                if source.is_some_and(|p| fake.busy_ports.contains(&p)) {
                    return Err(ConnectionError::Connect {
                        addr,
                        source: Arc::new(std::io::Error::from(std::io::ErrorKind::AddrInUse)),
                    });
                }
                let node = if fake.scylla {
                    let shard = match source {
                        Some(p) => {
                            assert_eq!(
                                addr.port(),
                                19042,
                                "source ports only with the shard-aware port"
                            );
                            fake.shard_aware_attempts.fetch_add(1, Ordering::SeqCst);
                            u32::from(p) % SHARDS
                        }
                        None => {
                            u32::try_from(fake.next_shard.fetch_add(1, Ordering::SeqCst))
                                .expect("small")
                                % SHARDS
                        }
                    };
                    scylla_node(shard)
                } else {
                    fake_node()
                };
                Connection::open(node.duplex(), &config).await
            })
        },
    )
}

fn fake(scylla: bool) -> Fake {
    Fake {
        next_shard: AtomicUsize::new(0),
        attempts: AtomicUsize::new(0),
        shard_aware_attempts: AtomicUsize::new(0),
        fail_first: 0,
        busy_ports: Vec::new(),
        scylla,
    }
}

fn addr() -> SocketAddr {
    "127.0.0.1:9042".parse().expect("addr")
}

async fn wait_count(pool: &NodePool, n: usize) {
    for _ in 0..200 {
        if pool.connection_count() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "pool has {} connections, expected {n}",
        pool.connection_count()
    );
}

#[tokio::test(start_paused = true)]
async fn fills_every_shard_through_the_shard_aware_port() {
    let f = Arc::new(fake(true));
    let cfg = PoolConfig {
        connections_per_shard: 2,
        ..PoolConfig::default()
    };
    let pool =
        NodePool::with_connector(addr(), crate::testing::v4(), cfg, connector(Arc::clone(&f)));
    wait_count(&pool, 8).await;
    for shard in 0..SHARDS {
        let c = pool.connection_for_shard(shard).expect("connection");
        assert_eq!(c.shard(), Some(shard));
    }
    assert!(
        f.shard_aware_attempts.load(Ordering::SeqCst) >= 7,
        "later connections use the shard-aware port"
    );
    let info = pool.sharding().expect("sharding");
    assert_eq!(info.nr_shards, SHARDS);
    assert_eq!(pool.lwt_mark(), Some(0x8000_0000));
    for t in [i64::MIN, -1, 0, 1 << 62, i64::MAX] {
        let c = pool.connection_for_token(Token(t)).expect("conn");
        assert_eq!(c.shard(), Some(proto::shard_of(Token(t), SHARDS, 0)));
    }
    pool.close();
}

#[tokio::test(start_paused = true)]
async fn non_scylla_nodes_get_connections_per_host() {
    let f = Arc::new(fake(false));
    let cfg = PoolConfig {
        connections_per_host: 3,
        ..PoolConfig::default()
    };
    let pool = NodePool::with_connector(addr(), crate::testing::v4(), cfg, connector(f));
    wait_count(&pool, 3).await;
    assert!(pool.sharding().is_none());
    assert_eq!(pool.lwt_mark(), None);
    assert!(pool.connection_for_token(Token(5)).is_some());
    assert!(pool.connection_for_shard(1).is_none());
}

#[tokio::test(start_paused = true)]
async fn broken_connections_are_replaced() {
    let f = Arc::new(fake(false));
    let cfg = PoolConfig {
        connections_per_host: 2,
        ..PoolConfig::default()
    };
    let pool =
        NodePool::with_connector(addr(), crate::testing::v4(), cfg, connector(Arc::clone(&f)));
    wait_count(&pool, 2).await;
    let victim = pool.any_connection().expect("conn");
    victim.close();
    for _ in 0..200 {
        if f.attempts.load(Ordering::SeqCst) == 3 && pool.connection_count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(victim.is_broken());
    assert_eq!(
        f.attempts.load(Ordering::SeqCst),
        3,
        "exactly one replacement"
    );
    assert_eq!(pool.connection_count(), 2);
    assert!(pool.connections().iter().all(|c| !c.is_broken()));
}

#[tokio::test(start_paused = true)]
async fn reconnects_with_backoff_after_failures() {
    let f = Arc::new(Fake {
        fail_first: 3,
        ..fake(false)
    });
    let cfg = PoolConfig {
        connections_per_host: 1,
        reconnect_base_delay: Duration::from_secs(1),
        reconnect_max_delay: Duration::from_secs(60),
        ..PoolConfig::default()
    };
    let started = tokio::time::Instant::now();
    let pool =
        NodePool::with_connector(addr(), crate::testing::v4(), cfg, connector(Arc::clone(&f)));
    let conn = pool.wait_for_connection(Duration::from_secs(120)).await;
    assert!(conn.is_some());
    assert_eq!(f.attempts.load(Ordering::SeqCst), 4);
    // Delays (jittered to [cap/2, cap]) for attempts 1..3: caps 2 s, 4 s, 8 s → at least 7 s total.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited <= Duration::from_secs(15),
        "{waited:?}"
    );
    assert!(pool.is_up());
}

/// A policy with a fixed delay that counts how the pool reports its fill rounds.
#[derive(Debug, Default)]
struct Counting {
    delay: Duration,
    errors: Arc<AtomicUsize>,
    successes: Arc<AtomicUsize>,
}

impl ReconnectPolicy for Counting {
    fn new_session(&self) -> Box<dyn ReconnectPolicySession> {
        Box::new(Self {
            delay: self.delay,
            errors: Arc::clone(&self.errors),
            successes: Arc::clone(&self.successes),
        })
    }
}

impl ReconnectPolicySession for Counting {
    fn get_delay(&self) -> Duration {
        self.delay
    }

    fn on_successful_fill(&mut self) {
        self.successes.fetch_add(1, Ordering::SeqCst);
    }

    fn on_fill_error(&mut self) {
        self.errors.fetch_add(1, Ordering::SeqCst);
    }
}

/// Connection attempts to a node that refuses every one, in `window` of paused time.
async fn attempts_to_a_dead_node(policy: Option<Arc<dyn ReconnectPolicy>>) -> usize {
    let f = Arc::new(Fake {
        fail_first: usize::MAX,
        ..fake(false)
    });
    let cfg = PoolConfig {
        connections_per_host: 1,
        reconnect_policy: policy,
        ..PoolConfig::default()
    };
    let pool =
        NodePool::with_connector(addr(), crate::testing::v4(), cfg, connector(Arc::clone(&f)));
    tokio::time::sleep(Duration::from_millis(3050)).await;
    assert_eq!(pool.connection_count(), 0);
    assert!(!pool.is_up(), "no connection after trying: down");
    pool.close();
    f.attempts.load(Ordering::SeqCst)
}

#[tokio::test(start_paused = true)]
async fn the_reconnect_policy_sets_the_pace_of_attempts() {
    // A fixed 250 ms: the first attempt at once, then one every 250 ms for 3 s.
    let constant = reconnect::ConstantReconnectPolicy::new(Duration::from_millis(250));
    assert_eq!(attempts_to_a_dead_node(Some(Arc::new(constant))).await, 13);
    let fast = reconnect::ConstantReconnectPolicy::new(Duration::from_millis(100));
    assert_eq!(attempts_to_a_dead_node(Some(Arc::new(fast))).await, 31);
    // The default doubles from 100 ms (jittered to [d/2, d]): 200, 400, 800, 1600 ms caps, so
    // 4 to 6 attempts in 3 s.
    let default = attempts_to_a_dead_node(None).await;
    assert!((4..=6).contains(&default), "{default} attempts");
}

#[tokio::test(start_paused = true)]
async fn the_reconnect_policy_hears_of_every_fill_round() {
    let f = Arc::new(Fake {
        fail_first: 3,
        ..fake(false)
    });
    let policy = Counting {
        delay: Duration::from_millis(500),
        ..Counting::default()
    };
    let (errors, successes) = (Arc::clone(&policy.errors), Arc::clone(&policy.successes));
    let cfg = PoolConfig {
        connections_per_host: 1,
        reconnect_policy: Some(Arc::new(policy)),
        ..PoolConfig::default()
    };
    let started = tokio::time::Instant::now();
    let pool =
        NodePool::with_connector(addr(), crate::testing::v4(), cfg, connector(Arc::clone(&f)));
    assert!(
        pool.wait_for_connection(Duration::from_secs(10))
            .await
            .is_some()
    );
    // Three refused rounds, each followed by the policy's 500 ms, then one that connects.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_millis(1600),
        "{waited:?}"
    );
    assert_eq!(errors.load(Ordering::SeqCst), 3);
    assert_eq!(successes.load(Ordering::SeqCst), 1);
    assert_eq!(f.attempts.load(Ordering::SeqCst), 4);
    pool.close();
}

#[tokio::test(start_paused = true)]
async fn busy_source_ports_are_skipped() {
    // Every even port is "in use": shards 0 and 2 cannot use the shard-aware port (all their
    // ports are even) and fall back to the normal port; shards 1 and 3 succeed.
    let busy: Vec<u16> = (49152..=65534).step_by(2).collect();
    let f = Arc::new(Fake {
        busy_ports: busy,
        ..fake(true)
    });
    let pool = NodePool::with_connector(
        addr(),
        crate::testing::v4(),
        PoolConfig::default(),
        connector(Arc::clone(&f)),
    );
    wait_count(&pool, 4).await;
    for shard in 0..SHARDS {
        assert_eq!(
            pool.connection_for_shard(shard).and_then(|c| c.shard()),
            Some(shard)
        );
    }
}

#[test]
fn source_ports_are_congruent_and_in_range() {
    for shard in 0..4 {
        let ports: Vec<u16> = source_ports(shard, 4, (49152, 49200), 100).collect();
        // 49 ports from 49152 (= 0 mod 4): residue 0 has 13 of them, the others 12.
        let expected = if shard == 0 { 13 } else { 12 };
        assert_eq!(ports.len(), expected);
        assert!(
            ports
                .iter()
                .all(|p| u32::from(*p) % 4 == shard && (49152..=49200).contains(p))
        );
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), expected, "no port twice");
    }
    assert_eq!(source_ports(3, 4, (10, 10), 5).count(), 0);
    assert_eq!(source_ports(1, 4, (49152, 65535), 16).count(), 16);
}
