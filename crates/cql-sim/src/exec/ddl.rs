//! Schema statements, and the metadata of prepared statements.

use std::collections::BTreeMap;
use std::sync::Arc;

use proto::{ColumnType, Text};

use super::{CachedStatement, ColumnSpec, Outcome, PreparedInfo};
use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::schema::*;
use crate::storage::Replicas;

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
    })
}

fn keyspace_options(
    options: &[(String, Term)],
    base: Option<&KeyspaceDef>,
) -> Result<(Replication, bool)> {
    let mut replication = base.map(|k| k.replication.clone());
    let mut durable = base.is_none_or(|k| k.durable_writes);
    for (k, v) in options {
        match k.as_str() {
            "replication" => replication = Some(Replication::from_options(&map_option(v, k)?)?),
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
            other => return Err(CqlError::Syntax(format!("Unknown property '{other}'"))),
        }
    }
    let replication = replication
        .ok_or_else(|| CqlError::Config("Missing mandatory option 'replication'".into()))?;
    Ok((replication, durable))
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
            let (replication, durable_writes) = keyspace_options(options, None)?;
            cat.insert_keyspace(KeyspaceDef {
                name: name.clone(),
                durable_writes,
                replication,
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
            let (replication, durable) = keyspace_options(options, Some(&base))?;
            let k = cat.keyspace_mut(name)?;
            k.replication = replication;
            k.durable_writes = durable;
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
            if let Some(o) = create_table(cat, &ks, ct)? {
                return Ok(o);
            }
            change(Ty::Created, Tg::Table, &ks, &ct.name.name)
        }
        Statement::AlterTable { name, op } => {
            let t = Arc::clone(cat.table_or_err(name, current)?);
            check_not_system(&t.keyspace)?;
            let mut cols = t.columns.clone();
            let mut options = t.options.clone();
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
                AlterTableOp::With(opts) => {
                    for (k, v) in opts {
                        options.insert(k.clone(), term_text(v));
                    }
                }
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
            let mut nt = TableDef::new(&t.keyspace, &t.name, t.id, cols, options);
            nt.indexes = t.indexes.clone();
            cat.keyspace_mut(&t.keyspace)?
                .tables
                .insert(t.name.clone(), Arc::new(nt));
            change(Ty::Updated, Tg::Table, &t.keyspace, &t.name)
        }
        Statement::DropTable { name, if_exists } => {
            let ks = cat.resolve_keyspace(name, current)?.to_owned();
            check_not_system(&ks)?;
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
        } => {
            let t = Arc::clone(cat.table_or_err(table, current)?);
            check_not_system(&t.keyspace)?;
            let col = target
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .trim_matches(|c| c == '(' || c == ')');
            let col = if col.is_empty() { target.as_str() } else { col };
            let col = col.trim_matches('"');
            t.column_or_err(col)?;
            let iname = name
                .clone()
                .unwrap_or_else(|| format!("{}_{}_idx", t.name, col));
            if t.indexes.iter().any(|i| i.name == iname) {
                if *if_not_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::invalid(format!("Index {iname} already exists")));
            }
            let mut nt = (*t).clone();
            let mut options = BTreeMap::new();
            options.insert("target".into(), target.clone());
            if let Some(c) = custom_class {
                options.insert("class_name".into(), c.clone());
            }
            nt.indexes.push(IndexDef {
                name: iname,
                kind: if custom_class.is_some() {
                    "CUSTOM".into()
                } else {
                    "COMPOSITES".into()
                },
                options,
            });
            cat.keyspace_mut(&t.keyspace)?
                .tables
                .insert(t.name.clone(), Arc::new(nt));
            change(Ty::Updated, Tg::Table, &t.keyspace, &t.name)
        }
        Statement::DropIndex { name, if_exists } => {
            let ks = cat.resolve_keyspace(name, current)?.to_owned();
            let k = cat.keyspace_mut(&ks)?;
            let found = k
                .tables
                .values()
                .find(|t| t.indexes.iter().any(|i| i.name == name.name))
                .cloned();
            let Some(t) = found else {
                if *if_exists {
                    return Ok(Outcome::Void);
                }
                return Err(CqlError::invalid(format!(
                    "Index '{}' could not be found in any of the tables of keyspace '{ks}'",
                    name.name
                )));
            };
            let mut nt = (*t).clone();
            nt.indexes.retain(|i| i.name != name.name);
            k.tables.insert(t.name.clone(), Arc::new(nt));
            change(Ty::Updated, Tg::Table, &ks, &t.name)
        }
        _ => return Err(CqlError::invalid("unsupported statement")),
    };
    cat.bump_version();
    Ok(out)
}

fn mentions_udt(t: &ColumnType, name: &str) -> bool {
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
pub(crate) fn create_table(
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
    let mut options = BTreeMap::new();
    for (k, v) in &ct.options {
        options.insert(k.clone(), term_text(v));
    }
    let id = name_uuid(&format!("table-{ks}-{}-{}", ct.name.name, cat.generation()));
    let def = TableDef::new(ks, &ct.name.name, id, cols, options);
    cat.keyspace_mut(ks)?
        .tables
        .insert(ct.name.name.clone(), Arc::new(def));
    Ok(None)
}

fn spec(t: &TableDef, name: &str, typ: ColumnType) -> ColumnSpec {
    ColumnSpec {
        keyspace: t.keyspace.clone().into(),
        table: t.name.clone().into(),
        name: name.to_owned().into(),
        typ,
    }
}

struct SpecCollector<'a> {
    table: &'a TableDef,
    out: Vec<Option<ColumnSpec>>,
}

impl SpecCollector<'_> {
    fn term(&mut self, t: &Term, name: &str, typ: &ColumnType) {
        match t {
            Term::Bind(m) => {
                if self.out.len() <= m.index {
                    self.out.resize(m.index + 1, None);
                }
                let n = m.name.clone().unwrap_or_else(|| name.to_owned());
                self.out[m.index] = Some(spec(self.table, &n, typ.clone()));
            }
            Term::List(items) | Term::Set(items) => {
                let et = match typ {
                    ColumnType::List(e) | ColumnType::Set(e) | ColumnType::Vector(e, _) => {
                        (**e).clone()
                    }
                    other => other.clone(),
                };
                for i in items {
                    self.term(i, name, &et);
                }
            }
            Term::Map(entries) => {
                if let ColumnType::Map(k, v) = typ {
                    for (a, b) in entries {
                        self.term(a, name, k);
                        self.term(b, name, v);
                    }
                }
            }
            Term::Tuple(items) => {
                if let ColumnType::Tuple(ts) = typ {
                    for (i, t) in items.iter().zip(ts) {
                        self.term(i, name, t);
                    }
                }
            }
            Term::Udt(fields) => {
                if let ColumnType::Udt { fields: fts, .. } = typ {
                    for (f, v) in fields {
                        if let Some((_, ft)) = fts.iter().find(|(n, _)| n == f) {
                            self.term(v, name, ft);
                        }
                    }
                }
            }
            Term::Function { args, .. } => {
                for a in args {
                    self.term(a, name, &ColumnType::Timeuuid);
                }
            }
            _ => {}
        }
    }

    fn column_term(&mut self, col: &str, t: &Term) -> Result<()> {
        let (_, c) = self.table.column_or_err(col)?;
        let typ = c.typ.clone();
        self.term(t, col, &typ);
        Ok(())
    }

    fn using(&mut self, u: &Using) {
        if let Some(t) = &u.ttl {
            self.term(t, "[ttl]", &ColumnType::Int);
        }
        if let Some(t) = &u.timestamp {
            self.term(t, "[timestamp]", &ColumnType::BigInt);
        }
    }

    fn element_types(&self, col: &str) -> Result<(ColumnType, ColumnType)> {
        let (_, c) = self.table.column_or_err(col)?;
        Ok(match &c.typ {
            ColumnType::Map(k, v) => ((**k).clone(), (**v).clone()),
            ColumnType::List(e) => (ColumnType::Int, (**e).clone()),
            ColumnType::Set(e) => ((**e).clone(), ColumnType::Blob),
            other => {
                return Err(CqlError::invalid(format!(
                    "Invalid operation for non collection column {col} of type {other}"
                )));
            }
        })
    }

    fn relations(&mut self, rels: &[Relation]) -> Result<()> {
        for r in rels {
            match &r.lhs {
                RelationLhs::Token(_) => {
                    if let RelationRhs::Term(t) = &r.rhs {
                        self.term(t, "partition key token", &ColumnType::BigInt);
                    }
                }
                RelationLhs::Column(c) => {
                    let (_, cd) = self.table.column_or_err(c)?;
                    let typ = match r.op {
                        Operator::Contains => match &cd.typ {
                            ColumnType::List(e) | ColumnType::Set(e) => (**e).clone(),
                            ColumnType::Map(_, v) => (**v).clone(),
                            other => other.clone(),
                        },
                        Operator::ContainsKey => match &cd.typ {
                            ColumnType::Map(k, _) => (**k).clone(),
                            other => other.clone(),
                        },
                        _ => cd.typ.clone(),
                    };
                    match &r.rhs {
                        RelationRhs::Term(t) => self.term(t, c, &typ),
                        RelationRhs::List(ts) => {
                            for t in ts {
                                self.term(t, c, &typ);
                            }
                        }
                        RelationRhs::Marker(m) => {
                            let n = format!("in({c})");
                            self.term(&Term::Bind(m.clone()), &n, &ColumnType::List(Box::new(typ)));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn conditions(&mut self, c: &Conditions) -> Result<()> {
        if let Conditions::Columns(cs) = c {
            for cond in cs {
                let typ = match &cond.element {
                    Some(e) => {
                        let (k, v) = self.element_types(&cond.column)?;
                        self.term(e, &cond.column, &k);
                        v
                    }
                    None => self.table.column_or_err(&cond.column)?.1.typ.clone(),
                };
                match &cond.rhs {
                    RelationRhs::Term(t) => self.term(t, &cond.column, &typ),
                    RelationRhs::List(ts) => {
                        for t in ts {
                            self.term(t, &cond.column, &typ);
                        }
                    }
                    RelationRhs::Marker(m) => {
                        self.term(
                            &Term::Bind(m.clone()),
                            &cond.column,
                            &ColumnType::List(Box::new(typ)),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn statement(&mut self, st: &Statement) -> Result<()> {
        match st {
            Statement::Insert { values, using, .. } => {
                match values {
                    InsertValues::Values { columns, values } => {
                        for (c, v) in columns.iter().zip(values) {
                            self.column_term(c, v)?;
                        }
                    }
                    InsertValues::Json { json, .. } => self.term(json, "[json]", &ColumnType::Text),
                }
                self.using(using);
            }
            Statement::Update {
                using,
                assignments,
                where_clause,
                conditions,
                ..
            } => {
                self.using(using);
                for a in assignments {
                    match a {
                        Assignment::Set { column, value }
                        | Assignment::Add { column, value }
                        | Assignment::Prepend { column, value } => {
                            let (_, c) = self.table.column_or_err(column)?;
                            let typ = if c.typ == ColumnType::Counter {
                                ColumnType::BigInt
                            } else {
                                c.typ.clone()
                            };
                            self.term(value, column, &typ);
                        }
                        Assignment::Sub { column, value } => {
                            let (_, c) = self.table.column_or_err(column)?;
                            let typ = match &c.typ {
                                ColumnType::Counter => ColumnType::BigInt,
                                ColumnType::Map(k, _) => ColumnType::Set(k.clone()),
                                other => other.clone(),
                            };
                            self.term(value, column, &typ);
                        }
                        Assignment::SetElement { column, key, value } => {
                            let (k, v) = self.element_types(column)?;
                            self.term(key, column, &k);
                            self.term(value, column, &v);
                        }
                        Assignment::SetField {
                            column,
                            field,
                            value,
                        } => {
                            let (_, c) = self.table.column_or_err(column)?;
                            if let ColumnType::Udt { fields, .. } = &c.typ
                                && let Some((_, ft)) = fields.iter().find(|(n, _)| n == field)
                            {
                                let ft = ft.clone();
                                self.term(value, field, &ft);
                            }
                        }
                    }
                }
                self.relations(where_clause)?;
                self.conditions(conditions)?;
            }
            Statement::Delete {
                targets,
                using,
                where_clause,
                conditions,
                ..
            } => {
                for t in targets {
                    if let Some(e) = &t.element {
                        let (k, _) = self.element_types(&t.column)?;
                        self.term(e, &t.column, &k);
                    }
                }
                self.using(using);
                self.relations(where_clause)?;
                self.conditions(conditions)?;
            }
            Statement::Select(s) => {
                self.relations(&s.where_clause)?;
                if let Some(t) = &s.per_partition_limit {
                    self.term(t, "[per_partition_limit]", &ColumnType::Int);
                }
                if let Some(t) = &s.limit {
                    self.term(t, "[limit]", &ColumnType::Int);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn statement_table<'a>(
    cat: &'a Catalog,
    st: &Statement,
    ks: Option<&str>,
) -> Result<Option<&'a Arc<TableDef>>> {
    let name = match st {
        Statement::Insert { table, .. }
        | Statement::Update { table, .. }
        | Statement::Delete { table, .. } => table,
        Statement::Select(s) => &s.table,
        _ => return Ok(None),
    };
    cat.table_or_err(name, ks).map(Some)
}

/// The spec of every bind marker of a statement.
pub(super) fn bind_specs(
    cat: &Catalog,
    st: &Statement,
    ks: Option<&str>,
    count: usize,
) -> Result<Vec<ColumnSpec>> {
    let mut all: Vec<Option<ColumnSpec>> = vec![None; count];
    let stmts: Vec<&Statement> = match st {
        Statement::Batch {
            statements, using, ..
        } => {
            if let Some(Term::Bind(m)) = &using.timestamp
                && let Some(slot) = all.get_mut(m.index)
            {
                *slot = Some(ColumnSpec {
                    keyspace: ks.unwrap_or_default().to_owned().into(),
                    table: Text::default(),
                    name: "[timestamp]".into(),
                    typ: ColumnType::BigInt,
                });
            }
            statements.iter().collect()
        }
        other => vec![other],
    };
    for s in stmts {
        let Some(t) = statement_table(cat, s, ks)? else {
            continue;
        };
        let mut c = SpecCollector {
            table: t,
            out: Vec::new(),
        };
        c.statement(s)?;
        for (i, sp) in c.out.into_iter().enumerate() {
            if let (Some(sp), Some(slot)) = (sp, all.get_mut(i)) {
                *slot = Some(sp);
            }
        }
    }
    Ok(all
        .into_iter()
        .map(|s| {
            s.unwrap_or(ColumnSpec {
                keyspace: ks.unwrap_or_default().to_owned().into(),
                table: Text::default(),
                name: "?".into(),
                typ: ColumnType::Blob,
            })
        })
        .collect())
}

/// The metadata PREPARE returns.
pub(super) fn prepared_info(
    cat: &Catalog,
    stmt: &CachedStatement,
    ks: Option<&str>,
) -> Result<PreparedInfo> {
    let st = &stmt.parsed.statement;
    let bind = bind_specs(cat, st, ks, stmt.parsed.bind_count)?;
    let mut pk_indexes = Vec::new();
    let mut result_specs = Vec::new();
    let mut is_lwt = false;
    if let Some(t) = statement_table(cat, st, ks)? {
        let marker_for = |col: &str| -> Option<u16> {
            let rels: &[Relation] = match st {
                Statement::Update { where_clause, .. } | Statement::Delete { where_clause, .. } => {
                    where_clause
                }
                Statement::Select(s) => &s.where_clause,
                Statement::Insert {
                    values: InsertValues::Values { columns, values },
                    ..
                } => {
                    return columns.iter().position(|c| c == col).and_then(|i| {
                        match values.get(i) {
                            Some(Term::Bind(m)) => u16::try_from(m.index).ok(),
                            _ => None,
                        }
                    });
                }
                _ => return None,
            };
            rels.iter().find_map(|r| match (&r.lhs, r.op, &r.rhs) {
                (RelationLhs::Column(c), Operator::Eq, RelationRhs::Term(Term::Bind(m)))
                    if c == col =>
                {
                    u16::try_from(m.index).ok()
                }
                _ => None,
            })
        };
        let idx: Vec<Option<u16>> = t
            .partition_key()
            .iter()
            .map(|c| marker_for(&c.name))
            .collect();
        if idx.iter().all(Option::is_some) {
            pk_indexes = idx.into_iter().flatten().collect();
        }
        is_lwt = match st {
            Statement::Insert { if_not_exists, .. } => *if_not_exists,
            Statement::Update { conditions, .. } | Statement::Delete { conditions, .. } => {
                *conditions != Conditions::None
            }
            _ => false,
        };
        if let Statement::Select(s) = st {
            result_specs = super::read::result_columns(cat, t, s)?;
        }
    }
    Ok(PreparedInfo {
        id: stmt.id,
        bind_specs: bind,
        pk_indexes,
        result_specs,
        is_lwt,
    })
}
