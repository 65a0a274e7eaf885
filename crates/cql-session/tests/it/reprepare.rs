//! Preparing again after UNPREPARED, when the node keeps answering UNPREPARED: a schema change
//! that lands between the PREPARE and the resend drops the statement again (the soak saw it
//! under bursts of `ALTER TABLE`). Nothing was executed, so the driver prepares and resends a
//! bounded number of times, non-idempotent requests included.

use std::time::Duration;

use cql_session::errors::{DbError, ExecutionError, RequestAttemptError};
use cql_sim::server::faults;
use cql_sim::{FaultAction, FaultRule, RequestMatcher};
use proto::codes::Opcode;

use crate::common::{bounded, create_ks_t, executes, prepare_insert, sim_session};

/// UNPREPARED for the next `times` EXECUTEs node 0 receives.
fn unprepared_executes(cluster: &cql_sim::SimCluster, times: usize) {
    cluster.node(0).add_fault(FaultRule::times(
        RequestMatcher::Opcode(Opcode::EXECUTE),
        FaultAction::Error(faults::unprepared()),
        times,
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_dropped_again_after_its_reprepare_is_prepared_again() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session) = sim_session(1, 1).await;
        create_ks_t(&session, 1).await;
        let insert = prepare_insert(&session).await;
        // Not idempotent: the retry policy would not move it, only the re-prepare resends it.
        assert!(!insert.get_is_idempotent());
        let prepares = cluster.node(0).request_count_of(Opcode::PREPARE);
        let before = executes(&cluster)[0];

        // The first EXECUTE and the resends after the first two PREPAREs are refused.
        unprepared_executes(&cluster, 3);
        session
            .execute_unpaged(&insert, (1i32, 1i32, "third time"))
            .await
            .expect("the third re-prepare's resend is executed");
        assert_eq!(executes(&cluster)[0] - before, 4);
        assert_eq!(
            cluster.node(0).request_count_of(Opcode::PREPARE) - prepares,
            3
        );
        let rows = session
            .query_unpaged("SELECT v FROM ks.t WHERE pk = 1 AND ck = 1", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        assert_eq!(rows.single_row::<(String,)>().unwrap().0, "third time");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_preparing_is_bounded_and_says_so() {
    bounded(Duration::from_secs(30), async {
        let (cluster, session) = sim_session(1, 1).await;
        create_ks_t(&session, 1).await;
        let insert = prepare_insert(&session).await;
        let before = executes(&cluster)[0];

        unprepared_executes(&cluster, usize::MAX);
        let err = session
            .execute_unpaged(&insert, (2i32, 1i32, "never"))
            .await
            .expect_err("the node never knows the statement");
        cluster.node(0).clear_faults();
        let ExecutionError::LastAttemptError {
            error: RequestAttemptError::DbError(DbError::Unprepared { .. }, message),
            ..
        } = &err
        else {
            panic!("expected UNPREPARED, got {err:?}");
        };
        assert!(message.contains("3 times"), "{message}");
        assert_eq!(
            executes(&cluster)[0] - before,
            4,
            "the first send and 3 resends"
        );
        let rows = session
            .query_unpaged("SELECT v FROM ks.t WHERE pk = 2", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        assert_eq!(rows.rows_num(), 0, "nothing was written");
    })
    .await;
}
