//! The [`Writer`] of one statement: its assignments, values and collection operations turned
//! into [`ColOp`]s with the statement's timestamp and TTL, and `INSERT JSON` documents turned
//! into columns and values.

use std::sync::Arc;

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use super::ColOp;
use super::keys::int32_term;
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::BoundValue;
use crate::exec::json;
use crate::exec::value::{TermEnv, encode};
use crate::key_encoding::encode_component;
use crate::schema::{ColumnDef, ColumnKind, TableDef};
use crate::storage::{Cell, Element};

/// Turns one statement's values and assignments into column operations.
pub(super) struct Writer<'a> {
    pub(super) table: Arc<TableDef>,
    pub(super) env: TermEnv<'a>,
    pub(super) ts: i64,
    pub(super) expiry: Option<(i64, i32)>,
}

impl Writer<'_> {
    /// A cell with the statement's timestamp, and its TTL unless the value is null.
    pub(super) fn cell(&self, value: Option<Bytes>) -> Cell {
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
    pub(super) fn set_op(&mut self, col: &ColumnDef, term: &Term) -> Result<Option<ColOp>> {
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

    /// One SET assignment as a column operation; `None` when its value is unset.
    pub(super) fn assignment(&mut self, a: &Assignment) -> Result<Option<(String, bool, ColOp)>> {
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

/// The columns and values of an `INSERT JSON` document; with `DEFAULT NULL` every column the
/// document omits is written as null.
pub(super) fn json_columns(
    table: &TableDef,
    env: &mut TermEnv<'_>,
    json: &Term,
    default_unset: bool,
) -> Result<(Vec<String>, Vec<Term>)> {
    let Some(CqlValue::Text(doc)) = env.value(json, &ColumnType::Text, "[json]")? else {
        return Err(CqlError::invalid("Got null for INSERT JSON values"));
    };
    let json::Json::Object(entries) = json::parse(&doc)? else {
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
        terms.push(json::to_term(v, &col.typ, &name)?);
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
