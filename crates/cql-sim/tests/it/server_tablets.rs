//! Scylla tablets over raw frames: the keyspace option, `system.tablets` and
//! `system_schema.scylla_keyspaces`, tablet replicas apart from the vnode ring, and the
//! `tablets-routing-v1` payload a non-replica node or shard sends to a client that negotiated
//! `TABLETS_ROUTING_V1`.

use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::{column, error_code, int_values, params, values};
use proto::codes::{Consistency, ErrorCode};
use proto::frame::ResponseEnvelope;
use proto::request::{Execute, Request};
use proto::response::{Response, ResultBody};
use proto::scylla::{TABLETS_ROUTING_V1, TABLETS_ROUTING_V1_PAYLOAD_KEY};
use proto::{CqlValue, TabletRoutingInfo};
use uuid::Uuid;

const KS: &str = "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 2} AND tablets = {'initial': 6}";

async fn cluster() -> SimCluster {
    SimCluster::builder()
        .nodes(3)
        .shards(4)
        .seed(11)
        .start()
        .await
        .expect("cluster")
}

/// A connection to `shard` of node `node`, with `TABLETS_ROUTING_V1` enabled when `tablets`.
async fn connect(
    c: &SimCluster,
    node: usize,
    shard: u32,
    tablets: bool,
) -> RawClient<tokio::io::DuplexStream> {
    let stream = c
        .node(node)
        .connect_in_process_to_shard(shard)
        .expect("node up");
    let mut client = RawClient::from_stream(stream);
    let options: &[_] = if tablets {
        &[(TABLETS_ROUTING_V1, "")]
    } else {
        &[]
    };
    client.startup_with(options).await;
    client
}

async fn setup(c: &SimCluster) {
    let mut admin = connect(c, 0, 0, false).await;
    admin.ok(KS).await;
    admin
        .ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)")
        .await;
}

fn token(k: i32) -> i64 {
    proto::token::murmur3_token(&k.to_be_bytes()).0
}

async fn prepared_id(c: &mut RawClient<tokio::io::DuplexStream>, q: &str) -> bytes::Bytes {
    match c.prepare(q).await {
        Response::Result(ResultBody::Prepared(p)) => p.id,
        other => panic!("{q}: {other:?}"),
    }
}

async fn execute(
    c: &mut RawClient<tokio::io::DuplexStream>,
    id: &bytes::Bytes,
    vals: &[i32],
) -> ResponseEnvelope {
    c.request(&Request::Execute(Execute {
        id: id.clone(),
        result_metadata_id: None,
        params: params(Consistency::ONE, int_values(vals)),
    }))
    .await
}

fn payload(r: &ResponseEnvelope) -> Option<TabletRoutingInfo> {
    let p = r.custom_payload.as_ref()?;
    Some(TabletRoutingInfo::from_custom_payload(p)?.expect("decodes"))
}

/// The node index with this host id.
fn node_of(c: &SimCluster, host: Uuid) -> usize {
    c.nodes()
        .iter()
        .position(|n| n.host_id() == host)
        .expect("a member's host id")
}

#[tokio::test]
async fn supported_offers_tablets_routing_and_local_lists_features() {
    let c = cluster().await;
    let mut raw = RawClient::connect(c.contact_point()).await.unwrap();
    assert!(raw.supported().await.contains_key(TABLETS_ROUTING_V1));
    let mut s = connect(&c, 0, 0, false).await;
    let r = s
        .ok("SELECT supported_features FROM system.local WHERE key = 'local'")
        .await;
    let Some(Some(CqlValue::Text(f))) = column(&r, "supported_features").into_iter().next() else {
        panic!("no supported_features: {r:?}");
    };
    assert!(f.split(',').any(|x| x == "TABLETS"), "{f}");

    let cassandra = SimCluster::builder()
        .without_scylla_extensions()
        .start()
        .await
        .unwrap();
    let mut raw = RawClient::connect(cassandra.contact_point()).await.unwrap();
    assert!(!raw.supported().await.contains_key(TABLETS_ROUTING_V1));
    let mut s = RawClient::ready(cassandra.contact_point()).await;
    let r = s.query(KS).await;
    assert_eq!(error_code(&r), ErrorCode::SYNTAX_ERROR, "{r:?}");
    let r = s
        .ok("SELECT supported_features FROM system.local WHERE key = 'local'")
        .await;
    assert_eq!(column(&r, "supported_features"), vec![None]);
}

#[tokio::test]
async fn keyspace_options_are_stored_and_checked() {
    let c = cluster().await;
    setup(&c).await;
    let mut s = connect(&c, 1, 0, false).await;
    let r = s
        .ok("SELECT keyspace_name, initial_tablets FROM system_schema.scylla_keyspaces")
        .await;
    assert_eq!(
        values(&r),
        vec![vec![
            Some(CqlValue::Text("ks".into())),
            Some(CqlValue::Int(6))
        ]]
    );
    assert_eq!(c.tablets("ks", "t").len(), 8, "6 rounds up to 8");

    for (q, code) in [
        (
            "CREATE KEYSPACE s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} AND tablets = {'enabled': true}",
            ErrorCode::CONFIG_ERROR,
        ),
        (
            "CREATE KEYSPACE big WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 4} AND tablets = {'enabled': true}",
            ErrorCode::CONFIG_ERROR,
        ),
        (
            "CREATE KEYSPACE bad WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1} AND tablets = {'initial': 'x'}",
            ErrorCode::CONFIG_ERROR,
        ),
        (
            "ALTER KEYSPACE ks WITH tablets = {'enabled': false}",
            ErrorCode::CONFIG_ERROR,
        ),
        (
            "CREATE TABLE ks.c (k int PRIMARY KEY, n counter)",
            ErrorCode::INVALID,
        ),
    ] {
        let r = s.query(q).await;
        assert_eq!(error_code(&r), code, "{q}: {r:?}");
    }
    // The vnode default: no tablets unless asked for.
    s.ok("CREATE KEYSPACE v WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1}")
        .await;
    s.ok("CREATE TABLE v.t (k int PRIMARY KEY)").await;
    assert!(c.tablets("v", "t").is_empty());

    // LWT: prepared fine, refused when run, as Scylla 6.x does.
    let id = prepared_id(
        &mut s,
        "INSERT INTO ks.t (k, v) VALUES (?, ?) IF NOT EXISTS",
    )
    .await;
    let r = execute(&mut s, &id, &[1, 1]).await;
    let Response::Error(e) = &r.response else {
        panic!("{r:?}")
    };
    assert_eq!(e.code, ErrorCode::INVALID);
    assert!(
        e.message.contains("LWT is not yet supported with tablets"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn tablets_by_default_makes_nts_keyspaces_tablet_based() {
    let c = SimCluster::builder()
        .nodes(2)
        .tablets_by_default(true)
        .start()
        .await
        .unwrap();
    let mut s = RawClient::ready(c.contact_point()).await;
    s.ok("CREATE KEYSPACE a WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1}")
        .await;
    s.ok("CREATE KEYSPACE b WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 1} AND tablets = {'enabled': false}")
        .await;
    s.ok(
        "CREATE KEYSPACE c WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    for ks in ["a", "b", "c"] {
        s.ok(&format!("CREATE TABLE {ks}.t (k int PRIMARY KEY)"))
            .await;
    }
    assert!(!c.tablets("a", "t").is_empty());
    assert!(c.tablets("b", "t").is_empty());
    assert!(c.tablets("c", "t").is_empty());
}

#[tokio::test]
async fn system_tablets_agrees_with_the_cluster_and_differs_from_the_ring() {
    let c = cluster().await;
    setup(&c).await;
    let tablets = c.tablets("ks", "t");
    let mut s = connect(&c, 2, 1, false).await;
    let r = s
        .ok("SELECT last_token, keyspace_name, table_name, tablet_count, replicas FROM system.tablets")
        .await;
    let rows = values(&r);
    assert_eq!(rows.len(), tablets.len());
    for (row, t) in rows.iter().zip(&tablets) {
        assert_eq!(row[0], Some(CqlValue::BigInt(t.last_token)));
        assert_eq!(row[1], Some(CqlValue::Text("ks".into())));
        assert_eq!(row[2], Some(CqlValue::Text("t".into())));
        assert_eq!(row[3], Some(CqlValue::Int(tablets.len() as i32)));
        let expected: Vec<CqlValue> = t
            .replicas
            .iter()
            .map(|(h, s)| {
                CqlValue::Tuple(vec![
                    Some(CqlValue::Uuid(*h)),
                    Some(CqlValue::Int(*s as i32)),
                ])
            })
            .collect();
        assert_eq!(row[4], Some(CqlValue::List(expected)));
    }
    // The per-table columns are static, as in Scylla's schema.
    let r = s
        .ok("SELECT kind FROM system_schema.columns WHERE keyspace_name = 'system' AND table_name = 'tablets' AND column_name = 'tablet_count'")
        .await;
    assert_eq!(
        values(&r),
        vec![vec![Some(CqlValue::Text("static".into()))]]
    );
    // Tablets tile the ring; replicas are not the vnode ring's, nor the token's vnode shard.
    assert_eq!(tablets.first().map(|t| t.first_token), Some(i64::MIN));
    assert_eq!(tablets.last().map(|t| t.last_token), Some(i64::MAX));
    let mut ring_differs = false;
    let mut shard_differs = false;
    for k in 0..200 {
        let tok = token(k);
        let t = c.tablet_of("ks", "t", tok).unwrap();
        assert!(t.first_token < tok && tok <= t.last_token);
        for (host, shard) in &t.replicas {
            let n = c.node(node_of(&c, *host));
            ring_differs |= !n.is_replica("ks", tok);
            shard_differs |= n.shard_of_token(tok) != *shard;
        }
    }
    assert!(ring_differs && shard_differs);
}

#[tokio::test]
async fn data_lives_on_the_tablet_replicas() {
    let c = cluster().await;
    setup(&c).await;
    let mut s = connect(&c, 0, 0, false).await;
    let id = prepared_id(&mut s, "INSERT INTO ks.t (k, v) VALUES (?, ?)").await;
    for k in 0..100 {
        let r = execute(&mut s, &id, &[k, k]).await;
        assert!(matches!(r.response, Response::Result(_)), "{r:?}");
    }
    let stored: Vec<Vec<i64>> = c
        .nodes()
        .iter()
        .map(|n| n.stored_tokens("ks", "t"))
        .collect();
    for k in 0..100 {
        let tok = token(k);
        let t = c.tablet_of("ks", "t", tok).unwrap();
        let owners: Vec<usize> = t.replicas.iter().map(|(h, _)| node_of(&c, *h)).collect();
        for (i, held) in stored.iter().enumerate() {
            assert_eq!(
                held.contains(&tok),
                owners.contains(&i),
                "key {k} on node {i}"
            );
        }
    }
    // Reads go to the tablet replicas too: every key reads back.
    let sel = prepared_id(&mut s, "SELECT v FROM ks.t WHERE k = ?").await;
    for k in 0..100 {
        let r = execute(&mut s, &sel, &[k]).await;
        assert_eq!(values(&r.response), vec![vec![Some(CqlValue::Int(k))]]);
    }
}

#[tokio::test]
async fn routing_payload_goes_to_clients_off_the_tablet_replica_and_shard() {
    let c = cluster().await;
    setup(&c).await;
    let k = 7;
    let tok = token(k);
    let t = c.tablet_of("ks", "t", tok).unwrap();
    let (host, shard) = t.replicas[0];
    let replica = node_of(&c, host);
    let outsider = (0..3)
        .find(|i| t.replicas.iter().all(|(h, _)| node_of(&c, *h) != *i))
        .unwrap();
    let wrong_shard = (shard + 1) % 4;

    let before: Vec<_> = c.nodes().iter().map(|n| n.routing_stats()).collect();
    // Off the replicas: the payload names the tablet.
    let mut off = connect(&c, outsider, 0, true).await;
    let id = prepared_id(&mut off, "INSERT INTO ks.t (k, v) VALUES (?, ?)").await;
    let r = execute(&mut off, &id, &[k, 1]).await;
    assert_eq!(payload(&r), Some(t.clone()));
    let raw = r.custom_payload.as_ref().unwrap()[TABLETS_ROUTING_V1_PAYLOAD_KEY]
        .clone()
        .unwrap();
    // tuple<bigint, bigint, list<tuple<uuid, int>>> laid out by hand.
    let mut expected = Vec::new();
    expected.extend(8i32.to_be_bytes());
    expected.extend(t.first_token.to_be_bytes());
    expected.extend(8i32.to_be_bytes());
    expected.extend(t.last_token.to_be_bytes());
    expected.extend((4 + 28 * 2i32 + 8).to_be_bytes());
    expected.extend(2i32.to_be_bytes());
    for (h, s) in &t.replicas {
        expected.extend(28i32.to_be_bytes());
        expected.extend(16i32.to_be_bytes());
        expected.extend(h.as_bytes());
        expected.extend(4i32.to_be_bytes());
        expected.extend((*s as i32).to_be_bytes());
    }
    assert_eq!(&raw[..], &expected[..]);

    // A replica on the wrong shard: also told.
    let mut wrong = connect(&c, replica, wrong_shard, true).await;
    let id = prepared_id(&mut wrong, "SELECT v FROM ks.t WHERE k = ?").await;
    let r = execute(&mut wrong, &id, &[k]).await;
    assert_eq!(payload(&r), Some(t.clone()));

    // The replica on its shard: nothing to say.
    let mut right = connect(&c, replica, shard, true).await;
    let id = prepared_id(&mut right, "SELECT v FROM ks.t WHERE k = ?").await;
    let r = execute(&mut right, &id, &[k]).await;
    assert!(r.custom_payload.is_none(), "{:?}", r.custom_payload);
    assert_eq!(values(&r.response), vec![vec![Some(CqlValue::Int(1))]]);

    // Not negotiated: never sent.
    let mut plain = connect(&c, outsider, 0, false).await;
    let id = prepared_id(&mut plain, "SELECT v FROM ks.t WHERE k = ?").await;
    let r = execute(&mut plain, &id, &[k]).await;
    assert!(r.custom_payload.is_none());

    // The counters saw one hit on the replica's shard out of four token-routed requests.
    let after: Vec<_> = c.nodes().iter().map(|n| n.routing_stats()).collect();
    let delta = |f: fn(&cql_sim::RoutingStats) -> u64| -> u64 {
        after.iter().zip(&before).map(|(a, b)| f(a) - f(b)).sum()
    };
    assert_eq!(delta(|s| s.replica), 2);
    assert_eq!(delta(|s| s.non_replica), 2);
    assert_eq!(delta(|s| s.owner_shard), 1);
    assert_eq!(delta(|s| s.other_shard), 3);
}

#[tokio::test]
async fn decommission_moves_only_the_leaving_nodes_tablet_replicas() {
    let c = SimCluster::builder()
        .nodes(4)
        .shards(2)
        .seed(5)
        .start()
        .await
        .unwrap();
    setup(&c).await;
    let mut s = connect(&c, 0, 0, false).await;
    let id = prepared_id(&mut s, "INSERT INTO ks.t (k, v) VALUES (?, ?)").await;
    for k in 0..200 {
        execute(&mut s, &id, &[k, k]).await;
    }
    let before = c.tablets("ks", "t");
    let leaving = c.node(3).host_id();
    c.decommission(3).unwrap();
    let after = c.tablets("ks", "t");
    assert_eq!(before.len(), after.len());
    let mut moved = 0;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((b.first_token, b.last_token), (a.first_token, a.last_token));
        assert_eq!(a.replicas.len(), 2);
        assert!(a.replicas.iter().all(|(h, _)| *h != leaving));
        // Replicas on the remaining nodes stay where they were.
        for r in b.replicas.iter().filter(|(h, _)| *h != leaving) {
            assert!(a.replicas.contains(r), "{r:?} moved");
        }
        moved += usize::from(b.replicas.iter().any(|(h, _)| *h == leaving));
    }
    assert!(moved > 0, "node 3 held some tablet");
    // Every row is still readable at ALL from the new replicas.
    let sel = prepared_id(&mut s, "SELECT v FROM ks.t WHERE k = ?").await;
    for k in 0..200 {
        let r = s
            .request(&Request::Execute(Execute {
                id: sel.clone(),
                result_metadata_id: None,
                params: params(Consistency::ALL, int_values(&[k])),
            }))
            .await;
        assert_eq!(
            values(&r.response),
            vec![vec![Some(CqlValue::Int(k))]],
            "key {k}"
        );
    }
}

#[tokio::test]
async fn alter_keyspace_adds_a_replica_to_each_tablet_and_copies_its_data() {
    let c = cluster().await;
    setup(&c).await;
    let mut s = connect(&c, 0, 0, false).await;
    let id = prepared_id(&mut s, "INSERT INTO ks.t (k, v) VALUES (?, ?)").await;
    for k in 0..100 {
        execute(&mut s, &id, &[k, k]).await;
    }
    let before = c.tablets("ks", "t");
    s.ok("ALTER KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 3}")
        .await;
    let after = c.tablets("ks", "t");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.replicas.len(), 3);
        assert!(
            b.replicas.iter().all(|r| a.replicas.contains(r)),
            "{b:?} -> {a:?}"
        );
    }
    let r = s
        .query("ALTER KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 4}")
        .await;
    assert_eq!(error_code(&r), ErrorCode::CONFIG_ERROR, "{r:?}");
    let sel = prepared_id(&mut s, "SELECT v FROM ks.t WHERE k = ?").await;
    for k in 0..100 {
        let r = s
            .request(&Request::Execute(Execute {
                id: sel.clone(),
                result_metadata_id: None,
                params: params(Consistency::ALL, int_values(&[k])),
            }))
            .await;
        assert_eq!(
            values(&r.response),
            vec![vec![Some(CqlValue::Int(k))]],
            "key {k}"
        );
    }
}
