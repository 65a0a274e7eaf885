//! Consistency, injected errors, pauses, delays, drops, broken frames and protocol errors.

use std::time::Duration;

use cql_sim::server::faults;
use cql_sim::{RequestMatcher, SimCluster};
use cql_testkit::query::*;
use cql_testkit::{RawClient, TIMEOUT};
use proto::codes::{Consistency, WriteType};
use proto::request::Request;
use proto::response::{Response, ResultBody};
use proto::{ErrorCode, ErrorDetails};

async fn setup(cluster: &SimCluster, rf: usize) -> RawClient {
    let mut c = RawClient::ready(cluster.node(0).addr()).await;
    c.ok(&format!(
        "CREATE KEYSPACE f WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
    ))
    .await;
    c.ok("CREATE TABLE f.t (k int PRIMARY KEY, v int)").await;
    c
}

#[tokio::test]
async fn unavailable_when_replicas_are_down() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = setup(&cluster, 3).await;
    c.ok("INSERT INTO f.t (k, v) VALUES (1, 1)").await;
    cluster.node(1).stop();
    // QUORUM of 3 needs 2: fine with 2 alive
    let r = c
        .query_cl("INSERT INTO f.t (k, v) VALUES (2, 2)", Consistency::QUORUM)
        .await;
    assert!(matches!(r, Response::Result(ResultBody::Void)), "{r:?}");
    let r = c
        .query_cl("SELECT v FROM f.t WHERE k = 1", Consistency::ALL)
        .await;
    let Response::Error(e) = r else {
        panic!("{r:?}")
    };
    assert_eq!(e.code, ErrorCode::UNAVAILABLE);
    assert_eq!(
        e.details,
        ErrorDetails::Unavailable {
            consistency: Consistency::ALL,
            required: 3,
            alive: 2
        }
    );
    cluster.node(2).stop();
    let r = c
        .query_cl("INSERT INTO f.t (k, v) VALUES (3, 3)", Consistency::QUORUM)
        .await;
    let Response::Error(e) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        e.details,
        ErrorDetails::Unavailable {
            consistency: Consistency::QUORUM,
            required: 2,
            alive: 1
        }
    );
    let r = c.query_cl("SELECT * FROM f.t", Consistency::TWO).await;
    assert_eq!(error_code(&r), ErrorCode::UNAVAILABLE);
    // ONE still works, and ANY writes always succeed
    let r = c
        .query_cl("SELECT v FROM f.t WHERE k = 1", Consistency::ONE)
        .await;
    assert_eq!(values(&r), vec![vec![Some(proto::CqlValue::Int(1))]]);
    let r = c
        .query_cl("INSERT INTO f.t (k, v) VALUES (4, 4)", Consistency::ANY)
        .await;
    assert!(matches!(r, Response::Result(ResultBody::Void)), "{r:?}");
}

#[tokio::test]
async fn injected_errors_carry_details() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = setup(&cluster, 1).await;
    let n = cluster.node(0);
    n.inject_error(
        RequestMatcher::QueryContains("f.t".into()),
        faults::overloaded(),
        Some(1),
    );
    n.inject_error(
        RequestMatcher::QueryContains("SELECT".into()),
        faults::read_timeout(Consistency::QUORUM, 1, 2, false),
        Some(1),
    );
    n.inject_error(
        RequestMatcher::QueryContains("INSERT".into()),
        faults::write_timeout(Consistency::LOCAL_QUORUM, 0, 2, WriteType::Simple),
        None,
    );
    let r = c.query("SELECT * FROM f.t").await;
    assert_eq!(error_code(&r), ErrorCode::OVERLOADED);
    let r = c.query("SELECT * FROM f.t").await;
    let Response::Error(e) = r else { panic!() };
    assert_eq!(
        e.details,
        ErrorDetails::ReadTimeout {
            consistency: Consistency::QUORUM,
            received: 1,
            block_for: 2,
            data_present: false
        }
    );
    // rules ran out: the query executes
    assert!(matches!(
        c.query("SELECT * FROM f.t").await,
        Response::Result(ResultBody::Rows(_))
    ));
    for _ in 0..2 {
        let r = c.query("INSERT INTO f.t (k, v) VALUES (1, 1)").await;
        let Response::Error(e) = r else { panic!() };
        assert_eq!(e.code, ErrorCode::WRITE_TIMEOUT);
        assert!(matches!(
            e.details,
            ErrorDetails::WriteTimeout {
                block_for: 2,
                write_type: WriteType::Simple,
                ..
            }
        ));
    }
    n.clear_faults();
    assert!(matches!(
        c.query("INSERT INTO f.t (k, v) VALUES (1, 1)").await,
        Response::Result(_)
    ));
    // an injected UNPREPARED names the executed id
    let Response::Result(ResultBody::Prepared(p)) =
        c.prepare("SELECT v FROM f.t WHERE k = ?").await
    else {
        panic!()
    };
    n.inject_error(RequestMatcher::AnyStatement, faults::unprepared(), Some(1));
    let r = c.execute(p.id.clone(), int_values(&[1])).await;
    let Response::Error(e) = r else { panic!() };
    assert_eq!(e.details, ErrorDetails::Unprepared { id: p.id.clone() });
    n.inject_error(
        RequestMatcher::AnyStatement,
        faults::is_bootstrapping(),
        Some(1),
    );
    assert_eq!(
        error_code(&c.execute(p.id.clone(), int_values(&[1])).await),
        ErrorCode::IS_BOOTSTRAPPING
    );
    let r = c.execute(p.id.clone(), int_values(&[1])).await;
    assert_eq!(values(&r), vec![vec![Some(proto::CqlValue::Int(1))]]);
}

#[tokio::test]
async fn paused_node_does_not_answer_until_resumed() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = RawClient::ready(cluster.contact_point()).await;
    let n = cluster.node(0);
    n.pause();
    let s = c.send(&Request::Options).await;
    assert!(
        c.try_response(s, Duration::from_millis(300))
            .await
            .is_none()
    );
    n.resume();
    let r = c.response(s).await;
    assert!(matches!(r.response, Response::Supported { .. }));
}

#[tokio::test]
async fn delayed_responses_do_not_block_the_connection() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = setup(&cluster, 1).await;
    let n = cluster.node(0);
    n.add_fault(cql_sim::FaultRule::times(
        RequestMatcher::QueryContains("slow".into()),
        cql_sim::FaultAction::Delay(Duration::from_millis(400)),
        1,
    ));
    let slow = c
        .send(&query_req(
            "SELECT v FROM f.t WHERE k = 1 -- slow",
            Consistency::ONE,
            Default::default(),
        ))
        .await;
    let fast = c.send(&Request::Options).await;
    let started = tokio::time::Instant::now();
    let r = c.response(fast).await;
    assert!(matches!(r.response, Response::Supported { .. }));
    assert!(started.elapsed() < Duration::from_millis(400));
    let r = c.response(slow).await;
    assert!(matches!(
        r.response,
        Response::Result(_) | Response::Error(_)
    ));
}

#[tokio::test]
async fn dropped_responses_never_arrive() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = setup(&cluster, 1).await;
    cluster.node(0).drop_next(1);
    let s = c
        .send(&query_req(
            "SELECT * FROM f.t",
            Consistency::ONE,
            Default::default(),
        ))
        .await;
    assert!(
        c.try_response(s, Duration::from_millis(300))
            .await
            .is_none()
    );
    // the next one is answered
    assert!(matches!(
        c.query("SELECT * FROM f.t").await,
        Response::Result(_)
    ));
    cluster.node(0).drop_matching("k = 7");
    let s = c
        .send(&query_req(
            "SELECT * FROM f.t WHERE k = 7",
            Consistency::ONE,
            Default::default(),
        ))
        .await;
    assert!(
        c.try_response(s, Duration::from_millis(200))
            .await
            .is_none()
    );
    assert!(matches!(
        c.query("SELECT * FROM f.t WHERE k = 8").await,
        Response::Result(_)
    ));
}

#[tokio::test]
async fn close_mid_frame_and_malformed_frame() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = setup(&cluster, 1).await;
    let n = cluster.node(0);
    n.send_malformed_next();
    c.send(&query_req(
        "SELECT * FROM f.t",
        Consistency::ONE,
        Default::default(),
    ))
    .await;
    let f = c
        .read_frame_timeout(TIMEOUT)
        .await
        .unwrap()
        .expect("a frame");
    assert!(
        proto::frame::decode_response(&f, None).is_err(),
        "the frame must not decode"
    );
    n.close_mid_frame_next();
    c.send(&query_req(
        "SELECT * FROM system.local",
        Consistency::ONE,
        Default::default(),
    ))
    .await;
    // half a frame then EOF: no whole frame arrives
    assert!(matches!(c.read_frame_timeout(TIMEOUT).await, Ok(None)));
}

#[tokio::test]
async fn protocol_errors_for_bad_frames() {
    let cluster = SimCluster::builder()
        .nodes(1)
        .max_frame_size(1024)
        .start()
        .await
        .unwrap();
    // unsupported version: error in v4 and close
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    c.send_raw(&[0x05, 0x00, 0x00, 0x07, 0x05, 0x00, 0x00, 0x00, 0x00])
        .await;
    let f = c
        .read_frame_timeout(TIMEOUT)
        .await
        .unwrap()
        .expect("error frame");
    assert_eq!(f.header.version.0, 4);
    let env = proto::frame::decode_response(&f, None).unwrap();
    assert_eq!(env.stream, 7);
    let Response::Error(e) = env.response else {
        panic!()
    };
    assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR);
    assert!(
        e.message
            .contains("Invalid or unsupported protocol version"),
        "{}",
        e.message
    );
    assert!(matches!(c.read_frame_timeout(TIMEOUT).await, Ok(None)));

    // unknown opcode: error, connection stays
    let mut c = RawClient::ready(cluster.contact_point()).await;
    c.send_raw(&[0x04, 0x00, 0x00, 0x09, 0x7f, 0x00, 0x00, 0x00, 0x00])
        .await;
    let r = c.response(9).await;
    assert_eq!(error_code(&r.response), ErrorCode::PROTOCOL_ERROR);
    // garbage QUERY body: error, connection stays
    c.send_raw(&[
        0x04, 0x00, 0x00, 0x0a, 0x07, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff,
    ])
    .await;
    let r = c.response(10).await;
    assert_eq!(error_code(&r.response), ErrorCode::PROTOCOL_ERROR);
    assert!(matches!(
        c.query("SELECT key FROM system.local").await,
        Response::Result(_)
    ));
    // a frame over the limit: error and close
    c.send_raw(&[0x04, 0x00, 0x00, 0x0b, 0x07, 0x00, 0x10, 0x00, 0x00])
        .await;
    let r = c.response(11).await;
    let Response::Error(e) = r.response else {
        panic!()
    };
    assert!(e.message.contains("too big"), "{}", e.message);
    assert!(matches!(c.read_frame_timeout(TIMEOUT).await, Ok(None)));
}

#[tokio::test]
async fn tracing_writes_sessions_and_events() {
    let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
    let mut c = setup(&cluster, 2).await;
    let s = c
        .send_with(
            &query_req("SELECT * FROM f.t", Consistency::ONE, Default::default()),
            true,
        )
        .await;
    let env = c.response(s).await;
    let id = env.tracing_id.expect("a tracing id");
    assert_eq!(id.get_version_num(), 1);
    let r = c
        .ok(&format!(
            "SELECT session_id, client, command, coordinator, duration, parameters, request, started_at FROM system_traces.sessions WHERE session_id = {id}"
        ))
        .await;
    assert_eq!(rows(&r).rows_count, 1);
    assert_eq!(
        column(&r, "command"),
        vec![Some(proto::CqlValue::Text("QUERY".into()))]
    );
    assert_eq!(
        column(&r, "coordinator"),
        vec![Some(proto::CqlValue::Inet(cluster.node(0).ip()))]
    );
    let specs = &rows(&r).metadata.col_specs;
    assert_eq!(specs[5].typ.to_string(), "map<text, text>");
    let r = c
        .ok(&format!(
            "SELECT event_id, activity, source, source_elapsed, thread FROM system_traces.events WHERE session_id = {id}"
        ))
        .await;
    assert!(rows(&r).rows_count >= 2);
    assert_eq!(
        rows(&r).metadata.col_specs[0].typ,
        proto::ColumnType::Timeuuid
    );
}

#[tokio::test]
async fn unlogged_batch_over_many_partitions_warns() {
    let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
    let mut c = setup(&cluster, 1).await;
    let r = c
        .request(&query_batch(
            proto::BatchType::UNLOGGED,
            (0..12).map(|i| format!("INSERT INTO f.t (k, v) VALUES ({i}, {i})")),
        ))
        .await;
    assert!(
        matches!(r.response, Response::Result(ResultBody::Void)),
        "{:?}",
        r.response
    );
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].contains("Unlogged batch covering 12 partitions"),
        "{:?}",
        r.warnings
    );
    let r = c
        .request(&query_req(
            "SELECT count(*) FROM f.t",
            Consistency::ONE,
            Default::default(),
        ))
        .await;
    assert_eq!(
        values(&r.response),
        vec![vec![Some(proto::CqlValue::BigInt(12))]]
    );
    assert_eq!(
        r.warnings,
        vec!["Aggregation query used without partition key".to_owned()]
    );
}

/// Random frames never take the server down: each gets an error or closes its connection,
/// and the node keeps serving.
#[tokio::test]
async fn random_frames_do_not_break_the_node() {
    let cluster = SimCluster::builder()
        .nodes(1)
        .max_frame_size(4096)
        .start()
        .await
        .unwrap();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..60 {
        let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
        if round % 2 == 0 {
            assert!(matches!(c.startup(None).await, Response::Ready));
        }
        let mut bytes = Vec::new();
        for _ in 0..4 {
            let len = (next() % 64) as usize;
            let opcode =
                [0x01, 0x05, 0x07, 0x09, 0x0a, 0x0b, 0x0d, 0x0f, 0x33][(next() % 9) as usize];
            let flags = (next() % 32) as u8;
            bytes.extend_from_slice(&[0x04, flags, 0x00, (round % 100) as u8, opcode]);
            bytes.extend_from_slice(&(len as u32).to_be_bytes());
            for _ in 0..len {
                bytes.push(next() as u8);
            }
        }
        if round % 5 == 0 {
            // an arbitrary byte soup, header included
            bytes = (0..40).map(|_| next() as u8).collect();
        }
        c.send_raw(&bytes).await;
        // read whatever comes until the server closes or goes quiet
        for _ in 0..8 {
            match c.read_frame_timeout(Duration::from_millis(50)).await {
                Ok(Some(_)) => {}
                Ok(None) | Err(()) => break,
            }
        }
    }
    let mut c = RawClient::ready(cluster.contact_point()).await;
    assert!(matches!(
        c.query("SELECT key FROM system.local").await,
        Response::Result(_)
    ));
}

/// A node that was down during a write is not preferred for reads afterwards (no read repair
/// is simulated, so this keeps QUORUM reads after QUORUM writes consistent).
#[tokio::test]
async fn reads_avoid_a_replica_that_missed_writes() {
    let cluster = SimCluster::builder().nodes(3).start().await.unwrap();
    let mut c = setup(&cluster, 3).await;
    c.ok("INSERT INTO f.t (k, v) VALUES (1, 1)").await;
    cluster.node(2).stop();
    let r = c
        .query_cl("INSERT INTO f.t (k, v) VALUES (1, 2)", Consistency::QUORUM)
        .await;
    assert!(matches!(r, Response::Result(ResultBody::Void)), "{r:?}");
    cluster.node(2).start().await.unwrap();
    // coordinated by the node that missed the write
    let mut d = RawClient::ready(cluster.node(2).addr()).await;
    let r = d
        .query_cl("SELECT v FROM f.t WHERE k = 1", Consistency::QUORUM)
        .await;
    assert_eq!(values(&r), vec![vec![Some(proto::CqlValue::Int(2))]]);
    let r = d.query_cl("SELECT v FROM f.t", Consistency::QUORUM).await;
    assert_eq!(values(&r), vec![vec![Some(proto::CqlValue::Int(2))]]);
}
