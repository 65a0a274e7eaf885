//! Derives: a struct as bound values (`SerializeRow`) and as a typed row (`DeserializeRow`), with
//! a user-defined type field (`SerializeValue` / `DeserializeValue`) and renamed columns.
//!
//! ```sh
//! cargo run --example derives
//! ```

use std::error::Error;

use cql_session::SessionBuilder;
use cql_session::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};

mod common;

#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Address {
    street: String,
    city: String,
    #[cql(rename = "zip_code")]
    zip: i32,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
struct User {
    id: i32,
    #[cql(rename = "full_name")]
    name: String,
    emails: Vec<String>,
    address: Option<Address>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (nodes, _embedded) = common::cluster_nodes(None).await?;
    let session = SessionBuilder::new().known_nodes(&nodes).build().await?;
    for ddl in [
        "CREATE KEYSPACE IF NOT EXISTS derive_example WITH replication = \
         {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TYPE IF NOT EXISTS derive_example.address (street text, city text, zip_code int)",
        "CREATE TABLE IF NOT EXISTS derive_example.users (id int PRIMARY KEY, full_name text, \
         emails list<text>, address frozen<address>)",
    ] {
        session.query_unpaged(ddl, ()).await?;
    }

    let users = [
        User {
            id: 1,
            name: "Ada Lovelace".into(),
            emails: vec!["ada@example.com".into()],
            address: Some(Address {
                street: "12 St James's Square".into(),
                city: "London".into(),
                zip: 1815,
            }),
        },
        User {
            id: 2,
            name: "Alan Turing".into(),
            emails: vec![],
            address: None,
        },
    ];
    // Bind markers are matched to fields by name.
    let insert = session
        .prepare(
            "INSERT INTO derive_example.users (id, full_name, emails, address) \
             VALUES (:id, :full_name, :emails, :address)",
        )
        .await?;
    for user in &users {
        session.execute_unpaged(&insert, user).await?;
    }

    let result = session
        .query_unpaged(
            "SELECT id, full_name, emails, address FROM derive_example.users WHERE id IN (1, 2)",
            (),
        )
        .await?
        .into_rows_result()?;
    let mut read: Vec<User> = result.rows::<User>()?.collect::<Result<_, _>>()?;
    read.sort_by_key(|u| u.id);
    for user in &read {
        println!("{user:?}");
    }
    // An empty list reads back as an empty Vec (CQL stores it as null).
    assert_eq!(read.len(), users.len());
    session
        .query_unpaged("DROP KEYSPACE derive_example", ())
        .await?;
    Ok(())
}
