//! The SELECT grammar: selection, selectors, and the WHERE clause's relations (also used by
//! UPDATE and DELETE).

use super::{PResult, Parser, RESERVED};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;

impl Parser<'_> {
    /// SELECT (after the keyword): selection, table, WHERE, GROUP BY, ORDER BY, limits.
    pub(super) fn select(&mut self) -> PResult<Select> {
        let json = self.is_kw("json") && !self.is_kw_at(1, "from") && self.eat_kw("json");
        let distinct =
            self.is_kw("distinct") && !self.is_kw_at(1, "from") && self.eat_kw("distinct");
        let selection = if self.eat_sym("*") {
            Selection::All
        } else {
            let mut list = Vec::new();
            loop {
                let sel = self.selector(0)?;
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
        let using_timeout = self.eat_kw("using");
        if using_timeout {
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
            using_timeout,
        })
    }

    /// A selector nested `depth` function calls deep (bounded, as terms are).
    fn selector(&mut self, depth: usize) -> PResult<Selector> {
        if depth > 64 {
            return Err(self.err_here("selector nested too deeply"));
        }
        if self.is_kw("cast") && matches!(self.peek_at(1), Some(Tok::Sym("("))) {
            self.pos += 2;
            let arg = self.selector(depth + 1)?;
            self.expect_kw("as")?;
            let typ = self.type_expr()?;
            self.expect_sym(")")?;
            return Ok(Selector::Cast(Box::new(arg), typ));
        }
        // A keyspace-qualified function: `ks.f(...)`.
        if let (
            Some(Tok::Ident(ks) | Tok::QIdent(ks)),
            Some(Tok::Sym(".")),
            Some(Tok::Ident(f) | Tok::QIdent(f)),
            Some(Tok::Sym("(")),
        ) = (
            self.peek(),
            self.peek_at(1),
            self.peek_at(2),
            self.peek_at(3),
        ) {
            let name = format!("{ks}.{f}");
            self.pos += 4;
            return Ok(Selector::Function {
                name,
                args: self.selector_args(depth)?,
            });
        }
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
            let args = self.selector_args(depth)?;
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

    /// A function's arguments after `(`, through `)`.
    fn selector_args(&mut self, depth: usize) -> PResult<Vec<Selector>> {
        let mut args = Vec::new();
        if !self.eat_sym(")") {
            loop {
                args.push(self.selector(depth + 1)?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
        }
        Ok(args)
    }

    /// The relations of a WHERE clause, joined by AND.
    pub(super) fn relations(&mut self) -> PResult<Vec<Relation>> {
        let mut out = Vec::new();
        loop {
            out.push(self.relation()?);
            if !self.eat_kw("and") {
                return Ok(out);
            }
        }
    }

    /// A relation operator (`=`, `<`, `IN`, `CONTAINS`, ...).
    pub(super) fn operator(&mut self) -> PResult<Operator> {
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

    /// The right-hand side of a relation with operator `op`.
    pub(super) fn rhs(&mut self, op: Operator) -> PResult<RelationRhs> {
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
            let c = self.ident()?;
            if self.eat_sym("[") {
                let key = self.term()?;
                self.expect_sym("]")?;
                RelationLhs::Element(c, key)
            } else {
                RelationLhs::Column(c)
            }
        };
        let op = self.operator()?;
        let rhs = self.rhs(op)?;
        Ok(Relation { lhs, op, rhs })
    }
}
