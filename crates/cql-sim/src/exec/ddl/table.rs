//! CREATE TABLE: columns, primary key, clustering order, options and user-type checks.

use std::sync::Arc;

use proto::ColumnType;

use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::Outcome;
use crate::schema::*;

/// Whether a type is, or contains, the user type `name`.
pub(super) fn mentions_udt(t: &ColumnType, name: &str) -> bool {
    match t {
        ColumnType::Udt {
            name: n, fields, ..
        } => n == name || fields.iter().any(|(_, f)| mentions_udt(f, name)),
        ColumnType::List(e) | ColumnType::Set(e) | ColumnType::Vector(e, _) => {
            mentions_udt(e, name)
        }
        ColumnType::Map(k, v) => mentions_udt(k, name) || mentions_udt(v, name),
        ColumnType::Tuple(ts) => ts.iter().any(|t| mentions_udt(t, name)),
        _ => false,
    }
}

/// Creates a table; `Some(Void)` when it existed and IF NOT EXISTS was given.
pub(super) fn create_table(
    cat: &mut Catalog,
    ks: &str,
    ct: &CreateTable,
) -> Result<Option<Outcome>> {
    let k = cat
        .keyspace(ks)
        .ok_or_else(|| CqlError::invalid(format!("Keyspace {ks} does not exist")))?;
    if k.tables.contains_key(&ct.name.name) {
        if ct.if_not_exists {
            return Ok(Some(Outcome::Void));
        }
        return Err(CqlError::AlreadyExists {
            keyspace: ks.to_owned(),
            table: ct.name.name.clone(),
            message: format!(
                "Cannot add already existing table \"{}\" to keyspace \"{ks}\"",
                ct.name.name
            ),
        });
    }
    if ct.compact_storage {
        // Scylla 6 refuses it unless `enable_create_table_with_compact_storage` is set, and
        // Cassandra 4 has no compact tables at all; a sim table is always a CQL table.
        return Err(CqlError::invalid(
            "Support for the deprecated feature of 'CREATE TABLE WITH COMPACT STORAGE' is disabled and will eventually be removed in a future version.  To enable it, set the 'enable_create_table_with_compact_storage' config option to 'true'.",
        ));
    }
    if ct.partition_key.is_empty() {
        return Err(CqlError::invalid(format!(
            "No PRIMARY KEY specifed for table '{}' (exactly one required)",
            ct.name.name
        )));
    }
    let mut cols = Vec::new();
    for d in &ct.columns {
        if cols.iter().any(|c: &ColumnDef| c.name == d.name) {
            return Err(CqlError::invalid(format!(
                "Duplicate column '{}' declaration for table {ks}.{}",
                d.name, ct.name.name
            )));
        }
        let (typ, multi_cell, type_text) = cat.resolve_type(ks, &d.typ)?;
        let (kind, position) = if let Some(p) = ct.partition_key.iter().position(|n| *n == d.name) {
            (ColumnKind::PartitionKey, p as i32)
        } else if let Some(p) = ct.clustering.iter().position(|n| *n == d.name) {
            (ColumnKind::Clustering, p as i32)
        } else if d.is_static {
            if ct.clustering.is_empty() {
                return Err(CqlError::invalid(format!(
                    "Static column {} cannot be defined in a table without clustering columns",
                    d.name
                )));
            }
            (ColumnKind::Static, -1)
        } else {
            (ColumnKind::Regular, -1)
        };
        if matches!(kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
            if d.is_static {
                return Err(CqlError::invalid(format!(
                    "Static column {} cannot be part of the PRIMARY KEY",
                    d.name
                )));
            }
            if multi_cell {
                return Err(CqlError::invalid(format!(
                    "Invalid non-frozen collection type for PRIMARY KEY component {}",
                    d.name
                )));
            }
            if typ == ColumnType::Counter {
                return Err(CqlError::invalid(format!(
                    "counter type is not supported for PRIMARY KEY column '{}'",
                    d.name
                )));
            }
        }
        let desc = ct
            .clustering_order
            .iter()
            .any(|(n, desc)| *n == d.name && *desc);
        cols.push(ColumnDef {
            name: d.name.clone(),
            typ,
            kind,
            position,
            desc,
            multi_cell,
            type_text,
        });
    }
    for n in ct.partition_key.iter().chain(&ct.clustering) {
        if !cols.iter().any(|c| &c.name == n) {
            return Err(CqlError::invalid(format!(
                "Unknown definition {n} referenced in PRIMARY KEY"
            )));
        }
    }
    for (i, (n, _)) in ct.clustering_order.iter().enumerate() {
        if ct.clustering.get(i) != Some(n) {
            return Err(CqlError::invalid(
                "Only clustering key columns can be defined in CLUSTERING ORDER directive and they must be in the same order as the clustering key",
            ));
        }
    }
    let counters = cols.iter().filter(|c| c.typ == ColumnType::Counter).count();
    let regular = cols
        .iter()
        .filter(|c| matches!(c.kind, ColumnKind::Regular | ColumnKind::Static))
        .count();
    if counters > 0 && counters != regular {
        return Err(CqlError::invalid(
            "Cannot mix counter and non counter columns in the same table",
        ));
    }
    let mut params = TableParams::default();
    params.apply(&ct.options)?;
    let id = name_uuid(&format!("table-{ks}-{}-{}", ct.name.name, cat.generation()));
    let def = TableDef::new(ks, &ct.name.name, id, cols, params);
    cat.keyspace_mut(ks)?
        .tables
        .insert(ct.name.name.clone(), Arc::new(def));
    Ok(None)
}
