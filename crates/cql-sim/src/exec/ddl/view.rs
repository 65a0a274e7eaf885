//! CREATE, ALTER and DROP MATERIALIZED VIEW, with Cassandra 4's checks. A view is a table of
//! the base's keyspace whose rows are derived from the base on read (see
//! `exec::read::view`), so it is always in sync with base-table writes.

use std::sync::Arc;

use proto::ColumnType;
use uuid::Uuid;

use super::check_not_system;
use crate::cql::ast::{CreateView, QualifiedName, Term};
use crate::error::{CqlError, Result};
use crate::schema::*;

/// Creates a view; `Ok(None)` when it existed and IF NOT EXISTS was given, else its keyspace.
pub(super) fn create_view(
    cat: &mut Catalog,
    cv: &CreateView,
    current: Option<&str>,
) -> Result<Option<String>> {
    let ks = cat.resolve_keyspace(&cv.name, current)?.to_owned();
    check_not_system(&ks)?;
    let base_ks = cv.base.keyspace.clone().unwrap_or_else(|| ks.clone());
    if base_ks != ks {
        return Err(CqlError::invalid(
            "Cannot create a materialized view on a table in a different keyspace",
        ));
    }
    let base = Arc::clone(cat.table_or_err(&cv.base, Some(&ks))?);
    let view_name = &cv.name.name;
    if cat.table(&ks, view_name).is_some() {
        if cv.if_not_exists {
            return Ok(None);
        }
        return Err(CqlError::AlreadyExists {
            keyspace: ks.clone(),
            table: view_name.clone(),
            message: format!(
                "Cannot add already existing table \"{view_name}\" to keyspace \"{ks}\""
            ),
        });
    }
    if base.view.is_some() {
        return Err(CqlError::invalid(
            "Materialized views cannot be created against other materialized views",
        ));
    }
    if base.is_counter() {
        return Err(CqlError::invalid(
            "Materialized views are not supported on counter tables",
        ));
    }
    let selected: Vec<&ColumnDef> = match &cv.columns {
        None => base.columns.iter().collect(),
        Some(names) => {
            let mut out = Vec::new();
            for n in names {
                let c = base.column(n).ok_or_else(|| {
                    CqlError::invalid(format!(
                        "Unknown column name detected in CREATE MATERIALIZED VIEW statement: {n}"
                    ))
                })?;
                out.push(c);
            }
            out
        }
    };
    if let Some(c) = selected.iter().find(|c| c.kind == ColumnKind::Static) {
        return Err(CqlError::invalid(format!(
            "Cannot include static column '{}' in materialized view '{view_name}'",
            c.name
        )));
    }
    let key: Vec<&String> = cv.partition_key.iter().chain(&cv.clustering).collect();
    for (i, n) in key.iter().enumerate() {
        if key[..i].contains(n) {
            return Err(CqlError::invalid(format!(
                "Duplicate entry found in PRIMARY KEY: {n}"
            )));
        }
        let c = base.column(n).ok_or_else(|| {
            CqlError::invalid(format!(
                "Unknown column name detected in CREATE MATERIALIZED VIEW statement: {n}"
            ))
        })?;
        if c.multi_cell {
            return Err(CqlError::invalid(format!(
                "Cannot use MultiCell column '{n}' in PRIMARY KEY of materialized view"
            )));
        }
        if c.kind == ColumnKind::Static {
            return Err(CqlError::invalid(format!(
                "Cannot use Static column '{n}' in PRIMARY KEY of materialized view"
            )));
        }
    }
    let missing: Vec<&str> = base
        .partition_key()
        .iter()
        .chain(base.clustering())
        .filter(|c| !key.contains(&&c.name))
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(CqlError::invalid(format!(
            "Cannot create materialized view {view_name} without primary key columns from base {} ({})",
            base.name,
            missing.join(",")
        )));
    }
    let non_pk: Vec<&str> = key
        .iter()
        .filter(|n| {
            base.column(n)
                .is_some_and(|c| matches!(c.kind, ColumnKind::Regular))
        })
        .map(|n| n.as_str())
        .collect();
    if non_pk.len() > 1 {
        return Err(CqlError::invalid(format!(
            "Cannot include more than one non-primary key column in materialized view primary key (got {})",
            non_pk.join(", ")
        )));
    }
    let unrestricted: Vec<&str> = key
        .iter()
        .filter(|n| !cv.not_null.contains(n))
        .map(|n| n.as_str())
        .collect();
    if !unrestricted.is_empty() {
        return Err(CqlError::invalid(format!(
            "Primary key columns {} must be restricted with 'IS NOT NULL' or otherwise",
            unrestricted.join(", ")
        )));
    }
    for (i, (n, _)) in cv.clustering_order.iter().enumerate() {
        if cv.clustering.get(i) != Some(n) {
            return Err(CqlError::invalid(
                "Only clustering key columns can be defined in CLUSTERING ORDER directive and they must be in the same order as the clustering key",
            ));
        }
    }
    let mut params = TableParams::default();
    check_view_options(&cv.options)?;
    params.apply(&cv.options)?;

    let mut cols = Vec::new();
    for (i, n) in cv.partition_key.iter().enumerate() {
        cols.push(key_column(&base, n, ColumnKind::PartitionKey, i, false));
    }
    for (i, n) in cv.clustering.iter().enumerate() {
        let desc = cv.clustering_order.iter().any(|(c, d)| c == n && *d);
        cols.push(key_column(&base, n, ColumnKind::Clustering, i, desc));
    }
    for c in selected {
        if !key.contains(&&c.name) {
            let mut c = c.clone();
            c.kind = ColumnKind::Regular;
            c.position = -1;
            c.desc = false;
            cols.push(c);
        }
    }
    let id = name_uuid(&format!("view-{ks}-{view_name}-{}", cat.generation()));
    let mut def = TableDef::new(&ks, view_name, id, cols, params);
    def.view = Some(ViewInfo {
        base_table_name: base.name.clone(),
        base_table_id: base.id,
        include_all_columns: cv.columns.is_none(),
        where_clause: cv
            .not_null
            .iter()
            .map(|c| format!("{c} IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND "),
    });
    cat.keyspace_mut(&ks)?
        .tables
        .insert(view_name.clone(), Arc::new(def));
    Ok(Some(ks))
}

fn key_column(base: &TableDef, name: &str, kind: ColumnKind, pos: usize, desc: bool) -> ColumnDef {
    let mut c = base.column(name).cloned().unwrap_or_else(|| ColumnDef {
        name: name.to_owned(),
        typ: ColumnType::Blob,
        kind,
        position: -1,
        desc: false,
        multi_cell: false,
        type_text: "blob".into(),
    });
    c.kind = kind;
    c.position = pos as i32;
    c.desc = desc;
    c
}

fn check_view_options(options: &[(String, Term)]) -> Result<()> {
    if options.iter().any(|(k, _)| k == "default_time_to_live") {
        return Err(CqlError::invalid(
            "Cannot set default_time_to_live for a materialized view. Data in a materialized view always expire at the same time than the corresponding data in the parent table.",
        ));
    }
    Ok(())
}

/// ALTER MATERIALIZED VIEW ... WITH: the view's keyspace and name.
pub(super) fn alter_view(
    cat: &mut Catalog,
    name: &QualifiedName,
    options: &[(String, Term)],
    current: Option<&str>,
) -> Result<(String, String)> {
    let v = Arc::clone(view_or_err(cat, name, current)?);
    check_not_system(&v.keyspace)?;
    check_view_options(options)?;
    let mut nv = (*v).clone();
    nv.params.apply(options)?;
    cat.keyspace_mut(&v.keyspace)?
        .tables
        .insert(v.name.clone(), Arc::new(nv));
    Ok((v.keyspace.clone(), v.name.clone()))
}

/// DROP MATERIALIZED VIEW: `Ok(None)` when it did not exist and IF EXISTS was given.
pub(super) fn drop_view(
    cat: &mut Catalog,
    name: &QualifiedName,
    if_exists: bool,
    current: Option<&str>,
) -> Result<Option<(String, Uuid)>> {
    let ks = cat.resolve_keyspace(name, current)?.to_owned();
    check_not_system(&ks)?;
    let v = match view_or_err(cat, name, current) {
        Ok(v) => Arc::clone(v),
        Err(_) if if_exists => return Ok(None),
        Err(e) => return Err(e),
    };
    cat.keyspace_mut(&ks)?.tables.remove(&v.name);
    Ok(Some((ks, v.id)))
}

fn view_or_err<'a>(
    cat: &'a Catalog,
    name: &QualifiedName,
    current: Option<&str>,
) -> Result<&'a Arc<TableDef>> {
    let ks = cat.resolve_keyspace(name, current)?;
    cat.table(ks, &name.name)
        .filter(|t| t.view.is_some())
        .ok_or_else(|| {
            CqlError::invalid(format!("Materialized view '{}' doesn't exist", name.name))
        })
}

/// The views of `table`, for the checks of DROP and ALTER TABLE on their base.
pub(super) fn views_of(cat: &Catalog, table: &TableDef) -> Vec<String> {
    cat.keyspace(&table.keyspace)
        .map(|k| {
            k.tables
                .values()
                .filter(|t| t.view.as_ref().is_some_and(|v| v.base_table_id == table.id))
                .map(|t| t.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// After ALTER TABLE ADD on `base`: views of `SELECT *` get the new regular columns too.
pub(super) fn add_to_views(cat: &mut Catalog, base: &TableDef, added: &[ColumnDef]) -> Result<()> {
    let names = views_of(cat, base);
    let k = cat.keyspace_mut(&base.keyspace)?;
    for n in names {
        let Some(v) = k.tables.get(&n).cloned() else {
            continue;
        };
        if !v.view.as_ref().is_some_and(|i| i.include_all_columns) {
            continue;
        }
        let mut cols = v.columns.clone();
        for c in added.iter().filter(|c| c.kind == ColumnKind::Regular) {
            if v.column(&c.name).is_none() {
                cols.push(c.clone());
            }
        }
        let mut nv = TableDef::new(&v.keyspace, &v.name, v.id, cols, v.params.clone());
        nv.view.clone_from(&v.view);
        nv.indexes.clone_from(&v.indexes);
        k.tables.insert(n, Arc::new(nv));
    }
    Ok(())
}
