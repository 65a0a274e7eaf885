//! The four derives with every attribute `scylla` 1.x has: `crate`, `flavor`,
//! `skip_name_checks`, `forbid_excess_udt_fields`, `rename`, `skip`, `allow_missing` (UDTs) and
//! `default_when_null`, on rows and on user-defined types. (`flatten` and `allow_missing` on
//! rows are this driver's additions: `derive_extras`.)

use std::error::Error;

use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};

use crate::cluster;

/// A UDT `address (street text, city text, zip int)`, matched by name.
#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
#[scylla(crate = scylla)]
struct Address {
    city: String,
    street: String,
    #[scylla(rename = "zip")]
    postal_code: i32,
    #[scylla(skip)]
    cached_label: String,
}

/// The same UDT by position, names checked.
#[derive(Debug, PartialEq, SerializeValue, DeserializeValue)]
#[scylla(crate = "scylla", flavor = "enforce_order", forbid_excess_udt_fields)]
struct AddressInOrder {
    street: String,
    city: String,
    zip: i32,
}

/// The same UDT by position without name checks: the field names are the program's own.
#[derive(Debug, PartialEq, SerializeValue, DeserializeValue)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
struct AddressTriple {
    first: String,
    second: String,
    third: i32,
}

/// A partial view of the UDT: fields it lacks are ignored when reading; one it has may be
/// missing from an older UDT definition.
#[derive(Debug, PartialEq, DeserializeValue)]
struct CityOnly {
    city: String,
    #[scylla(allow_missing)]
    country: Option<String>,
}

/// A row with a UDT column, a renamed column and a skipped field.
#[derive(Debug, PartialEq, SerializeRow, DeserializeRow)]
struct Person {
    id: i32,
    #[scylla(rename = "full_name")]
    name: String,
    home: Option<Address>,
    #[scylla(skip)]
    local_note: String,
}

/// A row by position without name checks.
#[derive(Debug, PartialEq, SerializeRow, DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
struct PersonByPosition {
    key: i32,
    label: String,
}

/// A null read as the default.
#[derive(Debug, PartialEq, DeserializeRow)]
struct DocTitle<'a> {
    id: i32,
    title: &'a str,
    #[scylla(default_when_null)]
    version: i32,
}

async fn schema(session: &Session, ks: &str) -> Result<(), Box<dyn Error>> {
    for cql in [
        format!(
            "CREATE KEYSPACE {ks} WITH REPLICATION = \
             {{'class' : 'SimpleStrategy', 'replication_factor' : 1}}"
        ),
        format!("CREATE TYPE {ks}.address (street text, city text, zip int)"),
        format!(
            "CREATE TABLE {ks}.people (id int PRIMARY KEY, full_name text, home frozen<address>)"
        ),
        format!(
            "CREATE TABLE {ks}.docs (id int PRIMARY KEY, title text, created_by text, version int)"
        ),
    ] {
        session.query_unpaged(cql, &[]).await?;
    }
    Ok(())
}

fn address(n: i32) -> Address {
    Address {
        city: format!("city{n}"),
        street: format!("{n} Main St"),
        postal_code: 10_000 + n,
        cached_label: "not stored".to_owned(),
    }
}

#[tokio::test]
async fn derives_with_every_attribute() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let ks = cluster::unique_keyspace("derives");
    let session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;
    schema(&session, &ks).await?;

    // Rows and UDTs by name.
    let insert = session
        .prepare(format!(
            "INSERT INTO {ks}.people (id, full_name, home) VALUES (?, ?, ?)"
        ))
        .await?;
    for id in 0..3 {
        let person = Person {
            id,
            name: format!("person{id}"),
            home: (id != 2).then(|| address(id)),
            local_note: "not stored".to_owned(),
        };
        session.execute_unpaged(&insert, &person).await?;
    }
    let select = session
        .prepare(format!(
            "SELECT id, full_name, home FROM {ks}.people WHERE id = ?"
        ))
        .await?;
    let person: Person = session
        .execute_unpaged(&select, (1,))
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(person.name, "person1");
    assert_eq!(person.local_note, "", "skipped fields read as Default");
    let home = person.home.expect("person1 has a home");
    assert_eq!((home.city.as_str(), home.postal_code), ("city1", 10_001));
    assert_eq!(home.cached_label, "");
    let person2: Person = session
        .execute_unpaged(&select, (2,))
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(person2.home, None);

    // The UDT by position, with and without names; a partial view of it.
    let (in_order,): (AddressInOrder,) = session
        .query_unpaged(format!("SELECT home FROM {ks}.people WHERE id = 0"), &[])
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(
        in_order,
        AddressInOrder {
            street: "0 Main St".into(),
            city: "city0".into(),
            zip: 10_000
        }
    );
    let (triple,): (AddressTriple,) = session
        .query_unpaged(format!("SELECT home FROM {ks}.people WHERE id = 0"), &[])
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(triple.third, 10_000);
    let (city,): (CityOnly,) = session
        .query_unpaged(format!("SELECT home FROM {ks}.people WHERE id = 1"), &[])
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(
        city,
        CityOnly {
            city: "city1".into(),
            country: None
        }
    );

    // Writing UDTs by position.
    session
        .query_unpaged(
            format!("UPDATE {ks}.people SET home = ? WHERE id = 2"),
            (AddressTriple {
                first: "x st".into(),
                second: "y town".into(),
                third: 7,
            },),
        )
        .await?;
    session
        .query_unpaged(
            format!("UPDATE {ks}.people SET home = ? WHERE id = 3"),
            (AddressInOrder {
                street: "s".into(),
                city: "c".into(),
                zip: 3,
            },),
        )
        .await?;
    let mut homes = session
        .query_iter(format!("SELECT id, home FROM {ks}.people"), &[])
        .await?
        .rows_stream::<(i32, Option<Address>)>()?;
    let mut cities = Vec::new();
    while let Some((id, home)) = homes.try_next().await? {
        cities.push((id, home.map(|h| h.city)));
    }
    cities.sort();
    assert_eq!(cities[2], (2, Some("y town".to_owned())));
    assert_eq!(cities[3], (3, Some("c".to_owned())));

    // A row by position without name checks.
    session
        .query_unpaged(
            format!("INSERT INTO {ks}.docs (id, title) VALUES (?, ?)"),
            PersonByPosition {
                key: 40,
                label: "positional".into(),
            },
        )
        .await?;
    let back: PersonByPosition = session
        .query_unpaged(
            format!("SELECT id, title FROM {ks}.docs WHERE id = 40"),
            &[],
        )
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(
        back,
        PersonByPosition {
            key: 40,
            label: "positional".into()
        }
    );

    // A null column read as its type's default.
    let rows = session
        .query_unpaged(
            format!("SELECT id, title, version FROM {ks}.docs WHERE id = 40"),
            &[],
        )
        .await?
        .into_rows_result()?;
    let title: DocTitle<'_> = rows.single_row()?;
    assert_eq!(
        title,
        DocTitle {
            id: 40,
            title: "positional",
            version: 0
        }
    );
    Ok(())
}
