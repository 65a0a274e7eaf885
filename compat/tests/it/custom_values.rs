//! Hand-written `SerializeValue` / `DeserializeValue` impls for user newtypes.
//!
//! Written the way `docs/migrating-from-scylla.md` says: the traits here take a `BytesMut` and
//! one lifetime, where `scylla` 1.x takes a `CellWriter` (returning a `WrittenCellProof`) and
//! `DeserializeValue<'frame, 'metadata>` with a `FrameSlice`. That is the one documented
//! difference this package meets beyond the crate name.

use std::error::Error;

use bytes::BytesMut;
use scylla::client::session_builder::SessionBuilder;
use scylla::cluster::metadata::ColumnType;
use scylla::deserialize::value::DeserializeValue;
use scylla::errors::{DecodeError, EncodeError};
use scylla::serialize::value::SerializeValue;

use crate::cluster;

/// An amount of money kept as a `bigint` number of cents.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cents(i64);

impl SerializeValue for Cents {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.0.serialize(typ, buf)
    }
}

impl<'frame> DeserializeValue<'frame> for Cents {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        i64::type_check(typ)
    }

    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        i64::deserialize(typ, v).map(Cents)
    }
}

/// A tag stored as lowercase `text`, borrowing from the frame when read.
#[derive(Debug, PartialEq)]
struct Tag<'a>(&'a str);

impl SerializeValue for Tag<'_> {
    fn serialize(&self, typ: &ColumnType, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.0.to_lowercase().as_str().serialize(typ, buf)
    }
}

impl<'frame> DeserializeValue<'frame> for Tag<'frame> {
    fn type_check(typ: &ColumnType) -> Result<(), DecodeError> {
        <&str>::type_check(typ)
    }

    fn deserialize(typ: &'frame ColumnType, v: Option<&'frame [u8]>) -> Result<Self, DecodeError> {
        <&str>::deserialize(typ, v).map(Tag)
    }
}

#[tokio::test]
async fn custom_value_impls() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let ks = cluster::unique_keyspace("custom_values");
    let session = SessionBuilder::new()
        .known_node(cluster.uri())
        .build()
        .await?;
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {ks} WITH REPLICATION = \
                 {{'class' : 'SimpleStrategy', 'replication_factor' : 1}}"
            ),
            &[],
        )
        .await?;
    session
        .query_unpaged(
            format!(
                "CREATE TABLE {ks}.prices (item text PRIMARY KEY, price bigint, tags list<text>)"
            ),
            &[],
        )
        .await?;

    let insert = session
        .prepare(format!(
            "INSERT INTO {ks}.prices (item, price, tags) VALUES (?, ?, ?)"
        ))
        .await?;
    session
        .execute_unpaged(
            &insert,
            ("apple", Cents(125), vec![Tag("Fruit"), Tag("RED")]),
        )
        .await?;
    session
        .execute_unpaged(&insert, ("pear", Some(Cents(99)), None::<Vec<Tag<'_>>>))
        .await?;

    let rows = session
        .query_unpaged(
            format!("SELECT price, tags FROM {ks}.prices WHERE item = 'apple'"),
            &[],
        )
        .await?
        .into_rows_result()?;
    let (price, tags): (Cents, Vec<Tag<'_>>) = rows.single_row()?;
    assert_eq!(price, Cents(125));
    assert_eq!(tags, vec![Tag("fruit"), Tag("red")]);
    let rows = session
        .query_unpaged(
            format!("SELECT price, tags FROM {ks}.prices WHERE item = 'pear'"),
            &[],
        )
        .await?
        .into_rows_result()?;
    let (price, tags): (Option<Cents>, Option<Vec<Tag<'_>>>) = rows.single_row()?;
    assert_eq!(price, Some(Cents(99)));
    assert_eq!(tags, None);

    // The impls type-check like the type they wrap: a bigint is no text.
    let wrong = session
        .execute_unpaged(&insert, ("plum", Tag("x"), None::<Vec<Tag<'_>>>))
        .await;
    assert!(
        wrong.is_err(),
        "a Tag bound to a bigint marker must fail: {wrong:?}"
    );
    let rows = session
        .query_unpaged(
            format!("SELECT price FROM {ks}.prices WHERE item = 'apple'"),
            &[],
        )
        .await?
        .into_rows_result()?;
    assert!(rows.single_row::<(Tag<'_>,)>().is_err());
    Ok(())
}
