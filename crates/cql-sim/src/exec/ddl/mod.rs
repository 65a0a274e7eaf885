//! Schema statements: CREATE, ALTER and DROP of keyspaces, tables, types, indexes and views,
//! TRUNCATE, and the schema changes they report. CREATE TABLE is in [`table`], functions and
//! aggregates in [`function`].

use std::collections::BTreeMap;
use std::sync::Arc;

use proto::ColumnType;

use crate::cql::ast::*;
use crate::cql::parse_statement;
use crate::error::{CqlError, Result};
use crate::exec::Outcome;
use crate::schema::*;
use crate::storage::Replicas;
use crate::system::SYSTEM_KEYSPACE_DEFS;
use table::mentions_udt;

mod function;
mod index;
mod table;
mod udt;
mod view;

use table::create_table;

/// A catalog holding only the system keyspaces (see [`SYSTEM_KEYSPACE_DEFS`]), at the first
/// schema version.
pub(super) fn system_catalog() -> Catalog {
    let mut cat = Catalog::empty();
    for ks in &SYSTEM_KEYSPACE_DEFS {
        let options: Vec<(String, String)> = ks
            .replication
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let Ok(replication) = Replication::from_options(&options) else {
            continue;
        };
        cat.insert_keyspace(KeyspaceDef {
            name: ks.name.to_owned(),
            durable_writes: true,
            replication,
            tablets: None,
            tables: BTreeMap::new(),
            types: BTreeMap::new(),
        });
        for q in ks.tables {
            if let Ok(p) = parse_statement(q)
                && let Statement::CreateTable(ct) = p.statement
                && let Err(e) = create_table(&mut cat, ks.name, &ct)
            {
                tracing::error!(table = %ct.name.name, error = %e, "system table definition rejected");
            }
        }
    }
    cat.restart_versions();
    cat
}

fn term_text(t: &Term) -> String {
    match t {
        Term::Str(s) => s.clone(),
        Term::Int(s) | Term::Float(s) => s.clone(),
        Term::Bool(b) => b.to_string(),
        Term::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("'{}': '{}'", term_text(k), term_text(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn map_option(t: &Term, what: &str) -> Result<Vec<(String, String)>> {
    match t {
        Term::Map(entries) => Ok(entries
            .iter()
            .map(|(k, v)| (term_text(k), term_text(v)))
            .collect()),
        _ => Err(CqlError::Syntax(format!(
            "Invalid value for property '{what}': expected a map"
        ))),
    }
}

fn check_not_system(ks: &str) -> Result<()> {
    if SYSTEM_KEYSPACES.contains(&ks) {
        return Err(CqlError::Unauthorized(format!(
            "{ks} keyspace is not user-modifiable."
        )));
    }
    Ok(())
}

fn change(
    change_type: SchemaChangeType,
    target: SchemaChangeTarget,
    ks: &str,
    name: &str,
) -> Outcome {
    Outcome::SchemaChange(SchemaChangeInfo {
        change_type,
        target,
        keyspace: ks.to_owned(),
        name: name.to_owned(),
        args: Vec::new(),
    })
}

/// A keyspace's settings from its `WITH` options.
struct KeyspaceSettings {
    replication: Replication,
    durable_writes: bool,
    tablets: Option<TabletsOptions>,
}

fn keyspace_options(
    keyspace: &str,
    options: &[(String, Term)],
    base: Option<&KeyspaceDef>,
    data: &dyn Replicas,
) -> Result<KeyspaceSettings> {
    let datacenters = &data.datacenters();
    let policy = data.tablets_policy();
    let mut tablets = None;
    let previous = base.map(|k| &k.replication);
    let mut replication = previous.cloned();
    let mut durable = base.is_none_or(|k| k.durable_writes);
    for (k, v) in options {
        match k.as_str() {
            "replication" => {
                replication = Some(Replication::for_keyspace(
                    keyspace,
                    &map_option(v, k)?,
                    datacenters,
                    previous,
                )?);
            }
            "durable_writes" => {
                durable = match v {
                    Term::Bool(b) => *b,
                    Term::Str(s) => s.eq_ignore_ascii_case("true"),
                    _ => {
                        return Err(CqlError::Syntax(
                            "Invalid boolean value for durable_writes".into(),
                        ));
                    }
                }
            }
            // Scylla's option; Cassandra knows no such property.
            "tablets" if policy.supported => tablets = Some(map_option(v, k)?),
            other => return Err(CqlError::Syntax(format!("Unknown property '{other}'"))),
        }
    }
    let replication = replication
        .ok_or_else(|| CqlError::Config("Missing mandatory option 'replication'".into()))?;
    let tablets = match base {
        None => for_new_keyspace(keyspace, tablets.as_deref(), &replication, &policy)?,
        Some(b) => for_altered_keyspace(
            keyspace,
            tablets.as_deref(),
            b.tablets,
            &replication,
            &policy,
        )?,
    };
    Ok(KeyspaceSettings {
        replication,
        durable_writes: durable,
        tablets,
    })
}

/// Runs a DDL statement.
pub(super) fn execute(
    cat: &mut Catalog,
    data: &mut dyn Replicas,
    st: &Statement,
    current: Option<&str>,
) -> Result<Outcome> {
    use SchemaChangeTarget as Tg;
    use SchemaChangeType as Ty;
    let out = match st {
        Statement::CreateKeyspace {
            name,
            if_not_exists,
            options,
        } => {
            if cat.keyspace(name).is_some() {
                if *if_not_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::AlreadyExists {
                    keyspace: name.clone(),
                    table: String::new(),
                    message: format!("Keyspace {name} already exists"),
                });
            }
            check_not_system(name)?;
            let ks = keyspace_options(name, options, None, data)?;
            cat.insert_keyspace(KeyspaceDef {
                name: name.clone(),
                durable_writes: ks.durable_writes,
                replication: ks.replication,
                tablets: ks.tablets,
                tables: BTreeMap::new(),
                types: BTreeMap::new(),
            });
            change(Ty::Created, Tg::Keyspace, name, "")
        }
        Statement::AlterKeyspace { name, options } => {
            check_not_system(name)?;
            let base = cat
                .keyspace(name)
                .ok_or_else(|| CqlError::Config(format!("Keyspace {name} does not exist")))?
                .clone();
            let ks = keyspace_options(name, options, Some(&base), data)?;
            let k = cat.keyspace_mut(name)?;
            k.replication = ks.replication;
            k.durable_writes = ks.durable_writes;
            k.tablets = ks.tablets;
            change(Ty::Updated, Tg::Keyspace, name, "")
        }
        Statement::DropKeyspace { name, if_exists } => {
            check_not_system(name)?;
            let Some(ks) = cat.remove_keyspace(name) else {
                if *if_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::Config(format!(
                    "Cannot drop non existing keyspace '{name}'."
                )));
            };
            for t in ks.tables.values() {
                let id = t.id;
                data.for_each_store(&mut |s| s.drop_table(id));
            }
            change(Ty::Dropped, Tg::Keyspace, name, "")
        }
        Statement::CreateTable(ct) => {
            let ks = cat.resolve_keyspace(&ct.name, current)?.to_owned();
            check_not_system(&ks)?;
            if let Some(k) = cat.keyspace(&ks) {
                check_create_table(k, ct)?;
            }
            if let Some(o) = create_table(cat, &ks, ct)? {
                return Ok(o);
            }
            change(Ty::Created, Tg::Table, &ks, &ct.name.name)
        }
        Statement::AlterTable { name, op } => {
            let t = Arc::clone(cat.table_or_err(name, current)?);
            check_not_system(&t.keyspace)?;
            if t.view.is_some() {
                return Err(CqlError::invalid(
                    "Cannot use ALTER TABLE on a materialized view; use ALTER MATERIALIZED VIEW instead",
                ));
            }
            let views = view::views_of(cat, &t);
            if matches!(op, AlterTableOp::Drop(_) | AlterTableOp::Rename(_)) && !views.is_empty() {
                return Err(CqlError::invalid(format!(
                    "Cannot drop or rename columns of base table {}.{} with materialized views",
                    t.keyspace, t.name
                )));
            }
            let mut cols = t.columns.clone();
            let mut params = t.params.clone();
            match op {
                AlterTableOp::Add(defs) => {
                    for d in defs {
                        if t.column(&d.name).is_some() {
                            return Err(CqlError::invalid(format!(
                                "Invalid column name {} because it conflicts with an existing column",
                                d.name
                            )));
                        }
                        if d.is_static && t.ck_len == 0 {
                            return Err(CqlError::invalid("Static columns are only useful (and thus allowed) if the table has at least one clustering column".to_string()));
                        }
                        let (typ, multi_cell, type_text) = cat.resolve_type(&t.keyspace, &d.typ)?;
                        cols.push(ColumnDef {
                            name: d.name.clone(),
                            typ,
                            kind: if d.is_static {
                                ColumnKind::Static
                            } else {
                                ColumnKind::Regular
                            },
                            position: -1,
                            desc: false,
                            multi_cell,
                            type_text,
                        });
                    }
                }
                AlterTableOp::Drop(names) => {
                    for n in names {
                        let (_, c) = t.column_or_err(n).map_err(|_| {
                            CqlError::invalid(format!(
                                "Column {n} was not found in table {}",
                                t.name
                            ))
                        })?;
                        if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                            return Err(CqlError::invalid(format!(
                                "Cannot drop PRIMARY KEY part {n}"
                            )));
                        }
                        cols.retain(|c| &c.name != n);
                        let id = t.id;
                        data.for_each_store(&mut |s| s.drop_column(id, n));
                    }
                }
                AlterTableOp::With(opts) => params.apply(opts)?,
                AlterTableOp::Rename(pairs) => {
                    for (a, b) in pairs {
                        let c = cols.iter_mut().find(|c| &c.name == a).ok_or_else(|| {
                            CqlError::invalid(format!("Undefined column name {a}"))
                        })?;
                        if !matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                            return Err(CqlError::invalid(format!(
                                "Cannot rename non PRIMARY KEY column {a}"
                            )));
                        }
                        c.name = b.clone();
                    }
                }
                AlterTableOp::AlterType(..) => {
                    return Err(CqlError::invalid(
                        "Altering column types is no longer supported",
                    ));
                }
            }
            let added: Vec<ColumnDef> = cols
                .iter()
                .filter(|c| t.column(&c.name).is_none())
                .cloned()
                .collect();
            let mut nt = TableDef::new(&t.keyspace, &t.name, t.id, cols, params);
            nt.indexes = t.indexes.clone();
            cat.keyspace_mut(&t.keyspace)?
                .tables
                .insert(t.name.clone(), Arc::new(nt));
            if !views.is_empty() {
                view::add_to_views(cat, &t, &added)?;
            }
            change(Ty::Updated, Tg::Table, &t.keyspace, &t.name)
        }
        Statement::DropTable { name, if_exists } => {
            let ks = cat.resolve_keyspace(name, current)?.to_owned();
            check_not_system(&ks)?;
            if let Some(t) = cat.table(&ks, &name.name) {
                if t.view.is_some() {
                    return Err(CqlError::invalid(
                        "Cannot use DROP TABLE on a materialized view. Please use DROP MATERIALIZED VIEW instead.",
                    ));
                }
                let views = view::views_of(cat, t);
                if !views.is_empty() {
                    return Err(CqlError::invalid(format!(
                        "Cannot drop table when materialized views still depend on it ({ks}.{{{}}})",
                        views.join(", ")
                    )));
                }
            }
            let removed = cat
                .keyspace_mut(&ks)
                .ok()
                .and_then(|k| k.tables.remove(&name.name));
            match removed {
                Some(t) => data.for_each_store(&mut |s| s.drop_table(t.id)),
                None if *if_exists => return Ok(Outcome::Void),
                None => {
                    return Err(CqlError::invalid(format!(
                        "Table '{ks}.{}' doesn't exist",
                        name.name
                    )));
                }
            }
            change(Ty::Dropped, Tg::Table, &ks, &name.name)
        }
        Statement::CreateType {
            name,
            if_not_exists,
            fields,
        } => {
            let ks = cat.resolve_keyspace(name, current)?.to_owned();
            check_not_system(&ks)?;
            let exists = cat.keyspace_mut(&ks)?.types.contains_key(&name.name);
            if exists {
                if *if_not_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::invalid(format!(
                    "A user type of name {ks}.{} already exists",
                    name.name
                )));
            }
            let mut fs = Vec::new();
            for (f, t) in fields {
                if fs
                    .iter()
                    .any(|(n, _, _): &(String, ColumnType, String)| n == f)
                {
                    return Err(CqlError::invalid(format!(
                        "Duplicate field name {f} in type {}",
                        name.name
                    )));
                }
                let (typ, multi, text) = cat.resolve_type(&ks, t)?;
                if multi {
                    return Err(CqlError::invalid(
                        "Non-frozen collections are not allowed inside a user-defined type",
                    ));
                }
                fs.push((f.clone(), typ, text));
            }
            cat.keyspace_mut(&ks)?.types.insert(
                name.name.clone(),
                UdtDef {
                    keyspace: ks.clone(),
                    name: name.name.clone(),
                    fields: fs,
                },
            );
            change(Ty::Created, Tg::Type, &ks, &name.name)
        }
        Statement::AlterUserType { name, op } => udt::alter_user_type(cat, name, op, current)?,
        Statement::DropType { name, if_exists } => {
            let ks = cat.resolve_keyspace(name, current)?.to_owned();
            check_not_system(&ks)?;
            let k = cat.keyspace_mut(&ks)?;
            let used = k
                .tables
                .values()
                .any(|t| t.columns.iter().any(|c| mentions_udt(&c.typ, &name.name)));
            if used {
                return Err(CqlError::invalid(format!(
                    "Cannot drop user type {ks}.{} as it is still used by a table",
                    name.name
                )));
            }
            let functions = function::functions_using_type(cat, &ks, &name.name);
            if !functions.is_empty() {
                return Err(CqlError::invalid(format!(
                    "Cannot drop user type '{ks}.{}' as it is still used by functions {}",
                    name.name,
                    functions.join(", ")
                )));
            }
            let k = cat.keyspace_mut(&ks)?;
            if k.types.remove(&name.name).is_none() {
                if *if_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::invalid(format!(
                    "No user type named {ks}.{} exists.",
                    name.name
                )));
            }
            change(Ty::Dropped, Tg::Type, &ks, &name.name)
        }
        Statement::CreateIndex {
            name,
            table,
            target,
            if_not_exists,
            custom_class,
            properties,
        } => {
            let st = index::CreateIndex {
                name: name.as_deref(),
                table,
                target,
                if_not_exists: *if_not_exists,
                custom_class: custom_class.as_deref(),
                properties,
            };
            // Servers announce an index change as an update of its table.
            match index::create_index(cat, &st, current)? {
                Some((ks, t)) => change(Ty::Updated, Tg::Table, &ks, &t),
                None => return Ok(Outcome::Void),
            }
        }
        Statement::CreateView(cv) => match view::create_view(cat, cv, current)? {
            Some(ks) => change(Ty::Created, Tg::Table, &ks, &cv.name.name),
            None => return Ok(Outcome::Void),
        },
        Statement::AlterView { name, options } => {
            let (ks, v) = view::alter_view(cat, name, options, current)?;
            change(Ty::Updated, Tg::Table, &ks, &v)
        }
        Statement::DropView { name, if_exists } => {
            match view::drop_view(cat, name, *if_exists, current)? {
                Some((ks, id)) => {
                    data.for_each_store(&mut |s| s.drop_table(id));
                    change(Ty::Dropped, Tg::Table, &ks, &name.name)
                }
                None => return Ok(Outcome::Void),
            }
        }
        Statement::DropIndex { name, if_exists } => {
            match index::drop_index(cat, name, *if_exists, current)? {
                Some((ks, t)) => change(Ty::Updated, Tg::Table, &ks, &t),
                None => return Ok(Outcome::Void),
            }
        }
        Statement::CreateFunction(_)
        | Statement::DropFunction(_)
        | Statement::CreateAggregate(_)
        | Statement::DropAggregate(_) => match function::execute(cat, st, current)? {
            Some(o) => o,
            None => return Ok(Outcome::Void),
        },
        _ => return Err(CqlError::invalid("unsupported statement")),
    };
    cat.bump_version();
    Ok(out)
}
