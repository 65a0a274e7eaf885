//! Authentication and authorization through the session, against a `cql-sim` cluster with
//! PasswordAuthenticator: a refused login surfaces as a typed connect error carrying the
//! server's AuthenticationError, and a role without SELECT gets `DbError::Unauthorized` until
//! it is granted.

use std::time::Duration;

use cql_session::errors::{ConnectionError, DbError, NewClusterError, NewSessionError};
use cql_session::{Session, SessionBuilder};
use cql_sim::SimCluster;
use proto::codes::ErrorCode;

use crate::common;

const LIMIT: Duration = Duration::from_secs(60);

async fn auth_cluster() -> SimCluster {
    SimCluster::builder()
        .nodes(2)
        .auth("cassandra", "cassandra")
        .start()
        .await
        .expect("sim cluster")
}

async fn login(cluster: &SimCluster, user: &str, pass: &str) -> Result<Session, NewSessionError> {
    SessionBuilder::new()
        .known_node(cluster.contact_point().to_string())
        .user(user, pass)
        .connection_timeout(Duration::from_secs(5))
        .build()
        .await
}

/// The ERROR every contact point answered AUTH_RESPONSE with.
fn auth_errors(err: &NewSessionError) -> Vec<(ErrorCode, String)> {
    let NewSessionError::Connect(NewClusterError::AllNodesFailed(failures)) = err else {
        panic!("expected a connect failure, got {err:?}");
    };
    assert!(!failures.is_empty());
    failures
        .iter()
        .map(|(_, e)| match e {
            ConnectionError::Server {
                during: "AUTH_RESPONSE",
                error,
            } => (error.code, error.message.clone()),
            other => panic!("expected the server's AUTH_RESPONSE error, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn refused_logins_are_typed_connect_errors_with_the_servers_message() {
    common::bounded(LIMIT, async {
        let cluster = auth_cluster().await;
        let err = login(&cluster, "cassandra", "wrong").await.unwrap_err();
        assert_eq!(
            auth_errors(&err),
            [(
                ErrorCode::BAD_CREDENTIALS,
                "Provided username cassandra and/or password are incorrect".to_owned()
            )]
        );
        assert!(
            err.to_string()
                .contains("Provided username cassandra and/or password are incorrect"),
            "the message reaches the user: {err}"
        );
        // An empty password: Cassandra's PLAIN decoding refuses it before any lookup.
        let err = login(&cluster, "cassandra", "").await.unwrap_err();
        assert_eq!(
            auth_errors(&err),
            [(
                ErrorCode::BAD_CREDENTIALS,
                "Password must not be null".to_owned()
            )]
        );
        // Neither the builder's Debug nor the error shows a password.
        let builder = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .user("cassandra", "s3cret-pw");
        let shown = format!("{builder:?} {:?}", builder.config);
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        let err = login(&cluster, "cassandra", "s3cret-pw").await.unwrap_err();
        assert!(!format!("{err} {err:?}").contains("s3cret-pw"), "{err:?}");
        let err = login(&cluster, "nobody", "x").await.unwrap_err();
        assert_eq!(
            auth_errors(&err)[0].1,
            "Provided username nobody and/or password are incorrect"
        );

        // a role that may not log in
        let admin = login(&cluster, "cassandra", "cassandra").await.unwrap();
        admin
            .query_unpaged("CREATE ROLE app WITH PASSWORD = 'pw' AND LOGIN = false", ())
            .await
            .unwrap();
        let err = login(&cluster, "app", "pw").await.unwrap_err();
        assert_eq!(
            auth_errors(&err),
            [(
                ErrorCode::BAD_CREDENTIALS,
                "app is not permitted to log in".to_owned()
            )]
        );
        admin
            .query_unpaged("ALTER ROLE app WITH LOGIN = true", ())
            .await
            .unwrap();
        login(&cluster, "app", "pw")
            .await
            .expect("app logs in once LOGIN = true");

        // no credentials configured: the driver refuses before sending any
        let err = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .connection_timeout(Duration::from_secs(5))
            .build()
            .await
            .unwrap_err();
        let NewSessionError::Connect(NewClusterError::AllNodesFailed(f)) = &err else {
            panic!("{err:?}")
        };
        assert!(
            matches!(&f[0].1, ConnectionError::Auth(m) if m.contains("PasswordAuthenticator")),
            "{err:?}"
        );
        cluster.shutdown();
    })
    .await;
}

#[tokio::test]
async fn a_role_without_select_is_unauthorized_until_granted() {
    common::bounded(LIMIT, async {
        let cluster = auth_cluster().await;
        let admin = login(&cluster, "cassandra", "cassandra").await.unwrap();
        common::create_ks_t(&admin, 2).await;
        admin
            .query_unpaged("INSERT INTO ks.t (pk, ck, v) VALUES (1, 1, 'one')", ())
            .await
            .unwrap();
        admin
            .query_unpaged(
                "CREATE ROLE reader WITH PASSWORD = 'r' AND LOGIN = true",
                (),
            )
            .await
            .unwrap();

        // the driver reads its metadata (system, system_schema) as a plain role
        let reader = login(&cluster, "reader", "r")
            .await
            .expect("reader connects");
        let err = reader
            .query_unpaged("SELECT v FROM ks.t WHERE pk = 1", ())
            .await
            .unwrap_err();
        assert!(
            matches!(err.db_error(), Some(DbError::Unauthorized)),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(
                "User reader has no SELECT permission on <table ks.t> or any of its parents"
            ),
            "{err}"
        );
        let err = reader.prepare("SELECT v FROM ks.t WHERE pk = ?").await;
        let prepared = err.expect("PREPARE needs no permission, as in Cassandra");
        let err = reader.execute_unpaged(&prepared, (1,)).await.unwrap_err();
        assert!(
            matches!(err.db_error(), Some(DbError::Unauthorized)),
            "{err:?}"
        );

        admin
            .query_unpaged("GRANT SELECT ON KEYSPACE ks TO reader", ())
            .await
            .unwrap();
        let rows = reader
            .execute_unpaged(&prepared, (1,))
            .await
            .expect("allowed after GRANT")
            .into_rows_result()
            .unwrap();
        let got: Vec<(String,)> = rows
            .rows::<(String,)>()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, [("one".to_owned(),)]);
        // SELECT does not allow writes
        let err = reader
            .query_unpaged("INSERT INTO ks.t (pk, ck, v) VALUES (2, 2, 'two')", ())
            .await
            .unwrap_err();
        assert!(
            matches!(err.db_error(), Some(DbError::Unauthorized)),
            "{err:?}"
        );
        cluster.shutdown();
    })
    .await;
}
