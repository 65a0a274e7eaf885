//! Mutations applied to replicas: cells merged by timestamp, collection elements, counters,
//! list operations, UDT fields, row and range deletions.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use proto::ColumnType;

use super::{ColOp, Mutation};
use crate::error::{CqlError, Result};
use crate::key_encoding::encode_component;
use crate::storage::{Cell, CellData, Element, Names, Partition, Replicas, Row};

/// Applies every mutation to all live replicas of its partition.
///
/// Each mutation's bytes are first copied into one buffer of their own ([`super::pack`]), which
/// every replica's cells then share: stored values never pin the request frames they came in.
pub(super) fn apply_all(data: &mut dyn Replicas, mutations: &[Mutation], now: i64) -> Result<()> {
    for m in mutations {
        let m = &super::pack::packed(m);
        let n = data.write(&m.table, m.key.token, &mut |store| {
            let (p, names) = store.partition_and_names(m.table.id, &m.key, &m.key_values);
            apply(p, names, m, now);
        });
        if n == 0 {
            return Err(CqlError::Unavailable {
                required: 1,
                alive: 0,
            });
        }
    }
    Ok(())
}

fn merge_cell(slot: &mut Option<CellData>, cell: &Cell) {
    match slot {
        Some(CellData::Simple(old)) if !cell.supersedes(old) => {}
        _ => *slot = Some(CellData::Simple(cell.clone())),
    }
}

/// The collection in a cell slot, making the slot an empty collection first if needed.
pub(super) fn collection(
    slot: &mut Option<CellData>,
) -> (&mut Option<i64>, &mut BTreeMap<Vec<u8>, Element>) {
    if !matches!(slot, Some(CellData::Collection { .. })) {
        *slot = Some(CellData::Collection {
            deleted_at: None,
            elements: BTreeMap::new(),
        });
    }
    match slot {
        Some(CellData::Collection {
            deleted_at,
            elements,
        }) => (deleted_at, elements),
        // The slot was made a collection just above.
        _ => unreachable!("slot is a collection"),
    }
}

fn put_element(
    elements: &mut BTreeMap<Vec<u8>, Element>,
    deleted_at: Option<i64>,
    k: Vec<u8>,
    e: Element,
) {
    if deleted_at.is_some_and(|d| e.cell.ts <= d) {
        return;
    }
    match elements.get(&k) {
        Some(old) if !e.cell.supersedes(&old.cell) => {}
        _ => {
            elements.insert(k, e);
        }
    }
}

fn live_list_keys(
    elements: &BTreeMap<Vec<u8>, Element>,
    deleted_at: Option<i64>,
    now_s: i64,
) -> Vec<Vec<u8>> {
    elements
        .iter()
        .filter(|(_, e)| e.cell.is_live(now_s) && deleted_at.is_none_or(|d| e.cell.ts > d))
        .map(|(k, _)| k.clone())
        .collect()
}

fn apply_op(row: &mut Row, names: &mut Names, name: &str, op: &ColOp, now: i64) {
    let now_s = now.div_euclid(1_000_000);
    let (name, mut slot) = match row.cells.take(name) {
        Some((n, d)) => (n, Some(d)),
        None => (names.intern(name), None),
    };
    match op {
        ColOp::Set(c) => merge_cell(&mut slot, c),
        ColOp::Counter(delta) => {
            let cur = match &slot {
                Some(CellData::Simple(Cell { value: Some(v), .. })) if v.len() == 8 => {
                    i64::from_be_bytes([v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]])
                }
                _ => 0,
            };
            let ts = match &slot {
                Some(CellData::Simple(c)) => c.ts.max(now),
                _ => now,
            };
            slot = Some(CellData::Simple(Cell {
                ts,
                expiry: None,
                value: Some(Bytes::copy_from_slice(
                    &cur.wrapping_add(*delta).to_be_bytes(),
                )),
            }));
        }
        ColOp::Replace { ts, elements } => {
            let (deleted_at, els) = collection(&mut slot);
            if deleted_at.is_none_or(|d| d < ts - 1) {
                *deleted_at = Some(ts - 1);
                els.retain(|_, e| e.cell.ts > ts - 1);
            }
            let d = *deleted_at;
            for (k, e) in elements {
                put_element(els, d, k.clone(), e.clone());
            }
        }
        ColOp::Put(elements) => {
            let (deleted_at, els) = collection(&mut slot);
            let d = *deleted_at;
            for (k, e) in elements {
                put_element(els, d, k.clone(), e.clone());
            }
        }
        ColOp::Append {
            values,
            prepend,
            cell,
        } => {
            let (deleted_at, els) = collection(&mut slot);
            let d = *deleted_at;
            let ids = |k: &Vec<u8>| -> i64 {
                let mut b = [0u8; 8];
                if k.len() == 9 {
                    b.copy_from_slice(&k[1..]);
                    b[0] ^= 0x80;
                }
                i64::from_be_bytes(b)
            };
            let (min, max) = (
                els.keys().next().map_or(0, ids),
                els.keys().next_back().map_or(0, ids),
            );
            let n = values.len() as i64;
            for (i, v) in values.iter().enumerate() {
                let id = if *prepend {
                    min - n + i as i64
                } else {
                    max + 1 + i as i64
                };
                let idb = id.to_be_bytes();
                let mut k = Vec::new();
                encode_component(&ColumnType::BigInt, &idb, false, &mut k);
                let mut c = cell.clone();
                c.value = Some(v.clone());
                put_element(
                    els,
                    d,
                    k,
                    Element {
                        key: Bytes::copy_from_slice(&idb),
                        cell: c,
                    },
                );
            }
        }
        ColOp::RemoveKeys { keys, ts } => {
            let (_, els) = collection(&mut slot);
            for k in keys {
                let key = els.get(k).map(|e| e.key.clone()).unwrap_or_default();
                put_element(
                    els,
                    None,
                    k.clone(),
                    Element {
                        key,
                        cell: Cell {
                            ts: *ts,
                            expiry: None,
                            value: None,
                        },
                    },
                );
            }
        }
        ColOp::RemoveValues { values, ts } => {
            let (_, els) = collection(&mut slot);
            for e in els.values_mut() {
                if e.cell.value.as_ref().is_some_and(|v| values.contains(v)) && e.cell.ts <= *ts {
                    e.cell = Cell {
                        ts: *ts,
                        expiry: None,
                        value: None,
                    };
                }
            }
        }
        ColOp::SetIndex { index, cell } => {
            let (deleted_at, els) = collection(&mut slot);
            let live = live_list_keys(els, *deleted_at, now_s);
            if let Some(k) = usize::try_from(*index).ok().and_then(|i| live.get(i))
                && let Some(e) = els.get_mut(k)
                && cell.supersedes(&e.cell)
            {
                e.cell = cell.clone();
            }
        }
        ColOp::DeleteIndex { index, ts } => {
            let (deleted_at, els) = collection(&mut slot);
            let live = live_list_keys(els, *deleted_at, now_s);
            if let Some(k) = usize::try_from(*index).ok().and_then(|i| live.get(i))
                && let Some(e) = els.get_mut(k)
            {
                e.cell = Cell {
                    ts: *ts,
                    expiry: None,
                    value: None,
                };
            }
        }
        ColOp::SetField { index, count, cell } => {
            let current = match &slot {
                Some(CellData::Simple(c)) => {
                    if c.ts > cell.ts {
                        row.cells.insert(name, CellData::Simple(c.clone()));
                        return;
                    }
                    c.value.clone()
                }
                _ => None,
            };
            let mut parts = udt_fields(current.as_deref().unwrap_or_default(), *count);
            if let Some(p) = parts.get_mut(*index) {
                *p = cell.value.clone();
            }
            let mut b = BytesMut::new();
            for p in &parts {
                match p {
                    Some(v) => {
                        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                        b.extend_from_slice(v);
                    }
                    None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
            slot = Some(CellData::Simple(Cell {
                ts: cell.ts,
                expiry: cell.expiry,
                value: Some(b.freeze()),
            }));
        }
        ColOp::DeleteCollection { ts } => {
            let (deleted_at, els) = collection(&mut slot);
            if deleted_at.is_none_or(|d| d < *ts) {
                *deleted_at = Some(*ts);
            }
            els.retain(|_, e| e.cell.ts > *ts);
        }
    }
    if let Some(s) = slot {
        row.cells.insert(name, s);
    }
}

/// The fields of a serialized UDT value (`[int len][bytes]` each), padded with nulls.
fn udt_fields(mut b: &[u8], count: usize) -> Vec<Option<Bytes>> {
    let mut out = Vec::with_capacity(count);
    while b.len() >= 4 && out.len() < count {
        let len = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        b = &b[4..];
        if len < 0 {
            out.push(None);
            continue;
        }
        let n = (len as usize).min(b.len());
        out.push(Some(Bytes::copy_from_slice(&b[..n])));
        b = &b[n..];
    }
    out.resize(count, None);
    out
}

/// Applies a mutation to a partition of one replica.
fn apply(p: &mut Partition, names: &mut Names, m: &Mutation, now: i64) {
    if let Some(ts) = m.delete_partition {
        p.deleted_at = p.deleted_at.max(Some(ts));
    }
    p.range_tombstones.extend(m.range_deletes.iter().cloned());
    for r in &m.rows {
        for (name, _, op) in r.ops.iter().filter(|o| o.1) {
            apply_op(&mut p.static_row, names, name, op, now);
        }
        p.static_row.cells.shrink();
        let Some((enc, values)) = &r.clustering else {
            continue;
        };
        let regular: Vec<_> = r.ops.iter().filter(|o| !o.1).collect();
        if regular.is_empty() && r.marker.is_none() && r.delete_row.is_none() {
            continue;
        }
        let row = p.rows.entry(enc.clone()).or_insert_with(|| Row {
            clustering: values.clone(),
            ..Row::default()
        });
        if let Some(ts) = r.delete_row {
            row.deleted_at = row.deleted_at.max(Some(ts));
        }
        if let Some(mk) = &r.marker
            && row.marker.as_ref().is_none_or(|old| mk.supersedes(old))
        {
            row.marker = Some(mk.clone());
        }
        for (name, _, op) in regular {
            apply_op(row, names, name, op, now);
        }
        row.cells.shrink();
    }
}
