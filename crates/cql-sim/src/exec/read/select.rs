//! [`select`]: runs a SELECT — candidate partitions by key or by token range, clustering
//! slices, filters, limits, ordering, aggregates and paging.

use std::ops::Bound;

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use super::KeyRange;
use super::restrictions::{cmp_typed, restrictions};
use super::rows::{RowView, matches_filter, row_is_live, static_live};
use super::scan::{
    MergedPartitions, PagePos, decode_paging, encode_paging, token_range, valid_range,
};
use super::selection::{
    AggregateFn, AggregateState, OutputColumn, numeric, numeric_bytes, outputs, to_json_rows,
};
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::value::TermEnv;
use crate::exec::{ColumnSpec, ExecContext, RowsResult};
use crate::schema::{Catalog, ColumnKind};
use crate::storage::{CellData, Partition, PartitionKey, Replicas, Row, Store};

/// Runs a SELECT.
pub(in crate::exec) fn select(
    cat: &Catalog,
    data: &dyn Replicas,
    s: &Select,
    ctx: &mut ExecContext<'_>,
) -> Result<RowsResult> {
    let t = std::sync::Arc::clone(cat.table_or_err(&s.table, ctx.keyspace)?);
    let virtual_store: Option<Store> = crate::system::materialize(cat, data, &t)
        .or_else(|| super::view::materialize(cat, data, &t, ctx.now_micros.div_euclid(1_000_000)));
    let src: &dyn Replicas = match &virtual_store {
        Some(v) => v,
        None => data,
    };
    if !s.group_by.is_empty() {
        return Err(CqlError::invalid(
            "GROUP BY is not supported by the simulator",
        ));
    }
    let outs = outputs(cat, &t, s)?;
    let mut env = TermEnv {
        values: ctx.values,
        now_micros: ctx.now_micros,
        unique: 0,
    };
    let r = restrictions(&t, s, &mut env)?;
    let limit = match &s.limit {
        Some(term) => match env.value(term, &ColumnType::Int, "[limit]")? {
            Some(CqlValue::Int(n)) if n > 0 => Some(i64::from(n)),
            Some(CqlValue::Int(n)) => {
                return Err(CqlError::invalid(format!(
                    "LIMIT must be strictly positive, got {n}"
                )));
            }
            None => None,
            _ => return Err(CqlError::invalid("Invalid LIMIT")),
        },
        None => None,
    };
    let ppl = match &s.per_partition_limit {
        Some(term) => match env.value(term, &ColumnType::Int, "[per_partition_limit]")? {
            Some(CqlValue::Int(n)) if n > 0 => Some(i64::from(n)),
            Some(CqlValue::Int(n)) => {
                return Err(CqlError::invalid(format!(
                    "PER PARTITION LIMIT must be strictly positive, got {n}"
                )));
            }
            _ => None,
        },
        None => None,
    };
    let mut reversed = false;
    if let Some((c, desc)) = s.order_by.first() {
        if r.keys.is_none() {
            return Err(CqlError::invalid(
                "ORDER BY is only supported when the partition key is restricted by an EQ or an IN.",
            ));
        }
        let (i, col) = t.column_or_err(c)?;
        if col.kind != ColumnKind::Clustering {
            return Err(CqlError::invalid(format!(
                "Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {c}"
            )));
        }
        reversed = *desc != col.desc;
        for (k, (c2, d2)) in s.order_by.iter().enumerate() {
            let (i2, col2) = t.column_or_err(c2)?;
            if i2 != i + k || (*d2 != col2.desc) != reversed {
                return Err(CqlError::invalid("Unsupported order by relation"));
            }
        }
    }
    let aggregate = outs.iter().any(|(o, _)| {
        matches!(
            o,
            OutputColumn::Count
                | OutputColumn::CountCol(_)
                | OutputColumn::AggregateFn(..)
                | OutputColumn::Uda(_)
        )
    });
    let mut uda_states: Vec<Option<Bytes>> = outs
        .iter()
        .map(|(o, _)| match o {
            OutputColumn::Uda(u) => u.init(),
            _ => None,
        })
        .collect();
    let page_size = if aggregate {
        None
    } else {
        ctx.page_size.map(i64::from)
    };
    let resume = match ctx.paging_state {
        Some(b) if !aggregate => Some(decode_paging(ctx.fingerprint, b)?),
        _ => None,
    };
    let now_s = ctx.now_micros.div_euclid(1_000_000);

    // Candidate partitions in (token, key) order.
    let table_id = t.id;
    let mut lookups: Vec<(&PartitionKey, &Partition)> = Vec::new();
    let parts: Box<dyn Iterator<Item = (&PartitionKey, &Partition)>> = match &r.keys {
        Some(keys) => {
            for (k, _) in keys {
                let store = src.read(&t, k.token).ok_or(CqlError::Unavailable {
                    required: 1,
                    alive: 0,
                })?;
                if let Some((pk, p)) = store
                    .table(table_id)
                    .and_then(|td| td.partitions.get_key_value(k))
                {
                    lookups.push((pk, p));
                }
            }
            Box::new(lookups.into_iter())
        }
        None => match token_range(r.token_lo, r.token_hi) {
            None => Box::new(std::iter::empty()),
            Some((lo, hi)) => {
                let lo = match &resume {
                    Some(pos) => Bound::Included(pos.key.clone()),
                    None => lo,
                };
                let stores = if valid_range(&lo, &hi) {
                    src.scan(&t)
                } else {
                    Vec::new()
                };
                let iters = stores
                    .into_iter()
                    .filter_map(|st| st.table(table_id))
                    .map(|td| td.partitions.range((lo.clone(), hi.clone())).peekable())
                    .collect();
                Box::new(MergedPartitions { iters })
            }
        },
    };

    let mut rows: Vec<Vec<Option<Bytes>>> = Vec::new();
    let mut emitted = resume.as_ref().map_or(0, |p| p.emitted);
    let mut count: i64 = 0;
    let mut count_cols: Vec<i64> = vec![0; outs.len()];
    let mut accs: Vec<AggregateState> = vec![AggregateState::default(); outs.len()];
    let mut last: Option<PagePos> = None;
    let mut more = false;
    'parts: for (pk, p) in parts {
        if let Some(pos) = &resume
            && (*pk < pos.key || (*pk == pos.key && pos.ck.is_none()))
        {
            continue;
        }
        let mut in_part = match &resume {
            Some(pos) if *pk == pos.key => pos.in_partition,
            _ => 0,
        };
        let after: Option<&[u8]> = match &resume {
            Some(pos) if *pk == pos.key => pos.ck.as_deref(),
            _ => None,
        };
        let mut candidates: Vec<RowView<'_>> = Vec::new();
        let mut any_row = false;
        {
            let ranges: Vec<KeyRange> = r
                .ranges
                .clone()
                .unwrap_or_else(|| vec![(Bound::Unbounded, Bound::Unbounded)]);
            let iter_ranges: Box<dyn Iterator<Item = &KeyRange>> = if reversed {
                Box::new(ranges.iter().rev())
            } else {
                Box::new(ranges.iter())
            };
            let mut collected: Vec<(&[u8], &Row)> = Vec::new();
            for (lo, hi) in iter_ranges {
                let (mut lo, mut hi) = (lo.clone(), hi.clone());
                if let Some(a) = after {
                    if reversed {
                        if match &hi {
                            Bound::Unbounded => true,
                            Bound::Included(h) | Bound::Excluded(h) => a <= h.as_slice(),
                        } {
                            hi = Bound::Excluded(a.to_vec());
                        }
                    } else if match &lo {
                        Bound::Unbounded => true,
                        Bound::Included(l) | Bound::Excluded(l) => a >= l.as_slice(),
                    } {
                        lo = Bound::Excluded(a.to_vec());
                    }
                }
                if let (
                    Bound::Included(l) | Bound::Excluded(l),
                    Bound::Included(h) | Bound::Excluded(h),
                ) = (&lo, &hi)
                    && (l > h
                        || (l == h
                            && !matches!((&lo, &hi), (Bound::Included(_), Bound::Included(_)))))
                {
                    continue;
                }
                let it = p.rows.range::<Vec<u8>, _>((lo, hi));
                if reversed {
                    collected.extend(it.rev().map(|(k, v)| (k.as_slice(), v)));
                } else {
                    collected.extend(it.map(|(k, v)| (k.as_slice(), v)));
                }
            }
            let mut tombstones = 0;
            for (k, row) in collected {
                let d = p.row_deletion(k, Some(row));
                let live = row_is_live(&t, row, d, now_s);
                // As Cassandra counts: every dead cell, else a deleted row once.
                let dead_cells = row
                    .cells
                    .iter()
                    .filter(|(_, c)| matches!(c, CellData::Simple(cell) if !cell.is_live(now_s)))
                    .count();
                tombstones += dead_cells;
                if dead_cells == 0 && !live && row.deleted_at.is_some() {
                    tombstones += 1;
                }
                if live {
                    any_row = true;
                    candidates.push(RowView {
                        p,
                        key: pk,
                        row: Some((k, row)),
                    });
                }
            }
            data.note_tombstones(tombstones);
        }
        if s.distinct {
            let live = any_row
                || static_live(&t, p, now_s)
                || p.rows
                    .iter()
                    .any(|(k, row)| row_is_live(&t, row, p.row_deletion(k, Some(row)), now_s));
            candidates.clear();
            if live && after.is_none() {
                candidates.push(RowView {
                    p,
                    key: pk,
                    row: None,
                });
            }
        } else if !any_row
            && r.ranges.is_none()
            && after.is_none()
            && t.ck_len > 0
            && static_live(&t, p, now_s)
        {
            let has_rows = p
                .rows
                .iter()
                .any(|(k, row)| row_is_live(&t, row, p.row_deletion(k, Some(row)), now_s));
            if !has_rows {
                candidates.push(RowView {
                    p,
                    key: pk,
                    row: None,
                });
            }
        }
        for v in candidates {
            if !r.filters.iter().all(|f| matches_filter(&t, f, &v, now_s)) {
                continue;
            }
            if ppl.is_some_and(|l| in_part >= l) {
                continue 'parts;
            }
            if limit.is_some_and(|l| emitted >= l) {
                break 'parts;
            }
            if aggregate {
                count += 1;
                for (i, (o, _)) in outs.iter().enumerate() {
                    if let OutputColumn::CountCol(c) = o
                        && v.column(&t, *c, now_s).is_some()
                    {
                        count_cols[i] += 1;
                    }
                    if let OutputColumn::Uda(u) = o {
                        let col = |c: usize| v.column(&t, c, now_s);
                        uda_states[i] = u.step(uda_states[i].take(), &col, &mut env)?;
                    }
                    if let OutputColumn::AggregateFn(agg, c) = o
                        && let Some(b) = v.column(&t, *c, now_s)
                    {
                        let typ = &t.columns[*c].typ;
                        let acc = &mut accs[i];
                        match agg {
                            AggregateFn::Min | AggregateFn::Max => {
                                let better = acc.best.as_ref().is_none_or(|cur| {
                                    let o = cmp_typed(typ, &b, cur);
                                    if *agg == AggregateFn::Min {
                                        o.is_lt()
                                    } else {
                                        o.is_gt()
                                    }
                                });
                                if better {
                                    acc.best = Some(b);
                                }
                            }
                            AggregateFn::Sum | AggregateFn::Avg => {
                                if let Some((x, f)) = numeric(typ, &b) {
                                    acc.int += x;
                                    acc.float += f;
                                    acc.n += 1;
                                }
                            }
                        }
                    }
                }
                emitted += 1;
                in_part += 1;
                continue;
            }
            if page_size.is_some_and(|ps| rows.len() as i64 >= ps) {
                more = true;
                break 'parts;
            }
            let mut cells = Vec::with_capacity(outs.len());
            for (o, _) in &outs {
                cells.push(match o {
                    OutputColumn::Col(i) => v.column(&t, *i, now_s),
                    OutputColumn::WriteTime(i) => v
                        .simple_cell(&t, *i)
                        .filter(|c| c.is_live(now_s) && v.column(&t, *i, now_s).is_some())
                        .map(|c| Bytes::copy_from_slice(&c.ts.to_be_bytes())),
                    OutputColumn::Ttl(i) => v
                        .simple_cell(&t, *i)
                        .filter(|c| c.is_live(now_s) && v.column(&t, *i, now_s).is_some())
                        .and_then(|c| c.expiry)
                        .map(|(e, _)| Bytes::copy_from_slice(&((e - now_s) as i32).to_be_bytes())),
                    OutputColumn::Token => Some(Bytes::copy_from_slice(&v.key.token.to_be_bytes())),
                    OutputColumn::Expr(e) => e.eval(&|c| v.column(&t, c, now_s), &mut env)?,
                    OutputColumn::Count
                    | OutputColumn::CountCol(_)
                    | OutputColumn::AggregateFn(..)
                    | OutputColumn::Uda(_) => None,
                });
            }
            rows.push(cells);
            emitted += 1;
            in_part += 1;
            last = Some(PagePos {
                key: v.key.clone(),
                ck: Some(v.row.map(|(k, _)| k.to_vec()).unwrap_or_default()),
                emitted,
                in_partition: in_part,
            });
            if v.row.is_none()
                && let Some(l) = &mut last
            {
                l.ck = None;
            }
            // As Cassandra pages: a full page carries a paging state without looking ahead
            // (so a page ending on the last row is followed by an empty one), unless the
            // LIMIT is used up.
            if page_size.is_some_and(|ps| rows.len() as i64 >= ps) {
                more = limit.is_none_or(|l| emitted < l);
                break 'parts;
            }
        }
    }
    let columns: Vec<ColumnSpec> = outs.iter().map(|(_, s)| s.clone()).collect();
    if aggregate {
        let mut cells = Vec::new();
        for (i, (o, _)) in outs.iter().enumerate() {
            cells.push(match o {
                OutputColumn::Count => Some(Bytes::copy_from_slice(&count.to_be_bytes())),
                OutputColumn::CountCol(_) => {
                    Some(Bytes::copy_from_slice(&count_cols[i].to_be_bytes()))
                }
                OutputColumn::AggregateFn(agg, c) => {
                    let typ = &t.columns[*c].typ;
                    let acc = &accs[i];
                    match agg {
                        AggregateFn::Min | AggregateFn::Max => acc.best.clone(),
                        AggregateFn::Sum => numeric_bytes(typ, acc.int, acc.float),
                        AggregateFn::Avg if acc.n == 0 => numeric_bytes(typ, 0, 0.0),
                        AggregateFn::Avg => numeric_bytes(
                            typ,
                            acc.int / i128::from(acc.n),
                            acc.float / acc.n as f64,
                        ),
                    }
                }
                OutputColumn::Uda(u) => u.finish(uda_states[i].take())?,
                _ => None,
            });
        }
        let (columns, rows) = if s.json {
            to_json_rows(&t, &columns, vec![cells])?
        } else {
            (columns, vec![cells])
        };
        return Ok(RowsResult {
            columns,
            rows,
            paging_state: None,
        });
    }
    let paging_state = if more {
        last.map(|l| encode_paging(ctx.fingerprint, &l))
    } else {
        None
    };
    let (columns, rows) = if s.json {
        to_json_rows(&t, &columns, rows)?
    } else {
        (columns, rows)
    };
    Ok(RowsResult {
        columns,
        rows,
        paging_state,
    })
}
