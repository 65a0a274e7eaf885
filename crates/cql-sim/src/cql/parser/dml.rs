//! The data-modification grammar: INSERT (also JSON), UPDATE with its assignments, DELETE,
//! BATCH, `USING TIMESTAMP/TTL` and `IF` conditions.

use super::{PResult, Parser};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;
use crate::error::CqlError;

impl Parser<'_> {
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

    /// INSERT INTO, with VALUES or JSON.
    pub(super) fn insert(&mut self) -> PResult<Statement> {
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

    /// UPDATE with its assignments, WHERE clause and conditions.
    pub(super) fn update(&mut self) -> PResult<Statement> {
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

    /// DELETE of columns, elements or rows.
    pub(super) fn delete(&mut self) -> PResult<Statement> {
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

    /// BEGIN ... BATCH ... APPLY BATCH.
    pub(super) fn batch(&mut self) -> PResult<Statement> {
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
}
