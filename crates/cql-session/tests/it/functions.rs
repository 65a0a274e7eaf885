//! User-defined functions and aggregates in the driver's metadata: after CREATE FUNCTION /
//! AGGREGATE against `cql-sim`, the SCHEMA_CHANGE event's keyspace refresh shows their
//! signatures (read from `system_schema.functions` / `aggregates`); DROP removes them.

use std::time::Duration;

use cql_session::Session;
use cql_sim::SimCluster;
use cql_testkit::wait_until;

use crate::common;

const LIMIT: Duration = Duration::from_secs(60);

/// The (functions, aggregates) signatures of keyspace `uf` in the session's metadata.
fn signatures(session: &Session) -> (Vec<String>, Vec<String>) {
    let state = session.get_cluster_state();
    let Some(ks) = state.keyspace("uf") else {
        return (Vec::new(), Vec::new());
    };
    let mut f = ks.functions.clone();
    let mut a = ks.aggregates.clone();
    f.sort();
    a.sort();
    (f, a)
}

#[tokio::test]
async fn udf_and_uda_metadata_follow_schema_change_events() {
    common::bounded(LIMIT, async {
        let cluster = SimCluster::builder().nodes(2).start().await.unwrap();
        let session = common::connect(cluster.contact_point()).await;
        common::run(&session, "CREATE KEYSPACE uf WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
        common::run(&session, "CREATE FUNCTION uf.acc (s int, v int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return s + v;'").await;
        common::run(&session, "CREATE FUNCTION uf.tags (l list<text>) RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS 'return l.size();'").await;
        common::run(&session, "CREATE AGGREGATE uf.total (int) SFUNC acc STYPE int INITCOND 0").await;
        let want = (
            vec!["acc(int, int)".to_owned(), "tags(list<text>)".to_owned()],
            vec!["total(int)".to_owned()],
        );
        wait_until(LIMIT, "functions and aggregate in metadata", || {
            signatures(&session) == want
        })
        .await;

        // The aggregate runs through the driver too: its state function folds the rows.
        common::run(&session, "CREATE TABLE uf.t (k int, c int, v int, PRIMARY KEY (k, c))").await;
        for c in 1..=3 {
            common::run(&session, &format!("INSERT INTO uf.t (k, c, v) VALUES (1, {c}, {c})")).await;
        }
        let rows = common::rows::<(i32,)>(&session, "SELECT uf.total(v) FROM uf.t WHERE k = 1").await;
        assert_eq!(rows, vec![(6,)]);

        common::run(&session, "DROP AGGREGATE uf.total").await;
        common::run(&session, "DROP FUNCTION uf.tags (list<text>)").await;
        let want = (vec!["acc(int, int)".to_owned()], Vec::new());
        wait_until(LIMIT, "dropped function and aggregate gone", || {
            signatures(&session) == want
        })
        .await;
    })
    .await;
}
