//! Conditional writes: a batch's LWT conditions checked against one replica, and the
//! `[applied]` result.

use std::sync::Arc;

use bytes::Bytes;
use proto::ColumnType;

use super::Mutation;
use super::apply::apply_all;
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::read::{Shown, check_conditions};
use crate::exec::{BoundValue, ColumnSpec, Outcome, RowsResult};
use crate::schema::TableDef;
use crate::storage::{PartitionKey, Replicas};

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
/// every replica if all hold: the `[applied]` row, with the current values when not applied.
pub(super) fn apply_conditional(
    data: &mut dyn Replicas,
    lwt: &[LwtCheck],
    mutations: &[Mutation],
    now: i64,
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
        let store = data.read(table, key.token).ok_or(CqlError::Unavailable {
            required: 1,
            alive: 0,
        })?;
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
    let mut columns = vec![ColumnSpec {
        keyspace: table.keyspace.clone().into(),
        table: table.name.clone().into(),
        name: "[applied]".into(),
        typ: ColumnType::Boolean,
    }];
    let mut row = vec![Some(Bytes::from_static(if applied { &[1] } else { &[0] }))];
    if !applied {
        if let Some((specs, cells)) = shown {
            columns.extend(specs);
            row.extend(cells);
        }
    } else {
        apply_all(data, mutations, now)?;
    }
    Ok(Outcome::Rows(RowsResult {
        columns,
        rows: vec![row],
        paging_state: None,
    }))
}
