//! A mutation's bytes copied into one buffer of their own before the mutation is stored.
//!
//! Bound values arrive as slices of the request frame (zero-copy decoding), and a frame is
//! itself a slice of the connection's read buffer. Stored as they are, a few bytes of a cell
//! would keep that whole buffer alive for as long as the cell lives. Packing gives every
//! mutation one exact-size buffer holding its key, clustering values, cell values and
//! collection elements; the replicas' cells are slices of it, so a row costs one allocation
//! shared by every replica instead of one per cell per replica.

use bytes::{Bytes, BytesMut};

use super::{ColOp, Mutation};
use crate::storage::Cell;

/// A copy of `m` whose bytes all live in one fresh buffer.
pub(super) fn packed(m: &Mutation) -> Mutation {
    let mut m = m.clone();
    let mut len = 0;
    for_each_bytes(&mut m, &mut |b| len += b.len());
    let mut buf = BytesMut::with_capacity(len);
    for_each_bytes(&mut m, &mut |b| {
        if !b.is_empty() {
            buf.extend_from_slice(b);
            // The buffer was sized for every piece, so `split` never reallocates: each piece
            // is a view of the one allocation.
            *b = buf.split().freeze();
        }
    });
    m
}

/// Calls `f` on every stored `Bytes` of a mutation, in a fixed order.
fn for_each_bytes(m: &mut Mutation, f: &mut dyn FnMut(&mut Bytes)) {
    f(&mut m.key.key);
    m.key_values.iter_mut().for_each(&mut *f);
    for r in &mut m.rows {
        if let Some((_, values)) = &mut r.clustering {
            values.iter_mut().for_each(&mut *f);
        }
        if let Some(c) = &mut r.marker {
            cell(c, f);
        }
        for (_, _, op) in &mut r.ops {
            match op {
                ColOp::Set(c)
                | ColOp::SetIndex { cell: c, .. }
                | ColOp::SetField { cell: c, .. } => {
                    cell(c, f);
                }
                ColOp::Replace { elements, .. } | ColOp::Put(elements) => {
                    for (_, e) in elements {
                        f(&mut e.key);
                        cell(&mut e.cell, f);
                    }
                }
                ColOp::Append {
                    values, cell: c, ..
                } => {
                    values.iter_mut().for_each(&mut *f);
                    cell(c, f);
                }
                // Compared against stored values, never stored.
                ColOp::RemoveValues { .. }
                | ColOp::RemoveKeys { .. }
                | ColOp::DeleteIndex { .. }
                | ColOp::DeleteCollection { .. }
                | ColOp::Counter(_) => {}
            }
        }
    }
}

fn cell(c: &mut Cell, f: &mut dyn FnMut(&mut Bytes)) {
    if let Some(v) = &mut c.value {
        f(v);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::exec::write::RowMutation;
    use crate::storage::PartitionKey;
    use crate::{Engine, QueryOptions, Store};

    fn table() -> Arc<crate::schema::TableDef> {
        let mut e = Engine::new();
        let mut s = Store::new();
        let o = QueryOptions::default();
        for q in [
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            "CREATE TABLE ks.t (k int, c int, a text, b text, PRIMARY KEY (k, c))",
        ] {
            assert!(e.query(&mut s, q, &o).is_ok(), "{q}");
        }
        match e.catalog.table("ks", "t") {
            Some(t) => Arc::clone(t),
            None => panic!("table ks.t was just created"),
        }
    }

    fn set(v: &Bytes) -> ColOp {
        ColOp::Set(Cell {
            ts: 1,
            expiry: None,
            value: Some(v.clone()),
        })
    }

    #[test]
    fn packed_bytes_are_equal_and_share_one_buffer_apart_from_the_frame() {
        let frame = Bytes::from(b"....KEY1CK01value-one....value-two....".to_vec());
        let m = Mutation {
            table: table(),
            key: PartitionKey {
                token: 7,
                key: frame.slice(4..8),
            },
            key_values: vec![frame.slice(4..8)],
            delete_partition: None,
            range_deletes: Vec::new(),
            rows: vec![RowMutation {
                clustering: Some((b"enc".to_vec(), vec![frame.slice(8..12)])),
                marker: None,
                delete_row: None,
                ops: vec![
                    ("a".into(), false, set(&frame.slice(12..21))),
                    ("b".into(), false, set(&frame.slice(25..34))),
                ],
            }],
        };
        let p = packed(&m);
        let value = |m: &Mutation, i: usize| match &m.rows[0].ops[i].2 {
            ColOp::Set(c) => c.value.clone(),
            _ => None,
        };
        assert_eq!(p.key, m.key);
        assert_eq!(p.key_values, m.key_values);
        assert_eq!(p.rows[0].clustering, m.rows[0].clustering);
        assert_eq!(value(&p, 0), value(&m, 0));
        assert_eq!(value(&p, 1).as_deref(), Some(&b"value-two"[..]));
        // Every piece is a view of one new buffer laid out in order, none of the frame.
        let pieces = [
            p.key.key.clone(),
            p.key_values[0].clone(),
            p.rows[0]
                .clustering
                .as_ref()
                .map(|c| c.1[0].clone())
                .unwrap_or_default(),
            value(&p, 0).unwrap_or_default(),
            value(&p, 1).unwrap_or_default(),
        ];
        let frame_range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
        for w in pieces.windows(2) {
            assert_eq!(w[0].as_ptr() as usize + w[0].len(), w[1].as_ptr() as usize);
        }
        for piece in &pieces {
            assert!(!frame_range.contains(&(piece.as_ptr() as usize)));
        }
    }
}
