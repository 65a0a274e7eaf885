//! The rows of a materialized view, derived from its base table when the view is read: every
//! live base row whose view key columns are all set becomes one view row, keyed and ordered by
//! the view's primary key. Deriving on read keeps a view exactly in sync with every base write
//! (INSERT, UPDATE, DELETE, TTL), as a server's view eventually is.

use std::collections::HashSet;

use bytes::Bytes;
use proto::ColumnType;

use super::rows::{cell_value, row_is_live};
use crate::exec::write_partition_key;
use crate::key_encoding::encode_key;
use crate::schema::{Catalog, ColumnKind, TableDef};
use crate::storage::{Cell, CellData, Partition, PartitionKey, Replicas, Row, Store};

/// For a view, a temporary store of its rows built from the base table; `None` for a table.
pub(super) fn materialize(
    cat: &Catalog,
    data: &dyn Replicas,
    view: &TableDef,
    now_s: i64,
) -> Option<Store> {
    let info = view.view.as_ref()?;
    let base = cat
        .keyspace(&view.keyspace)?
        .tables
        .values()
        .find(|t| t.id == info.base_table_id)?;
    let mut out = Store::new();
    let mut seen: HashSet<&PartitionKey> = HashSet::new();
    // Replicas hold copies of the same partitions: the first store's copy is kept, as scans do.
    for store in data.scan(base) {
        let Some(td) = store.table(base.id) else {
            continue;
        };
        for (pk, p) in &td.partitions {
            if seen.insert(pk) {
                for (enc, row) in &p.rows {
                    add_view_row(&mut out, view, base, p, enc, row, now_s);
                }
            }
        }
    }
    Some(out)
}

fn add_view_row(
    out: &mut Store,
    view: &TableDef,
    base: &TableDef,
    p: &Partition,
    enc: &[u8],
    row: &Row,
    now_s: i64,
) -> Option<()> {
    let deletion = p.row_deletion(enc, Some(row));
    if !row_is_live(base, row, deletion, now_s) {
        return None;
    }
    let base_value = |name: &str| -> Option<Bytes> {
        let c = base.column(name)?;
        match c.kind {
            ColumnKind::PartitionKey => {
                p.key_values.get(usize::try_from(c.position).ok()?).cloned()
            }
            ColumnKind::Clustering => row
                .clustering
                .get(usize::try_from(c.position).ok()?)
                .cloned(),
            _ => cell_value(c, row.cells.get(name), deletion, now_s),
        }
    };
    let mut key_values = Vec::with_capacity(view.pk_len);
    for c in view.partition_key() {
        key_values.push(base_value(&c.name)?);
    }
    let mut ck_values = Vec::with_capacity(view.ck_len);
    for c in view.clustering() {
        ck_values.push(base_value(&c.name)?);
    }
    let key = write_partition_key(&key_values).ok()?;
    let refs: Vec<&[u8]> = ck_values.iter().map(|b| b.as_ref()).collect();
    let types: Vec<(&ColumnType, bool)> =
        view.clustering().iter().map(|c| (&c.typ, c.desc)).collect();
    let view_enc = encode_key(&types, &refs);
    let mut vrow = Row {
        clustering: ck_values,
        // The base row is live now; its liveness was checked above.
        marker: Some(Cell {
            ts: row.marker.as_ref().map_or(0, |m| m.ts),
            expiry: None,
            value: Some(Bytes::new()),
        }),
        ..Row::default()
    };
    for c in &view.columns {
        if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
            continue;
        }
        let Some(bc) = base.column(&c.name) else {
            continue;
        };
        let Some(data) = row.cells.get(&c.name) else {
            continue;
        };
        if cell_value(bc, Some(data), deletion, now_s).is_some() {
            vrow.cells.insert(c.name.clone(), live_part(data, deletion));
        }
    }
    out.partition_mut(view.id, &key, &key_values)
        .rows
        .insert(view_enc, vrow);
    Some(())
}

/// The cell data without what the base row's deletion shadows.
fn live_part(data: &CellData, deletion: Option<i64>) -> CellData {
    match data {
        CellData::Simple(c) => CellData::Simple(c.clone()),
        CellData::Collection {
            deleted_at,
            elements,
        } => {
            let d = deletion.max(*deleted_at);
            CellData::Collection {
                deleted_at: None,
                elements: elements
                    .iter()
                    .filter(|(_, e)| d.is_none_or(|d| e.cell.ts > d))
                    .map(|(k, e)| (k.clone(), e.clone()))
                    .collect(),
            }
        }
    }
}
