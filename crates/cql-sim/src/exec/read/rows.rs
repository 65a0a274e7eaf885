//! Stored rows as a SELECT sees them: live cell values (collections serialized), row and
//! static-row liveness, the [`RowView`] of one output row, and per-row filters.

use bytes::{BufMut, Bytes, BytesMut};
use proto::{ColumnType, CqlValue};

use super::restrictions::{RowFilter, cmp_typed};
use crate::cql::ast::*;
use crate::key_encoding::encode_component;
use crate::schema::{ColumnDef, ColumnKind, TableDef};
use crate::storage::{CellData, Partition, PartitionKey, Row};

/// The live bytes of a column in a row (collections serialized), or `None`.
pub(crate) fn cell_value(
    def: &ColumnDef,
    data: Option<&CellData>,
    deletion: Option<i64>,
    now_s: i64,
) -> Option<Bytes> {
    match data? {
        CellData::Simple(c) => (c.is_live(now_s) && deletion.is_none_or(|d| c.ts > d))
            .then(|| c.value.clone())
            .flatten(),
        CellData::Collection {
            deleted_at,
            elements,
        } => {
            let d = deletion.max(*deleted_at);
            let live: Vec<_> = elements
                .values()
                .filter(|e| e.cell.is_live(now_s) && d.is_none_or(|d| e.cell.ts > d))
                .collect();
            if live.is_empty() {
                return None;
            }
            let mut b = BytesMut::new();
            b.put_i32(live.len() as i32);
            for e in live {
                match &def.typ {
                    ColumnType::Set(_) => {
                        b.put_i32(e.key.len() as i32);
                        b.put_slice(&e.key);
                    }
                    ColumnType::Map(..) => {
                        b.put_i32(e.key.len() as i32);
                        b.put_slice(&e.key);
                        let v = e.cell.value.as_deref().unwrap_or_default();
                        b.put_i32(v.len() as i32);
                        b.put_slice(v);
                    }
                    _ => {
                        let v = e.cell.value.as_deref().unwrap_or_default();
                        b.put_i32(v.len() as i32);
                        b.put_slice(v);
                    }
                }
            }
            Some(b.freeze())
        }
    }
}

/// Whether a row has a live marker or a live cell (not shadowed by `deletion`).
pub(super) fn row_is_live(t: &TableDef, row: &Row, deletion: Option<i64>, now_s: i64) -> bool {
    if row
        .marker
        .as_ref()
        .is_some_and(|m| m.is_live(now_s) && deletion.is_none_or(|d| m.ts > d))
    {
        return true;
    }
    row.cells.iter().any(|(name, data)| {
        t.column(name)
            .is_some_and(|def| cell_value(def, Some(data), deletion, now_s).is_some())
    })
}

/// Whether the static row of a partition is live.
pub(super) fn static_live(t: &TableDef, p: &Partition, now_s: i64) -> bool {
    row_is_live(t, &p.static_row, p.deleted_at, now_s)
}

/// A view of one output row: the partition, and the row (None for a static-only row).
pub(super) struct RowView<'a> {
    pub(super) p: &'a Partition,
    pub(super) key: &'a PartitionKey,
    pub(super) row: Option<(&'a [u8], &'a Row)>,
}

impl RowView<'_> {
    /// The live value of column `i` in this row (or the static row).
    pub(super) fn column(&self, t: &TableDef, i: usize, now_s: i64) -> Option<Bytes> {
        let def = &t.columns[i];
        match def.kind {
            ColumnKind::PartitionKey => self.p.key_values.get(i).cloned(),
            ColumnKind::Clustering => self
                .row
                .and_then(|(_, r)| r.clustering.get(i - t.pk_len).cloned()),
            ColumnKind::Static => cell_value(
                def,
                self.p.static_row.cells.get(&def.name),
                self.p.deleted_at,
                now_s,
            ),
            ColumnKind::Regular => {
                let (k, r) = self.row?;
                cell_value(
                    def,
                    r.cells.get(&def.name),
                    self.p.row_deletion(k, Some(r)),
                    now_s,
                )
            }
        }
    }

    /// The cell of a non-collection column `i`, live or not.
    pub(super) fn simple_cell(&self, t: &TableDef, i: usize) -> Option<&crate::storage::Cell> {
        let def = &t.columns[i];
        let data = match def.kind {
            ColumnKind::Static => self.p.static_row.cells.get(&def.name),
            _ => self.row?.1.cells.get(&def.name),
        };
        match data? {
            CellData::Simple(c) => Some(c),
            CellData::Collection { .. } => None,
        }
    }
}

/// Whether a row passes a non-key restriction.
pub(super) fn matches_filter(t: &TableDef, f: &RowFilter, v: &RowView<'_>, now_s: i64) -> bool {
    let def = &t.columns[f.col];
    let Some(cur) = v.column(t, f.col, now_s) else {
        return false;
    };
    let typ = &def.typ;
    if let (Some(key), ColumnType::Map(kt, vt)) = (&f.key, typ) {
        // `m[key] = value`: the entry with that key has that value.
        let Ok(CqlValue::Map(entries)) = CqlValue::decode_bytes(typ, &cur) else {
            return false;
        };
        let enc = |v: &CqlValue, t: &ColumnType| {
            let mut b = BytesMut::new();
            v.encode_bytes(t, &mut b).ok().map(|()| b.freeze())
        };
        return entries.iter().any(|(k, v)| {
            enc(k, kt).is_some_and(|kb| cmp_typed(kt, &kb, key).is_eq())
                && enc(v, vt)
                    .is_some_and(|vb| f.values.iter().any(|x| cmp_typed(vt, &vb, x).is_eq()))
        });
    }
    let cmp = |x: &Bytes| cmp_typed(typ, &cur, x);
    match f.op {
        Operator::Eq => f.values.iter().any(|x| cmp(x).is_eq()),
        Operator::In => f.values.iter().any(|x| cmp(x).is_eq()),
        Operator::Ne => f.values.iter().all(|x| !cmp(x).is_eq()),
        Operator::Lt => f.values.iter().all(|x| cmp(x).is_lt()),
        Operator::Le => f.values.iter().all(|x| cmp(x).is_le()),
        Operator::Gt => f.values.iter().all(|x| cmp(x).is_gt()),
        Operator::Ge => f.values.iter().all(|x| cmp(x).is_ge()),
        Operator::Contains | Operator::ContainsKey => {
            let Ok(val) = CqlValue::decode_bytes(typ, &cur) else {
                return false;
            };
            let (elem_t, items): (&ColumnType, Vec<CqlValue>) = match (typ, val, f.op) {
                (
                    ColumnType::List(e) | ColumnType::Set(e),
                    CqlValue::List(i) | CqlValue::Set(i),
                    _,
                ) => (e, i),
                (ColumnType::Map(k, _), CqlValue::Map(m), Operator::ContainsKey) => {
                    (k, m.into_iter().map(|(k, _)| k).collect())
                }
                (ColumnType::Map(_, v), CqlValue::Map(m), _) => {
                    (v, m.into_iter().map(|(_, v)| v).collect())
                }
                _ => return false,
            };
            items.iter().any(|it| {
                let mut b = BytesMut::new();
                it.encode_bytes(elem_t, &mut b).is_ok()
                    && f.values.iter().any(|x| x.as_ref() == b.as_ref())
            })
        }
    }
}

/// The live value of element `elem` of a collection cell (map value or set/list element).
pub(super) fn element_value(
    def: &ColumnDef,
    data: Option<&CellData>,
    elem: &Bytes,
    deletion: Option<i64>,
    now_s: i64,
) -> Option<Bytes> {
    let Some(CellData::Collection {
        deleted_at,
        elements,
    }) = data
    else {
        return None;
    };
    let d = deletion.max(*deleted_at);
    let live =
        |e: &&crate::storage::Element| e.cell.is_live(now_s) && d.is_none_or(|d| e.cell.ts > d);
    match &def.typ {
        ColumnType::Map(k, _) => {
            let mut ek = Vec::new();
            encode_component(k, elem, false, &mut ek);
            elements
                .get(&ek)
                .filter(live)
                .and_then(|e| e.cell.value.clone())
        }
        ColumnType::List(_) => {
            let idx = i32::from_be_bytes(elem.as_ref().try_into().ok()?);
            elements
                .values()
                .filter(live)
                .nth(usize::try_from(idx).ok()?)
                .and_then(|e| e.cell.value.clone())
        }
        _ => None,
    }
}
