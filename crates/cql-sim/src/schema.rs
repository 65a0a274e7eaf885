//! The schema catalog shared by every node: keyspaces, tables, columns, user types, indexes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use md5::{Digest, Md5};
use proto::ColumnType;
use uuid::Uuid;

use crate::cql::ast::{QualifiedName, TypeExpr};
use crate::error::{CqlError, Result};

mod function;
mod index;
mod rate_limit;
mod replication;
mod table_params;
mod tablets;

pub use function::{AggregateDef, FunctionDef, FunctionKey, Functions};
pub use index::{IndexDef, IndexTarget, IndexTargetKind};
pub use rate_limit::{RATE_LIMIT_OPTION, RateLimit};
pub use replication::{Replication, ReplicationStrategy};
pub use table_params::{MAX_TTL, TableParams};
pub use tablets::{TabletsOptions, TabletsPolicy};
pub(crate) use tablets::{
    check_create_table, for_altered_keyspace, for_new_keyspace, lwt_unsupported,
};

/// The role of a column in its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// Part of the partition key.
    PartitionKey,
    /// A clustering column.
    Clustering,
    /// A regular column.
    Regular,
    /// A static column.
    Static,
}

impl ColumnKind {
    /// The name `system_schema.columns.kind` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PartitionKey => "partition_key",
            Self::Clustering => "clustering",
            Self::Regular => "regular",
            Self::Static => "static",
        }
    }
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// The name.
    pub name: String,
    /// The resolved type.
    pub typ: ColumnType,
    /// The role.
    pub kind: ColumnKind,
    /// Position within the partition key or clustering columns, else -1.
    pub position: i32,
    /// Clustering order is descending.
    pub desc: bool,
    /// A non-frozen collection or UDT (elements are cells of their own).
    pub multi_cell: bool,
    /// The type in CQL syntax as `system_schema.columns.type` shows it.
    pub type_text: String,
}

/// What makes a table a materialized view: `system_schema.views`' own columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewInfo {
    /// The base table's name (same keyspace).
    pub base_table_name: String,
    /// The base table's id.
    pub base_table_id: Uuid,
    /// `SELECT *`: the view follows columns added to the base.
    pub include_all_columns: bool,
    /// The WHERE clause as `system_schema.views.where_clause` shows it.
    pub where_clause: String,
}

/// A table definition.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    /// The keyspace.
    pub keyspace: String,
    /// The table name.
    pub name: String,
    /// The table id (changes when the table is recreated).
    pub id: Uuid,
    /// Columns: partition key, clustering, static (by name), regular (by name).
    pub columns: Vec<ColumnDef>,
    /// Number of partition key columns (the first columns).
    pub pk_len: usize,
    /// Number of clustering columns (following the partition key).
    pub ck_len: usize,
    /// Table options (`WITH comment = ...`) as `system_schema.tables` shows them.
    pub params: TableParams,
    /// Secondary indexes.
    pub indexes: Vec<IndexDef>,
    /// For a materialized view: its base table and definition.
    pub view: Option<ViewInfo>,
    by_name: HashMap<String, usize>,
}

impl TableDef {
    /// A table from its parts; columns are reordered into the canonical order.
    pub fn new(
        keyspace: &str,
        name: &str,
        id: Uuid,
        mut columns: Vec<ColumnDef>,
        params: TableParams,
    ) -> Self {
        columns.sort_by(|a, b| {
            let rank = |c: &ColumnDef| match c.kind {
                ColumnKind::PartitionKey => 0,
                ColumnKind::Clustering => 1,
                ColumnKind::Static => 2,
                ColumnKind::Regular => 3,
            };
            rank(a).cmp(&rank(b)).then_with(|| match a.kind {
                ColumnKind::PartitionKey | ColumnKind::Clustering => a.position.cmp(&b.position),
                _ => a.name.cmp(&b.name),
            })
        });
        let pk_len = columns
            .iter()
            .filter(|c| c.kind == ColumnKind::PartitionKey)
            .count();
        let ck_len = columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Clustering)
            .count();
        let by_name = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        Self {
            keyspace: keyspace.to_owned(),
            name: name.to_owned(),
            id,
            columns,
            pk_len,
            ck_len,
            params,
            indexes: Vec::new(),
            view: None,
            by_name,
        }
    }

    /// The index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.column_index(name).map(|i| &self.columns[i])
    }

    /// A column by name, or the server's "Undefined column name" error.
    pub fn column_or_err(&self, name: &str) -> Result<(usize, &ColumnDef)> {
        self.column_index(name)
            .map(|i| (i, &self.columns[i]))
            .ok_or_else(|| CqlError::invalid(format!("Undefined column name {name}")))
    }

    /// The partition key columns.
    pub fn partition_key(&self) -> &[ColumnDef] {
        &self.columns[..self.pk_len]
    }

    /// The clustering columns.
    pub fn clustering(&self) -> &[ColumnDef] {
        &self.columns[self.pk_len..self.pk_len + self.ck_len]
    }

    /// Whether this is a counter table.
    pub fn is_counter(&self) -> bool {
        self.columns.iter().any(|c| c.typ == ColumnType::Counter)
    }

    /// The `system_schema.tables.flags` of a CQL table: always `compound`, plus `counter`
    /// for a counter table (a set without `compound` reads as COMPACT STORAGE to drivers).
    pub fn flags(&self) -> Vec<&'static str> {
        if self.is_counter() {
            vec!["compound", "counter"]
        } else {
            vec!["compound"]
        }
    }

    /// Whether the table has static columns.
    pub fn has_statics(&self) -> bool {
        self.columns.iter().any(|c| c.kind == ColumnKind::Static)
    }
}

/// A user-defined type.
#[derive(Debug, Clone, PartialEq)]
pub struct UdtDef {
    /// The keyspace.
    pub keyspace: String,
    /// The name.
    pub name: String,
    /// Field names, types and type texts.
    pub fields: Vec<(String, ColumnType, String)>,
}

impl UdtDef {
    /// The type of a value of this UDT.
    pub fn column_type(&self) -> ColumnType {
        ColumnType::Udt {
            keyspace: self.keyspace.clone(),
            name: self.name.clone(),
            fields: self
                .fields
                .iter()
                .map(|(n, t, _)| (n.clone(), t.clone()))
                .collect(),
        }
    }
}

/// A keyspace.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyspaceDef {
    /// The name.
    pub name: String,
    /// `durable_writes`.
    pub durable_writes: bool,
    /// Replication settings.
    pub replication: Replication,
    /// Scylla's tablets (`None`: the keyspace is placed on the vnode ring).
    pub tablets: Option<TabletsOptions>,
    /// Tables by name.
    pub tables: BTreeMap<String, Arc<TableDef>>,
    /// User types by name.
    pub types: BTreeMap<String, UdtDef>,
}

/// The kind of a schema change, as SCHEMA_CHANGE events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaChangeType {
    /// `CREATED`.
    Created,
    /// `UPDATED`.
    Updated,
    /// `DROPPED`.
    Dropped,
}

/// The target of a schema change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaChangeTarget {
    /// `KEYSPACE`.
    Keyspace,
    /// `TABLE`.
    Table,
    /// `TYPE`.
    Type,
    /// `FUNCTION`.
    Function,
    /// `AGGREGATE`.
    Aggregate,
}

/// What a DDL statement changed: the body of RESULT SchemaChange and of the SCHEMA_CHANGE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaChangeInfo {
    /// CREATED / UPDATED / DROPPED.
    pub change_type: SchemaChangeType,
    /// KEYSPACE / TABLE / TYPE / FUNCTION / AGGREGATE.
    pub target: SchemaChangeTarget,
    /// The keyspace.
    pub keyspace: String,
    /// The table, type, function or aggregate name (empty for a keyspace change).
    pub name: String,
    /// A function's or aggregate's argument types as CQL text (empty for other targets).
    pub args: Vec<String>,
}

/// The schema of the whole cluster, with a version that changes on every DDL.
#[derive(Debug, Clone)]
pub struct Catalog {
    keyspaces: BTreeMap<String, KeyspaceDef>,
    functions: Functions,
    generation: u64,
    version: Uuid,
    unique: u64,
    /// Roles and permissions, read by the virtual `system_auth` tables (not schema: changing
    /// them leaves the schema version alone).
    pub(crate) auth: crate::auth::AuthState,
}

/// Keyspaces whose schema users cannot change.
pub const SYSTEM_KEYSPACES: [&str; 5] = [
    "system",
    "system_schema",
    "system_traces",
    "system_auth",
    "system_views",
];

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalog {
    /// An empty catalog at its first schema version. The engine's catalog also holds the
    /// system keyspaces: [`Engine::new`](crate::Engine::new) adds them.
    pub fn new() -> Self {
        let mut c = Self::empty();
        c.bump_version();
        c
    }

    /// A catalog with no keyspaces and no version yet (generation 0), to build the initial
    /// schema in before [`Catalog::restart_versions`].
    pub(crate) fn empty() -> Self {
        Self {
            keyspaces: BTreeMap::new(),
            functions: Functions::default(),
            generation: 0,
            version: Uuid::nil(),
            unique: 0,
            auth: crate::auth::AuthState::default(),
        }
    }

    /// Restarts the version history at the first version, so that the schema built so far
    /// (the system keyspaces) counts as the initial schema.
    pub(crate) fn restart_versions(&mut self) {
        self.generation = 0;
        self.bump_version();
    }

    /// The schema version: a UUID that changes on every schema change.
    pub fn version(&self) -> Uuid {
        self.version
    }

    /// A counter incremented on every schema change.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn bump_version(&mut self) {
        self.generation += 1;
        self.version = name_uuid(&format!("schema-version-{}", self.generation));
    }

    /// A number unique within this catalog, for generated ids (`now()`, `uuid()`).
    pub(crate) fn next_unique(&mut self) -> u64 {
        self.unique += 1;
        self.unique
    }

    /// Roles and permissions (`system_auth`).
    pub fn auth(&self) -> &crate::auth::AuthState {
        &self.auth
    }

    /// Roles and permissions, to change them.
    pub fn auth_mut(&mut self) -> &mut crate::auth::AuthState {
        &mut self.auth
    }

    /// The keyspaces by name.
    pub fn keyspaces(&self) -> &BTreeMap<String, KeyspaceDef> {
        &self.keyspaces
    }

    /// A keyspace.
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceDef> {
        self.keyspaces.get(name)
    }

    pub(crate) fn keyspace_mut(&mut self, name: &str) -> Result<&mut KeyspaceDef> {
        self.keyspaces
            .get_mut(name)
            .ok_or_else(|| CqlError::invalid(format!("Keyspace {name} does not exist")))
    }

    pub(crate) fn insert_keyspace(&mut self, ks: KeyspaceDef) {
        self.keyspaces.insert(ks.name.clone(), ks);
    }

    pub(crate) fn remove_keyspace(&mut self, name: &str) -> Option<KeyspaceDef> {
        self.functions.drop_keyspace(name);
        self.keyspaces.remove(name)
    }

    /// The user-defined functions and aggregates.
    pub fn functions(&self) -> &Functions {
        &self.functions
    }

    pub(crate) fn functions_mut(&mut self) -> &mut Functions {
        &mut self.functions
    }

    /// A table by keyspace and name.
    pub fn table(&self, keyspace: &str, name: &str) -> Option<&Arc<TableDef>> {
        self.keyspaces.get(keyspace)?.tables.get(name)
    }

    /// Resolves a possibly unqualified name against the current keyspace.
    pub fn resolve_keyspace<'a>(
        &self,
        name: &'a QualifiedName,
        current: Option<&'a str>,
    ) -> Result<&'a str> {
        name.keyspace.as_deref().or(current).ok_or_else(|| {
            CqlError::invalid("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")
        })
    }

    /// Finds a table, with the server's errors for a missing keyspace or table.
    pub fn table_or_err(
        &self,
        name: &QualifiedName,
        current: Option<&str>,
    ) -> Result<&Arc<TableDef>> {
        let ks = self.resolve_keyspace(name, current)?;
        let k = self
            .keyspaces
            .get(ks)
            .ok_or_else(|| CqlError::invalid(format!("Keyspace {ks} does not exist")))?;
        k.tables
            .get(&name.name)
            .ok_or_else(|| CqlError::invalid(format!("unconfigured table {}", name.name)))
    }

    /// Resolves a type expression: the column type, whether it is multi-cell, and its CQL text.
    pub fn resolve_type(&self, keyspace: &str, t: &TypeExpr) -> Result<(ColumnType, bool, String)> {
        let (ct, mut text) = self.resolve_inner(keyspace, t)?;
        // A top-level UDT not declared frozen shows as non-frozen (fields can be updated).
        if let TypeExpr::Udt(q) = t {
            text.clone_from(&q.name);
        }
        let multi = match t {
            TypeExpr::List(_) | TypeExpr::Set(_) | TypeExpr::Map(..) => true,
            TypeExpr::Udt(_) => false,
            _ => false,
        };
        Ok((ct, multi, text))
    }

    fn resolve_inner(&self, keyspace: &str, t: &TypeExpr) -> Result<(ColumnType, String)> {
        Ok(match t {
            TypeExpr::Native(c) => (c.clone(), c.to_string()),
            TypeExpr::List(e) => {
                let (c, s) = self.resolve_inner(keyspace, e)?;
                check_nested(e)?;
                (ColumnType::List(Box::new(c)), format!("list<{s}>"))
            }
            TypeExpr::Set(e) => {
                let (c, s) = self.resolve_inner(keyspace, e)?;
                check_nested(e)?;
                (ColumnType::Set(Box::new(c)), format!("set<{s}>"))
            }
            TypeExpr::Map(k, v) => {
                let (kc, ks) = self.resolve_inner(keyspace, k)?;
                let (vc, vs) = self.resolve_inner(keyspace, v)?;
                check_nested(k)?;
                check_nested(v)?;
                (
                    ColumnType::Map(Box::new(kc), Box::new(vc)),
                    format!("map<{ks}, {vs}>"),
                )
            }
            TypeExpr::Tuple(ts) => {
                let mut cs = Vec::new();
                let mut ss = Vec::new();
                for e in ts {
                    let (c, s) = self.resolve_inner(keyspace, e)?;
                    cs.push(c);
                    ss.push(s);
                }
                (
                    ColumnType::Tuple(cs),
                    format!("frozen<tuple<{}>>", ss.join(", ")),
                )
            }
            TypeExpr::Frozen(inner) => {
                let (c, s) = self.resolve_inner(keyspace, inner)?;
                if s.starts_with("frozen<") {
                    (c, s)
                } else {
                    (c, format!("frozen<{s}>"))
                }
            }
            TypeExpr::Vector(e, n) => {
                let (c, s) = self.resolve_inner(keyspace, e)?;
                (
                    ColumnType::Vector(Box::new(c), *n),
                    format!("vector<{s}, {n}>"),
                )
            }
            TypeExpr::Udt(q) => {
                let ks = q.keyspace.as_deref().unwrap_or(keyspace);
                let udt = self
                    .keyspaces
                    .get(ks)
                    .and_then(|k| k.types.get(&q.name))
                    .ok_or_else(|| CqlError::invalid(format!("Unknown type {ks}.{}", q.name)))?;
                (udt.column_type(), format!("frozen<{}>", q.name))
            }
            TypeExpr::Custom(c) => (ColumnType::Custom(c.clone()), format!("'{c}'")),
        })
    }
}

fn check_nested(t: &TypeExpr) -> Result<()> {
    if matches!(t, TypeExpr::List(_) | TypeExpr::Set(_) | TypeExpr::Map(..)) {
        return Err(CqlError::invalid(
            "Non-frozen collections are not allowed inside collections",
        ));
    }
    Ok(())
}

/// A name-based (MD5, version 3) UUID: stable ids without randomness.
pub(crate) fn name_uuid(name: &str) -> Uuid {
    let digest = Md5::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest);
    b[6] = (b[6] & 0x0f) | 0x30;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}
