//! A recursive-descent parser over the lexer's tokens, producing the [`ast`](super::ast).

use proto::ColumnType;
use proto::value::CqlDuration;

use super::ast::*;
use super::lexer::{Tok, Token, line_col, tokenize};
use crate::error::CqlError;

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
            _ => {
                self.pos -= 1;
                Err(self.err_here("no viable alternative"))
            }
        }
    }

    fn select(&mut self) -> PResult<Select> {
        let json = self.is_kw("json") && !self.is_kw_at(1, "from") && self.eat_kw("json");
        let distinct =
            self.is_kw("distinct") && !self.is_kw_at(1, "from") && self.eat_kw("distinct");
        let selection = if self.eat_sym("*") {
            Selection::All
        } else {
            let mut list = Vec::new();
            loop {
                let sel = self.selector()?;
                let alias = if self.eat_kw("as") {
                    Some(self.ident()?)
                } else {
                    None
                };
                list.push((sel, alias));
                if !self.eat_sym(",") {
                    break;
                }
            }
            Selection::List(list)
        };
        self.expect_kw("from")?;
        let table = self.qualified_name()?;
        let where_clause = if self.eat_kw("where") {
            self.relations()?
        } else {
            Vec::new()
        };
        let mut group_by = Vec::new();
        if self.eat_kw("group") {
            self.expect_kw("by")?;
            loop {
                group_by.push(self.ident()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let mut order_by = Vec::new();
        if self.eat_kw("order") {
            self.expect_kw("by")?;
            loop {
                let c = self.ident()?;
                let desc = if self.eat_kw("desc") {
                    true
                } else {
                    self.eat_kw("asc");
                    false
                };
                order_by.push((c, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let mut per_partition_limit = None;
        if self.eat_kw("per") {
            self.expect_kw("partition")?;
            self.expect_kw("limit")?;
            per_partition_limit = Some(self.term()?);
        }
        let limit = if self.eat_kw("limit") {
            Some(self.term()?)
        } else {
            None
        };
        let allow_filtering = if self.eat_kw("allow") {
            self.expect_kw("filtering")?;
            true
        } else {
            false
        };
        // Scylla extensions: `BYPASS CACHE` and `USING TIMEOUT <duration>` (the Scylla Python
        // driver appends the latter to its system queries). Both are accepted and ignored.
        if self.eat_kw("bypass") {
            self.expect_kw("cache")?;
        }
        if self.eat_kw("using") {
            self.expect_kw("timeout")?;
            self.term()?;
        }
        Ok(Select {
            table,
            json,
            distinct,
            selection,
            where_clause,
            group_by,
            order_by,
            per_partition_limit,
            limit,
            allow_filtering,
        })
    }

    fn selector(&mut self) -> PResult<Selector> {
        if let Some(Tok::Ident(name)) = self.peek()
            && matches!(self.peek_at(1), Some(Tok::Sym("(")))
        {
            let name = name.clone();
            self.pos += 2;
            if name == "count"
                && (self.is_sym("*") || matches!(self.peek(), Some(Tok::Int(n)) if n == "1"))
            {
                self.pos += 1;
                self.expect_sym(")")?;
                return Ok(Selector::CountAll);
            }
            let mut args = Vec::new();
            if !self.eat_sym(")") {
                loop {
                    args.push(self.selector()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                self.expect_sym(")")?;
            }
            return Ok(match (name.as_str(), args.as_slice()) {
                ("writetime", [Selector::Column(c)]) => Selector::WriteTime(c.clone()),
                ("ttl", [Selector::Column(c)]) => Selector::Ttl(c.clone()),
                _ => Selector::Function { name, args },
            });
        }
        match self.peek() {
            Some(Tok::Ident(s)) if !RESERVED.contains(&s.as_str()) || s == "token" => {
                Ok(Selector::Column(self.any_ident()?))
            }
            Some(Tok::QIdent(_)) => Ok(Selector::Column(self.ident()?)),
            _ => Ok(Selector::Term(self.term()?)),
        }
    }

    fn relations(&mut self) -> PResult<Vec<Relation>> {
        let mut out = Vec::new();
        loop {
            out.push(self.relation()?);
            if !self.eat_kw("and") {
                return Ok(out);
            }
        }
    }

    fn operator(&mut self) -> PResult<Operator> {
        let op = match self.peek() {
            Some(Tok::Sym("=")) => Operator::Eq,
            Some(Tok::Sym("!=")) => Operator::Ne,
            Some(Tok::Sym("<")) => Operator::Lt,
            Some(Tok::Sym("<=")) => Operator::Le,
            Some(Tok::Sym(">")) => Operator::Gt,
            Some(Tok::Sym(">=")) => Operator::Ge,
            Some(Tok::Ident(s)) if s == "in" => Operator::In,
            Some(Tok::Ident(s)) if s == "contains" => {
                self.pos += 1;
                return Ok(if self.eat_kw("key") {
                    Operator::ContainsKey
                } else {
                    Operator::Contains
                });
            }
            _ => return Err(self.expected("a relation operator")),
        };
        self.pos += 1;
        Ok(op)
    }

    fn rhs(&mut self, op: Operator) -> PResult<RelationRhs> {
        if op != Operator::In {
            return Ok(RelationRhs::Term(self.term()?));
        }
        if self.eat_sym("(") {
            let mut list = Vec::new();
            if !self.eat_sym(")") {
                loop {
                    list.push(self.term()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                self.expect_sym(")")?;
            }
            return Ok(RelationRhs::List(list));
        }
        match self.term()? {
            Term::Bind(m) => Ok(RelationRhs::Marker(m)),
            _ => Err(self.expected("'(' or a bind marker after IN")),
        }
    }

    fn relation(&mut self) -> PResult<Relation> {
        let lhs = if self.is_kw("token") && matches!(self.peek_at(1), Some(Tok::Sym("("))) {
            self.pos += 2;
            let mut cols = Vec::new();
            loop {
                cols.push(self.ident()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
            RelationLhs::Token(cols)
        } else if self.is_sym("(") {
            return Err(self.err_here("multi-column relations are not supported"));
        } else {
            RelationLhs::Column(self.ident()?)
        };
        let op = self.operator()?;
        let rhs = self.rhs(op)?;
        Ok(Relation { lhs, op, rhs })
    }

    fn using(&mut self) -> PResult<Using> {
        let mut u = Using::default();
        if !self.eat_kw("using") {
            return Ok(u);
        }
        loop {
            if self.eat_kw("ttl") {
                u.ttl = Some(self.term()?);
            } else if self.eat_kw("timestamp") {
                u.timestamp = Some(self.term()?);
            } else if self.eat_kw("timeout") {
                self.term()?;
            } else {
                return Err(self.expected("K_TTL or K_TIMESTAMP"));
            }
            if !self.eat_kw("and") {
                return Ok(u);
            }
        }
    }

    fn insert(&mut self) -> PResult<Statement> {
        self.expect_kw("into")?;
        let table = self.qualified_name()?;
        let values = if self.eat_kw("json") {
            let json = self.term()?;
            let mut default_unset = false;
            if self.eat_kw("default") {
                if self.eat_kw("unset") {
                    default_unset = true;
                } else {
                    self.expect_kw("null")?;
                }
            }
            InsertValues::Json {
                json,
                default_unset,
            }
        } else {
            self.expect_sym("(")?;
            let mut columns = Vec::new();
            loop {
                columns.push(self.ident()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
            self.expect_kw("values")?;
            self.expect_sym("(")?;
            let mut values = Vec::new();
            loop {
                values.push(self.term()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
            InsertValues::Values { columns, values }
        };
        let mut if_not_exists = self.if_not_exists()?;
        let using = self.using()?;
        if !if_not_exists {
            if_not_exists = self.if_not_exists()?;
        }
        Ok(Statement::Insert {
            table,
            values,
            if_not_exists,
            using,
        })
    }

    fn conditions(&mut self, allow_not_exists: bool) -> PResult<Conditions> {
        if !self.eat_kw("if") {
            return Ok(Conditions::None);
        }
        if self.eat_kw("exists") {
            return Ok(Conditions::IfExists);
        }
        if allow_not_exists && self.is_kw("not") && self.is_kw_at(1, "exists") {
            self.pos += 2;
            return Ok(Conditions::IfNotExists);
        }
        let mut out = Vec::new();
        loop {
            let column = self.ident()?;
            let element = if self.eat_sym("[") {
                let t = self.term()?;
                self.expect_sym("]")?;
                Some(t)
            } else {
                None
            };
            let op = self.operator()?;
            let rhs = self.rhs(op)?;
            out.push(Condition {
                column,
                element,
                op,
                rhs,
            });
            if !self.eat_kw("and") {
                return Ok(Conditions::Columns(out));
            }
        }
    }

    fn update(&mut self) -> PResult<Statement> {
        let table = self.qualified_name()?;
        let using = self.using()?;
        self.expect_kw("set")?;
        let mut assignments = Vec::new();
        loop {
            assignments.push(self.assignment()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_kw("where")?;
        let where_clause = self.relations()?;
        let conditions = self.conditions(false)?;
        Ok(Statement::Update {
            table,
            using,
            assignments,
            where_clause,
            conditions,
        })
    }

    fn assignment(&mut self) -> PResult<Assignment> {
        let column = self.ident()?;
        if self.eat_sym("[") {
            let key = self.term()?;
            self.expect_sym("]")?;
            self.expect_sym("=")?;
            let value = self.term()?;
            return Ok(Assignment::SetElement { column, key, value });
        }
        if self.eat_sym(".") {
            let field = self.ident()?;
            self.expect_sym("=")?;
            let value = self.term()?;
            return Ok(Assignment::SetField {
                column,
                field,
                value,
            });
        }
        if matches!(self.peek_at(1), Some(Tok::Sym("="))) && (self.is_sym("+") || self.is_sym("-"))
        {
            let add = self.is_sym("+");
            self.pos += 2;
            let value = self.term()?;
            return Ok(if add {
                Assignment::Add { column, value }
            } else {
                Assignment::Sub { column, value }
            });
        }
        self.expect_sym("=")?;
        let same_column = match self.peek() {
            Some(Tok::Ident(s) | Tok::QIdent(s)) => *s == column,
            _ => false,
        };
        if same_column && matches!(self.peek_at(1), Some(Tok::Sym("+" | "-"))) {
            self.pos += 1;
            let add = self.eat_sym("+");
            if !add {
                self.expect_sym("-")?;
            }
            let value = self.term()?;
            return Ok(if add {
                Assignment::Add { column, value }
            } else {
                Assignment::Sub { column, value }
            });
        }
        let value = self.term()?;
        if self.eat_sym("+") {
            let other = self.ident()?;
            if other != column {
                return Err(CqlError::Invalid(format!(
                    "Only expressions of the form X = <value> + X are supported, got {column} = ... + {other}"
                )));
            }
            return Ok(Assignment::Prepend { column, value });
        }
        Ok(Assignment::Set { column, value })
    }

    fn delete(&mut self) -> PResult<Statement> {
        let mut targets = Vec::new();
        if !self.is_kw("from") {
            loop {
                let column = self.ident()?;
                let element = if self.eat_sym("[") {
                    let t = self.term()?;
                    self.expect_sym("]")?;
                    Some(t)
                } else {
                    None
                };
                targets.push(DeleteTarget { column, element });
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_kw("from")?;
        let table = self.qualified_name()?;
        let using = self.using()?;
        self.expect_kw("where")?;
        let where_clause = self.relations()?;
        let conditions = self.conditions(false)?;
        Ok(Statement::Delete {
            table,
            targets,
            using,
            where_clause,
            conditions,
        })
    }

    fn batch(&mut self) -> PResult<Statement> {
        let kind = if self.eat_kw("unlogged") {
            BatchKind::Unlogged
        } else if self.eat_kw("counter") {
            BatchKind::Counter
        } else {
            self.eat_kw("logged");
            BatchKind::Logged
        };
        self.expect_kw("batch")?;
        let using = self.using()?;
        let mut statements = Vec::new();
        loop {
            if self.eat_kw("apply") {
                self.expect_kw("batch")?;
                break;
            }
            let kw = match self.peek() {
                Some(Tok::Ident(s)) => s.clone(),
                _ => return Err(self.expected("K_INSERT, K_UPDATE, K_DELETE or K_APPLY")),
            };
            self.pos += 1;
            let st = match kw.as_str() {
                "insert" => self.insert()?,
                "update" => self.update()?,
                "delete" => self.delete()?,
                _ => {
                    self.pos -= 1;
                    return Err(self.expected("K_INSERT, K_UPDATE, K_DELETE or K_APPLY"));
                }
            };
            statements.push(st);
            self.eat_sym(";");
        }
        Ok(Statement::Batch {
            kind,
            using,
            statements,
        })
    }

    fn properties(&mut self) -> PResult<Vec<(String, Term)>> {
        let mut out = Vec::new();
        loop {
            let name = self.any_ident()?;
            self.expect_sym("=")?;
            let v = match self.peek() {
                Some(Tok::Ident(s))
                    if !matches!(self.peek_at(1), Some(Tok::Sym("(")))
                        && s != "true"
                        && s != "false" =>
                {
                    let s = s.clone();
                    self.pos += 1;
                    Term::Str(s)
                }
                _ => self.term()?,
            };
            out.push((name, v));
            if !self.eat_kw("and") {
                return Ok(out);
            }
        }
    }

    fn create(&mut self) -> PResult<Statement> {
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.ident()?;
            self.expect_kw("with")?;
            let options = self.properties()?;
            return Ok(Statement::CreateKeyspace {
                name,
                if_not_exists,
                options,
            });
        }
        if self.eat_kw("table") || self.eat_kw("columnfamily") {
            return self.create_table();
        }
        if self.eat_kw("type") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.qualified_name()?;
            self.expect_sym("(")?;
            let mut fields = Vec::new();
            loop {
                let f = self.ident()?;
                let t = self.type_expr()?;
                fields.push((f, t));
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
            return Ok(Statement::CreateType {
                name,
                if_not_exists,
                fields,
            });
        }
        let custom = self.eat_kw("custom");
        if self.eat_kw("index") {
            let if_not_exists = self.if_not_exists()?;
            let name = if self.is_kw("on") {
                None
            } else {
                Some(self.ident()?)
            };
            self.expect_kw("on")?;
            let table = self.qualified_name()?;
            self.expect_sym("(")?;
            let start = self.pos;
            let mut depth = 0usize;
            while depth > 0 || !self.is_sym(")") {
                match self.peek() {
                    None => return Err(self.expected("')'")),
                    Some(Tok::Sym("(")) => depth += 1,
                    Some(Tok::Sym(")")) => depth -= 1,
                    _ => {}
                }
                self.pos += 1;
            }
            if self.pos == start {
                return Err(self.expected("an index target"));
            }
            let target = self.text[self.toks[start].start..self.toks[self.pos - 1].end].to_owned();
            self.expect_sym(")")?;
            let custom_class = if self.eat_kw("using") {
                match self.term()? {
                    Term::Str(s) => Some(s),
                    _ => return Err(self.expected("a class name string")),
                }
            } else {
                None
            };
            if self.eat_kw("with") {
                self.properties()?;
            }
            if custom && custom_class.is_none() {
                return Err(self.expected("K_USING"));
            }
            return Ok(Statement::CreateIndex {
                name,
                table,
                target,
                if_not_exists,
                custom_class,
            });
        }
        Err(self.err_here("no viable alternative"))
    }

    fn column_definition(&mut self) -> PResult<(ColumnDefinition, bool)> {
        let name = self.ident()?;
        let typ = self.type_expr()?;
        let is_static = self.eat_kw("static");
        let pk = if self.eat_kw("primary") {
            self.expect_kw("key")?;
            true
        } else {
            false
        };
        Ok((
            ColumnDefinition {
                name,
                typ,
                is_static,
            },
            pk,
        ))
    }

    fn create_table(&mut self) -> PResult<Statement> {
        let if_not_exists = self.if_not_exists()?;
        let name = self.qualified_name()?;
        self.expect_sym("(")?;
        let mut columns = Vec::new();
        let mut partition_key = Vec::new();
        let mut clustering = Vec::new();
        let mut key_defs = 0;
        loop {
            if self.eat_kw("primary") {
                self.expect_kw("key")?;
                self.expect_sym("(")?;
                key_defs += 1;
                if self.eat_sym("(") {
                    loop {
                        partition_key.push(self.ident()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    self.expect_sym(")")?;
                } else {
                    partition_key.push(self.ident()?);
                }
                while self.eat_sym(",") {
                    clustering.push(self.ident()?);
                }
                self.expect_sym(")")?;
            } else {
                let (def, pk) = self.column_definition()?;
                if pk {
                    key_defs += 1;
                    partition_key.push(def.name.clone());
                }
                columns.push(def);
            }
            if !self.eat_sym(",") {
                break;
            }
            if self.is_sym(")") {
                break;
            }
        }
        self.expect_sym(")")?;
        if key_defs > 1 {
            return Err(CqlError::Invalid(format!(
                "Multiple PRIMARY KEYs specifed (exactly one required) for table {}",
                name.name
            )));
        }
        let mut clustering_order = Vec::new();
        let mut options = Vec::new();
        let mut compact_storage = false;
        if self.eat_kw("with") {
            loop {
                if self.eat_kw("clustering") {
                    self.expect_kw("order")?;
                    self.expect_kw("by")?;
                    self.expect_sym("(")?;
                    loop {
                        let c = self.ident()?;
                        let desc = if self.eat_kw("desc") {
                            true
                        } else {
                            self.expect_kw("asc")?;
                            false
                        };
                        clustering_order.push((c, desc));
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    self.expect_sym(")")?;
                } else if self.eat_kw("compact") {
                    self.expect_kw("storage")?;
                    compact_storage = true;
                } else {
                    let mut props = self.properties_one()?;
                    options.append(&mut props);
                }
                if !self.eat_kw("and") {
                    break;
                }
            }
        }
        Ok(Statement::CreateTable(CreateTable {
            name,
            if_not_exists,
            columns,
            partition_key,
            clustering,
            clustering_order,
            options,
            compact_storage,
        }))
    }

    /// One `name = value` property (the caller handles `AND`).
    fn properties_one(&mut self) -> PResult<Vec<(String, Term)>> {
        let name = self.any_ident()?;
        self.expect_sym("=")?;
        let v = match self.peek() {
            Some(Tok::Ident(s))
                if !matches!(self.peek_at(1), Some(Tok::Sym("(")))
                    && s != "true"
                    && s != "false" =>
            {
                let s = s.clone();
                self.pos += 1;
                Term::Str(s)
            }
            _ => self.term()?,
        };
        Ok(vec![(name, v)])
    }

    fn drop(&mut self) -> PResult<Statement> {
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let if_exists = self.if_exists()?;
            let name = self.ident()?;
            return Ok(Statement::DropKeyspace { name, if_exists });
        }
        if self.eat_kw("table") || self.eat_kw("columnfamily") {
            let if_exists = self.if_exists()?;
            let name = self.qualified_name()?;
            return Ok(Statement::DropTable { name, if_exists });
        }
        if self.eat_kw("type") {
            let if_exists = self.if_exists()?;
            let name = self.qualified_name()?;
            return Ok(Statement::DropType { name, if_exists });
        }
        if self.eat_kw("index") {
            let if_exists = self.if_exists()?;
            let name = self.qualified_name()?;
            return Ok(Statement::DropIndex { name, if_exists });
        }
        Err(self.err_here("no viable alternative"))
    }

    fn alter(&mut self) -> PResult<Statement> {
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let name = self.ident()?;
            self.expect_kw("with")?;
            let options = self.properties()?;
            return Ok(Statement::AlterKeyspace { name, options });
        }
        if !(self.eat_kw("table") || self.eat_kw("columnfamily")) {
            return Err(self.err_here("no viable alternative"));
        }
        let name = self.qualified_name()?;
        let op = if self.eat_kw("add") {
            let mut defs = Vec::new();
            if self.eat_sym("(") {
                loop {
                    defs.push(self.column_definition()?.0);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                self.expect_sym(")")?;
            } else {
                defs.push(self.column_definition()?.0);
            }
            AlterTableOp::Add(defs)
        } else if self.eat_kw("drop") {
            let mut cols = Vec::new();
            if self.eat_sym("(") {
                loop {
                    cols.push(self.ident()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                self.expect_sym(")")?;
            } else {
                cols.push(self.ident()?);
            }
            AlterTableOp::Drop(cols)
        } else if self.eat_kw("with") {
            AlterTableOp::With(self.properties()?)
        } else if self.eat_kw("rename") {
            let mut pairs = Vec::new();
            loop {
                let a = self.ident()?;
                self.expect_kw("to")?;
                let b = self.ident()?;
                pairs.push((a, b));
                if !self.eat_kw("and") {
                    break;
                }
            }
            AlterTableOp::Rename(pairs)
        } else if self.eat_kw("alter") {
            let c = self.ident()?;
            self.expect_kw("type")?;
            AlterTableOp::AlterType(c, self.type_expr()?)
        } else {
            return Err(self.expected("K_ADD, K_DROP, K_WITH, K_RENAME or K_ALTER"));
        };
        Ok(Statement::AlterTable { name, op })
    }

    // ---- types ---------------------------------------------------------------------------

    fn type_expr(&mut self) -> PResult<TypeExpr> {
        self.type_expr_depth(0)
    }

    fn type_expr_depth(&mut self, depth: usize) -> PResult<TypeExpr> {
        if depth > 16 {
            return Err(self.err_here("type nested too deeply"));
        }
        if let Some(Tok::Str(s)) = self.peek() {
            let s = s.clone();
            self.pos += 1;
            return Ok(TypeExpr::Custom(s));
        }
        let name = match self.peek() {
            Some(Tok::Ident(s)) => s.clone(),
            Some(Tok::QIdent(_)) => return Ok(TypeExpr::Udt(self.qualified_name()?)),
            _ => return Err(self.expected("a type")),
        };
        let native = ColumnType::from_native_name(&name);
        if let Some(t) = native {
            self.pos += 1;
            return Ok(TypeExpr::Native(t));
        }
        let generic = matches!(self.peek_at(1), Some(Tok::Sym("<")));
        if !generic {
            return Ok(TypeExpr::Udt(self.qualified_name()?));
        }
        self.pos += 2;
        let t = match name.as_str() {
            "list" => TypeExpr::List(Box::new(self.type_expr_depth(depth + 1)?)),
            "set" => TypeExpr::Set(Box::new(self.type_expr_depth(depth + 1)?)),
            "frozen" => TypeExpr::Frozen(Box::new(self.type_expr_depth(depth + 1)?)),
            "map" => {
                let k = self.type_expr_depth(depth + 1)?;
                self.expect_sym(",")?;
                let v = self.type_expr_depth(depth + 1)?;
                TypeExpr::Map(Box::new(k), Box::new(v))
            }
            "tuple" => {
                let mut ts = Vec::new();
                loop {
                    ts.push(self.type_expr_depth(depth + 1)?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                TypeExpr::Tuple(ts)
            }
            "vector" => {
                let t = self.type_expr_depth(depth + 1)?;
                self.expect_sym(",")?;
                let n = match self.peek() {
                    Some(Tok::Int(n)) => n.parse::<u32>().ok(),
                    _ => None,
                };
                let Some(n) = n.filter(|n| *n > 0) else {
                    return Err(self.expected("a positive vector dimension"));
                };
                self.pos += 1;
                TypeExpr::Vector(Box::new(t), n)
            }
            _ => {
                self.pos -= 2;
                return Err(self.err_here("unknown type"));
            }
        };
        self.expect_sym(">")?;
        Ok(t)
    }

    // ---- terms ---------------------------------------------------------------------------

    fn marker(&mut self, name: Option<String>) -> Term {
        let index = self.markers;
        self.markers += 1;
        Term::Bind(BindMarker { index, name })
    }

    fn term(&mut self) -> PResult<Term> {
        self.term_depth(0)
    }

    fn term_list(&mut self, close: &str, depth: usize) -> PResult<Vec<Term>> {
        let mut out = Vec::new();
        if self.eat_sym(close) {
            return Ok(out);
        }
        loop {
            out.push(self.term_depth(depth + 1)?);
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_sym(close)?;
        Ok(out)
    }

    fn term_depth(&mut self, depth: usize) -> PResult<Term> {
        if depth > 64 {
            return Err(self.err_here("term nested too deeply"));
        }
        let Some(tok) = self.peek().cloned() else {
            return Err(self.expected("a value"));
        };
        let start = self.pos;
        self.pos += 1;
        let t = match tok {
            Tok::Str(s) => Term::Str(s),
            Tok::Int(s) => Term::Int(s),
            Tok::Float(s) => Term::Float(s),
            Tok::Uuid(u) => Term::Uuid(u),
            Tok::Blob(b) => Term::Blob(b),
            Tok::Duration(d) => Term::Duration(
                parse_unit_duration(&d, false)
                    .ok_or_else(|| self.err_at(start, "invalid duration"))?,
            ),
            Tok::Sym("?") => self.marker(None),
            Tok::Sym(":") => {
                let name = self.any_ident()?;
                self.marker(Some(name))
            }
            Tok::Sym("-") => match self.peek().cloned() {
                Some(Tok::Int(s)) => {
                    self.pos += 1;
                    Term::Int(format!("-{s}"))
                }
                Some(Tok::Float(s)) => {
                    self.pos += 1;
                    Term::Float(format!("-{s}"))
                }
                Some(Tok::Duration(d)) => {
                    self.pos += 1;
                    Term::Duration(
                        parse_unit_duration(&d, true)
                            .ok_or_else(|| self.err_at(start, "invalid duration"))?,
                    )
                }
                Some(Tok::Ident(s)) if s == "infinity" => {
                    self.pos += 1;
                    Term::Infinity(true)
                }
                Some(Tok::Ident(s)) if s == "nan" => {
                    self.pos += 1;
                    Term::NaN
                }
                _ => return Err(self.expected("a number after '-'")),
            },
            Tok::Sym("[") => Term::List(self.term_list("]", depth)?),
            Tok::Sym("(") => Term::Tuple(self.term_list(")", depth)?),
            Tok::Sym("{") => self.braces(depth)?,
            Tok::Ident(id) => match id.as_str() {
                "null" => Term::Null,
                "true" => Term::Bool(true),
                "false" => Term::Bool(false),
                "nan" => Term::NaN,
                "infinity" => Term::Infinity(false),
                _ if self.is_sym("(") => {
                    self.pos += 1;
                    let args = self.term_list(")", depth)?;
                    Term::Function { name: id, args }
                }
                _ => {
                    let raw = &self.text[self.toks[start].start..self.toks[start].end];
                    match parse_iso_duration(raw) {
                        Some(d) => Term::Duration(d),
                        None => {
                            self.pos = start;
                            return Err(self.err_here("no viable alternative"));
                        }
                    }
                }
            },
            _ => {
                self.pos = start;
                return Err(self.err_here("no viable alternative"));
            }
        };
        Ok(t)
    }

    fn err_at(&self, tok: usize, what: &str) -> CqlError {
        let at = self.toks.get(tok).map_or(self.text.len(), |t| t.start);
        let (l, c) = line_col(self.text, at);
        CqlError::Syntax(format!("line {l}:{c} {what}"))
    }

    /// After `{`: a map, a set or a UDT literal.
    fn braces(&mut self, depth: usize) -> PResult<Term> {
        if self.eat_sym("}") {
            return Ok(Term::Map(Vec::new()));
        }
        let udt = matches!(self.peek(), Some(Tok::Ident(s)) if !matches!(s.as_str(), "true" | "false" | "null" | "nan" | "infinity"))
            || matches!(self.peek(), Some(Tok::QIdent(_)));
        if udt && matches!(self.peek_at(1), Some(Tok::Sym(":"))) {
            let mut fields = Vec::new();
            loop {
                let f = self.any_ident()?;
                self.expect_sym(":")?;
                fields.push((f, self.term_depth(depth + 1)?));
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym("}")?;
            return Ok(Term::Udt(fields));
        }
        let first = self.term_depth(depth + 1)?;
        if self.eat_sym(":") {
            let mut entries = vec![(first, self.term_depth(depth + 1)?)];
            while self.eat_sym(",") {
                let k = self.term_depth(depth + 1)?;
                self.expect_sym(":")?;
                entries.push((k, self.term_depth(depth + 1)?));
            }
            self.expect_sym("}")?;
            return Ok(Term::Map(entries));
        }
        let mut elems = vec![first];
        while self.eat_sym(",") {
            elems.push(self.term_depth(depth + 1)?);
        }
        self.expect_sym("}")?;
        Ok(Term::Set(elems))
    }
}

/// Parses `1h30m`-style durations.
fn parse_unit_duration(s: &str, negative: bool) -> Option<CqlDuration> {
    let (mut months, mut days, mut nanos) = (0i64, 0i64, 0i128);
    let lower = s.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = ["mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s"]
            .iter()
            .find(|u| rest.starts_with(**u))?
            .len();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let n128 = i128::from(n);
        match unit {
            "y" => months = months.checked_add(n.checked_mul(12)?)?,
            "mo" => months = months.checked_add(n)?,
            "w" => days = days.checked_add(n.checked_mul(7)?)?,
            "d" => days = days.checked_add(n)?,
            "h" => nanos += n128 * 3_600_000_000_000,
            "m" => nanos += n128 * 60_000_000_000,
            "s" => nanos += n128 * 1_000_000_000,
            "ms" => nanos += n128 * 1_000_000,
            "us" | "µs" => nanos += n128 * 1_000,
            _ => nanos += n128,
        }
    }
    let sign = if negative { -1 } else { 1 };
    Some(CqlDuration {
        months: i32::try_from(months * sign).ok()?,
        days: i32::try_from(days * sign).ok()?,
        nanoseconds: i64::try_from(nanos * i128::from(sign)).ok()?,
    })
}

/// Parses ISO 8601 durations: `P1Y2M3DT4H5M6S` and `P2W`.
fn parse_iso_duration(s: &str) -> Option<CqlDuration> {
    let up = s.to_ascii_uppercase();
    let body = up.strip_prefix('P')?;
    if body.is_empty() {
        return None;
    }
    if let Some(w) = body.strip_suffix('W') {
        let n: i32 = w.parse().ok()?;
        return Some(CqlDuration {
            months: 0,
            days: n.checked_mul(7)?,
            nanoseconds: 0,
        });
    }
    let (date, time) = match body.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let mut d = CqlDuration {
        months: 0,
        days: 0,
        nanoseconds: 0,
    };
    let mut num = String::new();
    for c in date.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i32 = num.parse().ok()?;
        num.clear();
        match c {
            'Y' => d.months = d.months.checked_add(n.checked_mul(12)?)?,
            'M' => d.months = d.months.checked_add(n)?,
            'D' => d.days = d.days.checked_add(n)?,
            _ => return None,
        }
    }
    if !num.is_empty() {
        return None;
    }
    if let Some(t) = time {
        for c in t.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: i64 = num.parse().ok()?;
            num.clear();
            let mul = match c {
                'H' => 3_600_000_000_000,
                'M' => 60_000_000_000,
                'S' => 1_000_000_000,
                _ => return None,
            };
            d.nanoseconds = d.nanoseconds.checked_add(n.checked_mul(mul)?)?;
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(d)
}
