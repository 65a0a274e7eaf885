//! The metadata of prepared statements: the spec of every bind marker (by the column or the
//! function argument it binds), the partition key markers, and the result columns.

use std::sync::Arc;

use proto::{ColumnType, Text};

use crate::cql::ast::*;
use crate::error::{CqlError, Result};
use crate::exec::functions::native::{Native, display_name as native_name};
use crate::exec::{CachedStatement, ColumnSpec, PreparedInfo};
use crate::schema::*;

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
            Term::Function { name: f, args } => {
                // Cassandra names a function's markers `arg<i>(<function>)`, typed by the
                // (first matching) signature.
                let fname = f.strip_prefix("system.").unwrap_or(f);
                let params = Native::lookup(fname)
                    .and_then(|(_, sigs)| sigs.into_iter().find(|(p, _)| p.len() == args.len()))
                    .map(|(p, _)| p)
                    .unwrap_or_default();
                for (i, a) in args.iter().enumerate() {
                    let typ = match params.get(i) {
                        Some(p) => p.clone(),
                        None if fname == "fromjson" => ColumnType::Text,
                        None => ColumnType::Blob,
                    };
                    self.term(a, &format!("arg{i}({})", native_name(fname)), &typ);
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
                RelationLhs::Element(c, key) => {
                    let (_, cd) = self.table.column_or_err(c)?;
                    if let ColumnType::Map(k, v) = &cd.typ {
                        let (k, v) = ((**k).clone(), (**v).clone());
                        self.term(key, &format!("key({c})"), &k);
                        if let RelationRhs::Term(t) = &r.rhs {
                            self.term(t, &format!("value({c})"), &v);
                        }
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
                            // A counter delta's marker is typed `counter`, as servers
                            // report it (its value is a bigint on the wire).
                            let (_, c) = self.table.column_or_err(column)?;
                            let typ = c.typ.clone();
                            self.term(value, column, &typ);
                        }
                        Assignment::Sub { column, value } => {
                            let (_, c) = self.table.column_or_err(column)?;
                            let typ = match &c.typ {
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
        if let Statement::Select(sel) = s
            && let Selection::List(items) = &sel.selection
        {
            for (i, name, typ) in crate::exec::functions::selection_markers(cat, t, items) {
                if i >= c.out.len() {
                    c.out.resize(i + 1, None);
                }
                c.out[i] = Some(spec(t, &name, typ));
            }
        }
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
