//! LWT conditions (`IF EXISTS`, `IF NOT EXISTS`, `IF col op value`) evaluated against the
//! current state of a partition, with the columns a failed condition shows.

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use super::Shown;
use super::restrictions::cmp_typed;
use super::rows::{RowView, element_value, row_is_live, static_live};
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::value::{TermEnv, encode};
use crate::exec::{BoundValue, ColumnSpec};
use crate::schema::{ColumnDef, ColumnKind, TableDef};
use crate::storage::{Partition, PartitionKey};

/// Evaluates LWT conditions against the current state of a partition; returns whether they hold
/// and the columns to show when they do not.
pub(crate) fn check_conditions(
    t: &TableDef,
    p: Option<&Partition>,
    key_values: &[Bytes],
    ck: Option<&(Vec<u8>, Vec<Bytes>)>,
    cond: &Conditions,
    values: &[BoundValue],
    now: i64,
) -> Result<(bool, Shown)> {
    let now_s = now.div_euclid(1_000_000);
    let empty = Partition {
        key_values: key_values.to_vec(),
        ..Partition::default()
    };
    let part = p.unwrap_or(&empty);
    let dummy = PartitionKey {
        token: 0,
        key: Bytes::new(),
    };
    let row = ck
        .and_then(|(k, _)| part.rows.get_key_value(k))
        .map(|(k, r)| (k.as_slice(), r));
    let view = RowView {
        p: part,
        key: &dummy,
        row,
    };
    let row_live = match row {
        Some((k, r)) => row_is_live(t, r, part.row_deletion(k, Some(r)), now_s),
        None => {
            ck.is_none()
                && (static_live(t, part, now_s)
                    || part
                        .rows
                        .iter()
                        .any(|(k, r)| row_is_live(t, r, part.row_deletion(k, Some(r)), now_s)))
        }
    };
    let spec = |c: &ColumnDef| ColumnSpec {
        keyspace: t.keyspace.clone().into(),
        table: t.name.clone().into(),
        name: c.name.clone().into(),
        typ: c.typ.clone(),
    };
    let all_cols = || -> (Vec<ColumnSpec>, Vec<Option<Bytes>>) {
        let specs = t.columns.iter().map(spec).collect();
        let cells = (0..t.columns.len())
            .map(|i| view.column(t, i, now_s))
            .collect();
        (specs, cells)
    };
    match cond {
        Conditions::IfNotExists => {
            if row_live {
                Ok((false, all_cols()))
            } else {
                Ok((true, (Vec::new(), Vec::new())))
            }
        }
        Conditions::IfExists => Ok((row_live, (Vec::new(), Vec::new()))),
        Conditions::Columns(cs) => {
            let mut env = TermEnv {
                values,
                now_micros: now,
                unique: 0,
            };
            let mut ok = true;
            let mut shown: Vec<usize> = Vec::new();
            for c in cs {
                let (i, def) = t.column_or_err(&c.column)?;
                if matches!(def.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                    return Err(CqlError::invalid(format!(
                        "PRIMARY KEY column '{}' cannot have IF conditions",
                        c.column
                    )));
                }
                if !shown.contains(&i) {
                    shown.push(i);
                }
                let (cur, typ) = match &c.element {
                    None => (view.column(t, i, now_s), def.typ.clone()),
                    Some(e) => {
                        let (kt, vt) = match &def.typ {
                            ColumnType::Map(k, v) => ((**k).clone(), (**v).clone()),
                            ColumnType::List(v) => (ColumnType::Int, (**v).clone()),
                            _ => {
                                return Err(CqlError::invalid(format!(
                                    "Invalid element access on non-collection {}",
                                    c.column
                                )));
                            }
                        };
                        let BoundValue::Value(k) = env.bytes(e, &kt, &c.column)? else {
                            return Err(CqlError::invalid("Invalid null value for element"));
                        };
                        let data = match def.kind {
                            ColumnKind::Static => part.static_row.cells.get(&def.name),
                            _ => row.and_then(|(_, r)| r.cells.get(&def.name)),
                        };
                        let del = match (def.kind, row) {
                            (ColumnKind::Static, _) => part.deleted_at,
                            (_, Some((k2, r))) => part.row_deletion(k2, Some(r)),
                            _ => part.deleted_at,
                        };
                        (element_value(def, data, &k, del, now_s), vt)
                    }
                };
                let rhs: Vec<Option<Bytes>> = match &c.rhs {
                    RelationRhs::Term(term) => vec![match env.bytes(term, &typ, &c.column)? {
                        BoundValue::Value(b) => Some(b),
                        _ => None,
                    }],
                    RelationRhs::List(ts) => {
                        let mut out = Vec::new();
                        for term in ts {
                            out.push(match env.bytes(term, &typ, &c.column)? {
                                BoundValue::Value(b) => Some(b),
                                _ => None,
                            });
                        }
                        out
                    }
                    RelationRhs::Marker(m) => match env.value(
                        &Term::Bind(m.clone()),
                        &ColumnType::List(Box::new(typ.clone())),
                        &c.column,
                    )? {
                        Some(CqlValue::List(items)) => items
                            .iter()
                            .map(|v| encode(v, &typ).map(Some))
                            .collect::<Result<_>>()?,
                        _ => Vec::new(),
                    },
                };
                let holds = match c.op {
                    Operator::Eq | Operator::In => rhs.iter().any(|v| match (&cur, v) {
                        (None, None) => true,
                        (Some(a), Some(b)) => cmp_typed(&typ, a, b).is_eq(),
                        _ => false,
                    }),
                    Operator::Ne => rhs.iter().all(|v| match (&cur, v) {
                        (None, None) => false,
                        (Some(a), Some(b)) => !cmp_typed(&typ, a, b).is_eq(),
                        _ => true,
                    }),
                    op => rhs.iter().all(|v| match (&cur, v) {
                        (Some(a), Some(b)) => {
                            let o = cmp_typed(&typ, a, b);
                            match op {
                                Operator::Lt => o.is_lt(),
                                Operator::Le => o.is_le(),
                                Operator::Gt => o.is_gt(),
                                _ => o.is_ge(),
                            }
                        }
                        (_, None) => false,
                        _ => false,
                    }),
                };
                ok &= holds;
            }
            if ok {
                return Ok((true, (Vec::new(), Vec::new())));
            }
            let specs = shown.iter().map(|i| spec(&t.columns[*i])).collect();
            let cells = shown.iter().map(|i| view.column(t, *i, now_s)).collect();
            Ok((false, (specs, cells)))
        }
        _ => Ok((true, (Vec::new(), Vec::new()))),
    }
}

/// The current values of columns `cols` (indexes into the table's columns) in the row at
/// clustering `ck` of a partition (the static row when `ck` is `None`), and whether that row
/// is live: what a conditional batch shows of the rows it read.
pub(crate) fn current_row(
    t: &TableDef,
    p: Option<&Partition>,
    ck: Option<&[u8]>,
    cols: &[usize],
    now: i64,
) -> (bool, Vec<Option<Bytes>>) {
    let now_s = now.div_euclid(1_000_000);
    let Some(part) = p else {
        return (false, vec![None; cols.len()]);
    };
    let row = ck
        .and_then(|k| part.rows.get_key_value(k))
        .map(|(k, r)| (k.as_slice(), r));
    let live = match row {
        Some((k, r)) => row_is_live(t, r, part.row_deletion(k, Some(r)), now_s),
        None => ck.is_none() && static_live(t, part, now_s),
    };
    let dummy = PartitionKey {
        token: 0,
        key: Bytes::new(),
    };
    let view = RowView {
        p: part,
        key: &dummy,
        row,
    };
    (
        live,
        cols.iter().map(|i| view.column(t, *i, now_s)).collect(),
    )
}
