//! CREATE INDEX and DROP INDEX: targets checked against the column's type as Cassandra 4
//! checks them, names chosen as the server chooses them, options as it records them.

use std::collections::BTreeMap;
use std::sync::Arc;

use proto::ColumnType;

use super::{check_not_system, map_option};
use crate::cql::ast::{QualifiedName, Term};
use crate::error::{CqlError, Result};
use crate::schema::*;

/// The class names Cassandra resolves from a short name.
const INDEX_CLASS_ALIASES: [(&str, &str); 3] = [
    ("sai", "org.apache.cassandra.index.sai.StorageAttachedIndex"),
    (
        "StorageAttachedIndex",
        "org.apache.cassandra.index.sai.StorageAttachedIndex",
    ),
    ("SASIIndex", "org.apache.cassandra.index.sasi.SASIIndex"),
];

/// A CREATE INDEX statement's parts.
pub(super) struct CreateIndex<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) table: &'a QualifiedName,
    pub(super) target: &'a str,
    pub(super) if_not_exists: bool,
    pub(super) custom_class: Option<&'a str>,
    pub(super) properties: &'a [(String, Term)],
}

/// Creates an index; `Ok(None)` when nothing changed (IF NOT EXISTS), else the table.
pub(super) fn create_index(
    cat: &mut Catalog,
    st: &CreateIndex<'_>,
    current: Option<&str>,
) -> Result<Option<(String, String)>> {
    let t = Arc::clone(cat.table_or_err(st.table, current)?);
    check_not_system(&t.keyspace)?;
    let target = parse_target(st.target)?;
    let col = t
        .column(&target.column)
        .ok_or_else(|| CqlError::invalid(format!("Column '{}' doesn't exist", target.column)))?;
    let target = validate_target(&t, col, target)?;
    let mut options = index_options(st.custom_class.is_some(), st.properties)?;
    options.insert("target".into(), target.as_cql());
    if let Some(c) = st.custom_class {
        let class = INDEX_CLASS_ALIASES
            .iter()
            .find(|(short, _)| short.eq_ignore_ascii_case(c))
            .map_or(c, |(_, full)| full);
        options.insert("class_name".into(), class.to_owned());
    }
    let kind = if st.custom_class.is_some() {
        "CUSTOM"
    } else {
        "COMPOSITES"
    };
    let ks = cat.keyspace_mut(&t.keyspace)?;
    let taken = |n: &str| {
        ks.tables
            .values()
            .any(|t| t.indexes.iter().any(|i| i.name == n))
    };
    let name = match st.name {
        Some(n) => {
            if taken(n) {
                if st.if_not_exists {
                    return Ok(None);
                }
                return Err(CqlError::invalid(format!("Index '{n}' already exists")));
            }
            n.to_owned()
        }
        None => {
            let base: String = format!("{}_{}_idx", t.name, target.column)
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let mut name = base.clone();
            let mut i = 0;
            while taken(&name) {
                i += 1;
                name = format!("{base}_{i}");
            }
            name
        }
    };
    if let Some(dup) = t
        .indexes
        .iter()
        .find(|i| i.kind == kind && i.options == options)
    {
        if st.if_not_exists {
            return Ok(None);
        }
        return Err(CqlError::invalid(format!(
            "Index {name} is a duplicate of existing index {}",
            dup.name
        )));
    }
    let mut nt = (*t).clone();
    nt.indexes.push(IndexDef {
        name,
        kind: kind.into(),
        options,
        target,
    });
    ks.tables.insert(t.name.clone(), Arc::new(nt));
    Ok(Some((t.keyspace.clone(), t.name.clone())))
}

/// Drops an index; `Ok(None)` when it did not exist and IF EXISTS was given, else the table.
pub(super) fn drop_index(
    cat: &mut Catalog,
    name: &QualifiedName,
    if_exists: bool,
    current: Option<&str>,
) -> Result<Option<(String, String)>> {
    let ks = cat.resolve_keyspace(name, current)?.to_owned();
    check_not_system(&ks)?;
    let found = cat
        .keyspace(&ks)
        .and_then(|k| {
            k.tables
                .values()
                .find(|t| t.indexes.iter().any(|i| i.name == name.name))
        })
        .cloned();
    let Some(t) = found else {
        if if_exists {
            return Ok(None);
        }
        return Err(CqlError::invalid(format!(
            "Index '{}' could not be found in any of the tables of keyspace '{ks}'",
            name.name
        )));
    };
    let mut nt = (*t).clone();
    nt.indexes.retain(|i| i.name != name.name);
    cat.keyspace_mut(&ks)?
        .tables
        .insert(t.name.clone(), Arc::new(nt));
    Ok(Some((ks, t.name.clone())))
}

/// Parses a target as written: `c`, `"C"`, or `keys(c)` / `values(c)` / `entries(c)` /
/// `full(c)`. A bare column is simple here; [`validate_target`] turns it into `values` for a
/// collection.
fn parse_target(text: &str) -> Result<IndexTarget> {
    let text = text.trim();
    let (kind, inner) = match text.split_once('(') {
        Some((f, rest)) => {
            let kind = IndexTargetKind::from_function(f.trim()).ok_or_else(|| {
                CqlError::Syntax(format!("line 1:0 no viable alternative at input '{text}'"))
            })?;
            let inner = rest.trim_end().strip_suffix(')').ok_or_else(|| {
                CqlError::Syntax(format!("line 1:0 mismatched input at '{text}'"))
            })?;
            (kind, inner.trim())
        }
        None => (IndexTargetKind::Simple, text),
    };
    let column = match inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(q) => q.replace("\"\"", "\""),
        None if !inner.is_empty() && inner.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            inner.to_lowercase()
        }
        None => {
            return Err(CqlError::Syntax(format!(
                "line 1:0 no viable alternative at input '{inner}'"
            )));
        }
    };
    Ok(IndexTarget { column, kind })
}

/// Checks a target against the column as Cassandra 4's CreateIndexStatement does.
fn validate_target(t: &TableDef, col: &ColumnDef, mut target: IndexTarget) -> Result<IndexTarget> {
    use IndexTargetKind as K;
    let is_collection = matches!(
        col.typ,
        ColumnType::List(_) | ColumnType::Set(_) | ColumnType::Map(..)
    );
    let is_map = matches!(col.typ, ColumnType::Map(..));
    let frozen_collection = is_collection && !col.multi_cell;
    // A bare collection column means its values, frozen or not (Cassandra's
    // IndexTarget.Raw), so a bare frozen collection is refused below.
    if target.kind == K::Simple && is_collection {
        target.kind = K::Values;
    }
    let name = &col.name;
    let kind = target.kind.as_str();
    if mentions_duration(&col.typ) {
        return Err(CqlError::invalid(
            "Secondary indexes are not supported on duration columns",
        ));
    }
    if col.kind == ColumnKind::PartitionKey && t.pk_len == 1 {
        return Err(CqlError::invalid(format!(
            "Cannot create secondary index on the only partition key column {name}"
        )));
    }
    if frozen_collection && target.kind != K::Full {
        return Err(CqlError::invalid(format!(
            "Cannot create {kind}() index on frozen column {name}. Frozen collections only support full() indexes"
        )));
    }
    if !frozen_collection && target.kind == K::Full {
        return Err(CqlError::invalid(
            "full() indexes can only be created on frozen collections",
        ));
    }
    if !is_collection && target.kind != K::Simple && target.kind != K::Full {
        return Err(CqlError::invalid(format!(
            "Cannot create {kind}() index on {name}. Non-collection columns only support simple indexes"
        )));
    }
    if !(is_map && col.multi_cell) && matches!(target.kind, K::Keys | K::Entries) {
        return Err(CqlError::invalid(format!(
            "Cannot create index on {kind} of column {name} with non-map type"
        )));
    }
    if matches!(col.typ, ColumnType::Udt { .. }) && col.multi_cell {
        return Err(CqlError::invalid(format!(
            "Cannot create index on non-frozen UDT column {name}"
        )));
    }
    Ok(target)
}

fn mentions_duration(t: &ColumnType) -> bool {
    match t {
        ColumnType::Duration => true,
        ColumnType::List(e) | ColumnType::Set(e) | ColumnType::Vector(e, _) => mentions_duration(e),
        ColumnType::Map(k, v) => mentions_duration(k) || mentions_duration(v),
        ColumnType::Tuple(ts) => ts.iter().any(mentions_duration),
        ColumnType::Udt { fields, .. } => fields.iter().any(|(_, f)| mentions_duration(f)),
        _ => false,
    }
}

/// The `WITH OPTIONS = {...}` of a custom index; other properties are unknown, and a
/// non-custom index takes none.
fn index_options(custom: bool, props: &[(String, Term)]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (k, v) in props {
        if k != "options" {
            return Err(CqlError::Syntax(format!("Unknown property '{k}'")));
        }
        if !custom {
            return Err(CqlError::invalid(
                "Cannot specify options for a non-CUSTOM index",
            ));
        }
        for (ok, ov) in map_option(v, k)? {
            match ok.as_str() {
                "class_name" => {
                    return Err(CqlError::invalid(
                        "Cannot specify index class as a CUSTOM option",
                    ));
                }
                "target" => {
                    return Err(CqlError::invalid(
                        "Cannot specify target as a CUSTOM option",
                    ));
                }
                _ => {
                    out.insert(ok, ov);
                }
            }
        }
    }
    Ok(out)
}
