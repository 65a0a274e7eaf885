//! The output columns of a SELECT: plain columns, `WRITETIME`/`TTL`, `token()`, `count`,
//! aggregates (with their running state), function calls ([`crate::exec::functions`]), and
//! `SELECT JSON` rows.

use bytes::Bytes;
use proto::{ColumnType, CqlValue};

use super::RowCells;
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::ColumnSpec;
use crate::exec::functions::{Built, Expr, Uda, build};
use crate::exec::json;
use crate::exec::value::encode;
use crate::schema::{Catalog, ColumnKind, TableDef};

/// One output column of a SELECT.
#[derive(Debug, Clone)]
pub(super) enum OutputColumn {
    Col(usize),
    WriteTime(usize),
    Ttl(usize),
    Token,
    Count,
    CountCol(usize),
    /// `min`, `max`, `sum` or `avg` of a column.
    AggregateFn(AggregateFn, usize),
    /// A function call or cast, evaluated per row.
    Expr(Expr),
    /// A user-defined aggregate.
    Uda(Box<Uda>),
}

/// A value aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AggregateFn {
    Min,
    Max,
    Sum,
    Avg,
}

/// A running aggregate: min/max keep bytes, sum/avg keep a wide number.
#[derive(Debug, Clone, Default)]
pub(super) struct AggregateState {
    pub(super) best: Option<Bytes>,
    pub(super) int: i128,
    pub(super) float: f64,
    pub(super) n: i64,
}

/// A numeric value as a wide integer and a float, for sums and averages.
pub(super) fn numeric(typ: &ColumnType, b: &[u8]) -> Option<(i128, f64)> {
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

/// A sum or average serialized back as `typ`.
pub(super) fn numeric_bytes(typ: &ColumnType, int: i128, float: f64) -> Option<Bytes> {
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
    encode(&v, typ).ok()
}

/// The output columns of a SELECT, with their result specs.
pub(super) fn outputs(
    cat: &Catalog,
    t: &TableDef,
    s: &Select,
) -> Result<Vec<(OutputColumn, ColumnSpec)>> {
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
                out.push((OutputColumn::Col(i), spec(&c.name, c.typ.clone())));
            }
        }
        Selection::List(items) => {
            for (sel, alias) in items {
                let (o, name, typ) = match sel {
                    Selector::Column(c) => {
                        let (i, col) = t.column_or_err(c)?;
                        (OutputColumn::Col(i), c.clone(), col.typ.clone())
                    }
                    Selector::CountAll => {
                        (OutputColumn::Count, "count".to_owned(), ColumnType::BigInt)
                    }
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
                                OutputColumn::WriteTime(i),
                                format!("writetime({c})"),
                                ColumnType::BigInt,
                            )
                        } else {
                            (OutputColumn::Ttl(i), format!("ttl({c})"), ColumnType::Int)
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
                            OutputColumn::Token,
                            format!("system.token({})", names.join(", ")),
                            ColumnType::BigInt,
                        )
                    }
                    Selector::Function { name, args } if name == "count" => match args.as_slice() {
                        [Selector::Column(c)] => {
                            let (i, _) = t.column_or_err(c)?;
                            (
                                OutputColumn::CountCol(i),
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
                            "min" => AggregateFn::Min,
                            "max" => AggregateFn::Max,
                            "sum" => AggregateFn::Sum,
                            _ => AggregateFn::Avg,
                        };
                        if matches!(agg, AggregateFn::Sum | AggregateFn::Avg)
                            && numeric_bytes(&col.typ, 0, 0.0).is_none()
                        {
                            return Err(CqlError::invalid(format!(
                                "Invalid call to function {name}, none of its type signatures match (column {c} of type {})",
                                col.typ
                            )));
                        }
                        (
                            OutputColumn::AggregateFn(agg, i),
                            format!("system.{name}({c})"),
                            col.typ.clone(),
                        )
                    }
                    Selector::Function { .. } | Selector::Cast(..) => match build(cat, t, sel)? {
                        (Built::Scalar(e), typ, name) => (OutputColumn::Expr(e), name, typ),
                        (Built::Aggregate(a), typ, name) => (OutputColumn::Uda(a), name, typ),
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
pub(super) fn to_json_rows(
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
        let doc = json::row_json(&names, &values);
        out.push(vec![Some(Bytes::from(doc))]);
    }
    Ok((vec![json_spec(t)], out))
}

/// The result columns of a SELECT (for PREPARE).
pub(crate) fn result_columns(cat: &Catalog, t: &TableDef, s: &Select) -> Result<Vec<ColumnSpec>> {
    let specs: Vec<ColumnSpec> = outputs(cat, t, s)?.into_iter().map(|(_, s)| s).collect();
    if s.json {
        return Ok(vec![json_spec(t)]);
    }
    Ok(specs)
}
