//! The WHERE clause of a SELECT: partition keys, token bounds, clustering ranges, and the
//! non-key restrictions (with `ALLOW FILTERING` or an index) evaluated per row.

use std::ops::Bound;

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use super::KeyRange;
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::BoundValue;
use crate::exec::value::TermEnv;
use crate::exec::write::{
    Slice, cartesian, clustering_types, eq_values, partition_key, range_bounds,
    require_partition_key,
};
use crate::key_encoding::encode_component;
use crate::schema::{ColumnDef, ColumnKind, IndexTargetKind, TableDef};
use crate::storage::PartitionKey;

/// Whether a secondary index targets the column (`c`, `keys(c)`, `values(c)`, ...).
/// Whether an index of `t` serves `column <op> value`: `=` a simple or full() index,
/// CONTAINS a values() index, CONTAINS KEY a keys() index.
fn is_indexed(t: &TableDef, column: &str, op: Operator) -> bool {
    let kinds: &[IndexTargetKind] = match op {
        Operator::Eq => &[IndexTargetKind::Simple, IndexTargetKind::Full],
        Operator::Contains => &[IndexTargetKind::Values],
        Operator::ContainsKey => &[IndexTargetKind::Keys],
        _ => &[],
    };
    t.indexes
        .iter()
        .any(|i| kinds.iter().any(|k| i.serves(column, *k)))
}

/// A non-key restriction evaluated per row.
pub(super) struct RowFilter {
    pub(super) col: usize,
    pub(super) op: Operator,
    pub(super) values: Vec<Bytes>,
    /// For `m[key] = value`: the map key (the filter compares that entry's value).
    pub(super) key: Option<Bytes>,
}

/// The WHERE clause of a SELECT, resolved against the table.
pub(super) struct Restrictions {
    pub(super) keys: Option<Vec<(PartitionKey, Vec<Bytes>)>>,
    pub(super) token_lo: Bound<i64>,
    pub(super) token_hi: Bound<i64>,
    pub(super) ranges: Option<Vec<KeyRange>>,
    pub(super) filters: Vec<RowFilter>,
}

/// Compares two serialized values of a type in clustering order.
pub(super) fn cmp_typed(typ: &ColumnType, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let mut x = Vec::new();
    let mut y = Vec::new();
    encode_component(typ, a, false, &mut x);
    encode_component(typ, b, false, &mut y);
    x.cmp(&y)
}

/// Resolves the WHERE clause of a SELECT into keys, token bounds, clustering ranges and
/// filters, rejecting restrictions the server would reject.
pub(super) fn restrictions(
    t: &TableDef,
    s: &Select,
    env: &mut TermEnv<'_>,
) -> Result<Restrictions> {
    let mut pk: Vec<Option<Vec<Bytes>>> = vec![None; t.pk_len];
    let mut ck_eq: Vec<Option<Vec<Bytes>>> = vec![None; t.ck_len];
    let mut ck_slice: Vec<Slice> = vec![(None, None); t.ck_len];
    let mut token_lo = Bound::Unbounded;
    let mut token_hi = Bound::Unbounded;
    let mut filters = Vec::new();
    let mut needs_filtering = false;
    // Key columns restricted by `=` on an index: served by the index, not by filtering.
    let mut by_index = vec![false; t.pk_len + t.ck_len];
    for r in &s.where_clause {
        match &r.lhs {
            RelationLhs::Token(cols) => {
                let pkn: Vec<&str> = t.partition_key().iter().map(|c| c.name.as_str()).collect();
                if cols.iter().map(String::as_str).collect::<Vec<_>>() != pkn {
                    return Err(CqlError::invalid("The token() function must be applied to all partition key components or none of them".to_string()));
                }
                let RelationRhs::Term(term) = &r.rhs else {
                    return Err(CqlError::invalid("IN is not supported on token()"));
                };
                let Some(CqlValue::BigInt(v)) =
                    env.value(term, &ColumnType::BigInt, "partition key token")?
                else {
                    return Err(CqlError::invalid(
                        "Invalid null value for token restriction",
                    ));
                };
                match r.op {
                    Operator::Gt => token_lo = Bound::Excluded(v),
                    Operator::Ge => token_lo = Bound::Included(v),
                    Operator::Lt => token_hi = Bound::Excluded(v),
                    Operator::Le => token_hi = Bound::Included(v),
                    Operator::Eq => {
                        token_lo = Bound::Included(v);
                        token_hi = Bound::Included(v);
                    }
                    _ => return Err(CqlError::invalid("Unsupported operator on token()")),
                }
            }
            RelationLhs::Element(name, key) => {
                let (i, col) = t.column_or_err(name)?;
                let ColumnType::Map(kt, vt) = &col.typ else {
                    return Err(CqlError::invalid(format!(
                        "Cannot use element access on non-map column {name}"
                    )));
                };
                if r.op != Operator::Eq {
                    return Err(CqlError::invalid(format!(
                        "Only EQ relations are supported on map entries ({name})"
                    )));
                }
                let bytes = |env: &mut TermEnv<'_>, term: &Term, typ: &ColumnType| match env
                    .bytes(term, typ, name)?
                {
                    BoundValue::Value(b) => Ok(b),
                    _ => Err(CqlError::invalid(format!(
                        "Unsupported null map key for column {name}"
                    ))),
                };
                let RelationRhs::Term(value) = &r.rhs else {
                    return Err(CqlError::invalid("Invalid relation"));
                };
                let k = bytes(env, key, kt)?;
                let v = bytes(env, value, vt)?;
                let indexed = t
                    .indexes
                    .iter()
                    .any(|ix| ix.serves(name, IndexTargetKind::Entries));
                needs_filtering |= !indexed;
                filters.push(RowFilter {
                    col: i,
                    op: Operator::Eq,
                    values: vec![v],
                    key: Some(k),
                });
            }
            RelationLhs::Column(name) => {
                let (i, col) = t.column_or_err(name)?;
                let simple = matches!(r.op, Operator::Eq | Operator::In);
                if i < by_index.len() && is_indexed(t, &col.name, r.op) {
                    by_index[i] = true;
                }
                match col.kind {
                    ColumnKind::PartitionKey if simple => pk[i] = Some(eq_values(env, r, col)?),
                    ColumnKind::Clustering if simple => {
                        ck_eq[i - t.pk_len] = Some(eq_values(env, r, col)?)
                    }
                    ColumnKind::Clustering
                        if matches!(
                            r.op,
                            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge
                        ) =>
                    {
                        let RelationRhs::Term(term) = &r.rhs else {
                            return Err(CqlError::invalid("bad slice"));
                        };
                        let BoundValue::Value(v) = env.bytes(term, &col.typ, name)? else {
                            return Err(CqlError::invalid(format!(
                                "Invalid null value in condition for column {name}"
                            )));
                        };
                        let sl = &mut ck_slice[i - t.pk_len];
                        match r.op {
                            Operator::Gt => sl.0 = Some((v, false)),
                            Operator::Ge => sl.0 = Some((v, true)),
                            Operator::Lt => sl.1 = Some((v, false)),
                            _ => sl.1 = Some((v, true)),
                        }
                    }
                    _ => {
                        // An indexed column is queried without ALLOW FILTERING (the index is
                        // simulated by filtering).
                        if !is_indexed(t, &col.name, r.op) {
                            needs_filtering = true;
                        }
                        filters.push(filter(env, r, i, col)?);
                    }
                }
            }
        }
    }
    // Partition keys: all restricted by EQ/IN means key lookups.
    let restricted = pk.iter().filter(|p| p.is_some()).count();
    let keys = if restricted == t.pk_len {
        let lists: Vec<Vec<Bytes>> = pk.into_iter().flatten().collect();
        let mut keys = Vec::new();
        for kv in cartesian(&lists) {
            keys.push((partition_key(&kv)?, kv));
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys.dedup_by(|a, b| a.0 == b.0);
        Some(keys)
    } else {
        if restricted > 0 {
            let indexed = pk
                .iter()
                .enumerate()
                .all(|(i, p)| p.is_none() || by_index[i]);
            if !s.allow_filtering && !indexed {
                // Some parts are restricted, not all: this reports the missing ones.
                require_partition_key(t, &pk)?;
            }
            for (i, p) in pk.iter().enumerate() {
                if let Some(vals) = p {
                    filters.push(RowFilter {
                        col: i,
                        op: Operator::In,
                        values: vals.clone(),
                        key: None,
                    });
                }
            }
        }
        None
    };
    let ck_restricted_free: Vec<bool> = (0..t.ck_len)
        .map(|j| ck_eq[j].is_none() && ck_slice[j].0.is_none() && ck_slice[j].1.is_none())
        .collect();
    // Clustering: an EQ/IN prefix, then at most one slice; anything else is filtered.
    let mut prefix = Vec::new();
    let mut slice = None;
    let mut broken = false;
    for j in 0..t.ck_len {
        let col = t.pk_len + j;
        let has_slice = ck_slice[j].0.is_some() || ck_slice[j].1.is_some();
        if broken {
            if let Some(v) = ck_eq[j].take() {
                needs_filtering |= !by_index[col];
                filters.push(RowFilter {
                    col,
                    op: Operator::In,
                    values: v,
                    key: None,
                });
            }
            if has_slice {
                needs_filtering = true;
                let (lo, hi) = ck_slice[j].clone();
                if let Some((v, incl)) = lo {
                    filters.push(RowFilter {
                        col,
                        op: if incl { Operator::Ge } else { Operator::Gt },
                        values: vec![v],
                        key: None,
                    });
                }
                if let Some((v, incl)) = hi {
                    filters.push(RowFilter {
                        col,
                        op: if incl { Operator::Le } else { Operator::Lt },
                        values: vec![v],
                        key: None,
                    });
                }
            }
            continue;
        }
        if let Some(v) = ck_eq[j].take() {
            let typ = &t.columns[col].typ;
            let mut v = v;
            v.sort_by(|a, b| cmp_typed(typ, a, b));
            v.dedup();
            prefix.push(v);
        } else if has_slice {
            slice = Some(ck_slice[j].clone());
            broken = true;
        } else {
            broken = true;
        }
    }
    // Clustering restrictions without the whole partition key scan every partition, unless
    // each restricted clustering column is served by an index.
    let ck_indexed = (0..t.ck_len).all(|j| {
        let restricted = !ck_restricted_free[j];
        !restricted || by_index[t.pk_len + j]
    });
    if keys.is_none() && (!prefix.is_empty() || slice.is_some()) && !ck_indexed {
        needs_filtering = true;
    }
    if needs_filtering && !s.allow_filtering {
        return Err(CqlError::invalid(
            "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING",
        ));
    }
    let ranges = if prefix.is_empty() && slice.is_none() {
        None
    } else {
        let types = clustering_types(t);
        let mut combos: Vec<Vec<Bytes>> = vec![Vec::new()];
        for l in &prefix {
            combos = combos
                .into_iter()
                .flat_map(|p| {
                    l.iter().map(move |v| {
                        let mut p = p.clone();
                        p.push(v.clone());
                        p
                    })
                })
                .collect();
        }
        let mut rs: Vec<_> = combos
            .iter()
            .map(|c| range_bounds(&types, c, slice.as_ref()))
            .collect();
        rs.sort_by(|a, b| bound_key(&a.0).cmp(bound_key(&b.0)));
        Some(rs)
    };
    Ok(Restrictions {
        keys,
        token_lo,
        token_hi,
        ranges,
        filters,
    })
}

fn bound_key(b: &Bound<Vec<u8>>) -> &[u8] {
    match b {
        Bound::Included(k) | Bound::Excluded(k) => k,
        Bound::Unbounded => &[],
    }
}

fn filter(env: &mut TermEnv<'_>, r: &Relation, col: usize, def: &ColumnDef) -> Result<RowFilter> {
    let typ = match (r.op, &def.typ) {
        (Operator::Contains, ColumnType::List(e) | ColumnType::Set(e)) => (**e).clone(),
        (Operator::Contains, ColumnType::Map(_, v)) => (**v).clone(),
        (Operator::ContainsKey, ColumnType::Map(k, _)) => (**k).clone(),
        (Operator::Contains | Operator::ContainsKey, _) => {
            return Err(CqlError::invalid(format!(
                "Cannot use CONTAINS on non-collection column {}",
                def.name
            )));
        }
        (_, t) => t.clone(),
    };
    let values = match (&r.op, &r.rhs) {
        (Operator::In, _) => {
            let tmp = ColumnDef {
                typ: typ.clone(),
                ..def.clone()
            };
            eq_values(env, r, &tmp)?
        }
        (_, RelationRhs::Term(t)) => match env.bytes(t, &typ, &def.name)? {
            BoundValue::Value(b) => vec![b],
            _ => {
                return Err(CqlError::invalid(format!(
                    "Unsupported null value for column {}",
                    def.name
                )));
            }
        },
        _ => return Err(CqlError::invalid("Invalid relation")),
    };
    Ok(RowFilter {
        col,
        op: r.op,
        values,
        key: None,
    })
}
