//! The derives through a real `Session`, against a `cql-sim` cluster: bound
//! values from a derived row struct (with a UDT field), rows read back into it.

use std::time::Duration;

use cql_session::response::query_result::RowsError;
use cql_session::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
use cql_session::{Session, SessionBuilder};
use cql_sim::SimCluster;

/// Every test is bounded: a hung request fails the test instead of hanging it.
const LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Address {
    street: String,
    #[cql(rename = "zip_code")]
    zip: i32,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
struct Person {
    id: i32,
    #[cql(rename = "full_name")]
    name: String,
    home: Option<Address>,
    #[cql(skip)]
    cached: bool,
}

#[derive(Debug, PartialEq, DeserializeRow)]
struct NameOnly<'a> {
    #[cql(rename = "full_name")]
    name: &'a str,
}

async fn setup(session: &Session) {
    for cql in [
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TYPE ks.address (zip_code int, street text)",
        "CREATE TABLE ks.people (id int PRIMARY KEY, full_name text, home frozen<address>)",
    ] {
        session.query_unpaged(cql, ()).await.unwrap();
    }
}

#[tokio::test]
async fn derived_rows_and_udts_round_trip_through_a_session() {
    tokio::time::timeout(LIMIT, async {
        let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
        let session = SessionBuilder::new()
            .known_node(cluster.contact_point().to_string())
            .build()
            .await
            .expect("connect");
        setup(&session).await;

        let ann = Person {
            id: 1,
            name: "Ann".to_owned(),
            home: Some(Address {
                street: "Elm".to_owned(),
                zip: 12345,
            }),
            cached: false,
        };
        let bob = Person {
            id: 2,
            name: "Bob".to_owned(),
            home: None,
            cached: false,
        };
        // Markers in another order than the struct's fields: matched by name.
        let insert = session
            .prepare("INSERT INTO ks.people (home, full_name, id) VALUES (?, ?, ?)")
            .await
            .unwrap();
        session.execute_unpaged(&insert, &ann).await.unwrap();
        // Unprepared with values: prepared under the hood, then the same derive.
        session
            .query_unpaged(
                "INSERT INTO ks.people (id, full_name, home) VALUES (?, ?, ?)",
                &bob,
            )
            .await
            .unwrap();

        let select = session
            .prepare("SELECT id, full_name, home FROM ks.people WHERE id = ?")
            .await
            .unwrap();
        for want in [&ann, &bob] {
            let result = session.execute_unpaged(&select, (want.id,)).await.unwrap();
            let got: Person = result.into_rows_result().unwrap().single_row().unwrap();
            assert_eq!(&got, want);
        }

        let result = session
            .query_unpaged("SELECT full_name FROM ks.people WHERE id = 1", ())
            .await
            .unwrap();
        let rows = result.into_rows_result().unwrap();
        let only: NameOnly<'_> = rows.single_row().unwrap();
        assert_eq!(only.name, "Ann");
        // `Person` needs columns the result does not have.
        assert!(matches!(
            rows.rows::<Person>(),
            Err(RowsError::TypeCheckFailed(_))
        ));

        // A struct whose field the statement has no marker for is refused before sending.
        #[derive(SerializeRow)]
        struct Extra {
            id: i32,
            full_name: String,
            nickname: String,
        }
        let extra = Extra {
            id: 3,
            full_name: "C".to_owned(),
            nickname: "c".to_owned(),
        };
        let err = session
            .query_unpaged(
                "INSERT INTO ks.people (id, full_name) VALUES (?, ?)",
                &extra,
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("nickname"), "{err}");
    })
    .await
    .expect("test timed out");
}
