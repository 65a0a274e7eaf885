//! Tracing over raw frames: `system_traces.events` holds the replicas' events (source = the
//! replica's address) as well as the coordinator's.

use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::{query_req, values};
use proto::CqlValue;
use proto::codes::Consistency;

/// The (source, activity) of every event of a trace session.
async fn events(c: &mut RawClient, session: uuid::Uuid) -> Vec<(CqlValue, String)> {
    let r = c
        .ok(&format!(
            "SELECT source, activity FROM system_traces.events WHERE session_id = {session}"
        ))
        .await;
    values(&r)
        .into_iter()
        .map(|row| match (&row[0], &row[1]) {
            (Some(source), Some(CqlValue::Text(a))) => (source.clone(), a.clone()),
            other => panic!("event {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn traced_requests_record_the_replicas_events() {
    let cluster = SimCluster::builder()
        .nodes(3)
        .seed(5)
        .start()
        .await
        .unwrap();
    let coordinator = cluster.node(0);
    let mut c = RawClient::ready(coordinator.addr()).await;
    c.ok("CREATE KEYSPACE tr WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    c.ok("CREATE TABLE tr.t (k int PRIMARY KEY, v int)").await;
    // A key the coordinator does not replicate, and its replica.
    let (k, owner) = (0..100)
        .find_map(|k: i32| {
            let token = proto::murmur3_token(&k.to_be_bytes()).0;
            (1..3)
                .find(|i| cluster.node(*i).is_replica("tr", token))
                .map(|i| (k, cluster.node(i)))
        })
        .expect("a key on another node");
    let from_coordinator = format!("/{}:7000", coordinator.ip());
    let replica = CqlValue::Inet(owner.ip());

    for (q, verb) in [
        (
            format!("INSERT INTO tr.t (k, v) VALUES ({k}, 1)"),
            "MUTATION",
        ),
        (format!("SELECT v FROM tr.t WHERE k = {k}"), "READ"),
    ] {
        let s = c
            .send_with(&query_req(&q, Consistency::ONE, Default::default()), true)
            .await;
        let session = c.response(s).await.tracing_id.expect("a tracing id");
        let events = events(&mut c, session).await;
        let coordinator_ip = CqlValue::Inet(coordinator.ip());
        assert!(
            events.iter().any(|(s, a)| *s == coordinator_ip
                && *a == format!("Sending {verb}_REQ message to /{}:7000", owner.ip())),
            "{q}: {events:?}"
        );
        let at_replica: Vec<&str> = events
            .iter()
            .filter(|(s, _)| *s == replica)
            .map(|(_, a)| a.as_str())
            .collect();
        assert!(
            at_replica
                .contains(&format!("{verb}_REQ message received from {from_coordinator}").as_str()),
            "{q}: {events:?}"
        );
        assert!(
            at_replica
                .contains(&format!("Sending {verb}_RSP message to {from_coordinator}").as_str()),
            "{q}: {events:?}"
        );
    }
    // A request the coordinator serves alone has no other source.
    let s = c
        .send_with(
            &query_req(
                "SELECT key FROM system.local",
                Consistency::ONE,
                Default::default(),
            ),
            true,
        )
        .await;
    let session = c.response(s).await.tracing_id.expect("a tracing id");
    let events = events(&mut c, session).await;
    assert!(
        events
            .iter()
            .all(|(s, _)| *s == CqlValue::Inet(coordinator.ip())),
        "{events:?}"
    );
}
