//! A recursive-descent parser over the lexer's tokens, producing the [`ast`](super::ast).
//!
//! This file holds the entry point, the [`Parser`] state with its token helpers and the
//! statement dispatch; the grammar is split by area, each file adding an `impl Parser` block:
//! - [`select`]: SELECT, selectors and WHERE relations;
//! - [`dml`]: INSERT, UPDATE, DELETE, BATCH, `USING` and `IF` conditions;
//! - [`ddl`]: CREATE, DROP and ALTER (keyspaces, tables, types, indexes, ...);
//! - [`function`]: CREATE/DROP FUNCTION and AGGREGATE;
//! - [`role`]: roles, users, GRANT/REVOKE and LIST;
//! - [`types`]: type expressions (`map<text, frozen<list<int>>>`);
//! - [`terms`]: literals, bind markers, collections, function calls and durations.

use crate::cql::ast::*;
use crate::cql::lexer::{Tok, Token, line_col, tokenize};
use crate::error::CqlError;

mod ddl;
mod dml;
mod function;
mod role;
mod select;
mod terms;
mod types;
mod view;

/// A parsed statement and the number of bind markers in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The statement.
    pub statement: Statement,
    /// How many bind markers it holds (their indices are `0..bind_count`).
    pub bind_count: usize,
}

/// Parses one CQL statement (an optional trailing `;` is allowed).
pub fn parse_statement(text: &str) -> Result<Parsed, CqlError> {
    let toks = tokenize(text)?;
    let mut p = Parser {
        text,
        toks,
        pos: 0,
        markers: 0,
    };
    let statement = p.statement()?;
    p.eat_sym(";");
    if p.pos < p.toks.len() {
        return Err(p.err_here("extraneous input"));
    }
    Ok(Parsed {
        statement,
        bind_count: p.markers,
    })
}

/// Keywords that cannot be used as unquoted identifiers.
const RESERVED: &[&str] = &[
    "add",
    "allow",
    "alter",
    "and",
    "apply",
    "asc",
    "authorize",
    "batch",
    "begin",
    "by",
    "columnfamily",
    "create",
    "delete",
    "desc",
    "describe",
    "drop",
    "entries",
    "execute",
    "from",
    "full",
    "grant",
    "if",
    "in",
    "index",
    "infinity",
    "insert",
    "into",
    "is",
    "keyspace",
    "limit",
    "modify",
    "nan",
    "norecursive",
    "not",
    "null",
    "of",
    "on",
    "or",
    "order",
    "primary",
    "rename",
    "replace",
    "revoke",
    "schema",
    "select",
    "set",
    "table",
    "to",
    "token",
    "truncate",
    "unlogged",
    "unset",
    "update",
    "use",
    "using",
    "view",
    "where",
    "with",
];

type PResult<T> = Result<T, CqlError>;

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    markers: usize,
}

impl Parser<'_> {
    // ---- token helpers -------------------------------------------------------------------

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.tok)
    }

    fn err_here(&self, what: &str) -> CqlError {
        let (at, shown) = match self.toks.get(self.pos) {
            Some(t) => (t.start, &self.text[t.start..t.end]),
            None => (self.text.len(), "<EOF>"),
        };
        let (l, c) = line_col(self.text, at);
        CqlError::Syntax(format!("line {l}:{c} {what} at input '{shown}'"))
    }

    fn expected(&self, what: &str) -> CqlError {
        let (at, shown) = match self.toks.get(self.pos) {
            Some(t) => (t.start, &self.text[t.start..t.end]),
            None => (self.text.len(), "<EOF>"),
        };
        let (l, c) = line_col(self.text, at);
        CqlError::Syntax(format!(
            "line {l}:{c} mismatched input '{shown}' expecting {what}"
        ))
    }

    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Some(Tok::Ident(s)) if s == kw)
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.expected(&format!("K_{}", kw.to_ascii_uppercase())))
        }
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> PResult<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.expected(&format!("'{s}'")))
        }
    }

    /// An identifier: unquoted (lowercased, not reserved) or quoted (case kept).
    fn ident(&mut self) -> PResult<String> {
        match self.peek() {
            Some(Tok::Ident(s)) if !RESERVED.contains(&s.as_str()) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            Some(Tok::QIdent(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.expected("an identifier")),
        }
    }

    /// An identifier where keywords are allowed too (property names, keyspace names).
    fn any_ident(&mut self) -> PResult<String> {
        match self.peek() {
            Some(Tok::Ident(s) | Tok::QIdent(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.expected("an identifier")),
        }
    }

    fn qualified_name(&mut self) -> PResult<QualifiedName> {
        let first = self.ident()?;
        if self.eat_sym(".") {
            let name = self.ident()?;
            Ok(QualifiedName {
                keyspace: Some(first),
                name,
            })
        } else {
            Ok(QualifiedName {
                keyspace: None,
                name: first,
            })
        }
    }

    fn if_not_exists(&mut self) -> PResult<bool> {
        if self.eat_kw("if") {
            self.expect_kw("not")?;
            self.expect_kw("exists")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn if_exists(&mut self) -> PResult<bool> {
        if self.eat_kw("if") {
            self.expect_kw("exists")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    // ---- statements ----------------------------------------------------------------------

    fn statement(&mut self) -> PResult<Statement> {
        let kw = match self.peek() {
            Some(Tok::Ident(s)) => s.clone(),
            _ => return Err(self.err_here("no viable alternative")),
        };
        self.pos += 1;
        match kw.as_str() {
            "select" => Ok(Statement::Select(Box::new(self.select()?))),
            "insert" => self.insert(),
            "update" => self.update(),
            "delete" => self.delete(),
            "begin" => self.batch(),
            "use" => Ok(Statement::Use(self.any_ident()?)),
            "truncate" => {
                self.eat_kw("table");
                Ok(Statement::Truncate(self.qualified_name()?))
            }
            "create" => self.create(),
            "drop" => self.drop(),
            "alter" => self.alter(),
            "grant" => self.grant(),
            "revoke" => self.revoke(),
            "list" => self.list(),
            _ => {
                self.pos -= 1;
                Err(self.err_here("no viable alternative"))
            }
        }
    }

    fn err_at(&self, tok: usize, what: &str) -> CqlError {
        let at = self.toks.get(tok).map_or(self.text.len(), |t| t.start);
        let (l, c) = line_col(self.text, at);
        CqlError::Syntax(format!("line {l}:{c} {what}"))
    }
}
