//! Conditional writes: a batch's LWT conditions checked against one replica, and the
//! `[applied]` result.

use std::sync::Arc;

use bytes::Bytes;
use proto::ColumnType;

use super::Mutation;
use super::apply::apply_all;
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::read::{Shown, check_conditions, current_row};
use crate::exec::{BoundValue, ColumnSpec, Outcome, RowsResult};
use crate::schema::{ColumnKind, TableDef};
use crate::storage::{PartitionKey, Replicas, Store};

/// An LWT condition to check before a batch applies.
pub(super) struct LwtCheck {
    pub(super) cond: Conditions,
    pub(super) table: Arc<TableDef>,
    pub(super) key: PartitionKey,
    pub(super) key_values: Vec<Bytes>,
    pub(super) clustering: Option<(Vec<u8>, Vec<Bytes>)>,
    pub(super) values: Vec<BoundValue>,
}

/// Checks the conditions of a conditional batch on one replica, then applies its mutations to
/// every replica if all hold: the `[applied]` row, with the current values when not applied
/// (for a BATCH, the rows as [`batch_rows`] gives them).
pub(super) fn apply_conditional(
    data: &mut dyn Replicas,
    lwt: &[LwtCheck],
    mutations: &[Mutation],
    now: i64,
    is_batch: bool,
) -> Result<Outcome> {
    let first = &lwt[0];
    if lwt
        .iter()
        .any(|l| l.key != first.key || l.table.id != first.table.id)
    {
        return Err(CqlError::invalid(
            "Batch with conditions cannot span multiple tables or partitions",
        ));
    }
    let mut applied = true;
    let mut shown: Option<Shown> = None;
    for LwtCheck {
        cond,
        table,
        key,
        key_values,
        clustering: ck,
        values,
    } in lwt
    {
        let store = read_replica(data, table, key.token)?;
        let part = store.table(table.id).and_then(|t| t.partitions.get(key));
        let (ok, cols) = check_conditions(table, part, key_values, ck.as_ref(), cond, values, now)?;
        if !ok {
            applied = false;
            if shown.is_none() {
                shown = Some(cols);
            }
        }
    }
    let table = &lwt[0].table;
    let applied_spec = ColumnSpec {
        keyspace: table.keyspace.clone().into(),
        table: table.name.clone().into(),
        name: "[applied]".into(),
        typ: ColumnType::Boolean,
    };
    let flag = Some(Bytes::from_static(if applied { &[1] } else { &[0] }));
    // The old rows are read before the batch applies.
    let (columns, rows) = if is_batch {
        let (specs, old) = batch_rows(data, lwt, applied, now)?;
        if old.is_empty() {
            (vec![applied_spec], vec![vec![flag]])
        } else {
            let columns = std::iter::once(applied_spec).chain(specs).collect();
            let rows = old
                .into_iter()
                .map(|r| std::iter::once(flag.clone()).chain(r).collect())
                .collect();
            (columns, rows)
        }
    } else {
        let mut columns = vec![applied_spec];
        let mut row = vec![flag];
        if let Some((specs, cells)) = shown.filter(|_| !applied) {
            columns.extend(specs);
            row.extend(cells);
        }
        (columns, vec![row])
    };
    if applied {
        apply_all(data, mutations, now)?;
    }
    Ok(Outcome::Rows(RowsResult {
        columns,
        rows,
        paging_state: None,
    }))
}

/// The columns a conditional BATCH shows besides `[applied]`, and their rows.
type BatchRows = (Vec<ColumnSpec>, Vec<Vec<Option<Bytes>>>);

/// The columns and rows a conditional BATCH answers besides `[applied]`, as each server
/// builds them:
/// - Cassandra, only when not applied: every column when a statement has `IF [NOT] EXISTS`,
///   else the primary key and the columns with conditions (in the order of the IFs); one
///   row per existing row the conditions read, in clustering order (none when none exists:
///   then the result is `[applied]` alone);
/// - Scylla, applied or not: every column, and the old row of every conditional statement
///   in statement order (nulls where it does not exist), so the metadata never changes.
fn batch_rows(data: &dyn Replicas, lwt: &[LwtCheck], applied: bool, now: i64) -> Result<BatchRows> {
    let table = &lwt[0].table;
    let scylla = data.is_scylla();
    if applied && !scylla {
        return Ok((Vec::new(), Vec::new()));
    }
    let every = (0..table.columns.len()).collect::<Vec<_>>();
    let cols = if scylla
        || lwt
            .iter()
            .any(|l| matches!(l.cond, Conditions::IfExists | Conditions::IfNotExists))
    {
        every
    } else {
        let mut cols: Vec<usize> = every
            .into_iter()
            .filter(|i| {
                matches!(
                    table.columns[*i].kind,
                    ColumnKind::PartitionKey | ColumnKind::Clustering
                )
            })
            .collect();
        for l in lwt {
            if let Conditions::Columns(cs) = &l.cond {
                for c in cs {
                    let (i, _) = table.column_or_err(&c.column)?;
                    if !cols.contains(&i) {
                        cols.push(i);
                    }
                }
            }
        }
        cols
    };
    let first = &lwt[0];
    let store = read_replica(data, table, first.key.token)?;
    let part = store
        .table(table.id)
        .and_then(|t| t.partitions.get(&first.key));
    let read = |ck: Option<&[u8]>| current_row(table, part, ck, &cols, now);
    let rows = if scylla {
        lwt.iter()
            .map(|l| {
                let (live, row) = read(l.clustering.as_ref().map(|(k, _)| k.as_slice()));
                if live { row } else { vec![None; cols.len()] }
            })
            .collect()
    } else {
        let mut clusterings: Vec<Option<&[u8]>> = lwt
            .iter()
            .map(|l| l.clustering.as_ref().map(|(k, _)| k.as_slice()))
            .collect();
        clusterings.sort();
        clusterings.dedup();
        clusterings
            .into_iter()
            .filter_map(|ck| {
                let (live, row) = read(ck);
                live.then_some(row)
            })
            .collect()
    };
    let specs = cols
        .iter()
        .map(|i| ColumnSpec {
            keyspace: table.keyspace.clone().into(),
            table: table.name.clone().into(),
            name: table.columns[*i].name.clone().into(),
            typ: table.columns[*i].typ.clone(),
        })
        .collect();
    Ok((specs, rows))
}

/// The replica a conditional write reads its partition from.
fn read_replica<'a>(data: &'a dyn Replicas, table: &TableDef, token: i64) -> Result<&'a Store> {
    data.read(table, token).ok_or(CqlError::Unavailable {
        required: 1,
        alive: 0,
    })
}
