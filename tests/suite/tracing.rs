//! Request tracing: traced requests return a tracing id, and `get_tracing_info` reads the
//! session and its events from `system_traces`.

use cql_integration::{TestKeyspace, prepare, session};
use session::{Batch, BatchType, Statement};

#[tokio::test]
async fn traced_query_has_session_and_events() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "trquery", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    let mut st = Statement::new(format!("SELECT v FROM {t} WHERE k = 1"));
    st.set_tracing(true);
    let result = s.query_unpaged(st, ()).await.unwrap();
    let id = result
        .tracing_id()
        .expect("a traced query returns a tracing id");
    let info = s.get_tracing_info(&id).await.unwrap();
    assert!(!info.events.is_empty(), "a trace has events");
    let coordinator = info.coordinator.expect("the trace names its coordinator");
    let nodes: Vec<std::net::IpAddr> = s
        .get_cluster_state()
        .nodes()
        .iter()
        .map(|n| n.address.ip())
        .collect();
    assert!(
        nodes.contains(&coordinator),
        "{coordinator} not in {nodes:?}"
    );
    assert!(info.duration.is_some_and(|d| d >= 0), "{:?}", info.duration);
    assert!(info.started_at.is_some());
    assert!(info.events.iter().all(|e| e.activity.is_some()));
    assert!(info.nodes().contains(&coordinator));
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn untraced_requests_have_no_tracing_id() {
    let s = session().await;
    let result = s
        .query_unpaged("SELECT release_version FROM system.local", ())
        .await
        .unwrap();
    assert_eq!(result.tracing_id(), None);
}

#[tokio::test]
async fn traced_prepared_execute_and_batch() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "trprep", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    let mut insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    insert.set_tracing(true);
    let id = s
        .execute_unpaged(&insert, (1, 1))
        .await
        .unwrap()
        .tracing_id()
        .expect("traced execute returns a tracing id");
    let info = s.get_tracing_info(&id).await.unwrap();
    assert!(!info.events.is_empty());
    assert!(info.request.is_some());

    let mut batch = Batch::new(BatchType::Unlogged);
    batch.append_statement(format!("INSERT INTO {t} (k, v) VALUES (2, 2)").as_str());
    batch.set_tracing(true);
    let batch_id = s
        .batch(&batch, ((),))
        .await
        .unwrap()
        .tracing_id()
        .expect("traced batch returns a tracing id");
    assert_ne!(batch_id, id);
    let info = s.get_tracing_info(&batch_id).await.unwrap();
    assert!(!info.events.is_empty());
    ks.drop_keyspace(&s).await;
}
