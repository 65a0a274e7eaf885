//! INSERT, UPDATE, DELETE and BATCH: statements become partition mutations, conditions are
//! checked on one replica, and mutations are applied to every replica.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use proto::{ColumnType, CqlValue};

use super::value::{Env, encode};
use super::{BoundValue, ColumnSpec, Outcome, RowsResult};
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::keyenc::{encode_component, encode_key, prefix_successor};
use crate::schema::{Catalog, ColumnDef, ColumnKind, TableDef};
use crate::storage::{
    Cell, CellData, Element, Partition, PartitionKey, RangeTombstone, Replicas, Row,
};

/// One side of a clustering slice: the value and whether it is inclusive.
pub(crate) type SliceBound = Option<(Bytes, bool)>;

/// A clustering slice: lower and upper bounds on one column.
pub(crate) type Slice = (SliceBound, SliceBound);

/// An LWT condition to check before a batch applies.
struct LwtCheck {
    cond: Conditions,
    table: Arc<TableDef>,
    key: PartitionKey,
    key_values: Vec<Bytes>,
    clustering: Option<(Vec<u8>, Vec<Bytes>)>,
    values: Vec<BoundValue>,
}

/// An operation on one column.
#[derive(Debug, Clone)]
pub(crate) enum ColOp {
    /// Overwrite a simple cell (or tombstone it).
    Set(Cell),
    /// Replace a whole non-frozen collection: tombstone at `ts - 1`, then these elements.
    Replace {
        ts: i64,
        elements: Vec<(Vec<u8>, Element)>,
    },
    /// Add elements (set/map union, map put).
    Put(Vec<(Vec<u8>, Element)>),
    /// Append (or prepend) list values.
    Append {
        values: Vec<Bytes>,
        prepend: bool,
        cell: Cell,
    },
    /// Remove elements by key (set/map).
    RemoveKeys { keys: Vec<Vec<u8>>, ts: i64 },
    /// Remove every list element equal to one of these values.
    RemoveValues { values: Vec<Bytes>, ts: i64 },
    /// Set list element at an index.
    SetIndex { index: i32, cell: Cell },
    /// Delete list element at an index.
    DeleteIndex { index: i32, ts: i64 },
    /// Delete the whole collection.
    DeleteCollection { ts: i64 },
    /// Add to a counter.
    Counter(i64),
    /// Set one field of a (non-frozen) UDT value; the value is kept whole, so the field is
    /// merged into the current value and the result written with the update's timestamp.
    SetField {
        index: usize,
        count: usize,
        cell: Cell,
    },
}

/// A mutation of one row (or the static row, or the partition).
#[derive(Debug, Clone)]
pub(crate) struct RowMutation {
    pub(crate) clustering: Option<(Vec<u8>, Vec<Bytes>)>,
    pub(crate) marker: Option<Cell>,
    pub(crate) delete_row: Option<i64>,
    pub(crate) ops: Vec<(String, bool, ColOp)>,
}

/// A mutation of one partition.
#[derive(Debug, Clone)]
pub(crate) struct Mutation {
    pub(crate) table: Arc<TableDef>,
    pub(crate) key: PartitionKey,
    pub(crate) key_values: Vec<Bytes>,
    pub(crate) delete_partition: Option<i64>,
    pub(crate) range_deletes: Vec<RangeTombstone>,
    pub(crate) rows: Vec<RowMutation>,
}

pub(crate) fn int_term(
    t: &Term,
    values: &[BoundValue],
    now: i64,
    name: &str,
) -> Result<Option<i64>> {
    let mut env = Env {
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

fn int32_term(t: &Term, env: &mut Env<'_>, name: &str) -> Result<Option<i32>> {
    match env.value(t, &ColumnType::Int, name)? {
        Some(CqlValue::Int(v)) => Ok(Some(v)),
        None => Ok(None),
        _ => Err(CqlError::invalid(format!("Invalid value for {name}"))),
    }
}

/// A column value restricted by `=` or `IN` in a WHERE clause: the list of serialized values.
pub(crate) fn eq_values(env: &mut Env<'_>, rel: &Relation, col: &ColumnDef) -> Result<Vec<Bytes>> {
    let one = |env: &mut Env<'_>, t: &Term| -> Result<Bytes> {
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

fn cartesian(lists: &[Vec<Bytes>]) -> Vec<Vec<Bytes>> {
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

pub(crate) fn clustering_types(t: &TableDef) -> Vec<(&ColumnType, bool)> {
    t.clustering().iter().map(|c| (&c.typ, c.desc)).collect()
}

/// Key restrictions of a write's WHERE clause.
struct WriteKeys {
    partitions: Vec<Vec<Bytes>>,
    /// Clustering values per column for the restricted prefix (EQ/IN).
    prefix: Vec<Vec<Bytes>>,
    /// A slice on the column after the prefix: (lower, upper) with inclusivity.
    slice: Option<Slice>,
}

fn write_keys(
    t: &TableDef,
    rels: &[Relation],
    env: &mut Env<'_>,
    allow_slice: bool,
) -> Result<WriteKeys> {
    let mut pk: Vec<Option<Vec<Bytes>>> = vec![None; t.pk_len];
    let mut ck: Vec<Option<Vec<Bytes>>> = vec![None; t.ck_len];
    let mut slice: Option<(usize, SliceBound, SliceBound)> = None;
    for r in rels {
        let RelationLhs::Column(name) = &r.lhs else {
            return Err(CqlError::invalid(
                "The token function cannot be used in WHERE clauses for UPDATE and DELETE statements",
            ));
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
    let missing: Vec<&str> = t
        .partition_key()
        .iter()
        .zip(&pk)
        .filter(|(_, v)| v.is_none())
        .map(|(c, _)| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(CqlError::invalid(format!(
            "Some partition key parts are missing: {}",
            missing.join(", ")
        )));
    }
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

struct Writer<'a> {
    table: Arc<TableDef>,
    env: Env<'a>,
    ts: i64,
    expiry: Option<(i64, i32)>,
}

impl Writer<'_> {
    fn cell(&self, value: Option<Bytes>) -> Cell {
        Cell {
            ts: self.ts,
            expiry: if value.is_some() { self.expiry } else { None },
            value,
        }
    }

    fn elements(&self, col: &ColumnDef, v: &CqlValue) -> Result<Vec<(Vec<u8>, Element)>> {
        let mut out = Vec::new();
        match (&col.typ, v) {
            (ColumnType::Set(e), CqlValue::Set(items) | CqlValue::List(items)) => {
                for it in items {
                    let kb = encode(it, e)?;
                    let mut k = Vec::new();
                    encode_component(e, &kb, false, &mut k);
                    out.push((
                        k,
                        Element {
                            key: kb,
                            cell: self.cell(Some(Bytes::new())),
                        },
                    ));
                }
            }
            (ColumnType::Map(kt, vt), CqlValue::Map(entries)) => {
                for (a, b) in entries {
                    let kb = encode(a, kt)?;
                    let mut k = Vec::new();
                    encode_component(kt, &kb, false, &mut k);
                    out.push((
                        k,
                        Element {
                            key: kb,
                            cell: self.cell(Some(encode(b, vt)?)),
                        },
                    ));
                }
            }
            (ColumnType::List(e), CqlValue::List(items) | CqlValue::Set(items)) => {
                for (i, it) in items.iter().enumerate() {
                    let id = (i as i64 + 1).to_be_bytes();
                    let mut k = Vec::new();
                    encode_component(&ColumnType::BigInt, &id, false, &mut k);
                    out.push((
                        k,
                        Element {
                            key: Bytes::copy_from_slice(&id),
                            cell: self.cell(Some(encode(it, e)?)),
                        },
                    ));
                }
            }
            (ColumnType::Map(..) | ColumnType::Set(_), CqlValue::Empty)
            | (ColumnType::List(_), CqlValue::Empty) => {}
            _ => {
                return Err(CqlError::invalid(format!(
                    "Invalid value for collection column {}",
                    col.name
                )));
            }
        }
        Ok(out)
    }

    /// The operation for `col = term`.
    fn set_op(&mut self, col: &ColumnDef, term: &Term) -> Result<Option<ColOp>> {
        if col.typ == ColumnType::Counter {
            return Err(CqlError::invalid(format!(
                "Cannot set the value of counter column {} (counters can only be incremented/decremented, not set)",
                col.name
            )));
        }
        if !col.multi_cell {
            return Ok(match self.env.bytes(term, &col.typ, &col.name)? {
                BoundValue::Unset => None,
                BoundValue::Null => Some(ColOp::Set(self.cell(None))),
                BoundValue::Value(b) => Some(ColOp::Set(self.cell(Some(b)))),
            });
        }
        if let Term::Bind(m) = term
            && matches!(self.env.values.get(m.index), Some(BoundValue::Unset))
        {
            return Ok(None);
        }
        let v = self.env.value(term, &col.typ, &col.name)?;
        let elements = match v {
            Some(v) => self.elements(col, &v)?,
            None => Vec::new(),
        };
        Ok(Some(ColOp::Replace {
            ts: self.ts,
            elements,
        }))
    }

    fn assignment(&mut self, a: &Assignment) -> Result<Option<(String, bool, ColOp)>> {
        let t = Arc::clone(&self.table);
        let (Assignment::Set { column: name, .. }
        | Assignment::SetElement { column: name, .. }
        | Assignment::SetField { column: name, .. }
        | Assignment::Add { column: name, .. }
        | Assignment::Prepend { column: name, .. }
        | Assignment::Sub { column: name, .. }) = a;
        let (_, col) = t.column_or_err(name)?;
        if matches!(col.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
            return Err(CqlError::invalid(format!(
                "PRIMARY KEY part {name} found in SET part"
            )));
        }
        let is_static = col.kind == ColumnKind::Static;
        let op = match a {
            Assignment::Set { value, .. } => self.set_op(col, value)?,
            Assignment::Add { value, .. } | Assignment::Sub { value, .. } => {
                let add = matches!(a, Assignment::Add { .. });
                if col.typ == ColumnType::Counter {
                    match self.env.value(value, &ColumnType::BigInt, name)? {
                        Some(CqlValue::BigInt(n)) => {
                            Some(ColOp::Counter(if add { n } else { n.wrapping_neg() }))
                        }
                        None => {
                            return Err(CqlError::invalid(format!(
                                "Invalid null value for counter increment on {name}"
                            )));
                        }
                        _ => return Err(CqlError::invalid("bad counter value")),
                    }
                } else if !col.multi_cell {
                    return Err(CqlError::invalid(format!(
                        "Invalid operation ({name} = {name} {} ?) for non counter column {name}",
                        if add { "+" } else { "-" }
                    )));
                } else {
                    let vt = match (&col.typ, add) {
                        (ColumnType::Map(k, _), false) => ColumnType::Set(k.clone()),
                        (other, _) => other.clone(),
                    };
                    match self.env.value(value, &vt, name)? {
                        None => None,
                        Some(v) => Some(match (&col.typ, add, v) {
                            (ColumnType::List(e), true, CqlValue::List(items)) => ColOp::Append {
                                values: items
                                    .iter()
                                    .map(|x| encode(x, e))
                                    .collect::<Result<_>>()?,
                                prepend: false,
                                cell: self.cell(Some(Bytes::new())),
                            },
                            (ColumnType::List(e), false, CqlValue::List(items)) => {
                                ColOp::RemoveValues {
                                    values: items
                                        .iter()
                                        .map(|x| encode(x, e))
                                        .collect::<Result<_>>()?,
                                    ts: self.ts,
                                }
                            }
                            (
                                ColumnType::Map(k, _),
                                false,
                                CqlValue::Set(items) | CqlValue::List(items),
                            ) => ColOp::RemoveKeys {
                                keys: items
                                    .iter()
                                    .map(|x| {
                                        let b = encode(x, k)?;
                                        let mut out = Vec::new();
                                        encode_component(k, &b, false, &mut out);
                                        Ok(out)
                                    })
                                    .collect::<Result<_>>()?,
                                ts: self.ts,
                            },
                            (ColumnType::Set(_), false, v) => ColOp::RemoveKeys {
                                keys: self
                                    .elements(col, &v)?
                                    .into_iter()
                                    .map(|(k, _)| k)
                                    .collect(),
                                ts: self.ts,
                            },
                            (_, true, v) => ColOp::Put(self.elements(col, &v)?),
                            _ => {
                                return Err(CqlError::invalid(format!(
                                    "Invalid operation for column {name}"
                                )));
                            }
                        }),
                    }
                }
            }
            Assignment::Prepend { value, .. } => {
                let ColumnType::List(e) = &col.typ else {
                    return Err(CqlError::invalid(format!(
                        "Invalid operation (prepend) for non list column {name}"
                    )));
                };
                match self.env.value(value, &col.typ, name)? {
                    Some(CqlValue::List(items)) => Some(ColOp::Append {
                        values: items.iter().map(|x| encode(x, e)).collect::<Result<_>>()?,
                        prepend: true,
                        cell: self.cell(Some(Bytes::new())),
                    }),
                    _ => None,
                }
            }
            Assignment::SetElement { key, value, .. } => match &col.typ {
                ColumnType::Map(kt, vt) if col.multi_cell => {
                    let BoundValue::Value(k) = self.env.bytes(key, kt, name)? else {
                        return Err(CqlError::invalid("Invalid null map key"));
                    };
                    let mut ek = Vec::new();
                    encode_component(kt, &k, false, &mut ek);
                    match self.env.bytes(value, vt, name)? {
                        BoundValue::Unset => None,
                        BoundValue::Null => Some(ColOp::RemoveKeys {
                            keys: vec![ek],
                            ts: self.ts,
                        }),
                        BoundValue::Value(v) => Some(ColOp::Put(vec![(
                            ek,
                            Element {
                                key: k,
                                cell: self.cell(Some(v)),
                            },
                        )])),
                    }
                }
                ColumnType::List(et) if col.multi_cell => {
                    let Some(index) = int32_term(key, &mut self.env, name)? else {
                        return Err(CqlError::invalid("Invalid null value for list index"));
                    };
                    match self.env.bytes(value, et, name)? {
                        BoundValue::Unset => None,
                        BoundValue::Null => Some(ColOp::DeleteIndex { index, ts: self.ts }),
                        BoundValue::Value(v) => Some(ColOp::SetIndex {
                            index,
                            cell: self.cell(Some(v)),
                        }),
                    }
                }
                _ => {
                    return Err(CqlError::invalid(format!(
                        "Invalid operation ({name}[?] = ?) for non collection column {name}"
                    )));
                }
            },
            Assignment::SetField { field, value, .. } => {
                let ColumnType::Udt { fields, .. } = &col.typ else {
                    return Err(CqlError::invalid(format!(
                        "Invalid operation ({name}.{field} = ?) for non-UDT column {name}"
                    )));
                };
                if col.type_text.starts_with("frozen<") {
                    return Err(CqlError::invalid(format!(
                        "Invalid operation ({name}.{field} = ?) for frozen UDT column {name}"
                    )));
                }
                let index = fields.iter().position(|(f, _)| f == field).ok_or_else(|| {
                    CqlError::invalid(format!(
                        "UDT column {name} does not have a field named {field}"
                    ))
                })?;
                match self.env.bytes(value, &fields[index].1, field)? {
                    BoundValue::Unset => None,
                    BoundValue::Null => Some(ColOp::SetField {
                        index,
                        count: fields.len(),
                        cell: self.cell(None),
                    }),
                    BoundValue::Value(b) => Some(ColOp::SetField {
                        index,
                        count: fields.len(),
                        cell: self.cell(Some(b)),
                    }),
                }
            }
        };
        Ok(op.map(|o| (name.clone(), is_static, o)))
    }
}

/// A statement of a batch, its bound values and the keyspace unqualified names resolve in.
pub(super) type BatchItem<'a> = (&'a Statement, &'a [BoundValue], Option<&'a str>);

/// The columns and values of an `INSERT JSON` document; with `DEFAULT NULL` every column the
/// document omits is written as null.
fn json_columns(
    table: &TableDef,
    env: &mut Env<'_>,
    json: &Term,
    default_unset: bool,
) -> Result<(Vec<String>, Vec<Term>)> {
    let Some(CqlValue::Text(doc)) = env.value(json, &ColumnType::Text, "[json]")? else {
        return Err(CqlError::invalid("Got null for INSERT JSON values"));
    };
    let super::json::Json::Object(entries) = super::json::parse(&doc)? else {
        return Err(CqlError::invalid(
            "Could not decode JSON string: not a JSON object",
        ));
    };
    let mut columns = Vec::new();
    let mut terms = Vec::new();
    for (k, v) in &entries {
        let name = match k.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
            Some(quoted) => quoted.to_owned(),
            None => k.to_lowercase(),
        };
        let (_, col) = table.column(&name).map(|c| ((), c)).ok_or_else(|| {
            CqlError::invalid(format!(
                "JSON values map contains unrecognized column: {name}"
            ))
        })?;
        terms.push(super::json::to_term(v, &col.typ, &name)?);
        columns.push(name);
    }
    if !default_unset {
        for c in &table.columns {
            if matches!(c.kind, ColumnKind::Regular | ColumnKind::Static)
                && !columns.contains(&c.name)
            {
                columns.push(c.name.clone());
                terms.push(Term::Null);
            }
        }
    }
    Ok((columns, terms))
}

/// Runs write statements as one atomic batch: every mutation is computed (and every LWT
/// condition checked) before any is applied.
pub(super) fn batch(
    cat: &mut Catalog,
    data: &mut dyn Replicas,
    items: &[BatchItem<'_>],
    now: i64,
    default_ts: i64,
) -> Result<Outcome> {
    let mut mutations: Vec<Mutation> = Vec::new();
    let mut lwt: Vec<LwtCheck> = Vec::new();
    let mut unique = cat.next_unique() * 1000;
    for &(st, values, ks) in items {
        let (Statement::Insert {
            table: table_name,
            using,
            ..
        }
        | Statement::Update {
            table: table_name,
            using,
            ..
        }
        | Statement::Delete {
            table: table_name,
            using,
            ..
        }) = st
        else {
            return Err(CqlError::invalid("Invalid statement in batch"));
        };
        let table = Arc::clone(cat.table_or_err(table_name, ks)?);
        if table.keyspace == "system_schema" {
            return Err(CqlError::Unauthorized(format!(
                "{} keyspace is not user-modifiable.",
                table.keyspace
            )));
        }
        let mut env = Env {
            values,
            now_micros: now,
            unique,
        };
        let ts = match &using.timestamp {
            Some(t) => int_term(t, values, now, "[timestamp]")?.unwrap_or(default_ts),
            None => default_ts,
        };
        let ttl = match &using.ttl {
            Some(t) => int32_term(t, &mut env, "[ttl]")?,
            None => table
                .options
                .get("default_time_to_live")
                .and_then(|v| v.parse::<i32>().ok()),
        };
        if let Some(ttl) = ttl {
            if ttl < 0 {
                return Err(CqlError::invalid(format!(
                    "A TTL must be greater or equal to 0, but was {ttl}"
                )));
            }
            if ttl > 630_720_000 {
                return Err(CqlError::invalid(format!(
                    "ttl is too large. requested ({ttl}) maximum (630720000)"
                )));
            }
        }
        if table.is_counter() && (using.ttl.is_some() || matches!(st, Statement::Insert { .. })) {
            if matches!(st, Statement::Insert { .. }) {
                return Err(CqlError::invalid(
                    "INSERT statements are not allowed on counter tables, use UPDATE instead",
                ));
            }
            return Err(CqlError::invalid(
                "Cannot provide custom TTL for counter updates",
            ));
        }
        let expiry = ttl
            .filter(|t| *t > 0)
            .map(|t| (now.div_euclid(1_000_000) + i64::from(t), t));
        let mut w = Writer {
            table: Arc::clone(&table),
            env,
            ts,
            expiry,
        };
        match st {
            Statement::Insert {
                values: iv,
                if_not_exists,
                ..
            } => {
                let json_parts;
                let (columns, terms): (&[String], &[Term]) = match iv {
                    InsertValues::Values { columns, values } => (columns, values),
                    InsertValues::Json {
                        json,
                        default_unset,
                    } => {
                        json_parts = json_columns(&table, &mut w.env, json, *default_unset)?;
                        (&json_parts.0, &json_parts.1)
                    }
                };
                if columns.len() != terms.len() {
                    return Err(CqlError::invalid("Unmatched column names/values"));
                }
                let mut pk: Vec<Option<Bytes>> = vec![None; table.pk_len];
                let mut ck: Vec<Option<Bytes>> = vec![None; table.ck_len];
                let mut ops = Vec::new();
                for (c, term) in columns.iter().zip(terms) {
                    let (i, col) = table.column_or_err(c)?;
                    if columns.iter().filter(|x| *x == c).count() > 1 {
                        return Err(CqlError::invalid(format!(
                            "Multiple definitions found for column {c}"
                        )));
                    }
                    match col.kind {
                        ColumnKind::PartitionKey | ColumnKind::Clustering => {
                            let b = match w.env.bytes(term, &col.typ, c)? {
                                BoundValue::Value(b) => b,
                                BoundValue::Null => {
                                    return Err(CqlError::invalid(format!(
                                        "Invalid null value in condition for column {c}"
                                    )));
                                }
                                BoundValue::Unset => {
                                    return Err(CqlError::invalid(format!(
                                        "Invalid unset value for column {c}"
                                    )));
                                }
                            };
                            if col.kind == ColumnKind::PartitionKey {
                                pk[i] = Some(b);
                            } else {
                                ck[i - table.pk_len] = Some(b);
                            }
                        }
                        _ => {
                            if let Some(op) = w.set_op(col, term)? {
                                ops.push((c.clone(), col.kind == ColumnKind::Static, op));
                            }
                        }
                    }
                }
                let missing: Vec<&str> = table
                    .partition_key()
                    .iter()
                    .zip(&pk)
                    .filter(|(_, v)| v.is_none())
                    .map(|(c, _)| c.name.as_str())
                    .collect();
                if !missing.is_empty() {
                    return Err(CqlError::invalid(format!(
                        "Some partition key parts are missing: {}",
                        missing.join(", ")
                    )));
                }
                let ck_missing: Vec<&str> = table
                    .clustering()
                    .iter()
                    .zip(&ck)
                    .filter(|(_, v)| v.is_none())
                    .map(|(c, _)| c.name.as_str())
                    .collect();
                let only_static = ops.iter().all(|(_, s, _)| *s) && !ops.is_empty();
                if !ck_missing.is_empty() && (!only_static || ck.iter().any(Option::is_some)) {
                    return Err(CqlError::invalid(format!(
                        "Some clustering keys are missing: {}",
                        ck_missing.join(", ")
                    )));
                }
                let key_values: Vec<Bytes> = pk.into_iter().flatten().collect();
                let key = partition_key(&key_values)?;
                let clustering = if table.ck_len > 0 && ck.iter().all(Option::is_some) {
                    let vals: Vec<Bytes> = ck.into_iter().flatten().collect();
                    let refs: Vec<&[u8]> = vals.iter().map(|b| b.as_ref()).collect();
                    Some((encode_key(&clustering_types(&table), &refs), vals))
                } else if table.ck_len == 0 {
                    Some((Vec::new(), Vec::new()))
                } else {
                    None
                };
                let row = RowMutation {
                    marker: clustering.as_ref().map(|_| w.cell(Some(Bytes::new()))),
                    clustering: clustering.clone(),
                    delete_row: None,
                    ops,
                };
                if *if_not_exists {
                    lwt.push(LwtCheck {
                        cond: Conditions::IfNotExists,
                        table: Arc::clone(&table),
                        key: key.clone(),
                        key_values: key_values.clone(),
                        clustering,
                        values: values.to_vec(),
                    });
                }
                mutations.push(Mutation {
                    table: Arc::clone(&table),
                    key,
                    key_values,
                    delete_partition: None,
                    range_deletes: Vec::new(),
                    rows: vec![row],
                });
            }
            Statement::Update {
                assignments,
                where_clause,
                conditions,
                ..
            } => {
                let keys = write_keys(&table, where_clause, &mut w.env, false)?;
                let mut ops = Vec::new();
                for a in assignments {
                    if let Some(op) = w.assignment(a)? {
                        ops.push(op);
                    }
                }
                let only_static = !ops.is_empty() && ops.iter().all(|(_, s, _)| *s);
                if keys.prefix.len() < table.ck_len && !(only_static && keys.prefix.is_empty()) {
                    let missing: Vec<&str> = table.clustering()[keys.prefix.len()..]
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect();
                    return Err(CqlError::invalid(format!(
                        "Some clustering keys are missing: {}",
                        missing.join(", ")
                    )));
                }
                let cks = if keys.prefix.len() == table.ck_len {
                    cartesian(&keys.prefix)
                } else {
                    Vec::new()
                };
                for kv in &keys.partitions {
                    let key = partition_key(kv)?;
                    let mut rows = Vec::new();
                    if cks.is_empty() || table.ck_len == 0 {
                        let clustering = if table.ck_len == 0 {
                            Some((Vec::new(), Vec::new()))
                        } else {
                            None
                        };
                        rows.push(RowMutation {
                            clustering,
                            marker: None,
                            delete_row: None,
                            ops: ops.clone(),
                        });
                    } else {
                        for ck in &cks {
                            let refs: Vec<&[u8]> = ck.iter().map(|b| b.as_ref()).collect();
                            let enc = encode_key(&clustering_types(&table), &refs);
                            rows.push(RowMutation {
                                clustering: Some((enc, ck.clone())),
                                marker: None,
                                delete_row: None,
                                ops: ops.clone(),
                            });
                        }
                    }
                    if *conditions != Conditions::None {
                        if keys.partitions.len() > 1 || rows.len() > 1 {
                            return Err(CqlError::invalid(
                                "IN on the partition key is not supported with conditional updates",
                            ));
                        }
                        lwt.push(LwtCheck {
                            cond: conditions.clone(),
                            table: Arc::clone(&table),
                            key: key.clone(),
                            key_values: kv.clone(),
                            clustering: rows[0].clustering.clone(),
                            values: values.to_vec(),
                        });
                    }
                    mutations.push(Mutation {
                        table: Arc::clone(&table),
                        key,
                        key_values: kv.clone(),
                        delete_partition: None,
                        range_deletes: Vec::new(),
                        rows,
                    });
                }
            }
            Statement::Delete {
                targets,
                where_clause,
                conditions,
                ..
            } => {
                if using.ttl.is_some() {
                    return Err(CqlError::invalid("TTL cannot be used in DELETE"));
                }
                let keys = write_keys(&table, where_clause, &mut w.env, targets.is_empty())?;
                let mut ops = Vec::new();
                for tg in targets {
                    let (_, col) = table.column_or_err(&tg.column)?;
                    if matches!(col.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                        return Err(CqlError::invalid(format!(
                            "Invalid identifier {} for deletion (should not be a PRIMARY KEY part)",
                            tg.column
                        )));
                    }
                    let is_static = col.kind == ColumnKind::Static;
                    let op = match &tg.element {
                        None if col.multi_cell => ColOp::DeleteCollection { ts },
                        None => ColOp::Set(w.cell(None)),
                        Some(e) => match &col.typ {
                            ColumnType::Map(kt, _) | ColumnType::Set(kt) => {
                                let BoundValue::Value(b) = w.env.bytes(e, kt, &tg.column)? else {
                                    return Err(CqlError::invalid(
                                        "Invalid null value for map key",
                                    ));
                                };
                                let mut k = Vec::new();
                                encode_component(kt, &b, false, &mut k);
                                ColOp::RemoveKeys { keys: vec![k], ts }
                            }
                            ColumnType::List(_) => {
                                let Some(index) = int32_term(e, &mut w.env, &tg.column)? else {
                                    return Err(CqlError::invalid(
                                        "Invalid null value for list index",
                                    ));
                                };
                                ColOp::DeleteIndex { index, ts }
                            }
                            _ => {
                                return Err(CqlError::invalid(format!(
                                    "Invalid element deletion on non collection column {}",
                                    tg.column
                                )));
                            }
                        },
                    };
                    ops.push((tg.column.clone(), is_static, op));
                }
                let types = clustering_types(&table);
                for kv in &keys.partitions {
                    let key = partition_key(kv)?;
                    let mut m = Mutation {
                        table: Arc::clone(&table),
                        key: key.clone(),
                        key_values: kv.clone(),
                        delete_partition: None,
                        range_deletes: Vec::new(),
                        rows: Vec::new(),
                    };
                    let full = keys.prefix.len() == table.ck_len;
                    if targets.is_empty() {
                        if keys.prefix.is_empty() && keys.slice.is_none() {
                            m.delete_partition = Some(ts);
                        } else if full && keys.slice.is_none() {
                            for ck in cartesian(&keys.prefix) {
                                let refs: Vec<&[u8]> = ck.iter().map(|b| b.as_ref()).collect();
                                m.rows.push(RowMutation {
                                    clustering: Some((encode_key(&types, &refs), ck)),
                                    marker: None,
                                    delete_row: Some(ts),
                                    ops: Vec::new(),
                                });
                            }
                        } else {
                            for pre in cartesian(&keys.prefix) {
                                let (start, end) = range_bounds(&types, &pre, keys.slice.as_ref());
                                m.range_deletes.push(RangeTombstone { start, end, ts });
                            }
                        }
                    } else {
                        let only_static = ops.iter().all(|(_, s, _)| *s);
                        if full && table.ck_len > 0 {
                            for ck in cartesian(&keys.prefix) {
                                let refs: Vec<&[u8]> = ck.iter().map(|b| b.as_ref()).collect();
                                m.rows.push(RowMutation {
                                    clustering: Some((encode_key(&types, &refs), ck)),
                                    marker: None,
                                    delete_row: None,
                                    ops: ops.clone(),
                                });
                            }
                        } else if table.ck_len == 0 {
                            m.rows.push(RowMutation {
                                clustering: Some((Vec::new(), Vec::new())),
                                marker: None,
                                delete_row: None,
                                ops: ops.clone(),
                            });
                        } else if only_static && keys.prefix.is_empty() {
                            m.rows.push(RowMutation {
                                clustering: None,
                                marker: None,
                                delete_row: None,
                                ops: ops.clone(),
                            });
                        } else {
                            let missing: Vec<&str> = table.clustering()[keys.prefix.len()..]
                                .iter()
                                .map(|c| c.name.as_str())
                                .collect();
                            return Err(CqlError::invalid(format!(
                                "Some clustering keys are missing: {}",
                                missing.join(", ")
                            )));
                        }
                    }
                    if *conditions != Conditions::None {
                        if keys.partitions.len() > 1 {
                            return Err(CqlError::invalid(
                                "IN on the partition key is not supported with conditional deletions",
                            ));
                        }
                        let ck = m.rows.first().and_then(|r| r.clustering.clone());
                        lwt.push(LwtCheck {
                            cond: conditions.clone(),
                            table: Arc::clone(&table),
                            key,
                            key_values: kv.clone(),
                            clustering: ck,
                            values: values.to_vec(),
                        });
                    }
                    mutations.push(m);
                }
            }
            _ => return Err(CqlError::invalid("Invalid statement in batch")),
        }
        unique = w.env.unique;
    }
    // Lightweight transactions: read the current state from one replica and check.
    if !lwt.is_empty() {
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
        let mut shown: Option<super::read::Shown> = None;
        for LwtCheck {
            cond,
            table,
            key,
            key_values,
            clustering: ck,
            values,
        } in &lwt
        {
            let store = data
                .read(&table.keyspace, key.token)
                .ok_or(CqlError::Unavailable {
                    required: 1,
                    alive: 0,
                })?;
            let part = store.table(table.id).and_then(|t| t.partitions.get(key));
            let (ok, cols) = super::read::check_conditions(
                table,
                part,
                key_values,
                ck.as_ref(),
                cond,
                values,
                now,
            )?;
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
            apply_all(data, &mutations, now)?;
        }
        return Ok(Outcome::Rows(RowsResult {
            columns,
            rows: vec![row],
            paging_state: None,
        }));
    }
    apply_all(data, &mutations, now)?;
    Ok(Outcome::Void)
}

fn apply_all(data: &mut dyn Replicas, mutations: &[Mutation], now: i64) -> Result<()> {
    for m in mutations {
        let n = data.write(&m.table.keyspace, m.key.token, &mut |store| {
            let p = store.partition_mut(m.table.id, &m.key, &m.key_values);
            apply(p, m, now);
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

/// Encoded clustering bounds for a prefix plus an optional slice on the next column.
pub(crate) fn range_bounds(
    types: &[(&ColumnType, bool)],
    prefix: &[Bytes],
    slice: Option<&Slice>,
) -> super::read::KeyRange {
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

fn merge_cell(slot: &mut Option<CellData>, cell: &Cell) {
    match slot {
        Some(CellData::Simple(old)) if !cell.supersedes(old) => {}
        _ => *slot = Some(CellData::Simple(cell.clone())),
    }
}

fn collection(slot: &mut Option<CellData>) -> (&mut Option<i64>, &mut BTreeMap<Vec<u8>, Element>) {
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

fn apply_op(row: &mut Row, name: &str, op: &ColOp, now: i64) {
    let now_s = now.div_euclid(1_000_000);
    let mut slot = row.cells.remove(name);
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
                        row.cells
                            .insert(name.to_owned(), CellData::Simple(c.clone()));
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
        row.cells.insert(name.to_owned(), s);
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
pub(crate) fn apply(p: &mut Partition, m: &Mutation, now: i64) {
    if let Some(ts) = m.delete_partition {
        p.deleted_at = p.deleted_at.max(Some(ts));
    }
    p.range_tombstones.extend(m.range_deletes.iter().cloned());
    for r in &m.rows {
        for (name, _, op) in r.ops.iter().filter(|o| o.1) {
            apply_op(&mut p.static_row, name, op, now);
        }
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
            apply_op(row, name, op, now);
        }
    }
}
