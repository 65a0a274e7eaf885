//! Prepared statements a schema change makes invalid.
//!
//! As Scylla and Cassandra do, altering or dropping a table (or dropping its keyspace) drops
//! every prepared statement that reads or writes it, so the next EXECUTE gets UNPREPARED and
//! the client prepares it again against the new schema. A changed user type invalidates the
//! statements of the tables whose columns use it; a replaced or dropped function or aggregate,
//! the SELECTs that call it.

use proto::ColumnType;

use super::{CachedStatement, Engine};
use crate::cql::ast::{QualifiedName, Selection, Selector, Statement};
use crate::schema::{SchemaChangeInfo, SchemaChangeTarget, SchemaChangeType};

impl Engine {
    /// Drops the prepared statements `change` makes invalid; returns their ids (for the
    /// per-node caches).
    pub(crate) fn invalidate_prepared(&mut self, change: &SchemaChangeInfo) -> Vec<[u8; 16]> {
        let tables: Vec<String> = match (change.target, change.change_type) {
            // A new overload can change which one a call resolves to: with more than one,
            // Cassandra drops the statements calling the name.
            (
                SchemaChangeTarget::Function | SchemaChangeTarget::Aggregate,
                SchemaChangeType::Created,
            ) => {
                let fns = self.catalog.functions();
                let overloads = fns
                    .function_overloads(&change.keyspace, &change.name)
                    .count()
                    + fns
                        .aggregate_overloads(&change.keyspace, &change.name)
                        .count();
                if overloads < 2 {
                    return Vec::new();
                }
                return self.drop_calling(&change.keyspace, &change.name);
            }
            (_, SchemaChangeType::Created) => return Vec::new(),
            (SchemaChangeTarget::Keyspace, SchemaChangeType::Dropped) => {
                return self.drop_prepared(|ks, _| ks == change.keyspace);
            }
            (SchemaChangeTarget::Keyspace, SchemaChangeType::Updated) => return Vec::new(),
            (SchemaChangeTarget::Table, _) => vec![change.name.clone()],
            // As Cassandra does, replacing or dropping a function or aggregate drops every
            // statement calling any overload of it, so the next EXECUTE re-resolves it.
            (SchemaChangeTarget::Function | SchemaChangeTarget::Aggregate, _) => {
                return self.drop_calling(&change.keyspace, &change.name);
            }
            (SchemaChangeTarget::Type, _) => self
                .catalog
                .keyspaces()
                .get(&change.keyspace)
                .map(|ks| {
                    ks.tables
                        .values()
                        .filter(|t| {
                            t.columns
                                .iter()
                                .any(|c| uses_type(&c.typ, &change.keyspace, &change.name))
                        })
                        .map(|t| t.name.clone())
                        .collect()
                })
                .unwrap_or_default(),
        };
        if tables.is_empty() {
            return Vec::new();
        }
        self.drop_prepared(|ks, table| ks == change.keyspace && tables.iter().any(|t| t == table))
    }

    /// Drops the prepared SELECTs whose selection calls function `keyspace.name`.
    fn drop_calling(&mut self, keyspace: &str, name: &str) -> Vec<[u8; 16]> {
        let ids: Vec<[u8; 16]> = self
            .prepared
            .iter()
            .filter(|(_, s)| {
                let Statement::Select(sel) = &s.parsed.statement else {
                    return false;
                };
                let Selection::List(items) = &sel.selection else {
                    return false;
                };
                // Unqualified names resolve in the table's keyspace.
                let table_ks = sel.table.keyspace.as_deref().or(s.keyspace.as_deref());
                items
                    .iter()
                    .any(|(item, _)| calls(item, table_ks, keyspace, name))
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            self.prepared.remove(id);
        }
        ids
    }

    /// Drops the prepared statements touching a table `hit(keyspace, table)` selects.
    fn drop_prepared(&mut self, hit: impl Fn(&str, &str) -> bool) -> Vec<[u8; 16]> {
        let ids: Vec<[u8; 16]> = self
            .prepared
            .iter()
            .filter(|(_, s)| touches(s, &s.parsed.statement, &hit))
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            self.prepared.remove(id);
        }
        ids
    }
}

/// Whether `st` (part of the prepared statement `s`) reads or writes a table `hit` selects.
fn touches(s: &CachedStatement, st: &Statement, hit: &impl Fn(&str, &str) -> bool) -> bool {
    let name: &QualifiedName = match st {
        Statement::Insert { table, .. }
        | Statement::Update { table, .. }
        | Statement::Delete { table, .. } => table,
        Statement::Select(sel) => &sel.table,
        Statement::Truncate(table) => table,
        Statement::Batch { statements, .. } => {
            return statements.iter().any(|b| touches(s, b, hit));
        }
        _ => return false,
    };
    // A table without a keyspace binds in the keyspace the statement was prepared in.
    let Some(ks) = name.keyspace.as_deref().or(s.keyspace.as_deref()) else {
        return false;
    };
    hit(ks, &name.name)
}

/// Whether selector `sel` calls function `keyspace.name`.
fn calls(sel: &Selector, table_ks: Option<&str>, keyspace: &str, name: &str) -> bool {
    match sel {
        Selector::Function { name: f, args } => {
            let hit = match f.split_once('.') {
                Some((k, n)) => k == keyspace && n == name,
                None => f == name && table_ks == Some(keyspace),
            };
            hit || args.iter().any(|a| calls(a, table_ks, keyspace, name))
        }
        Selector::Cast(arg, _) => calls(arg, table_ks, keyspace, name),
        _ => false,
    }
}

/// Whether `typ` is, or contains, the user type `keyspace.name`.
fn uses_type(typ: &ColumnType, keyspace: &str, name: &str) -> bool {
    match typ {
        ColumnType::Udt {
            keyspace: k,
            name: n,
            fields,
        } => {
            (k == keyspace && n == name) || fields.iter().any(|(_, f)| uses_type(f, keyspace, name))
        }
        ColumnType::List(e) | ColumnType::Set(e) | ColumnType::Vector(e, _) => {
            uses_type(e, keyspace, name)
        }
        ColumnType::Map(k, v) => uses_type(k, keyspace, name) || uses_type(v, keyspace, name),
        ColumnType::Tuple(ts) => ts.iter().any(|t| uses_type(t, keyspace, name)),
        _ => false,
    }
}
