//! The syntax of user-defined functions and aggregates: CREATE [OR REPLACE] FUNCTION,
//! CREATE [OR REPLACE] AGGREGATE, and DROP FUNCTION / DROP AGGREGATE.

use super::{QualifiedName, Term, TypeExpr};

/// `CREATE [OR REPLACE] FUNCTION [IF NOT EXISTS] ks.f (a int, ...) ... AS 'body'`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateFunction {
    /// The function.
    pub name: QualifiedName,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// The arguments: name and type, in order.
    pub args: Vec<(String, TypeExpr)>,
    /// `CALLED ON NULL INPUT` (true) or `RETURNS NULL ON NULL INPUT`.
    pub called_on_null_input: bool,
    /// `RETURNS type`.
    pub return_type: TypeExpr,
    /// `LANGUAGE name`, lowercased.
    pub language: String,
    /// The body between quotes or `$$`.
    pub body: String,
}

/// `CREATE [OR REPLACE] AGGREGATE [IF NOT EXISTS] ks.a (int) SFUNC s STYPE t ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateAggregate {
    /// The aggregate.
    pub name: QualifiedName,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// The argument types.
    pub args: Vec<TypeExpr>,
    /// `SFUNC name` (a function of the aggregate's keyspace).
    pub state_func: String,
    /// `STYPE type`.
    pub state_type: TypeExpr,
    /// `FINALFUNC name`.
    pub final_func: Option<String>,
    /// `INITCOND term`.
    pub init_cond: Option<Term>,
}

/// `DROP FUNCTION|AGGREGATE [IF EXISTS] ks.f [(types)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DropFunction {
    /// The function or aggregate.
    pub name: QualifiedName,
    /// `IF EXISTS`.
    pub if_exists: bool,
    /// The signature, when given.
    pub args: Option<Vec<TypeExpr>>,
}
