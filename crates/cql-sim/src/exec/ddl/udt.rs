//! `ALTER TYPE`: adding a field at the end and renaming fields, with Cassandra's errors. Values
//! are stored whole with their fields in order, so a stored value simply lacks the new field
//! (read as null, as the protocol allows a UDT value to end early) and keeps its data across a
//! rename. Every column and user type that embeds the type gets the new definition.

use std::sync::Arc;

use proto::ColumnType;

use super::table::mentions_udt;
use super::{change, check_not_system};
use crate::cql::ast::{AlterUserTypeOp, QualifiedName};
use crate::error::{CqlError, Result};
use crate::exec::Outcome;
use crate::schema::{Catalog, SchemaChangeTarget, SchemaChangeType};

/// Runs `ALTER TYPE name op`.
pub(super) fn alter_user_type(
    cat: &mut Catalog,
    name: &QualifiedName,
    op: &AlterUserTypeOp,
    current: Option<&str>,
) -> Result<Outcome> {
    let ks = cat.resolve_keyspace(name, current)?.to_owned();
    check_not_system(&ks)?;
    let full = format!("{ks}.{}", name.name);
    let Some(mut udt) = cat.keyspace_mut(&ks)?.types.get(&name.name).cloned() else {
        return Err(CqlError::invalid(format!(
            "No user type named {full} exists."
        )));
    };
    match op {
        AlterUserTypeOp::Add(field, t) => {
            if udt.fields.iter().any(|(n, _, _)| n == field) {
                return Err(CqlError::invalid(format!(
                    "Cannot add new field {field} of type {} to user type {full} as a field with this name already exists",
                    type_text(cat, &ks, t)
                )));
            }
            let (typ, multi, text) = cat.resolve_type(&ks, t)?;
            if multi {
                return Err(CqlError::invalid(
                    "Non-frozen collections are not allowed inside a user-defined type",
                ));
            }
            if mentions_udt(&typ, &name.name) {
                return Err(CqlError::invalid(format!(
                    "Cannot add new field {field} of type {text} to user type {full} as this would create a circular reference"
                )));
            }
            udt.fields.push((field.clone(), typ, text));
        }
        AlterUserTypeOp::Rename(pairs) => {
            for (from, to) in pairs {
                let Some(f) = udt.fields.iter_mut().find(|(n, _, _)| n == from) else {
                    return Err(CqlError::invalid(format!(
                        "Unknown field {from} in user type {full}"
                    )));
                };
                f.0.clone_from(to);
            }
            for (i, (n, _, _)) in udt.fields.iter().enumerate() {
                if udt.fields[..i].iter().any(|(m, _, _)| m == n) {
                    return Err(CqlError::invalid(format!(
                        "Duplicate field name {n} in type {full}"
                    )));
                }
            }
        }
    }
    let new_type = udt.column_type();
    let k = cat.keyspace_mut(&ks)?;
    k.types.insert(name.name.clone(), udt);
    for other in k.types.values_mut() {
        for (_, t, _) in &mut other.fields {
            *t = replace(t, &ks, &name.name, &new_type);
        }
    }
    for table in k.tables.values_mut() {
        if !table
            .columns
            .iter()
            .any(|c| mentions_udt(&c.typ, &name.name))
        {
            continue;
        }
        let mut t = (**table).clone();
        for c in &mut t.columns {
            c.typ = replace(&c.typ, &ks, &name.name, &new_type);
        }
        *table = Arc::new(t);
    }
    Ok(change(
        SchemaChangeType::Updated,
        SchemaChangeTarget::Type,
        &ks,
        &name.name,
    ))
}

/// The CQL text of `t` for a message (the resolved text when it resolves).
fn type_text(cat: &Catalog, ks: &str, t: &crate::cql::ast::TypeExpr) -> String {
    cat.resolve_type(ks, t)
        .map_or_else(|_| format!("{t:?}"), |(_, _, text)| text)
}

/// `t` with every occurrence of user type `ks.name` replaced by `new`.
fn replace(t: &ColumnType, ks: &str, name: &str, new: &ColumnType) -> ColumnType {
    let r = |e: &ColumnType| Box::new(replace(e, ks, name, new));
    match t {
        ColumnType::Udt {
            keyspace, name: n, ..
        } if keyspace == ks && n == name => new.clone(),
        ColumnType::Udt {
            keyspace,
            name: n,
            fields,
        } => ColumnType::Udt {
            keyspace: keyspace.clone(),
            name: n.clone(),
            fields: fields
                .iter()
                .map(|(f, ft)| (f.clone(), replace(ft, ks, name, new)))
                .collect(),
        },
        ColumnType::List(e) => ColumnType::List(r(e)),
        ColumnType::Set(e) => ColumnType::Set(r(e)),
        ColumnType::Vector(e, n) => ColumnType::Vector(r(e), *n),
        ColumnType::Map(k, v) => ColumnType::Map(r(k), r(v)),
        ColumnType::Tuple(ts) => {
            ColumnType::Tuple(ts.iter().map(|e| replace(e, ks, name, new)).collect())
        }
        other => other.clone(),
    }
}
