//! The derives of `cql-macros` (through `cql-session`'s `derive` feature) against a live
//! cluster: rows matched by name or by order, and a user-defined type as a struct.

use cql_integration::{TestKeyspace, exec, prepare, query_rows, session};
use cql_session::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
use futures::TryStreamExt;

#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Address {
    street: String,
    zip: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
struct User {
    id: i32,
    #[cql(rename = "user_name")]
    name: String,
    home: Option<Address>,
}

#[derive(Debug, PartialEq, DeserializeRow)]
#[cql(flavor = "enforce_order", skip_name_checks)]
struct Pair {
    first: i32,
    second: String,
}

#[tokio::test]
async fn derived_rows_and_udts_round_trip() {
    let s = session().await;
    let ks = TestKeyspace::create(&s, "derive", 1).await;
    exec(
        &s,
        &format!("CREATE TYPE {}.address (street text, zip int)", ks.name),
    )
    .await;
    let t = ks
        .create_table(
            &s,
            "users",
            "(id int PRIMARY KEY, user_name text, home frozen<address>)",
        )
        .await;
    let insert = prepare(
        &s,
        format!("INSERT INTO {t} (home, id, user_name) VALUES (?, ?, ?)"),
    )
    .await;
    let users: Vec<User> = (0..5)
        .map(|id| User {
            id,
            name: format!("user {id}"),
            home: (id % 2 == 0).then(|| Address {
                street: format!("{id} Main St"),
                zip: (id != 0).then_some(10_000 + id),
            }),
        })
        .collect();
    for u in &users {
        // Bound by name: the struct's field order differs from the markers'.
        s.execute_unpaged(&insert, u).await.unwrap();
    }
    let mut got: Vec<User> = s
        .query_iter(format!("SELECT id, user_name, home FROM {t}"), ())
        .await
        .unwrap()
        .rows_stream::<User>()
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    got.sort_by_key(|u| u.id);
    assert_eq!(got, users);
    let pairs: Vec<Pair> = query_rows(
        &s,
        format!("SELECT id, user_name FROM {t} WHERE id = 3"),
        (),
    )
    .await;
    assert_eq!(
        pairs,
        vec![Pair {
            first: 3,
            second: "user 3".into()
        }]
    );
    ks.drop_keyspace(&s).await;
}
