//! Row derive attributes this driver adds to `scylla`'s: `flatten` (both row derives) and
//! `allow_missing` on a `DeserializeRow` field. `scylla` 1.x has them on UDTs only (its
//! `DeserializeRow` fields take `rename`, `skip` and `default_when_null`), so this program is
//! not shared with `compat/real`.

use std::error::Error;

use scylla::client::session_builder::SessionBuilder;
use scylla::{DeserializeRow, SerializeRow};

use crate::cluster;

/// Shared columns, flattened into two row types.
#[derive(Debug, PartialEq, SerializeRow, DeserializeRow)]
struct Audit {
    created_by: String,
    version: i32,
}

#[derive(Debug, PartialEq, SerializeRow, DeserializeRow)]
struct Document {
    id: i32,
    title: String,
    #[scylla(flatten)]
    audit: Audit,
}

/// Reads a null as the default, and a column the query did not select as the default.
#[derive(Debug, PartialEq, DeserializeRow)]
struct DocumentSummary<'a> {
    id: i32,
    title: &'a str,
    #[scylla(default_when_null)]
    version: i32,
    #[scylla(allow_missing)]
    created_by: Option<String>,
}

#[tokio::test]
async fn flatten_and_allow_missing_on_rows() -> Result<(), Box<dyn Error>> {
    let cluster = cluster::start(1).await;
    let ks = cluster::unique_keyspace("derive_extras");
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
            format!("CREATE TABLE {ks}.docs (id int PRIMARY KEY, title text, created_by text, version int)"),
            &[],
        )
        .await?;
    session
        .query_unpaged(
            format!("INSERT INTO {ks}.docs (id, title) VALUES (40, 'positional')"),
            &[],
        )
        .await?;

    // Flattened rows, both ways, and nulls / absent columns read as defaults.
    let doc = Document {
        id: 41,
        title: "flat".into(),
        audit: Audit {
            created_by: "ann".into(),
            version: 3,
        },
    };
    session
        .query_unpaged(
            format!("INSERT INTO {ks}.docs (id, title, created_by, version) VALUES (:id, :title, :created_by, :version)"),
            &doc,
        )
        .await?;
    let read: Document = session
        .query_unpaged(
            format!("SELECT version, title, id, created_by FROM {ks}.docs WHERE id = 41"),
            &[],
        )
        .await?
        .into_rows_result()?
        .single_row()?;
    assert_eq!(read, doc);
    let rows = session
        .query_unpaged(
            format!("SELECT id, title, version FROM {ks}.docs WHERE id = 40"),
            &[],
        )
        .await?
        .into_rows_result()?;
    let summary: DocumentSummary<'_> = rows.single_row()?;
    assert_eq!(
        summary,
        DocumentSummary {
            id: 40,
            title: "positional",
            version: 0,
            created_by: None
        }
    );
    Ok(())
}
