//! Prepared statements: metadata, execution, client-side type checks, token computation and
//! token-aware routing, re-preparing after the server forgets a statement.

use std::collections::HashSet;

use cql_integration::{
    TestKeyspace, exec, fault_injection_available, prepare, query_rows, rows_of, session,
    sim_cluster,
};
use proto::value::ColumnType;
use session::Statement;
use session::errors::ExecutionError;

#[tokio::test]
async fn prepare_reports_bind_markers_and_partition_key() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "pmeta", 1).await;
    let t = ks
        .create_table(
            &s,
            "t",
            "(a int, b text, c bigint, v text, PRIMARY KEY ((a, b), c))",
        )
        .await;
    let p = prepare(
        &s,
        format!("SELECT v FROM {t} WHERE b = ? AND a = ? AND c = ?"),
    )
    .await;
    let markers: Vec<(&str, &ColumnType)> = p
        .get_variable_col_specs()
        .iter()
        .map(|c| (c.name.as_str(), &c.typ))
        .collect();
    assert_eq!(
        markers,
        vec![
            ("b", &ColumnType::Text),
            ("a", &ColumnType::Int),
            ("c", &ColumnType::BigInt)
        ]
    );
    // The partition key is (a, b): marker 1 is its first component, marker 0 its second.
    let mut pk: Vec<(u16, u16)> = p
        .get_variable_pk_indexes()
        .iter()
        .map(|i| (i.sequence, i.index))
        .collect();
    pk.sort_unstable();
    assert_eq!(pk, vec![(0, 1), (1, 0)]);
    assert_eq!(p.get_keyspace_name(), Some(ks.name.as_str()));
    assert_eq!(p.get_table_name(), Some("t"));
    let result_specs = p.get_result_set_col_specs();
    let result_cols: Vec<&str> = result_specs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(result_cols, vec!["v"]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn execute_unpaged_many_times_with_one_prepared_statement() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "pexec", 3).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    let insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    let select = prepare(&s, format!("SELECT v FROM {t} WHERE k = ?")).await;
    let writes = (0..200).map(|k| s.execute_unpaged(&insert, (k, format!("v{k}"))));
    for r in futures::future::join_all(writes).await {
        r.unwrap();
    }
    for k in (0..200).step_by(7) {
        let rows: Vec<(String,)> = rows_of(s.execute_unpaged(&select, (k,)).await.unwrap());
        assert_eq!(rows, vec![(format!("v{k}"),)]);
    }
    let missing: Vec<(String,)> = rows_of(s.execute_unpaged(&select, (1000,)).await.unwrap());
    assert!(missing.is_empty());
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn wrong_value_types_are_refused_before_sending() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "ptypes", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, v text)")
        .await;
    let insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    let err = s
        .execute_unpaged(&insert, ("not an int", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecutionError::BadQuery(_)), "{err:?}");
    let err = s.execute_unpaged(&insert, (1,)).await.unwrap_err();
    assert!(matches!(err, ExecutionError::BadQuery(_)), "{err:?}");
    let rows: Vec<(i32,)> = query_rows(&s, format!("SELECT k FROM {t}"), ()).await;
    assert!(rows.is_empty());
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn calculated_token_equals_server_token() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "ptoken", 1).await;
    let single = ks.table("single");
    let composite = ks.table("composite");
    exec(
        &s,
        &format!("CREATE TABLE {single} (k text PRIMARY KEY, v int)"),
    )
    .await;
    exec(
        &s,
        &format!("CREATE TABLE {composite} (a int, b text, v int, PRIMARY KEY ((a, b)))"),
    )
    .await;
    let ins1 = prepare(&s, format!("INSERT INTO {single} (k, v) VALUES (?, ?)")).await;
    let ins2 = prepare(
        &s,
        format!("INSERT INTO {composite} (a, b, v) VALUES (?, ?, ?)"),
    )
    .await;
    for i in 0..20 {
        let key = format!("key-{i}");
        s.execute_unpaged(&ins1, (key.as_str(), i)).await.unwrap();
        let ours = ins1.calculate_token(&(key.as_str(), i)).unwrap().unwrap();
        let theirs: Vec<(i64,)> = query_rows(
            &s,
            format!("SELECT token(k) FROM {single} WHERE k = ?"),
            (key.as_str(),),
        )
        .await;
        assert_eq!(theirs, vec![(ours.0,)], "token of {key:?}");

        s.execute_unpaged(&ins2, (i, key.as_str(), i))
            .await
            .unwrap();
        let ours = ins2
            .calculate_token(&(i, key.as_str(), i))
            .unwrap()
            .unwrap();
        let theirs: Vec<(i64,)> = query_rows(
            &s,
            format!("SELECT token(a, b) FROM {composite} WHERE a = ? AND b = ?"),
            (i, key.as_str()),
        )
        .await;
        assert_eq!(theirs, vec![(ours.0,)], "token of ({i}, {key:?})");
    }
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn token_aware_routing_reaches_a_replica() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "proute", 1).await;
    let t = ks.create_table(&s, "t", "(k int PRIMARY KEY, v int)").await;
    s.refresh_metadata().await.unwrap();
    let mut insert = prepare(&s, format!("INSERT INTO {t} (k, v) VALUES (?, ?)")).await;
    insert.set_tracing(true);
    let state = s.get_cluster_state();
    let mut coordinators = HashSet::new();
    for k in 0..12 {
        let token = insert.calculate_token(&(k, k)).unwrap().unwrap();
        let replicas: Vec<std::net::IpAddr> = state
            .replicas(&ks.name, token)
            .iter()
            .map(|n| n.address.ip())
            .collect();
        assert_eq!(replicas.len(), 1, "RF=1 has one replica per token");
        let result = s.execute_unpaged(&insert, (k, k)).await.unwrap();
        let id = result
            .tracing_id()
            .expect("a traced request returns its tracing id");
        let info = s.get_tracing_info(&id).await.unwrap();
        let coordinator = info.coordinator.expect("the trace names its coordinator");
        coordinators.insert(coordinator);
        assert!(
            replicas.contains(&coordinator),
            "key {k}: served by {coordinator}, replicas {replicas:?}"
        );
    }
    if state.nodes().len() > 1 {
        assert!(
            coordinators.len() > 1,
            "12 keys all routed to {coordinators:?}"
        );
    }
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn evicted_prepared_statements_are_reprepared() {
    if !fault_injection_available("evicted_prepared_statements_are_reprepared") {
        return;
    }
    let (cluster, s) = sim_cluster(2).await;
    exec(
        &s,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}",
    )
    .await;
    exec(&s, "CREATE TABLE ks.t (k int PRIMARY KEY, v text)").await;
    let insert = s
        .prepare("INSERT INTO ks.t (k, v) VALUES (?, ?)")
        .await
        .unwrap();
    s.execute_unpaged(&insert, (1, "before")).await.unwrap();
    let evicted: usize = cluster.nodes().iter().map(|n| n.evict_prepared()).sum();
    assert!(evicted > 0, "the nodes had prepared statements to forget");
    s.execute_unpaged(&insert, (2, "after")).await.unwrap();
    let mut rows: Vec<(i32, String)> =
        query_rows(&s, Statement::new("SELECT k, v FROM ks.t"), ()).await;
    rows.sort();
    assert_eq!(rows, vec![(1, "before".into()), (2, "after".into())]);
    cluster.shutdown();
}
