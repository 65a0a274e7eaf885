//! CQL types: every native type, nulls and unset, collections, nested frozen collections,
//! user-defined types and tuples, round-tripped through bind markers and literals.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use cql_integration::{TestKeyspace, exec, prepare, query_rows, rows_of, session};
use proto::value::Unset;
use session::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint, Row,
};
use uuid::Uuid;

const NATIVE_COLUMNS: &str = "k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, \
     d date, de decimal, db double, du duration, f float, i inet, si smallint, t text, \
     ti time, ts timestamp, tu timeuuid, tt tinyint, u uuid, vi varint";
const NATIVE_NAMES: &str = "a, b, bl, bo, d, de, db, du, f, i, si, t, ti, ts, tu, tt, u, vi";

fn native_values() -> Vec<CqlValue> {
    vec![
        CqlValue::Ascii("plain ascii".into()),
        CqlValue::BigInt(-9_007_199_254_740_993),
        CqlValue::Blob(vec![0, 1, 2, 0xfe, 0xff]),
        CqlValue::Boolean(true),
        CqlValue::Date(CqlDate::parse("2024-02-29").unwrap()),
        CqlValue::Decimal(CqlDecimal::parse("-12345.6789").unwrap()),
        CqlValue::Double(std::f64::consts::PI),
        CqlValue::Duration(CqlDuration::parse("1mo2d3h4m5s6ms").unwrap()),
        CqlValue::Float(-1.5),
        CqlValue::Inet("::ffff:10.1.2.3".parse().unwrap()),
        CqlValue::SmallInt(-32768),
        CqlValue::Text("zażółć gęślą jaźń 🦀".into()),
        CqlValue::Time(CqlTime::parse("13:14:15.123456789").unwrap()),
        CqlValue::Timestamp(CqlTimestamp(1_709_210_096_789)),
        CqlValue::Timeuuid(
            Uuid::parse_str("8e14e760-7fa8-11eb-bc66-000000000001")
                .unwrap()
                .into(),
        ),
        CqlValue::TinyInt(-128),
        CqlValue::Uuid(Uuid::parse_str("2e8b7f0e-1a4c-4c3d-9a51-5b3fa1c2d4e6").unwrap()),
        CqlValue::Varint(CqlVarint::parse("-123456789012345678901234567890").unwrap()),
    ]
}

/// Varints and decimals may come back with a different (minimal) byte form: compare their
/// text; everything else compares exactly.
fn same(a: &CqlValue, b: &CqlValue) -> bool {
    match (a, b) {
        (CqlValue::Varint(_), CqlValue::Varint(_))
        | (CqlValue::Decimal(_), CqlValue::Decimal(_)) => a.to_string() == b.to_string(),
        _ => a == b,
    }
}

fn assert_same_row(got: &[Option<CqlValue>], expected: &[CqlValue]) {
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let g = g
            .as_ref()
            .unwrap_or_else(|| panic!("column {i} is null, expected {e:?}"));
        assert!(same(g, e), "column {i}: got {g:?}, expected {e:?}");
    }
}

#[tokio::test]
async fn every_native_type_round_trips_through_bind_markers() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "tnative", 1).await;
    let t = ks
        .create_table(&s, "t", &format!("({NATIVE_COLUMNS})"))
        .await;
    let insert = prepare(&s, format!(
            "INSERT INTO {t} (k, {NATIVE_NAMES}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )).await;
    let mut values = vec![CqlValue::Int(1)];
    values.extend(native_values());
    s.execute_unpaged(&insert, &values).await.unwrap();
    let rows: Vec<Row> = query_rows(
        &s,
        format!("SELECT {NATIVE_NAMES} FROM {t} WHERE k = 1"),
        (),
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_same_row(&rows[0].columns, &native_values());
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn native_literals_read_as_rust_types() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "tliteral", 1).await;
    let t = ks
        .create_table(&s, "t", &format!("({NATIVE_COLUMNS})"))
        .await;
    exec(
        &s,
        &format!(
            "INSERT INTO {t} (k, tt, si, b, f, db, bo, t, bl, u, i, d, ti, ts, du) VALUES \
             (2, 127, 32767, 9223372036854775807, 0.25, -2.5, false, 'it''s', 0xcafe, \
             2e8b7f0e-1a4c-4c3d-9a51-5b3fa1c2d4e6, '192.168.0.1', '1970-01-02', '00:00:01', \
             '2024-02-29T12:34:56.789Z', 1h30m)"
        ),
    )
    .await;
    type Natives = (
        i8,
        i16,
        i64,
        f32,
        f64,
        bool,
        String,
        Vec<u8>,
        Uuid,
        IpAddr,
        CqlDate,
        CqlTime,
        CqlTimestamp,
        CqlDuration,
    );
    let rows: Vec<Natives> = query_rows(
        &s,
        format!("SELECT tt, si, b, f, db, bo, t, bl, u, i, d, ti, ts, du FROM {t} WHERE k = 2"),
        (),
    )
    .await;
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.0, r.1, r.2), (127, 32767, i64::MAX));
    assert_eq!((r.3, r.4, r.5), (0.25, -2.5, false));
    assert_eq!(r.6, "it's");
    assert_eq!(r.7, vec![0xca, 0xfe]);
    assert_eq!(r.8.to_string(), "2e8b7f0e-1a4c-4c3d-9a51-5b3fa1c2d4e6");
    assert_eq!(r.9, "192.168.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(r.10, CqlDate::parse("1970-01-02").unwrap());
    assert_eq!(r.11, CqlTime(1_000_000_000));
    assert_eq!(r.12, CqlTimestamp(1_709_210_096_789));
    assert_eq!(r.13, CqlDuration::parse("1h30m").unwrap());
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn nulls_and_unset_values() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "tnull", 1).await;
    let t = ks
        .create_table(&s, "t", &format!("({NATIVE_COLUMNS})"))
        .await;
    exec(&s, &format!("INSERT INTO {t} (k) VALUES (1)")).await;
    let rows: Vec<Row> = query_rows(
        &s,
        format!("SELECT {NATIVE_NAMES} FROM {t} WHERE k = 1"),
        (),
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].columns.iter().all(Option::is_none), "{:?}", rows[0]);

    let update = prepare(&s, format!("UPDATE {t} SET t = ?, b = ? WHERE k = ?")).await;
    s.execute_unpaged(&update, (Some("set"), Some(5i64), 1))
        .await
        .unwrap();
    // Unset leaves `t` alone; None writes a null into `b`.
    s.execute_unpaged(&update, (Unset, None::<i64>, 1))
        .await
        .unwrap();
    let rows: Vec<(Option<String>, Option<i64>)> =
        query_rows(&s, format!("SELECT t, b FROM {t} WHERE k = 1"), ()).await;
    assert_eq!(rows, vec![(Some("set".to_owned()), None)]);
    // An empty string is a value, not a null.
    s.execute_unpaged(&update, ("", 0i64, 1)).await.unwrap();
    let rows: Vec<(Option<String>, Option<i64>)> =
        query_rows(&s, format!("SELECT t, b FROM {t} WHERE k = 1"), ()).await;
    assert_eq!(rows, vec![(Some(String::new()), Some(0))]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn collections_round_trip_and_update_in_place() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "tcoll", 1).await;
    let t = ks.table("t");
    exec(
        &s,
        &format!(
            "CREATE TABLE {t} (k int PRIMARY KEY, l list<int>, st set<text>, m map<text, int>)"
        ),
    )
    .await;
    let insert = prepare(
        &s,
        format!("INSERT INTO {t} (k, l, st, m) VALUES (?, ?, ?, ?)"),
    )
    .await;
    let set: BTreeSet<String> = ["b", "a", "c"].into_iter().map(String::from).collect();
    let map: BTreeMap<String, i32> = [("one".to_owned(), 1), ("two".to_owned(), 2)].into();
    s.execute_unpaged(&insert, (1, vec![3, 1, 2], &set, &map))
        .await
        .unwrap();
    type Colls = (Vec<i32>, BTreeSet<String>, BTreeMap<String, i32>);
    let rows: Vec<Colls> =
        query_rows(&s, format!("SELECT l, st, m FROM {t} WHERE k = 1"), ()).await;
    assert_eq!(rows, vec![(vec![3, 1, 2], set.clone(), map.clone())]);

    exec(
        &s,
        &format!(
            "UPDATE {t} SET l = l + [4], l = [0] + l, st = st - {{'a'}}, st = st + {{'z'}}, \
             m['three'] = 3, m = m - {{'one'}} WHERE k = 1"
        ),
    )
    .await;
    let rows: Vec<Colls> =
        query_rows(&s, format!("SELECT l, st, m FROM {t} WHERE k = 1"), ()).await;
    let expected_set: BTreeSet<String> = ["b", "c", "z"].into_iter().map(String::from).collect();
    let expected_map: BTreeMap<String, i32> =
        [("three".to_owned(), 3), ("two".to_owned(), 2)].into();
    assert_eq!(
        rows,
        vec![(vec![0, 3, 1, 2, 4], expected_set, expected_map)]
    );
    // The server keeps a set sorted and unique whatever order the client sent.
    let dynamic: Vec<Row> = query_rows(&s, format!("SELECT st FROM {t} WHERE k = 1"), ()).await;
    assert_eq!(
        dynamic[0].columns[0],
        Some(CqlValue::Set(vec![
            CqlValue::Text("b".into()),
            CqlValue::Text("c".into()),
            CqlValue::Text("z".into())
        ]))
    );
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn nested_frozen_collections() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "tnested", 1).await;
    let t = ks.table("t");
    exec(
        &s,
        &format!(
            "CREATE TABLE {t} (k frozen<list<int>> PRIMARY KEY, \
             v map<text, frozen<list<frozen<set<int>>>>>)"
        ),
    )
    .await;
    let value: BTreeMap<String, Vec<BTreeSet<i32>>> = [
        ("a".to_owned(), vec![[1, 2].into(), BTreeSet::new()]),
        ("b".to_owned(), vec![[3].into()]),
    ]
    .into();
    s.query_unpaged(
        format!("INSERT INTO {t} (k, v) VALUES (?, ?)"),
        (vec![1, 2, 3], &value),
    )
    .await
    .unwrap();
    type Nested = BTreeMap<String, Vec<BTreeSet<i32>>>;
    let rows: Vec<(Vec<i32>, Nested)> = query_rows(
        &s,
        format!("SELECT k, v FROM {t} WHERE k = ?"),
        (vec![1, 2, 3],),
    )
    .await;
    assert_eq!(rows, vec![(vec![1, 2, 3], value)]);
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn user_defined_types_round_trip() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "tudt", 1).await;
    let name = &ks.name;
    exec(
        &s,
        &format!("CREATE TYPE {name}.address (street text, zip int, tags frozen<set<text>>)"),
    )
    .await;
    let t = ks
        .create_table(
            &s,
            "t",
            "(k int PRIMARY KEY, home frozen<address>, others list<frozen<address>>)",
        )
        .await;
    exec(
        &s,
        &format!(
            "INSERT INTO {t} (k, home) VALUES (1, {{street: 'Main St', zip: 12345, tags: {{'x'}}}})"
        ),
    )
    .await;
    let udt = |street: &str, zip: Option<i32>| CqlValue::Udt {
        keyspace: name.clone(),
        name: "address".into(),
        fields: vec![
            ("street".into(), Some(CqlValue::Text(street.into()))),
            ("zip".into(), zip.map(CqlValue::Int)),
            ("tags".into(), None),
        ],
    };
    s.query_unpaged(
        format!("UPDATE {t} SET others = ? WHERE k = 1"),
        (CqlValue::List(vec![
            udt("Side St", Some(1)),
            udt("No Zip", None),
        ]),),
    )
    .await
    .unwrap();
    let rows: Vec<Row> =
        query_rows(&s, format!("SELECT home, others FROM {t} WHERE k = 1"), ()).await;
    let home = rows[0].columns[0].clone().expect("home is set");
    let CqlValue::Udt {
        name: type_name,
        fields,
        ..
    } = home
    else {
        panic!("home is not a UDT: {home:?}");
    };
    assert_eq!(type_name, "address");
    assert_eq!(
        fields,
        vec![
            ("street".to_owned(), Some(CqlValue::Text("Main St".into()))),
            ("zip".to_owned(), Some(CqlValue::Int(12345))),
            (
                "tags".to_owned(),
                Some(CqlValue::Set(vec![CqlValue::Text("x".into())]))
            ),
        ]
    );
    let others = rows[0].columns[1].clone().expect("others is set");
    assert_eq!(
        others,
        CqlValue::List(vec![udt("Side St", Some(1)), udt("No Zip", None)])
    );
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn tuples_round_trip_with_null_elements() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "ttuple", 1).await;
    let t = ks
        .create_table(
            &s,
            "t",
            "(k int PRIMARY KEY, v tuple<int, text, boolean>, w list<frozen<tuple<int, int>>>)",
        )
        .await;
    let v = CqlValue::Tuple(vec![
        Some(CqlValue::Int(7)),
        None,
        Some(CqlValue::Boolean(true)),
    ]);
    s.query_unpaged(format!("INSERT INTO {t} (k, v) VALUES (1, ?)"), (&v,))
        .await
        .unwrap();
    exec(
        &s,
        &format!("UPDATE {t} SET w = [(1, 2), (3, 4)] WHERE k = 1"),
    )
    .await;
    let rows: Vec<Row> = query_rows(&s, format!("SELECT v, w FROM {t} WHERE k = 1"), ()).await;
    assert_eq!(rows[0].columns[0], Some(v));
    let pair = |a, b| CqlValue::Tuple(vec![Some(CqlValue::Int(a)), Some(CqlValue::Int(b))]);
    assert_eq!(
        rows[0].columns[1],
        Some(CqlValue::List(vec![pair(1, 2), pair(3, 4)]))
    );
    ks.drop_keyspace(&s).await;
}

#[tokio::test]
async fn large_blob_and_text_values() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "tlarge", 1).await;
    let t = ks
        .create_table(&s, "t", "(k int PRIMARY KEY, b blob, s text)")
        .await;
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let text: String = "ß€𝄞".repeat(20_000);
    s.query_unpaged(
        format!("INSERT INTO {t} (k, b, s) VALUES (?, ?, ?)"),
        (1, &blob, &text),
    )
    .await
    .unwrap();
    let rows: Vec<(Vec<u8>, String)> = rows_of(
        s.query_unpaged(format!("SELECT b, s FROM {t} WHERE k = 1"), ())
            .await
            .unwrap(),
    );
    assert_eq!(rows.len(), 1);
    assert!(rows[0].0 == blob, "blob differs");
    assert!(rows[0].1 == text, "text differs");
    ks.drop_keyspace(&s).await;
}
