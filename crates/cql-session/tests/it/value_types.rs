//! The value types of the `scylla` crate's parity list against a `cql-sim` cluster: the dynamic
//! [`RowBuilder`], `MaybeUnset`, `CqlTimeuuid`, byte arrays, `Cow`/`Arc`, and (with their
//! features) chrono, time, num-bigint, bigdecimal and secrecy values written and read back.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use cql_session::Session;
use cql_session::statement::row_builder::{RowBuilder, RowBuilderError};
use cql_session::value::{CqlTimeuuid, CqlValue, MaybeUnset};
use cql_sim::SimCluster;
use uuid::Uuid;

use crate::common;

const LIMIT: Duration = Duration::from_secs(20);

async fn start() -> (SimCluster, Session) {
    let cluster = SimCluster::builder().nodes(1).start().await.expect("sim");
    let session = common::connect(cluster.contact_point()).await;
    session
        .query_unpaged(
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', \
             'replication_factor': 1}",
            (),
        )
        .await
        .expect("keyspace");
    session
        .query_unpaged(
            "CREATE TABLE ks.v (pk int PRIMARY KEY, s text, n int, tu timeuuid, b blob, \
             d date, tm time, ts timestamp, vi varint, de decimal)",
            (),
        )
        .await
        .expect("table");
    (cluster, session)
}

/// A version 1 uuid with this timestamp.
fn timeuuid(ts: u64) -> CqlTimeuuid {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&((ts & 0xFFFF_FFFF) as u32).to_be_bytes());
    b[4..6].copy_from_slice(&(((ts >> 32) & 0xFFFF) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((ts >> 48) & 0x0FFF) as u16) | 0x1000).to_be_bytes());
    b[8] = 0x80;
    CqlTimeuuid::from_bytes(b)
}

#[tokio::test]
async fn row_builder_by_index_and_name_end_to_end() {
    tokio::time::timeout(LIMIT, async {
        let (_cluster, session) = start().await;
        let insert = session
            .prepare("INSERT INTO ks.v (pk, s, n) VALUES (?, ?, ?)")
            .await
            .expect("prepare");
        let mut row = RowBuilder::new(&insert);
        assert!(!row.is_complete());
        // Missing values fail before anything is sent.
        let err = session.execute_unpaged(&insert, &row).await.unwrap_err();
        assert!(err.to_string().contains("pk"), "{err}");

        row.set_by_name("s", Some(CqlValue::Text("hello".into())))
            .unwrap()
            .set_by_index(0, Some(CqlValue::Int(1)))
            .unwrap()
            .set_by_name("n", None)
            .unwrap();
        assert!(row.is_complete());
        session
            .execute_unpaged(&insert, &row)
            .await
            .expect("insert");

        // Type checking against the server's types, naming the marker and both types.
        let err = row
            .set_by_name("n", Some(CqlValue::Text("x".into())))
            .unwrap_err();
        match &err {
            RowBuilderError::TypeMismatch {
                index: 2,
                name,
                cql_type,
                value_kind,
                ..
            } => {
                assert_eq!(name, "n");
                assert_eq!(cql_type, "int");
                assert_eq!(*value_kind, "text");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("`n`"), "{err}");
        assert!(matches!(
            row.set_by_name("nope", None),
            Err(RowBuilderError::NoSuchName { .. })
        ));
        assert!(matches!(
            row.set_by_index(3, None),
            Err(RowBuilderError::NoSuchIndex { index: 3, count: 3 })
        ));

        // Unset leaves the column as it is.
        let mut update = RowBuilder::new(&insert);
        update
            .set_by_index(0, Some(CqlValue::Int(1)))
            .unwrap()
            .set_unset_by_name("s")
            .unwrap()
            .set_by_index(2, Some(CqlValue::Int(7)))
            .unwrap();
        session
            .execute_unpaged(&insert, update)
            .await
            .expect("update");

        let rows =
            common::rows::<(String, Option<i32>)>(&session, "SELECT s, n FROM ks.v WHERE pk = 1")
                .await;
        assert_eq!(rows, vec![("hello".to_owned(), Some(7))]);

        // A builder made for another statement is refused.
        let other = session
            .prepare("INSERT INTO ks.v (pk, s, b) VALUES (?, ?, ?)")
            .await
            .unwrap();
        let err = session.execute_unpaged(&other, &row).await.unwrap_err();
        assert!(err.to_string().contains("other bind markers"), "{err}");
    })
    .await
    .expect("bounded");
}

#[tokio::test]
async fn maybe_unset_timeuuid_arrays_and_pointers_round_trip() {
    tokio::time::timeout(LIMIT, async {
        let (_cluster, session) = start().await;
        let insert = session
            .prepare("INSERT INTO ks.v (pk, s, tu, b) VALUES (?, ?, ?, ?)")
            .await
            .unwrap();
        let tu = timeuuid(0x0000_0002_0000_0000);
        session
            .execute_unpaged(&insert, (1i32, Cow::Borrowed("kept"), tu, [1u8, 2, 3]))
            .await
            .unwrap();
        session
            .execute_unpaged(
                &insert,
                (
                    1i32,
                    MaybeUnset::<&str>::Unset,
                    Arc::new(tu),
                    MaybeUnset::Set(vec![9u8]),
                ),
            )
            .await
            .unwrap();
        let result = session
            .query_unpaged("SELECT s, tu, b FROM ks.v WHERE pk = 1", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        let (s, back, b) = result
            .single_row::<(Arc<str>, CqlTimeuuid, [u8; 1])>()
            .unwrap();
        assert_eq!(&*s, "kept");
        assert_eq!(back, tu);
        assert_eq!(b, [9]);
        // A wrong-length array is a typed error, not a panic.
        let err = result.single_row::<(String, Uuid, [u8; 2])>().unwrap_err();
        assert!(err.to_string().contains("[u8; 2]"), "{err}");

        // Typed values are checked before sending.
        let err = session
            .execute_unpaged(&insert, (1i32, "x", Uuid::new_v4(), [0u8; 1]))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("version 1"), "{err}");
    })
    .await
    .expect("bounded");
}

#[cfg(all(
    feature = "chrono-04",
    feature = "time-03",
    feature = "num-bigint-04",
    feature = "bigdecimal-04",
    feature = "secrecy-08"
))]
#[tokio::test]
async fn feature_types_round_trip_through_the_sim() {
    use std::str::FromStr;

    use bigdecimal_04::BigDecimal;
    use chrono_04::{DateTime, NaiveDate, NaiveTime, Utc};
    use num_bigint_04::BigInt;
    use secrecy_08::{ExposeSecret, Secret};

    tokio::time::timeout(LIMIT, async {
        let (_cluster, session) = start().await;
        let insert = session
            .prepare("INSERT INTO ks.v (pk, s, d, tm, ts, vi, de) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .await
            .unwrap();
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let time = NaiveTime::from_hms_nano_opt(13, 14, 15, 123_456_789).unwrap();
        let ts = DateTime::<Utc>::from_timestamp_millis(1_700_000_000_123).unwrap();
        let big = BigInt::from_str("-123456789012345678901234567890").unwrap();
        let dec = BigDecimal::from_str("-12.345").unwrap();
        session
            .execute_unpaged(
                &insert,
                (
                    1i32,
                    Secret::new("pw".to_owned()),
                    date,
                    time,
                    ts,
                    big.clone(),
                    dec.clone(),
                ),
            )
            .await
            .unwrap();
        let result = session
            .query_unpaged("SELECT s, d, tm, ts, vi, de FROM ks.v WHERE pk = 1", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        type Chrono = (
            Secret<String>,
            NaiveDate,
            NaiveTime,
            DateTime<Utc>,
            BigInt,
            BigDecimal,
        );
        let (s, d, tm, t, vi, de) = result.single_row::<Chrono>().unwrap();
        assert_eq!(s.expose_secret(), "pw");
        assert_eq!((d, tm, t), (date, time, ts));
        assert_eq!(vi, big);
        assert_eq!(de, dec);
        // The same columns read as time 0.3 values.
        type Time03 = (
            String,
            time_03::Date,
            time_03::Time,
            time_03::OffsetDateTime,
            CqlValue,
            CqlValue,
        );
        let (_, d3, tm3, t3, _, _) = result.single_row::<Time03>().unwrap();
        assert_eq!(d3.to_string(), "2024-02-29");
        assert_eq!(tm3.nanosecond(), 123_456_789);
        assert_eq!(t3.unix_timestamp_nanos(), 1_700_000_000_123_000_000);
    })
    .await
    .expect("bounded");
}
