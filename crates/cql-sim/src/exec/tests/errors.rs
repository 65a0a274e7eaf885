//! Engine errors and their server error codes.

use super::*;

#[test]
fn errors_map_to_server_codes() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE t (a int, b int, c int, v int, PRIMARY KEY ((a, b), c))");
    assert_eq!(s.err("SELEC * FROM t").code(), 0x2000);
    assert_eq!(
        s.err("SELECT * FROM nope").to_string(),
        "unconfigured table nope"
    );
    assert_eq!(
        s.err("SELECT * FROM nope.t").to_string(),
        "Keyspace nope does not exist"
    );
    assert_eq!(
        s.err("SELECT x FROM t").to_string(),
        "Undefined column name x"
    );
    assert_eq!(
        s.err("SELECT * FROM t WHERE a = 1").to_string(),
        "Some partition key parts are missing: b"
    );
    assert_eq!(
        s.err("INSERT INTO t (a, c) VALUES (1, 1)").to_string(),
        "Some partition key parts are missing: b"
    );
    assert_eq!(
        s.err("INSERT INTO t (a, b, c, v) VALUES (1, 1, 1, 'text')")
            .code(),
        0x2200
    );
    let e = s.err("CREATE TABLE t (k int PRIMARY KEY)");
    assert_eq!(e.code(), 0x2400);
    assert!(
        matches!(e, CqlError::AlreadyExists { ref keyspace, ref table, .. } if keyspace == "ks" && table == "t")
    );
    assert_eq!(s.err("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").code(), 0x2400);
    assert_eq!(
        s.err("CREATE KEYSPACE k2 WITH replication = {'class': 'Bogus'}")
            .code(),
        0x2300
    );
    assert_eq!(
        s.err("CREATE TABLE system_schema.x (k int PRIMARY KEY)")
            .code(),
        0x2100
    );
    assert_eq!(s.err("USE nope").code(), 0x2200);
    assert!(matches!(s.ok("USE ks"), Outcome::SetKeyspace(ref k) if k == "ks"));
}
