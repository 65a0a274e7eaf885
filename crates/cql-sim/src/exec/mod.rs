//! The executor: runs parsed statements against the [`Catalog`] and the data of a cluster
//! reached through [`Replicas`].
//!
//! Routing (for the cluster layer): the coordinator implements [`Replicas`]. Writes call
//! `Replicas::write` once per affected partition token, which must apply the mutation to every
//! live replica store of that token; reads by key call `Replicas::read` for one live replica;
//! range scans merge the stores from `Replicas::scan`. LWT conditions are read from one replica
//! and the resulting mutation is applied to all.

mod auth;
mod ddl;
mod functions;
mod invalidation;
mod json;
mod prepare;
mod read;
mod term_env;
pub(crate) mod value;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use md5::{Digest, Md5};

use crate::cql::ast::{BatchKind, Statement};
use crate::cql::{Parsed, parse_statement};
use crate::error::{CqlError, Result};
use crate::schema::{Catalog, SchemaChangeInfo};
use crate::storage::Replicas;

/// A bound value of an EXECUTE / QUERY request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoundValue {
    /// A value's serialized bytes.
    Value(Bytes),
    /// Null (`-1`): writes a tombstone in INSERT/UPDATE.
    Null,
    /// Unset (`-2`): leaves the column untouched.
    Unset,
}

/// The per-request inputs of an execution.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions<'a> {
    /// The connection's current keyspace (USE) or the request's keyspace (v5).
    pub keyspace: Option<&'a str>,
    /// Bound values by marker position.
    pub values: Vec<BoundValue>,
    /// Names of the bound values, when sent by name.
    pub names: Option<Vec<String>>,
    /// The current time in microseconds since the epoch (the engine reads no clock).
    pub now_micros: i64,
    /// The request's default timestamp (microseconds).
    pub timestamp: Option<i64>,
    /// Page size (rows); `None` or non-positive means no paging.
    pub page_size: Option<i32>,
    /// A paging state returned by a previous page of the same query.
    pub paging_state: Option<Bytes>,
    /// The logged-in role whose permissions are checked; `None` for an anonymous client
    /// (authentication off) or an internal query, which run unchecked.
    pub role: Option<&'a str>,
}

/// A column of a result or a bind variable: keyspace, table, name and type.
pub use proto::response::ColumnSpec;

/// Rows returned by a SELECT (or an LWT).
#[derive(Debug, Clone, PartialEq)]
pub struct RowsResult {
    /// The result columns.
    pub columns: Vec<ColumnSpec>,
    /// Rows of serialized cells (`None` = null), one cell per column.
    pub rows: Vec<Vec<Option<Bytes>>>,
    /// The state to fetch the next page with, when there are more rows.
    pub paging_state: Option<Bytes>,
}

impl RowsResult {
    /// Whether more pages follow.
    pub fn has_more(&self) -> bool {
        self.paging_state.is_some()
    }
}

/// The outcome of a statement: the RESULT kinds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// `Void`.
    Void,
    /// `Rows`.
    Rows(RowsResult),
    /// `Set_keyspace`: the new keyspace of the connection.
    SetKeyspace(String),
    /// `Schema_change`.
    SchemaChange(SchemaChangeInfo),
}

/// A parsed statement with its text and prepared id, shared through the statement caches.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedStatement {
    /// The query text.
    pub text: String,
    /// The keyspace it was prepared in (qualifies the id).
    pub keyspace: Option<String>,
    /// The parse.
    pub parsed: Parsed,
    /// MD5 of the keyspace and the query text.
    pub id: [u8; 16],
}

/// What PREPARE returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedInfo {
    /// The statement id.
    pub id: [u8; 16],
    /// One spec per bind marker.
    pub bind_specs: Vec<ColumnSpec>,
    /// For each partition key column, the marker that binds it (empty if not all are bound).
    pub pk_indexes: Vec<u16>,
    /// The result columns (empty for non-SELECT statements).
    pub result_specs: Vec<ColumnSpec>,
    /// Whether the statement is a lightweight transaction.
    pub is_lwt: bool,
}

/// The engine: the catalog plus parsed-statement caches. A clone is an independent engine
/// with the same schema and caches (a template for tests and fuzzing: cheaper than installing
/// the system keyspaces again).
#[derive(Debug, Clone)]
pub struct Engine {
    /// The schema.
    pub catalog: Catalog,
    parsed: HashMap<String, Arc<CachedStatement>>,
    prepared: HashMap<[u8; 16], Arc<CachedStatement>>,
}

const CACHE_LIMIT: usize = 10_000;

impl Default for Engine {
    fn default() -> Self {
        Self {
            catalog: ddl::system_catalog(),
            parsed: HashMap::new(),
            prepared: HashMap::new(),
        }
    }
}

impl Engine {
    /// An engine holding only the system keyspaces.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a query, using the cache keyed by its text.
    pub fn parse(&mut self, text: &str) -> Result<Arc<CachedStatement>> {
        if let Some(s) = self.parsed.get(text) {
            return Ok(Arc::clone(s));
        }
        let parsed = parse_statement(text)?;
        let s = Arc::new(CachedStatement {
            text: text.to_owned(),
            keyspace: None,
            parsed,
            id: statement_id(text, None),
        });
        if self.parsed.len() >= CACHE_LIMIT {
            self.parsed.clear();
        }
        self.parsed.insert(text.to_owned(), Arc::clone(&s));
        Ok(s)
    }

    /// Prepares a statement: parses it, checks it against the schema and returns its metadata.
    pub fn prepare(&mut self, text: &str, keyspace: Option<&str>) -> Result<PreparedInfo> {
        let id = statement_id(text, keyspace);
        let stmt = match self.prepared.get(&id) {
            Some(s) => Arc::clone(s),
            None => {
                let parsed = parse_statement(text)?;
                let s = Arc::new(CachedStatement {
                    text: text.to_owned(),
                    keyspace: keyspace.map(str::to_owned),
                    parsed,
                    id,
                });
                self.prepared.insert(id, Arc::clone(&s));
                s
            }
        };
        let info = prepare::prepared_info(&self.catalog, &stmt, keyspace)?;
        Ok(info)
    }

    /// A prepared statement by id, or the Unprepared error.
    pub fn prepared(&self, id: &[u8]) -> Result<Arc<CachedStatement>> {
        <[u8; 16]>::try_from(id)
            .ok()
            .and_then(|k| self.prepared.get(&k))
            .cloned()
            .ok_or_else(|| CqlError::Unprepared { id: id.to_vec() })
    }

    /// Forgets a prepared statement (to simulate eviction).
    pub fn evict_prepared(&mut self, id: &[u8]) -> bool {
        <[u8; 16]>::try_from(id)
            .ok()
            .is_some_and(|k| self.prepared.remove(&k).is_some())
    }

    /// Parses (cached) and executes a query.
    pub fn query(
        &mut self,
        data: &mut dyn Replicas,
        text: &str,
        opts: &QueryOptions<'_>,
    ) -> Result<Outcome> {
        let s = self.parse(text)?;
        self.execute(data, &s, opts)
    }

    /// Executes a parsed statement.
    pub fn execute(
        &mut self,
        data: &mut dyn Replicas,
        stmt: &CachedStatement,
        opts: &QueryOptions<'_>,
    ) -> Result<Outcome> {
        // A prepared statement binds its tables in the keyspace it was prepared in.
        let keyspace = stmt.keyspace.as_deref().or(opts.keyspace);
        let values = self.bind(stmt, opts, keyspace)?;
        let fingerprint = u64::from_be_bytes([
            stmt.id[0], stmt.id[1], stmt.id[2], stmt.id[3], stmt.id[4], stmt.id[5], stmt.id[6],
            stmt.id[7],
        ]);
        let mut ctx = ExecContext {
            keyspace,
            values: &values,
            now_micros: opts.now_micros,
            timestamp: opts.timestamp.unwrap_or(opts.now_micros),
            page_size: opts.page_size.filter(|p| *p > 0),
            paging_state: opts.paging_state.as_ref(),
            fingerprint,
            role: opts.role,
        };
        if let Some(role) = opts.role {
            auth::authorize::statement(&self.catalog, role, &stmt.parsed.statement, keyspace)?;
        }
        let outcome = self.run(data, &stmt.parsed.statement, &mut ctx)?;
        auth::after_schema_change(
            &mut self.catalog,
            &stmt.parsed.statement,
            &outcome,
            opts.role,
        );
        Ok(outcome)
    }

    /// Executes a BATCH request: statements with their own values, applied atomically.
    pub fn batch(
        &mut self,
        data: &mut dyn Replicas,
        kind: BatchKind,
        statements: &[(Arc<CachedStatement>, Vec<BoundValue>)],
        opts: &QueryOptions<'_>,
    ) -> Result<Outcome> {
        let keyspace = opts.keyspace;
        let mut items = Vec::new();
        for (s, v) in statements {
            match &s.parsed.statement {
                Statement::Insert { .. } | Statement::Update { .. } | Statement::Delete { .. } => {}
                _ => {
                    return Err(CqlError::invalid(
                        "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.",
                    ));
                }
            }
            if v.len() != s.parsed.bind_count {
                return Err(CqlError::invalid(format!(
                    "There were {} markers(?) in CQL but {} bound variables",
                    s.parsed.bind_count,
                    v.len()
                )));
            }
            if let Some(role) = opts.role {
                let ks = s.keyspace.as_deref().or(keyspace);
                auth::authorize::statement(&self.catalog, role, &s.parsed.statement, ks)?;
            }
            items.push((
                &s.parsed.statement,
                v.as_slice(),
                s.keyspace.as_deref().or(keyspace),
            ));
        }
        check_batch_kind(&self.catalog, kind, &items)?;
        write::batch(
            &mut self.catalog,
            data,
            &items,
            opts.now_micros,
            opts.timestamp.unwrap_or(opts.now_micros),
            true,
        )
    }

    /// The tokens of the partitions a statement touches, when its partition key is fully given
    /// by `=`/`IN` (or by INSERT's columns); empty otherwise (range scans, DDL, batches).
    ///
    /// The cluster layer uses this to pick the coordinator-side replicas or to check that a
    /// driver routed a request to a node or shard owning the data.
    pub fn partition_tokens(
        &self,
        stmt: &CachedStatement,
        opts: &QueryOptions<'_>,
    ) -> Result<Vec<i64>> {
        use crate::cql::ast::{InsertValues, Operator, RelationLhs};
        let keyspace = stmt.keyspace.as_deref().or(opts.keyspace);
        let values = self.bind(stmt, opts, keyspace)?;
        let st = &stmt.parsed.statement;
        let (name, rels) = match st {
            Statement::Select(s) => (&s.table, s.where_clause.as_slice()),
            Statement::Update {
                table,
                where_clause,
                ..
            }
            | Statement::Delete {
                table,
                where_clause,
                ..
            } => (table, where_clause.as_slice()),
            Statement::Insert { table, .. } => (table, &[][..]),
            _ => return Ok(Vec::new()),
        };
        let t = self.catalog.table_or_err(name, keyspace)?;
        let mut env = value::TermEnv {
            values: &values,
            now_micros: opts.now_micros,
            unique: 0,
        };
        let mut lists: Vec<Vec<Bytes>> = Vec::new();
        for c in t.partition_key() {
            let vals = if let Statement::Insert {
                values:
                    InsertValues::Values {
                        columns,
                        values: terms,
                    },
                ..
            } = st
            {
                match columns
                    .iter()
                    .position(|n| *n == c.name)
                    .and_then(|i| terms.get(i))
                    .map(|term| env.bytes(term, &c.typ, &c.name))
                {
                    Some(Ok(BoundValue::Value(b))) => vec![b],
                    _ => return Ok(Vec::new()),
                }
            } else {
                let rel = rels.iter().find(|r| {
                    matches!(&r.lhs, RelationLhs::Column(n) if *n == c.name)
                        && matches!(r.op, Operator::Eq | Operator::In)
                });
                match rel {
                    Some(r) => write::eq_values(&mut env, r, c)?,
                    None => return Ok(Vec::new()),
                }
            };
            lists.push(vals);
        }
        let mut tokens = write::cartesian(&lists)
            .iter()
            .map(|kv| write::partition_key(kv).map(|k| k.token))
            .collect::<Result<Vec<_>>>()?;
        tokens.sort_unstable();
        tokens.dedup();
        Ok(tokens)
    }

    fn bind(
        &self,
        stmt: &CachedStatement,
        opts: &QueryOptions<'_>,
        keyspace: Option<&str>,
    ) -> Result<Vec<BoundValue>> {
        let Some(names) = &opts.names else {
            if opts.values.len() != stmt.parsed.bind_count {
                return Err(CqlError::invalid(format!(
                    "There were {} markers(?) in CQL but {} bound variables",
                    stmt.parsed.bind_count,
                    opts.values.len()
                )));
            }
            return Ok(opts.values.clone());
        };
        let specs = prepare::bind_specs(
            &self.catalog,
            &stmt.parsed.statement,
            keyspace,
            stmt.parsed.bind_count,
        )?;
        let mut out = vec![BoundValue::Unset; specs.len()];
        for (i, spec) in specs.iter().enumerate() {
            let pos = names.iter().position(|n| n == &spec.name).ok_or_else(|| {
                CqlError::invalid(format!("Missing value for bind variable {}", spec.name))
            })?;
            out[i] = opts.values.get(pos).cloned().unwrap_or(BoundValue::Unset);
        }
        Ok(out)
    }

    fn run(
        &mut self,
        data: &mut dyn Replicas,
        st: &Statement,
        ctx: &mut ExecContext<'_>,
    ) -> Result<Outcome> {
        match st {
            Statement::Select(s) => read::select(&self.catalog, data, s, ctx).map(Outcome::Rows),
            Statement::Insert { .. } | Statement::Update { .. } | Statement::Delete { .. } => {
                write::batch(
                    &mut self.catalog,
                    data,
                    &[(st, ctx.values, ctx.keyspace)],
                    ctx.now_micros,
                    ctx.timestamp,
                    false,
                )
            }
            Statement::Batch {
                statements,
                using,
                kind,
            } => {
                let items: Vec<_> = statements
                    .iter()
                    .map(|s| (s, ctx.values, ctx.keyspace))
                    .collect();
                check_batch_kind(&self.catalog, *kind, &items)?;
                let mut ts = ctx.timestamp;
                if let Some(t) = &using.timestamp {
                    ts = write::int_term(t, ctx.values, ctx.now_micros, "[timestamp]")?
                        .unwrap_or(ts);
                }
                write::batch(&mut self.catalog, data, &items, ctx.now_micros, ts, true)
            }
            Statement::Use(ks) => {
                if self.catalog.keyspace(ks).is_none() {
                    return Err(CqlError::invalid(format!("Keyspace '{ks}' does not exist")));
                }
                Ok(Outcome::SetKeyspace(ks.clone()))
            }
            Statement::Truncate(name) => {
                let t = Arc::clone(self.catalog.table_or_err(name, ctx.keyspace)?);
                if crate::schema::SYSTEM_KEYSPACES.contains(&t.keyspace.as_str()) {
                    return Err(CqlError::Unauthorized(format!(
                        "Cannot TRUNCATE system keyspace {}",
                        t.keyspace
                    )));
                }
                data.for_each_store(&mut |s| s.drop_table(t.id));
                Ok(Outcome::Void)
            }
            Statement::Auth(a) => auth::execute(&mut self.catalog, a, ctx),
            _ => ddl::execute(&mut self.catalog, data, st, ctx.keyspace),
        }
    }
}

pub(crate) use write::partition_key as write_partition_key;

/// Counter updates only in COUNTER batches, and only counter updates there.
fn check_batch_kind(cat: &Catalog, kind: BatchKind, items: &[write::BatchItem<'_>]) -> Result<()> {
    for (st, _, ks) in items {
        let (Statement::Insert { table, .. }
        | Statement::Update { table, .. }
        | Statement::Delete { table, .. }) = st
        else {
            continue;
        };
        let counter = cat.table_or_err(table, *ks)?.is_counter();
        if counter && kind != BatchKind::Counter {
            return Err(CqlError::invalid(
                "Cannot include a counter statement in a logged batch",
            ));
        }
        if !counter && kind == BatchKind::Counter {
            return Err(CqlError::invalid(
                "Cannot include non-counter statement in a counter batch",
            ));
        }
    }
    Ok(())
}

/// Per-execution state.
pub(crate) struct ExecContext<'a> {
    pub(crate) keyspace: Option<&'a str>,
    pub(crate) values: &'a [BoundValue],
    pub(crate) now_micros: i64,
    pub(crate) timestamp: i64,
    pub(crate) page_size: Option<i32>,
    pub(crate) paging_state: Option<&'a Bytes>,
    pub(crate) fingerprint: u64,
    /// The logged-in role (see [`QueryOptions::role`]).
    pub(crate) role: Option<&'a str>,
}

/// The prepared id: MD5 of the keyspace (when given) followed by the query text.
pub fn statement_id(text: &str, keyspace: Option<&str>) -> [u8; 16] {
    let mut h = Md5::new();
    if let Some(ks) = keyspace {
        h.update(ks.as_bytes());
    }
    h.update(text.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests;
