//! Roles and permissions over the wire: each failing login with Cassandra's AuthenticationError
//! message, role statements and their result columns, `system_auth` rows, and permission checks
//! with Cassandra's Unauthorized messages.

use bytes::Bytes;
use cql_sim::SimCluster;
use cql_testkit::RawClient;
use cql_testkit::query::*;
use proto::request::{AuthResponse, Request};
use proto::response::{Response, ResultBody};
use proto::{ColumnType, CqlValue, ErrorCode};

async fn auth_cluster() -> SimCluster {
    SimCluster::builder()
        .auth("cassandra", "cassandra")
        .start()
        .await
        .unwrap()
}

/// A connection after STARTUP, answering AUTH_RESPONSE with `token`.
async fn login(cluster: &SimCluster, token: &[u8]) -> (RawClient, Response) {
    let mut c = RawClient::connect(cluster.contact_point()).await.unwrap();
    let r = c.startup(None).await;
    assert!(matches!(r, Response::Authenticate { .. }), "{r:?}");
    let r = c
        .request(&Request::AuthResponse(AuthResponse {
            token: Some(Bytes::copy_from_slice(token)),
        }))
        .await
        .response;
    (c, r)
}

async fn logged_in(cluster: &SimCluster, user: &str, pass: &str) -> RawClient {
    let (c, r) = login(cluster, format!("\0{user}\0{pass}").as_bytes()).await;
    assert!(matches!(r, Response::AuthSuccess { .. }), "{user}: {r:?}");
    c
}

fn error(r: &Response) -> (ErrorCode, &str) {
    match r {
        Response::Error(e) => (e.code, e.message.as_str()),
        other => panic!("expected an error, got {other:?}"),
    }
}

fn texts(r: &Response) -> Vec<Vec<String>> {
    values(r)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|v| match v {
                    Some(CqlValue::Text(s)) => s,
                    Some(CqlValue::Boolean(b)) => b.to_string(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn failed_logins_answer_cassandras_authentication_errors() {
    let cluster = auth_cluster().await;
    let mut admin = logged_in(&cluster, "cassandra", "cassandra").await;
    admin
        .ok("CREATE ROLE nologin WITH PASSWORD = 'pw' AND LOGIN = false")
        .await;
    admin.ok("CREATE ROLE nopass WITH LOGIN = true").await;
    let cases: [(&[u8], &str); 7] = [
        (
            b"\0cassandra\0wrong",
            "Provided username cassandra and/or password are incorrect",
        ),
        (
            b"\0ghost\0pw",
            "Provided username ghost and/or password are incorrect",
        ),
        (
            b"\0nopass\0pw",
            "Provided username nopass and/or password are incorrect",
        ),
        (b"\0nologin\0pw", "nologin is not permitted to log in"),
        (b"\0\0", "Password must not be null"),
        (b"\0cassandra\0", "Password must not be null"),
        (
            b"a\0b\0c\0d",
            "Credential format error: username or password is empty or contains NUL(\\0) character",
        ),
    ];
    for (token, message) in cases {
        let (_, r) = login(&cluster, token).await;
        assert_eq!(
            error(&r),
            (ErrorCode::BAD_CREDENTIALS, message),
            "{:?}",
            String::from_utf8_lossy(token)
        );
    }
    let (_, r) = login(&cluster, b"\0\0pw").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::BAD_CREDENTIALS,
            "Authentication ID must not be null"
        )
    );
}

#[tokio::test]
async fn roles_are_created_listed_altered_and_dropped() {
    let cluster = auth_cluster().await;
    let mut admin = logged_in(&cluster, "cassandra", "cassandra").await;
    admin
        .ok("CREATE ROLE alice WITH PASSWORD = 'a' AND LOGIN = true")
        .await;
    admin.ok("CREATE ROLE readers").await;
    admin
        .ok("CREATE USER bob WITH PASSWORD 'b' NOSUPERUSER")
        .await;
    admin.ok("GRANT readers TO alice").await;
    let r = admin.query("CREATE ROLE alice").await;
    assert_eq!(error(&r), (ErrorCode::INVALID, "alice already exists"));
    admin.ok("CREATE ROLE IF NOT EXISTS alice").await;
    let r = admin.query("CREATE ROLE x WITH OPTIONS = {'a': 'b'}").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::INVALID,
            "org.apache.cassandra.auth.CassandraRoleManager doesn't support OPTIONS"
        )
    );

    let r = admin.ok("LIST ROLES").await;
    let cols: Vec<(String, ColumnType)> = rows(&r)
        .metadata
        .col_specs
        .iter()
        .map(|c| (c.name.to_string(), c.typ.clone()))
        .collect();
    assert_eq!(
        cols,
        [
            ("role".into(), ColumnType::Text),
            ("super".into(), ColumnType::Boolean),
            ("login".into(), ColumnType::Boolean),
            (
                "options".into(),
                ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::Text))
            ),
        ]
    );
    let listed: Vec<Vec<String>> = texts(&r).into_iter().map(|r| r[..3].to_vec()).collect();
    assert_eq!(
        listed,
        [
            ["alice", "false", "true"],
            ["bob", "false", "true"],
            ["cassandra", "true", "true"],
            ["readers", "false", "false"],
        ]
    );
    let r = admin.ok("LIST ROLES OF alice").await;
    assert_eq!(column(&r, "role").len(), 2, "alice and readers");
    let r = admin.ok("LIST USERS").await;
    assert_eq!(
        texts(&r),
        [["alice", "false"], ["bob", "false"], ["cassandra", "true"]]
    );

    // system_auth holds the rows, with a hash instead of the password
    let r = admin
        .ok("SELECT role, can_login, member_of, salted_hash FROM system_auth.roles WHERE role = 'alice'")
        .await;
    let v = values(&r);
    assert_eq!(v[0][1], Some(CqlValue::Boolean(true)));
    assert_eq!(
        v[0][2],
        Some(CqlValue::Set(vec![CqlValue::Text("readers".into())]))
    );
    let Some(CqlValue::Text(hash)) = &v[0][3] else {
        panic!("{v:?}")
    };
    assert!(!hash.is_empty() && hash != "a", "{hash}");
    let r = admin
        .ok("SELECT role, member FROM system_auth.role_members")
        .await;
    assert_eq!(texts(&r), [["readers", "alice"]]);

    // ALTER ROLE changes the password; the old one stops working
    admin.ok("ALTER ROLE alice WITH PASSWORD = 'a2'").await;
    let (_, r) = login(&cluster, b"\0alice\0a").await;
    assert_eq!(error(&r).0, ErrorCode::BAD_CREDENTIALS);
    logged_in(&cluster, "alice", "a2").await;
    admin.ok("ALTER USER bob WITH PASSWORD 'b2'").await;
    logged_in(&cluster, "bob", "b2").await;

    admin.ok("REVOKE readers FROM alice").await;
    let r = admin.query("REVOKE readers FROM alice").await;
    assert_eq!(
        error(&r),
        (ErrorCode::INVALID, "alice is not a member of readers")
    );
    admin.ok("DROP ROLE readers").await;
    admin.ok("DROP ROLE IF EXISTS readers").await;
    let r = admin.query("DROP ROLE readers").await;
    assert_eq!(error(&r), (ErrorCode::INVALID, "readers doesn't exist"));
    let r = admin.query("DROP USER cassandra").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::INVALID,
            "Cannot DROP primary role for current login"
        )
    );
    admin.ok("DROP USER bob").await;
    let (_, r) = login(&cluster, b"\0bob\0b2").await;
    assert_eq!(error(&r).0, ErrorCode::BAD_CREDENTIALS);
}

#[tokio::test]
async fn permissions_are_checked_on_tables_keyspaces_and_through_roles() {
    let cluster = auth_cluster().await;
    let mut admin = logged_in(&cluster, "cassandra", "cassandra").await;
    admin
        .ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        .await;
    admin
        .ok("CREATE TABLE ks.t (k int PRIMARY KEY, v int)")
        .await;
    admin
        .ok("CREATE TABLE ks.u (k int PRIMARY KEY, v int)")
        .await;
    admin
        .ok("CREATE ROLE alice WITH PASSWORD = 'a' AND LOGIN = true")
        .await;
    admin.ok("CREATE ROLE readers").await;
    let mut alice = logged_in(&cluster, "alice", "a").await;

    // metadata stays readable
    alice.ok("SELECT * FROM system.local").await;
    alice.ok("SELECT * FROM system_schema.tables").await;

    let r = alice.query("SELECT * FROM ks.t").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::UNAUTHORIZED,
            "User alice has no SELECT permission on <table ks.t> or any of its parents"
        )
    );
    let r = alice.query("INSERT INTO ks.t (k, v) VALUES (1, 1)").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::UNAUTHORIZED,
            "User alice has no MODIFY permission on <table ks.t> or any of its parents"
        )
    );
    let r = alice.query("SELECT * FROM system_auth.roles").await;
    assert_eq!(error(&r).0, ErrorCode::UNAUTHORIZED);

    // a table grant covers that table only
    admin.ok("GRANT SELECT ON TABLE ks.t TO alice").await;
    alice.ok("SELECT * FROM ks.t").await;
    assert_eq!(
        error(&alice.query("SELECT * FROM ks.u").await).0,
        ErrorCode::UNAUTHORIZED
    );
    // a keyspace grant, through a granted role, covers its tables
    admin.ok("GRANT MODIFY ON KEYSPACE ks TO readers").await;
    admin.ok("GRANT readers TO alice").await;
    alice.ok("INSERT INTO ks.u (k, v) VALUES (1, 1)").await;
    admin.ok("REVOKE readers FROM alice").await;
    assert_eq!(
        error(&alice.query("INSERT INTO ks.u (k, v) VALUES (1, 1)").await).0,
        ErrorCode::UNAUTHORIZED
    );

    // schema changes need CREATE/DROP; the creator gets every permission on what it created
    let r = alice
        .query("CREATE KEYSPACE ks2 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        .await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::UNAUTHORIZED,
            "User alice has no CREATE permission on <all keyspaces> or any of its parents"
        )
    );
    admin.ok("GRANT CREATE ON ALL KEYSPACES TO alice").await;
    alice
        .ok("CREATE KEYSPACE ks2 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        .await;
    alice.ok("CREATE TABLE ks2.t (k int PRIMARY KEY)").await;
    alice.ok("INSERT INTO ks2.t (k) VALUES (1)").await;
    alice.ok("DROP TABLE ks2.t").await;
    // an index needs ALTER on its table, to create and to drop
    admin.ok("CREATE INDEX v_idx ON ks.u (v)").await;
    let r = alice.query("DROP INDEX ks.v_idx").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::UNAUTHORIZED,
            "User alice has no ALTER permission on <table ks.u> or any of its parents"
        )
    );
    let r = alice.query("CREATE INDEX ON ks.u (k)").await;
    assert_eq!(error(&r).0, ErrorCode::UNAUTHORIZED);
    let r = alice.query("DROP TABLE ks.t").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::UNAUTHORIZED,
            "User alice has no DROP permission on <table ks.t> or any of its parents"
        )
    );

    let r = admin.ok("LIST ALL PERMISSIONS OF alice").await;
    let cols: Vec<String> = rows(&r)
        .metadata
        .col_specs
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(cols, ["role", "username", "resource", "permission"]);
    let got: Vec<Vec<String>> = texts(&r)
        .into_iter()
        .filter(|r| r[2] != "<role alice>")
        .map(|r| r[2..].to_vec())
        .collect();
    let want: Vec<[&str; 2]> = vec![
        ["<all keyspaces>", "CREATE"],
        ["<table ks.t>", "SELECT"],
        ["<keyspace ks2>", "CREATE"],
        ["<keyspace ks2>", "ALTER"],
        ["<keyspace ks2>", "DROP"],
        ["<keyspace ks2>", "SELECT"],
        ["<keyspace ks2>", "MODIFY"],
        ["<keyspace ks2>", "AUTHORIZE"],
    ];
    assert_eq!(got, want);
    let r = admin
        .ok("SELECT resource, permissions FROM system_auth.role_permissions WHERE role = 'alice' AND resource = 'data/ks/t'")
        .await;
    assert_eq!(
        values(&r),
        [[
            Some(CqlValue::Text("data/ks/t".into())),
            Some(CqlValue::Set(vec![CqlValue::Text("SELECT".into())]))
        ]]
    );
    let r = alice.query("LIST ALL PERMISSIONS").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::UNAUTHORIZED,
            "You are not authorized to view everyone's permissions"
        )
    );
    // permissions a resource does not have are refused
    let r = admin.query("GRANT CREATE ON TABLE ks.t TO alice").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::SYNTAX_ERROR,
            "Resource type DataResource does not support any of the requested permissions"
        )
    );
    // and only superusers or holders of AUTHORIZE may grant
    let r = alice.query("GRANT SELECT ON TABLE ks.u TO alice").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::UNAUTHORIZED,
            "User alice has no AUTHORIZE permission on <table ks.u> or any of its parents"
        )
    );
    // role management as a plain role
    alice.ok("ALTER ROLE alice WITH PASSWORD = 'a3'").await;
    let denied = [
        (
            "ALTER ROLE alice WITH LOGIN = false",
            "You aren't allowed to alter LOGIN",
        ),
        (
            "ALTER ROLE alice WITH SUPERUSER = true",
            "You aren't allowed to alter your own superuser status or that of a role granted to you",
        ),
        (
            "ALTER ROLE readers WITH LOGIN = true",
            "User alice has no ALTER permission on <role readers> or any of its parents",
        ),
        (
            "CREATE ROLE x",
            "User alice has no CREATE permission on <all roles> or any of its parents",
        ),
        (
            "DROP ROLE cassandra",
            "User alice has no DROP permission on <role cassandra> or any of its parents",
        ),
    ];
    for (q, message) in denied {
        assert_eq!(
            error(&alice.query(q).await),
            (ErrorCode::UNAUTHORIZED, message),
            "{q}"
        );
    }
    admin.ok("REVOKE SELECT ON ks.t FROM alice").await;
    assert_eq!(
        error(&alice.query("SELECT * FROM ks.t").await).0,
        ErrorCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_authentication_role_statements_are_refused_as_cassandra_does() {
    let cluster = SimCluster::builder().start().await.unwrap();
    let mut c = RawClient::ready(cluster.contact_point()).await;
    let r = c.query("CREATE ROLE alice WITH LOGIN = true").await;
    assert_eq!(
        error(&r),
        (ErrorCode::UNAUTHORIZED, "You have not logged in")
    );
    let r = c.query("CREATE ROLE alice WITH PASSWORD = 'x'").await;
    assert_eq!(
        error(&r),
        (
            ErrorCode::INVALID,
            "org.apache.cassandra.auth.CassandraRoleManager doesn't support PASSWORD"
        )
    );
    let r = c.query("LIST ROLES").await;
    assert_eq!(
        error(&r),
        (ErrorCode::UNAUTHORIZED, "You have not logged in")
    );
    // the tables exist, empty
    let r = c.ok("SELECT * FROM system_auth.roles").await;
    assert!(matches!(&r, Response::Result(ResultBody::Rows(rs)) if rs.rows_count == 0));
}
