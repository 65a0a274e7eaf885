//! SELECT: key lookups and token-ordered scans, clustering slices, filtering, paging, and the
//! reads behind LWT conditions.

use std::collections::btree_map;
use std::iter::Peekable;
use std::ops::Bound;

use bytes::{BufMut, Bytes, BytesMut};
use proto::{ColumnType, CqlValue};

use super::value::Env;
use super::write::{Slice, clustering_types, eq_values, partition_key, range_bounds};
use super::{BoundValue, ColumnSpec, ExecCtx, RowsResult};
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::keyenc::encode_component;
use crate::schema::{Catalog, ColumnDef, ColumnKind, TableDef};
use crate::storage::{CellData, Partition, PartitionKey, Replicas, Row, Store};

/// A range of encoded clustering keys.
pub(crate) type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The serialized cells of one result row.
pub(crate) type RowCells = Vec<Option<Bytes>>;

/// Columns and cells shown with a failed LWT.
pub(crate) type Shown = (Vec<ColumnSpec>, Vec<Option<Bytes>>);

/// One output column of a SELECT.
#[derive(Debug, Clone)]
enum Out {
    Col(usize),
    WriteTime(usize),
    Ttl(usize),
    Token,
    Count,
    CountCol(usize),
    /// `min`, `max`, `sum` or `avg` of a column.
    Agg(Agg, usize),
    /// A function of no column, such as `now()`: evaluated once per query.
    Const(Term, ColumnType),
}

/// A selector that is a function of no column (`now()`, `toTimestamp(now())`), as a term and
/// its type.
fn const_selector(sel: &Selector) -> Option<(Term, ColumnType)> {
    let Selector::Function { name, args } = sel else {
        return None;
    };
    let typ = match name.as_str() {
        "now" | "currenttimeuuid" => ColumnType::Timeuuid,
        "uuid" => ColumnType::Uuid,
        "currenttimestamp" | "totimestamp" | "dateof" => ColumnType::Timestamp,
        "currentdate" => ColumnType::Date,
        "tounixtimestamp" | "unixtimestampof" => ColumnType::BigInt,
        _ => return None,
    };
    let args = args
        .iter()
        .map(|a| const_selector(a).map(|(t, _)| t))
        .collect::<Option<Vec<_>>>()?;
    Some((
        Term::Function {
            name: name.clone(),
            args,
        },
        typ,
    ))
}

/// A value aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Min,
    Max,
    Sum,
    Avg,
}

/// A running aggregate: min/max keep bytes, sum/avg keep a wide number.
#[derive(Debug, Clone, Default)]
struct Acc {
    best: Option<Bytes>,
    int: i128,
    float: f64,
    n: i64,
}

fn numeric(typ: &ColumnType, b: &[u8]) -> Option<(i128, f64)> {
    Some(match CqlValue::decode_bytes(typ, b).ok()? {
        CqlValue::TinyInt(v) => (i128::from(v), f64::from(v)),
        CqlValue::SmallInt(v) => (i128::from(v), f64::from(v)),
        CqlValue::Int(v) => (i128::from(v), f64::from(v)),
        CqlValue::BigInt(v) | CqlValue::Counter(v) => (i128::from(v), v as f64),
        CqlValue::Float(v) => (0, f64::from(v)),
        CqlValue::Double(v) => (0, v),
        CqlValue::Varint(v) => {
            let i = v.to_i128()?;
            (i, i as f64)
        }
        _ => return None,
    })
}

fn numeric_bytes(typ: &ColumnType, int: i128, float: f64) -> Option<Bytes> {
    let v = match typ {
        ColumnType::TinyInt => CqlValue::TinyInt(int as i8),
        ColumnType::SmallInt => CqlValue::SmallInt(int as i16),
        ColumnType::Int => CqlValue::Int(int as i32),
        ColumnType::BigInt => CqlValue::BigInt(int as i64),
        ColumnType::Counter => CqlValue::Counter(int as i64),
        ColumnType::Float => CqlValue::Float(float as f32),
        ColumnType::Double => CqlValue::Double(float),
        ColumnType::Varint => CqlValue::Varint(proto::value::CqlVarint::from_i128(int)),
        _ => return None,
    };
    super::value::encode(&v, typ).ok()
}

fn outputs(t: &TableDef, s: &Select) -> Result<Vec<(Out, ColumnSpec)>> {
    let spec = |name: &str, typ: ColumnType| ColumnSpec {
        keyspace: t.keyspace.clone().into(),
        table: t.name.clone().into(),
        name: name.to_owned().into(),
        typ,
    };
    let mut out = Vec::new();
    match &s.selection {
        Selection::All => {
            for (i, c) in t.columns.iter().enumerate() {
                if s.distinct && !matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Static) {
                    continue;
                }
                out.push((Out::Col(i), spec(&c.name, c.typ.clone())));
            }
        }
        Selection::List(items) => {
            for (sel, alias) in items {
                let (o, name, typ) = match sel {
                    Selector::Column(c) => {
                        let (i, col) = t.column_or_err(c)?;
                        (Out::Col(i), c.clone(), col.typ.clone())
                    }
                    Selector::CountAll => (Out::Count, "count".to_owned(), ColumnType::BigInt),
                    Selector::WriteTime(c) | Selector::Ttl(c) => {
                        let (i, col) = t.column_or_err(c)?;
                        let wt = matches!(sel, Selector::WriteTime(_));
                        let fname = if wt { "writetime" } else { "ttl" };
                        if matches!(col.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                            return Err(CqlError::invalid(format!(
                                "Cannot use selection function {fname} on PRIMARY KEY part {c}"
                            )));
                        }
                        if col.multi_cell {
                            return Err(CqlError::invalid(format!(
                                "Cannot use selection function {fname} on non-frozen collection {c}"
                            )));
                        }
                        if wt {
                            (
                                Out::WriteTime(i),
                                format!("writetime({c})"),
                                ColumnType::BigInt,
                            )
                        } else {
                            (Out::Ttl(i), format!("ttl({c})"), ColumnType::Int)
                        }
                    }
                    Selector::Function { name, args } if name == "token" => {
                        let names: Vec<String> = args
                            .iter()
                            .map(|a| match a {
                                Selector::Column(c) => Ok(c.clone()),
                                _ => Err(CqlError::invalid("token() takes partition key columns")),
                            })
                            .collect::<Result<_>>()?;
                        let pk: Vec<&str> =
                            t.partition_key().iter().map(|c| c.name.as_str()).collect();
                        if names.iter().map(String::as_str).collect::<Vec<_>>() != pk {
                            return Err(CqlError::invalid(format!(
                                "Invalid number of arguments in call to function system.token: {} required but {} provided",
                                pk.len(),
                                names.len()
                            )));
                        }
                        (
                            Out::Token,
                            format!("system.token({})", names.join(", ")),
                            ColumnType::BigInt,
                        )
                    }
                    Selector::Function { name, args } if name == "count" => match args.as_slice() {
                        [Selector::Column(c)] => {
                            let (i, _) = t.column_or_err(c)?;
                            (
                                Out::CountCol(i),
                                format!("system.count({c})"),
                                ColumnType::BigInt,
                            )
                        }
                        _ => return Err(CqlError::invalid("Invalid call to count")),
                    },
                    Selector::Function { name, args }
                        if matches!(name.as_str(), "min" | "max" | "sum" | "avg") =>
                    {
                        let [Selector::Column(c)] = args.as_slice() else {
                            return Err(CqlError::invalid(format!("Invalid call to {name}")));
                        };
                        let (i, col) = t.column_or_err(c)?;
                        let agg = match name.as_str() {
                            "min" => Agg::Min,
                            "max" => Agg::Max,
                            "sum" => Agg::Sum,
                            _ => Agg::Avg,
                        };
                        if matches!(agg, Agg::Sum | Agg::Avg)
                            && numeric_bytes(&col.typ, 0, 0.0).is_none()
                        {
                            return Err(CqlError::invalid(format!(
                                "Invalid call to function {name}, none of its type signatures match (column {c} of type {})",
                                col.typ
                            )));
                        }
                        (
                            Out::Agg(agg, i),
                            format!("system.{name}({c})"),
                            col.typ.clone(),
                        )
                    }
                    Selector::Function { name, .. } => match const_selector(sel) {
                        Some((term, typ)) => (
                            Out::Const(term, typ.clone()),
                            format!("system.{name}()"),
                            typ,
                        ),
                        None => {
                            return Err(CqlError::invalid(format!("Unknown function '{name}'")));
                        }
                    },
                    _ => return Err(CqlError::invalid("Unsupported selector")),
                };
                out.push((o, spec(alias.as_deref().unwrap_or(&name), typ)));
            }
        }
    }
    Ok(out)
}

/// The single `[json]` column of a `SELECT JSON`.
fn json_spec(t: &TableDef) -> ColumnSpec {
    ColumnSpec {
        keyspace: t.keyspace.clone().into(),
        table: t.name.clone().into(),
        name: "[json]".into(),
        typ: ColumnType::Text,
    }
}

/// Turns each row into one `[json]` text cell.
fn to_json_rows(
    t: &TableDef,
    columns: &[ColumnSpec],
    rows: Vec<RowCells>,
) -> Result<(Vec<ColumnSpec>, Vec<RowCells>)> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let values: Vec<Option<CqlValue>> = row
            .iter()
            .zip(columns)
            .map(|(c, spec)| {
                c.as_ref()
                    .and_then(|b| CqlValue::decode_bytes(&spec.typ, b).ok())
            })
            .collect();
        let doc = super::json::row_json(&names, &values);
        out.push(vec![Some(Bytes::from(doc))]);
    }
    Ok((vec![json_spec(t)], out))
}

/// The result columns of a SELECT (for PREPARE).
pub(crate) fn result_columns(cat: &Catalog, t: &TableDef, s: &Select) -> Result<Vec<ColumnSpec>> {
    let _ = cat;
    let specs: Vec<ColumnSpec> = outputs(t, s)?.into_iter().map(|(_, s)| s).collect();
    if s.json {
        return Ok(vec![json_spec(t)]);
    }
    Ok(specs)
}

/// Whether a secondary index targets the column (`c`, `keys(c)`, `values(c)`, ...).
fn is_indexed(t: &TableDef, column: &str) -> bool {
    t.indexes.iter().any(|i| {
        i.options.get("target").is_some_and(|target| {
            let inner = target
                .split_once('(')
                .map_or(target.as_str(), |(_, rest)| rest.trim_end_matches(')'));
            let inner = inner.trim();
            match inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                Some(quoted) => quoted == column,
                None => inner.eq_ignore_ascii_case(column),
            }
        })
    })
}

/// A non-key restriction evaluated per row.
struct Filter {
    col: usize,
    op: Operator,
    values: Vec<Bytes>,
}

struct Restrictions {
    keys: Option<Vec<(PartitionKey, Vec<Bytes>)>>,
    token_lo: Bound<i64>,
    token_hi: Bound<i64>,
    ranges: Option<Vec<KeyRange>>,
    filters: Vec<Filter>,
}

fn cmp_typed(typ: &ColumnType, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let mut x = Vec::new();
    let mut y = Vec::new();
    encode_component(typ, a, false, &mut x);
    encode_component(typ, b, false, &mut y);
    x.cmp(&y)
}

fn restrictions(t: &TableDef, s: &Select, env: &mut Env<'_>) -> Result<Restrictions> {
    let mut pk: Vec<Option<Vec<Bytes>>> = vec![None; t.pk_len];
    let mut ck_eq: Vec<Option<Vec<Bytes>>> = vec![None; t.ck_len];
    let mut ck_slice: Vec<Slice> = vec![(None, None); t.ck_len];
    let mut token_lo = Bound::Unbounded;
    let mut token_hi = Bound::Unbounded;
    let mut filters = Vec::new();
    let mut needs_filtering = false;
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
            RelationLhs::Column(name) => {
                let (i, col) = t.column_or_err(name)?;
                let simple = matches!(r.op, Operator::Eq | Operator::In);
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
                        let indexed = r.op == Operator::Eq
                            || r.op == Operator::Contains
                            || r.op == Operator::ContainsKey;
                        if !(indexed && is_indexed(t, &col.name)) {
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
        let mut combos: Vec<Vec<Bytes>> = vec![Vec::new()];
        for l in &lists {
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
        for kv in combos {
            keys.push((partition_key(&kv)?, kv));
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys.dedup_by(|a, b| a.0 == b.0);
        Some(keys)
    } else {
        if restricted > 0 {
            if !s.allow_filtering {
                let missing: Vec<&str> = t
                    .partition_key()
                    .iter()
                    .zip(&pk)
                    .filter(|(_, v)| v.is_none())
                    .map(|(c, _)| c.name.as_str())
                    .collect();
                return Err(CqlError::invalid(format!(
                    "Some partition key parts are missing: {}",
                    missing.join(", ")
                )));
            }
            for (i, p) in pk.iter().enumerate() {
                if let Some(vals) = p {
                    filters.push(Filter {
                        col: i,
                        op: Operator::In,
                        values: vals.clone(),
                    });
                }
            }
        }
        None
    };
    // Clustering: an EQ/IN prefix, then at most one slice; anything else is filtered.
    let mut prefix = Vec::new();
    let mut slice = None;
    let mut broken = false;
    for j in 0..t.ck_len {
        let col = t.pk_len + j;
        let has_slice = ck_slice[j].0.is_some() || ck_slice[j].1.is_some();
        if broken {
            if let Some(v) = ck_eq[j].take() {
                needs_filtering = true;
                filters.push(Filter {
                    col,
                    op: Operator::In,
                    values: v,
                });
            }
            if has_slice {
                needs_filtering = true;
                let (lo, hi) = ck_slice[j].clone();
                if let Some((v, incl)) = lo {
                    filters.push(Filter {
                        col,
                        op: if incl { Operator::Ge } else { Operator::Gt },
                        values: vec![v],
                    });
                }
                if let Some((v, incl)) = hi {
                    filters.push(Filter {
                        col,
                        op: if incl { Operator::Le } else { Operator::Lt },
                        values: vec![v],
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
    // Clustering restrictions without the whole partition key scan every partition.
    if keys.is_none() && (!prefix.is_empty() || slice.is_some()) {
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

fn filter(env: &mut Env<'_>, r: &Relation, col: usize, def: &ColumnDef) -> Result<Filter> {
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
    Ok(Filter {
        col,
        op: r.op,
        values,
    })
}

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

fn row_is_live(t: &TableDef, row: &Row, deletion: Option<i64>, now_s: i64) -> bool {
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

fn static_live(t: &TableDef, p: &Partition, now_s: i64) -> bool {
    row_is_live(t, &p.static_row, p.deleted_at, now_s)
}

/// A view of one output row: the partition, and the row (None for a static-only row).
struct RowView<'a> {
    p: &'a Partition,
    key: &'a PartitionKey,
    row: Option<(&'a [u8], &'a Row)>,
}

impl RowView<'_> {
    fn column(&self, t: &TableDef, i: usize, now_s: i64) -> Option<Bytes> {
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

    fn simple_cell(&self, t: &TableDef, i: usize) -> Option<&crate::storage::Cell> {
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

fn matches_filter(t: &TableDef, f: &Filter, v: &RowView<'_>, now_s: i64) -> bool {
    let def = &t.columns[f.col];
    let Some(cur) = v.column(t, f.col, now_s) else {
        return false;
    };
    let typ = &def.typ;
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

/// Merges the partitions of several stores in (token, key) order, dropping duplicates.
struct Merge<'a> {
    iters: Vec<Peekable<btree_map::Range<'a, PartitionKey, Partition>>>,
}

impl<'a> Iterator for Merge<'a> {
    type Item = (&'a PartitionKey, &'a Partition);

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, &'a PartitionKey)> = None;
        for (i, it) in self.iters.iter_mut().enumerate() {
            if let Some((k, _)) = it.peek()
                && best.is_none_or(|(_, b)| *k < b)
            {
                best = Some((i, *k));
            }
        }
        let (i, key) = best?;
        let item = self.iters[i].next();
        for it in &mut self.iters {
            while it.peek().is_some_and(|(k, _)| *k == key) {
                it.next();
            }
        }
        item
    }
}

/// Where a page ended.
struct PagePos {
    key: PartitionKey,
    ck: Option<Vec<u8>>,
    emitted: i64,
    in_partition: i64,
}

const PAGING_MAGIC: &[u8; 4] = b"CSP1";

fn encode_paging(fp: u64, pos: &PagePos) -> Bytes {
    let mut b = BytesMut::new();
    b.put_slice(PAGING_MAGIC);
    b.put_u64(fp);
    b.put_i64(pos.key.token);
    b.put_u32(pos.key.key.len() as u32);
    b.put_slice(&pos.key.key);
    match &pos.ck {
        Some(ck) => {
            b.put_u8(1);
            b.put_u32(ck.len() as u32);
            b.put_slice(ck);
        }
        None => b.put_u8(0),
    }
    b.put_i64(pos.emitted);
    b.put_i64(pos.in_partition);
    b.freeze()
}

fn decode_paging(fp: u64, b: &[u8]) -> Result<PagePos> {
    let bad = || CqlError::Protocol("Invalid value for the paging state".into());
    let mut r = b;
    let mut take = |n: usize| -> Result<&[u8]> {
        if r.len() < n {
            return Err(bad());
        }
        let (h, t) = r.split_at(n);
        r = t;
        Ok(h)
    };
    if take(4)? != PAGING_MAGIC {
        return Err(bad());
    }
    let be8 = |s: &[u8]| -> [u8; 8] {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        a
    };
    let be4 = |s: &[u8]| -> [u8; 4] {
        let mut a = [0u8; 4];
        a.copy_from_slice(s);
        a
    };
    if u64::from_be_bytes(be8(take(8)?)) != fp {
        return Err(bad());
    }
    let token = i64::from_be_bytes(be8(take(8)?));
    let klen = u32::from_be_bytes(be4(take(4)?)) as usize;
    let key = Bytes::copy_from_slice(take(klen)?);
    let ck = match take(1)?[0] {
        0 => None,
        1 => {
            let n = u32::from_be_bytes(be4(take(4)?)) as usize;
            Some(take(n)?.to_vec())
        }
        _ => return Err(bad()),
    };
    let emitted = i64::from_be_bytes(be8(take(8)?));
    let in_partition = i64::from_be_bytes(be8(take(8)?));
    if !r.is_empty() || emitted < 0 || in_partition < 0 {
        return Err(bad());
    }
    Ok(PagePos {
        key: PartitionKey { token, key },
        ck,
        emitted,
        in_partition,
    })
}

fn token_range(
    lo: Bound<i64>,
    hi: Bound<i64>,
) -> Option<(Bound<PartitionKey>, Bound<PartitionKey>)> {
    let at = |t: i64| PartitionKey {
        token: t,
        key: Bytes::new(),
    };
    let start = match lo {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(t) => Bound::Included(at(t)),
        Bound::Excluded(t) => match t.checked_add(1) {
            Some(n) => Bound::Included(at(n)),
            None => return None,
        },
    };
    let end = match hi {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Excluded(t) => Bound::Excluded(at(t)),
        Bound::Included(t) => match t.checked_add(1) {
            Some(n) => Bound::Excluded(at(n)),
            None => Bound::Unbounded,
        },
    };
    if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) =
        (&start, &end)
        && a > b
    {
        return None;
    }
    Some((start, end))
}

/// Whether `BTreeMap::range` accepts these bounds (it panics on a reversed range and on equal
/// excluded bounds).
fn valid_range<T: Ord>(lo: &Bound<T>, hi: &Bound<T>) -> bool {
    match (lo, hi) {
        (Bound::Excluded(a), Bound::Excluded(b)) => a < b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            a <= b
        }
        _ => true,
    }
}

/// Runs a SELECT.
pub(super) fn select(
    cat: &Catalog,
    data: &dyn Replicas,
    s: &Select,
    ctx: &mut ExecCtx<'_>,
) -> Result<RowsResult> {
    let t = std::sync::Arc::clone(cat.table_or_err(&s.table, ctx.keyspace)?);
    let virtual_store: Option<Store> = crate::system::materialize(cat, data, &t);
    let src: &dyn Replicas = match &virtual_store {
        Some(v) => v,
        None => data,
    };
    if !s.group_by.is_empty() {
        return Err(CqlError::invalid(
            "GROUP BY is not supported by the simulator",
        ));
    }
    let outs = outputs(&t, s)?;
    let mut env = Env {
        values: ctx.values,
        now_micros: ctx.now_micros,
        unique: 0,
    };
    let r = restrictions(&t, s, &mut env)?;
    let mut consts: Vec<Option<Bytes>> = Vec::with_capacity(outs.len());
    for (o, _) in &outs {
        consts.push(match o {
            Out::Const(term, typ) => match env.bytes(term, typ, "function")? {
                BoundValue::Value(b) => Some(b),
                _ => None,
            },
            _ => None,
        });
    }
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
    let aggregate = outs
        .iter()
        .any(|(o, _)| matches!(o, Out::Count | Out::CountCol(_) | Out::Agg(..)));
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
    let ks = t.keyspace.clone();
    let mut lookups: Vec<(&PartitionKey, &Partition)> = Vec::new();
    let parts: Box<dyn Iterator<Item = (&PartitionKey, &Partition)>> = match &r.keys {
        Some(keys) => {
            for (k, _) in keys {
                let store = src.read(&ks, k.token).ok_or(CqlError::Unavailable {
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
                    src.scan(&ks)
                } else {
                    Vec::new()
                };
                let iters = stores
                    .into_iter()
                    .filter_map(|st| st.table(table_id))
                    .map(|td| td.partitions.range((lo.clone(), hi.clone())).peekable())
                    .collect();
                Box::new(Merge { iters })
            }
        },
    };

    let mut rows: Vec<Vec<Option<Bytes>>> = Vec::new();
    let mut emitted = resume.as_ref().map_or(0, |p| p.emitted);
    let mut count: i64 = 0;
    let mut count_cols: Vec<i64> = vec![0; outs.len()];
    let mut accs: Vec<Acc> = vec![Acc::default(); outs.len()];
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
            for (k, row) in collected {
                let d = p.row_deletion(k, Some(row));
                if row_is_live(&t, row, d, now_s) {
                    any_row = true;
                    candidates.push(RowView {
                        p,
                        key: pk,
                        row: Some((k, row)),
                    });
                }
            }
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
                    if let Out::CountCol(c) = o
                        && v.column(&t, *c, now_s).is_some()
                    {
                        count_cols[i] += 1;
                    }
                    if let Out::Agg(agg, c) = o
                        && let Some(b) = v.column(&t, *c, now_s)
                    {
                        let typ = &t.columns[*c].typ;
                        let acc = &mut accs[i];
                        match agg {
                            Agg::Min | Agg::Max => {
                                let better = acc.best.as_ref().is_none_or(|cur| {
                                    let o = cmp_typed(typ, &b, cur);
                                    if *agg == Agg::Min {
                                        o.is_lt()
                                    } else {
                                        o.is_gt()
                                    }
                                });
                                if better {
                                    acc.best = Some(b);
                                }
                            }
                            Agg::Sum | Agg::Avg => {
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
                    Out::Col(i) => v.column(&t, *i, now_s),
                    Out::WriteTime(i) => v
                        .simple_cell(&t, *i)
                        .filter(|c| c.is_live(now_s) && v.column(&t, *i, now_s).is_some())
                        .map(|c| Bytes::copy_from_slice(&c.ts.to_be_bytes())),
                    Out::Ttl(i) => v
                        .simple_cell(&t, *i)
                        .filter(|c| c.is_live(now_s) && v.column(&t, *i, now_s).is_some())
                        .and_then(|c| c.expiry)
                        .map(|(e, _)| Bytes::copy_from_slice(&((e - now_s) as i32).to_be_bytes())),
                    Out::Token => Some(Bytes::copy_from_slice(&v.key.token.to_be_bytes())),
                    Out::Const(..) => consts.get(cells.len()).cloned().flatten(),
                    Out::Count | Out::CountCol(_) | Out::Agg(..) => None,
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
        }
    }
    let columns: Vec<ColumnSpec> = outs.iter().map(|(_, s)| s.clone()).collect();
    if aggregate {
        let mut cells = Vec::new();
        for (i, (o, _)) in outs.iter().enumerate() {
            cells.push(match o {
                Out::Count => Some(Bytes::copy_from_slice(&count.to_be_bytes())),
                Out::CountCol(_) => Some(Bytes::copy_from_slice(&count_cols[i].to_be_bytes())),
                Out::Agg(agg, c) => {
                    let typ = &t.columns[*c].typ;
                    let acc = &accs[i];
                    match agg {
                        Agg::Min | Agg::Max => acc.best.clone(),
                        Agg::Sum => numeric_bytes(typ, acc.int, acc.float),
                        Agg::Avg if acc.n == 0 => numeric_bytes(typ, 0, 0.0),
                        Agg::Avg => numeric_bytes(
                            typ,
                            acc.int / i128::from(acc.n),
                            acc.float / acc.n as f64,
                        ),
                    }
                }
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

fn element_value(
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
            let mut env = Env {
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
                            .map(|v| super::value::encode(v, &typ).map(Some))
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
