//! The derive features through a real `Session`, against a `cql-sim` cluster: an enum column
//! (by integer and by text), a transparent newtype column and a flattened row, inserted and
//! read back.

use std::time::Duration;

use cql_session::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
use cql_session::{Session, SessionBuilder};
use cql_sim::SimCluster;
use uuid::Uuid;

/// Every test is bounded: a hung request fails the test instead of hanging it.
const LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, SerializeValue, DeserializeValue)]
#[scylla(repr = "text", rename_all = "snake_case")]
enum Status {
    InProgress,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, SerializeValue, DeserializeValue)]
#[cql(repr = "tinyint")]
enum Priority {
    Low = 1,
    High = 3,
}

#[derive(Debug, Clone, Copy, PartialEq, SerializeValue, DeserializeValue)]
#[cql(transparent)]
struct OwnerId(Uuid);

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
struct Meta {
    status: Status,
    priority: Priority,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
#[scylla(crate = cql_session)]
struct Task {
    id: i32,
    owner: OwnerId,
    #[scylla(flatten)]
    meta: Meta,
    #[scylla(allow_missing)]
    note: Option<String>,
}

async fn connect(cluster: &SimCluster) -> Session {
    let session = SessionBuilder::new()
        .known_node(cluster.contact_point().to_string())
        .build()
        .await
        .expect("connect");
    for cql in [
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TABLE ks.tasks (id int PRIMARY KEY, owner uuid, status text, priority tinyint, note text)",
    ] {
        session.query_unpaged(cql, ()).await.unwrap();
    }
    session
}

#[tokio::test]
async fn enums_newtypes_and_flattened_rows_round_trip_through_a_session() {
    tokio::time::timeout(LIMIT, async {
        let cluster = SimCluster::builder().nodes(1).start().await.unwrap();
        let session = connect(&cluster).await;

        let tasks = [
            Task {
                id: 1,
                owner: OwnerId(Uuid::from_u128(0xAA)),
                meta: Meta {
                    status: Status::InProgress,
                    priority: Priority::High,
                },
                note: Some("first".to_owned()),
            },
            Task {
                id: 2,
                owner: OwnerId(Uuid::from_u128(0xBB)),
                meta: Meta {
                    status: Status::Done,
                    priority: Priority::Low,
                },
                note: None,
            },
        ];
        // Markers in another order than the struct's fields, nested ones among them.
        let insert = session
            .prepare(
                "INSERT INTO ks.tasks (priority, note, id, status, owner) VALUES (?, ?, ?, ?, ?)",
            )
            .await
            .unwrap();
        for task in &tasks {
            session.execute_unpaged(&insert, task).await.unwrap();
        }

        let select = session
            .prepare("SELECT id, owner, status, priority, note FROM ks.tasks WHERE id = ?")
            .await
            .unwrap();
        for want in &tasks {
            let result = session.execute_unpaged(&select, (want.id,)).await.unwrap();
            let got: Task = result.into_rows_result().unwrap().single_row().unwrap();
            assert_eq!(&got, want);
        }

        // The text enum is stored as its name, the integer one as its discriminant.
        let result = session
            .query_unpaged("SELECT status, priority FROM ks.tasks WHERE id = 1", ())
            .await
            .unwrap();
        let (status, priority): (String, i8) =
            result.into_rows_result().unwrap().single_row().unwrap();
        assert_eq!((status.as_str(), priority), ("in_progress", 3));

        // Without the `note` column, `allow_missing` makes it `None`; an enum column read
        // with a value it does not know is a typed error naming the value.
        session
            .query_unpaged("UPDATE ks.tasks SET priority = 2 WHERE id = 2", ())
            .await
            .unwrap();
        let result = session
            .query_unpaged(
                "SELECT id, owner, status, priority FROM ks.tasks WHERE id = 1",
                (),
            )
            .await
            .unwrap();
        let got: Task = result.into_rows_result().unwrap().single_row().unwrap();
        assert_eq!(got.note, None);
        assert_eq!(got.meta, tasks[0].meta);
        let result = session
            .query_unpaged("SELECT priority FROM ks.tasks WHERE id = 2", ())
            .await
            .unwrap();
        let err = result
            .into_rows_result()
            .unwrap()
            .single_row::<(Priority,)>()
            .unwrap_err();
        assert!(err.to_string().contains("2 is not a value of"), "{err}");
    })
    .await
    .expect("test timed out");
}
