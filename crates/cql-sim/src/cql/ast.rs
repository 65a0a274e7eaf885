//! The syntax tree of the CQL subset the engine understands.

use proto::value::CqlDuration;
use uuid::Uuid;

mod function;

pub use function::{CreateAggregate, CreateFunction, DropFunction};

/// A possibly keyspace-qualified name (`ks.tbl` or `tbl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    /// The keyspace, when given.
    pub keyspace: Option<String>,
    /// The table or type name.
    pub name: String,
}

/// A bind marker: `?` or `:name`, numbered in order of appearance from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMarker {
    /// The marker's position among the statement's markers.
    pub index: usize,
    /// The name of a `:name` marker.
    pub name: Option<String>,
}

/// A value expression: a literal, a bind marker or a function call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Term {
    /// `null`.
    Null,
    /// A string constant.
    Str(String),
    /// An integer constant, as written (with a leading `-` when negative).
    Int(String),
    /// A floating-point constant, as written.
    Float(String),
    /// `NaN`.
    NaN,
    /// `Infinity` or `-Infinity` (the flag is true when negative).
    Infinity(bool),
    /// `true` / `false`.
    Bool(bool),
    /// A UUID constant.
    Uuid(Uuid),
    /// A blob constant `0x...`.
    Blob(Vec<u8>),
    /// A duration constant (`1h30m`, `P1D`).
    Duration(CqlDuration),
    /// `[a, b]`.
    List(Vec<Self>),
    /// `{a, b}`.
    Set(Vec<Self>),
    /// `{k: v}`; `{}` parses as an empty map and fits sets too.
    Map(Vec<(Self, Self)>),
    /// `(a, b)`.
    Tuple(Vec<Self>),
    /// `{field: value}`.
    Udt(Vec<(String, Self)>),
    /// A bind marker.
    Bind(BindMarker),
    /// A function call such as `now()` or `toTimestamp(now())`.
    Function {
        /// The function name, lowercased.
        name: String,
        /// The arguments.
        args: Vec<Self>,
    },
}

/// A type as written in DDL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeExpr {
    /// A native type.
    Native(proto::ColumnType),
    /// `list<T>`.
    List(Box<Self>),
    /// `set<T>`.
    Set(Box<Self>),
    /// `map<K, V>`.
    Map(Box<Self>, Box<Self>),
    /// `tuple<...>`.
    Tuple(Vec<Self>),
    /// `frozen<T>`.
    Frozen(Box<Self>),
    /// `vector<T, n>`.
    Vector(Box<Self>, u32),
    /// A user-defined type.
    Udt(QualifiedName),
    /// A custom type `'class'`.
    Custom(String),
}

/// A comparison operator of a relation or condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operator {
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN`.
    In,
    /// `CONTAINS`.
    Contains,
    /// `CONTAINS KEY`.
    ContainsKey,
}

/// The left side of a WHERE relation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RelationLhs {
    /// A column.
    Column(String),
    /// `token(a, b)`.
    Token(Vec<String>),
    /// `m[key]`: one entry of a map.
    Element(String, Term),
}

/// The right side of a relation or condition.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RelationRhs {
    /// A single term.
    Term(Term),
    /// `IN (a, b)`.
    List(Vec<Term>),
    /// `IN ?`.
    Marker(BindMarker),
}

/// A WHERE relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    /// The left side.
    pub lhs: RelationLhs,
    /// The operator.
    pub op: Operator,
    /// The right side.
    pub rhs: RelationRhs,
}

/// An `IF` clause.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Conditions {
    /// No IF clause.
    #[default]
    None,
    /// `IF EXISTS`.
    IfExists,
    /// `IF NOT EXISTS`.
    IfNotExists,
    /// `IF a = 1 AND ...`.
    Columns(Vec<Condition>),
}

/// One column condition of an IF clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The column.
    pub column: String,
    /// The element (`m['k']`, `l[0]`), when given.
    pub element: Option<Term>,
    /// The operator.
    pub op: Operator,
    /// The right side.
    pub rhs: RelationRhs,
}

/// `USING TTL ... AND TIMESTAMP ...`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Using {
    /// `TTL x`.
    pub ttl: Option<Term>,
    /// `TIMESTAMP x`.
    pub timestamp: Option<Term>,
}

/// The value clause of an INSERT.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InsertValues {
    /// `(cols) VALUES (terms)`.
    Values {
        /// The columns.
        columns: Vec<String>,
        /// The values, one per column.
        values: Vec<Term>,
    },
    /// `JSON '...'`.
    Json {
        /// The JSON document.
        json: Term,
        /// `DEFAULT UNSET` (true) or `DEFAULT NULL`.
        default_unset: bool,
    },
}

/// An UPDATE assignment.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Assignment {
    /// `c = v`.
    Set {
        /// The column.
        column: String,
        /// The value.
        value: Term,
    },
    /// `c[k] = v`.
    SetElement {
        /// The column.
        column: String,
        /// The key or index.
        key: Term,
        /// The value.
        value: Term,
    },
    /// `c.field = v`.
    SetField {
        /// The column.
        column: String,
        /// The field.
        field: String,
        /// The value.
        value: Term,
    },
    /// `c = c + v` (counter increment, collection append/union).
    Add {
        /// The column.
        column: String,
        /// The value.
        value: Term,
    },
    /// `c = v + c` (list prepend).
    Prepend {
        /// The column.
        column: String,
        /// The value.
        value: Term,
    },
    /// `c = c - v` (counter decrement, collection removal).
    Sub {
        /// The column.
        column: String,
        /// The value.
        value: Term,
    },
}

/// A DELETE target: a column, or an element of a collection column.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteTarget {
    /// The column.
    pub column: String,
    /// The element key or index.
    pub element: Option<Term>,
}

/// A SELECT selector.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Selector {
    /// A column.
    Column(String),
    /// `count(*)` / `count(1)`.
    CountAll,
    /// `writetime(c)`.
    WriteTime(String),
    /// `ttl(c)`.
    Ttl(String),
    /// Another function call, e.g. `count(c)`, `max(c)`, `token(pk)`, `toJson(c)`.
    Function {
        /// The lowercased name.
        name: String,
        /// Arguments.
        args: Vec<Self>,
    },
    /// `CAST(selector AS type)`.
    Cast(Box<Self>, TypeExpr),
    /// A constant or bind marker term.
    Term(Term),
}

/// What a SELECT returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Selection {
    /// `*`.
    All,
    /// Selectors with optional aliases.
    List(Vec<(Selector, Option<String>)>),
}

/// A SELECT statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// The table.
    pub table: QualifiedName,
    /// `SELECT JSON`.
    pub json: bool,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// The selection.
    pub selection: Selection,
    /// WHERE relations.
    pub where_clause: Vec<Relation>,
    /// `GROUP BY` columns (accepted, only the partition key grouping is honoured).
    pub group_by: Vec<String>,
    /// ORDER BY (column, descending).
    pub order_by: Vec<(String, bool)>,
    /// PER PARTITION LIMIT.
    pub per_partition_limit: Option<Term>,
    /// LIMIT.
    pub limit: Option<Term>,
    /// ALLOW FILTERING.
    pub allow_filtering: bool,
    /// Scylla's `USING TIMEOUT <duration>` (accepted and ignored by a Scylla-like cluster,
    /// refused as a syntax error by a Cassandra-like one).
    pub using_timeout: bool,
}

/// A column definition of CREATE TABLE / ALTER TABLE ADD.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDefinition {
    /// The column name.
    pub name: String,
    /// The type.
    pub typ: TypeExpr,
    /// `STATIC`.
    pub is_static: bool,
}

/// A CREATE TABLE statement.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    /// The table.
    pub name: QualifiedName,
    /// IF NOT EXISTS.
    pub if_not_exists: bool,
    /// The columns in declaration order.
    pub columns: Vec<ColumnDefinition>,
    /// Partition key columns.
    pub partition_key: Vec<String>,
    /// Clustering columns.
    pub clustering: Vec<String>,
    /// `CLUSTERING ORDER BY` entries (column, descending).
    pub clustering_order: Vec<(String, bool)>,
    /// Other `WITH` options.
    pub options: Vec<(String, Term)>,
    /// `COMPACT STORAGE`.
    pub compact_storage: bool,
}

/// CREATE MATERIALIZED VIEW.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateView {
    /// The view.
    pub name: QualifiedName,
    /// IF NOT EXISTS.
    pub if_not_exists: bool,
    /// The base table.
    pub base: QualifiedName,
    /// The selected columns; `None` for `*`.
    pub columns: Option<Vec<String>>,
    /// The columns of the `WHERE c IS NOT NULL AND ...` clause.
    pub not_null: Vec<String>,
    /// Partition key columns of the view.
    pub partition_key: Vec<String>,
    /// Clustering columns of the view.
    pub clustering: Vec<String>,
    /// `CLUSTERING ORDER BY` entries (column, descending).
    pub clustering_order: Vec<(String, bool)>,
    /// Other `WITH` options.
    pub options: Vec<(String, Term)>,
}

/// An ALTER TABLE operation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AlterTableOp {
    /// ADD columns.
    Add(Vec<ColumnDefinition>),
    /// DROP columns.
    Drop(Vec<String>),
    /// RENAME a clustering/key column.
    Rename(Vec<(String, String)>),
    /// WITH options.
    With(Vec<(String, Term)>),
    /// ALTER column TYPE t.
    AlterType(String, TypeExpr),
}

/// The batch kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchKind {
    /// Logged.
    Logged,
    /// Unlogged.
    Unlogged,
    /// Counter.
    Counter,
}

/// What `ALTER TYPE` changes.
#[derive(Debug, Clone, PartialEq)]
pub enum AlterUserTypeOp {
    /// `ADD field type`.
    Add(String, TypeExpr),
    /// `RENAME a TO b [AND c TO d ...]`.
    Rename(Vec<(String, String)>),
}

/// A parsed CQL statement.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Statement {
    /// CREATE KEYSPACE.
    CreateKeyspace {
        /// The keyspace.
        name: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// WITH options (`replication`, `durable_writes`).
        options: Vec<(String, Term)>,
    },
    /// ALTER KEYSPACE.
    AlterKeyspace {
        /// The keyspace.
        name: String,
        /// WITH options.
        options: Vec<(String, Term)>,
    },
    /// DROP KEYSPACE.
    DropKeyspace {
        /// The keyspace.
        name: String,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE TABLE.
    CreateTable(CreateTable),
    /// ALTER TABLE.
    AlterTable {
        /// The table.
        name: QualifiedName,
        /// The operation.
        op: AlterTableOp,
    },
    /// DROP TABLE.
    DropTable {
        /// The table.
        name: QualifiedName,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE TYPE.
    CreateType {
        /// The type.
        name: QualifiedName,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// Fields.
        fields: Vec<(String, TypeExpr)>,
    },
    /// ALTER TYPE.
    AlterUserType {
        /// The type.
        name: QualifiedName,
        /// The change.
        op: AlterUserTypeOp,
    },
    /// DROP TYPE.
    DropType {
        /// The type.
        name: QualifiedName,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE INDEX.
    CreateIndex {
        /// The index name.
        name: Option<String>,
        /// The table.
        table: QualifiedName,
        /// The indexed target as written (`c`, `keys(m)`, ...).
        target: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// `USING 'class'`.
        custom_class: Option<String>,
        /// `WITH OPTIONS = {...}` and any other properties, as written.
        properties: Vec<(String, Term)>,
    },
    /// DROP INDEX.
    DropIndex {
        /// The index.
        name: QualifiedName,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE MATERIALIZED VIEW.
    CreateView(CreateView),
    /// A role or permission statement (CREATE ROLE, GRANT, LIST ROLES, ...).
    Auth(crate::cql::auth::AuthStatement),
    /// ALTER MATERIALIZED VIEW ... WITH.
    AlterView {
        /// The view.
        name: QualifiedName,
        /// The options.
        options: Vec<(String, Term)>,
    },
    /// DROP MATERIALIZED VIEW.
    DropView {
        /// The view.
        name: QualifiedName,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE FUNCTION.
    CreateFunction(Box<CreateFunction>),
    /// DROP FUNCTION.
    DropFunction(DropFunction),
    /// CREATE AGGREGATE.
    CreateAggregate(Box<CreateAggregate>),
    /// DROP AGGREGATE.
    DropAggregate(DropFunction),
    /// USE.
    Use(String),
    /// INSERT.
    Insert {
        /// The table.
        table: QualifiedName,
        /// The values.
        values: InsertValues,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// USING.
        using: Using,
    },
    /// UPDATE.
    Update {
        /// The table.
        table: QualifiedName,
        /// USING.
        using: Using,
        /// SET assignments.
        assignments: Vec<Assignment>,
        /// WHERE.
        where_clause: Vec<Relation>,
        /// IF.
        conditions: Conditions,
    },
    /// DELETE.
    Delete {
        /// The table.
        table: QualifiedName,
        /// Targets (empty = whole rows).
        targets: Vec<DeleteTarget>,
        /// USING TIMESTAMP.
        using: Using,
        /// WHERE.
        where_clause: Vec<Relation>,
        /// IF.
        conditions: Conditions,
    },
    /// SELECT.
    Select(Box<Select>),
    /// TRUNCATE.
    Truncate(QualifiedName),
    /// BATCH.
    Batch {
        /// The kind.
        kind: BatchKind,
        /// USING TIMESTAMP.
        using: Using,
        /// The statements (INSERT/UPDATE/DELETE).
        statements: Vec<Self>,
    },
}
