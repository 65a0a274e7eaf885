//! Keys of a write: the partition and clustering key values its WHERE clause (or VALUES)
//! restricts, integer terms (TIMESTAMP, TTL), and the encoded clustering bounds of a slice.

use std::ops::Bound;

use bytes::{Bytes, BytesMut};
use proto::{ColumnType, CqlValue};

use super::{Slice, SliceBound};
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::BoundValue;
use crate::exec::read::KeyRange;
use crate::exec::value::{TermEnv, encode};
use crate::key_encoding::{encode_component, encode_key, prefix_successor};
use crate::schema::{ColumnDef, ColumnKind, TableDef};
use crate::storage::PartitionKey;

/// A `bigint` term (such as `USING TIMESTAMP`), `None` when null or unset.
pub(crate) fn int_term(
    t: &Term,
    values: &[BoundValue],
    now: i64,
    name: &str,
) -> Result<Option<i64>> {
    let mut env = TermEnv {
        values,
        now_micros: now,
        unique: 0,
    };
    match env.value(t, &ColumnType::BigInt, name)? {
        Some(CqlValue::BigInt(v)) => Ok(Some(v)),
        None => Ok(None),
        _ => Err(CqlError::invalid(format!("Invalid value for {name}"))),
    }
}

/// An `int` term (such as `USING TTL`), `None` when null or unset.
pub(super) fn int32_term(t: &Term, env: &mut TermEnv<'_>, name: &str) -> Result<Option<i32>> {
    match env.value(t, &ColumnType::Int, name)? {
        Some(CqlValue::Int(v)) => Ok(Some(v)),
        None => Ok(None),
        _ => Err(CqlError::invalid(format!("Invalid value for {name}"))),
    }
}

/// A column value restricted by `=` or `IN` in a WHERE clause: the list of serialized values.
pub(crate) fn eq_values(
    env: &mut TermEnv<'_>,
    rel: &Relation,
    col: &ColumnDef,
) -> Result<Vec<Bytes>> {
    let one = |env: &mut TermEnv<'_>, t: &Term| -> Result<Bytes> {
        match env.bytes(t, &col.typ, &col.name)? {
            BoundValue::Value(b) => Ok(b),
            BoundValue::Null => Err(CqlError::invalid(format!(
                "Invalid null value in condition for column {}",
                col.name
            ))),
            BoundValue::Unset => Err(CqlError::invalid(format!(
                "Invalid unset value for column {}",
                col.name
            ))),
        }
    };
    match (&rel.op, &rel.rhs) {
        (Operator::Eq, RelationRhs::Term(t)) => Ok(vec![one(env, t)?]),
        (Operator::In, RelationRhs::List(ts)) => ts.iter().map(|t| one(env, t)).collect(),
        (Operator::In, RelationRhs::Marker(m)) => {
            let lt = ColumnType::List(Box::new(col.typ.clone()));
            match env.value(&Term::Bind(m.clone()), &lt, &col.name)? {
                Some(CqlValue::List(items)) => items.iter().map(|v| encode(v, &col.typ)).collect(),
                _ => Err(CqlError::invalid(format!(
                    "Invalid null value for IN restriction on {}",
                    col.name
                ))),
            }
        }
        _ => Err(CqlError::invalid(format!(
            "Invalid operator for column {}",
            col.name
        ))),
    }
}

/// Every combination of one value from each list, in order.
pub(crate) fn cartesian(lists: &[Vec<Bytes>]) -> Vec<Vec<Bytes>> {
    let mut out: Vec<Vec<Bytes>> = vec![Vec::new()];
    for l in lists {
        let mut next = Vec::with_capacity(out.len() * l.len());
        for prefix in &out {
            for v in l {
                let mut p = prefix.clone();
                p.push(v.clone());
                next.push(p);
            }
        }
        out = next;
    }
    out
}

/// Fails, as Cassandra does, when a partition-key column of `t` has no value in `pk` (one
/// entry per partition-key column, in order).
pub(crate) fn require_partition_key<T>(t: &TableDef, pk: &[Option<T>]) -> Result<()> {
    let missing: Vec<&str> = t
        .partition_key()
        .iter()
        .zip(pk)
        .filter(|(_, v)| v.is_none())
        .map(|(c, _)| c.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(CqlError::invalid(format!(
        "Some partition key parts are missing: {}",
        missing.join(", ")
    )))
}

/// The partition key position of key values.
pub(crate) fn partition_key(values: &[Bytes]) -> Result<PartitionKey> {
    let parts: Vec<&[u8]> = values.iter().map(|b| b.as_ref()).collect();
    let mut buf = BytesMut::new();
    proto::token::serialize_partition_key(&parts, &mut buf)
        .map_err(|e| CqlError::invalid(e.to_string()))?;
    let key = buf.freeze();
    Ok(PartitionKey {
        token: proto::token::murmur3_token(&key).0,
        key,
    })
}

/// The type and DESC flag of each clustering column.
pub(crate) fn clustering_types(t: &TableDef) -> Vec<(&ColumnType, bool)> {
    t.clustering().iter().map(|c| (&c.typ, c.desc)).collect()
}

/// Key restrictions of a write's WHERE clause.
pub(super) struct WriteKeys {
    pub(super) partitions: Vec<Vec<Bytes>>,
    /// Clustering values per column for the restricted prefix (EQ/IN).
    pub(super) prefix: Vec<Vec<Bytes>>,
    /// A slice on the column after the prefix: (lower, upper) with inclusivity.
    pub(super) slice: Option<Slice>,
}

/// The partition keys and clustering prefix (or slice, when `allow_slice`) a write's WHERE
/// clause restricts.
pub(super) fn write_keys(
    t: &TableDef,
    rels: &[Relation],
    env: &mut TermEnv<'_>,
    allow_slice: bool,
) -> Result<WriteKeys> {
    let mut pk: Vec<Option<Vec<Bytes>>> = vec![None; t.pk_len];
    let mut ck: Vec<Option<Vec<Bytes>>> = vec![None; t.ck_len];
    let mut slice: Option<(usize, SliceBound, SliceBound)> = None;
    for r in rels {
        let name = match &r.lhs {
            RelationLhs::Column(name) => name,
            RelationLhs::Element(name, _) => {
                return Err(CqlError::invalid(format!(
                    "Non PRIMARY KEY columns found in where clause: {name}"
                )));
            }
            _ => {
                return Err(CqlError::invalid(
                    "The token function cannot be used in WHERE clauses for UPDATE and DELETE statements",
                ));
            }
        };
        let (i, col) = t.column_or_err(name)?;
        match col.kind {
            ColumnKind::PartitionKey => pk[i] = Some(eq_values(env, r, col)?),
            ColumnKind::Clustering => {
                let j = i - t.pk_len;
                match r.op {
                    Operator::Eq | Operator::In => ck[j] = Some(eq_values(env, r, col)?),
                    Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge if allow_slice => {
                        let RelationRhs::Term(term) = &r.rhs else {
                            return Err(CqlError::invalid("bad slice"));
                        };
                        let BoundValue::Value(v) = env.bytes(term, &col.typ, &col.name)? else {
                            return Err(CqlError::invalid(format!(
                                "Invalid null value in condition for column {name}"
                            )));
                        };
                        let s = slice.get_or_insert((j, None, None));
                        if s.0 != j {
                            return Err(CqlError::invalid(
                                "Only one clustering column can be restricted by a slice",
                            ));
                        }
                        match r.op {
                            Operator::Gt => s.1 = Some((v, false)),
                            Operator::Ge => s.1 = Some((v, true)),
                            Operator::Lt => s.2 = Some((v, false)),
                            _ => s.2 = Some((v, true)),
                        }
                    }
                    _ => {
                        return Err(CqlError::invalid(format!(
                            "Invalid operator {:?} for PRIMARY KEY part {name}",
                            r.op
                        )));
                    }
                }
            }
            _ => {
                return Err(CqlError::invalid(format!(
                    "Non PRIMARY KEY columns found in where clause: {name} "
                )));
            }
        }
    }
    require_partition_key(t, &pk)?;
    let pk_lists: Vec<Vec<Bytes>> = pk.into_iter().flatten().collect();
    let mut prefix = Vec::new();
    for (j, v) in ck.into_iter().enumerate() {
        if let Some(v) = v {
            if prefix.len() != j {
                return Err(CqlError::invalid(format!(
                    "PRIMARY KEY column \"{}\" cannot be restricted as preceding column \"{}\" is not restricted",
                    t.clustering()[j].name,
                    t.clustering()[prefix.len()].name
                )));
            }
            prefix.push(v);
        }
    }
    let slice = match slice {
        Some((j, lo, hi)) => {
            if j != prefix.len() {
                return Err(CqlError::invalid(
                    "Clustering column slice must follow the restricted prefix",
                ));
            }
            Some((lo, hi))
        }
        None => None,
    };
    Ok(WriteKeys {
        partitions: cartesian(&pk_lists),
        prefix,
        slice,
    })
}

/// Encoded clustering bounds for a prefix plus an optional slice on the next column.
pub(crate) fn range_bounds(
    types: &[(&ColumnType, bool)],
    prefix: &[Bytes],
    slice: Option<&Slice>,
) -> KeyRange {
    let refs: Vec<&[u8]> = prefix.iter().map(|b| b.as_ref()).collect();
    let p = encode_key(&types[..prefix.len()], &refs);
    let whole = || {
        (
            Bound::Included(p.clone()),
            prefix_successor(&p).map_or(Bound::Unbounded, Bound::Excluded),
        )
    };
    let Some((lo, hi)) = slice else {
        return whole();
    };
    let Some((typ, desc)) = types.get(prefix.len()) else {
        return whole();
    };
    let enc = |v: &Bytes| {
        let mut k = p.clone();
        encode_component(typ, v, *desc, &mut k);
        k
    };
    // In encoded space a DESC column's lower value bound is an upper key bound.
    let (mut start, mut end) = whole();
    let as_lower = |(v, incl): &(Bytes, bool)| {
        let k = enc(v);
        if *incl {
            Bound::Included(k)
        } else {
            prefix_successor(&k).map_or(Bound::Unbounded, Bound::Included)
        }
    };
    let as_upper = |(v, incl): &(Bytes, bool)| {
        let k = enc(v);
        if *incl {
            prefix_successor(&k).map_or(Bound::Unbounded, Bound::Excluded)
        } else {
            Bound::Excluded(k)
        }
    };
    let (key_lo, key_hi) = if *desc { (hi, lo) } else { (lo, hi) };
    if let Some(b) = key_lo {
        start = if *desc {
            as_lower_desc(&enc(&b.0), b.1)
        } else {
            as_lower(b)
        };
    }
    if let Some(b) = key_hi {
        end = if *desc {
            as_upper_desc(&enc(&b.0), b.1)
        } else {
            as_upper(b)
        };
    }
    (start, end)
}

/// For a DESC column, a value upper bound `v` (`<`/`<=`) becomes a key lower bound.
fn as_lower_desc(k: &[u8], incl: bool) -> Bound<Vec<u8>> {
    if incl {
        Bound::Included(k.to_vec())
    } else {
        prefix_successor(k).map_or(Bound::Unbounded, Bound::Included)
    }
}

/// For a DESC column, a value lower bound (`>`/`>=`) becomes a key upper bound.
fn as_upper_desc(k: &[u8], incl: bool) -> Bound<Vec<u8>> {
    if incl {
        prefix_successor(k).map_or(Bound::Unbounded, Bound::Excluded)
    } else {
        Bound::Excluded(k.to_vec())
    }
}
