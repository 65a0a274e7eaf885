//! CREATE [OR REPLACE] FUNCTION / AGGREGATE and DROP FUNCTION / AGGREGATE, as Cassandra's
//! grammar has them.

use super::{PResult, Parser};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;

impl Parser<'_> {
    /// After `CREATE`: a function or aggregate statement if one starts here (`OR REPLACE`,
    /// `FUNCTION`, `AGGREGATE`), else `None` with nothing consumed.
    pub(super) fn create_routine(&mut self) -> PResult<Option<Statement>> {
        let or_replace = if self.is_kw("or") {
            self.pos += 1;
            self.expect_kw("replace")?;
            true
        } else {
            false
        };
        if self.eat_kw("function") {
            return Ok(Some(self.create_function(or_replace)?));
        }
        if self.eat_kw("aggregate") {
            return Ok(Some(self.create_aggregate(or_replace)?));
        }
        if or_replace {
            return Err(self.expected("K_FUNCTION or K_AGGREGATE"));
        }
        Ok(None)
    }

    /// `type, type, ...)` after an opening `(`: the types of a signature (possibly none).
    fn types_to_close(&mut self) -> PResult<Vec<TypeExpr>> {
        let mut types = Vec::new();
        if self.eat_sym(")") {
            return Ok(types);
        }
        loop {
            types.push(self.type_expr()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        self.expect_sym(")")?;
        Ok(types)
    }

    /// After `DROP`: DROP FUNCTION / DROP AGGREGATE if one starts here.
    pub(super) fn drop_routine(&mut self) -> PResult<Option<Statement>> {
        let aggregate = if self.eat_kw("function") {
            false
        } else if self.eat_kw("aggregate") {
            true
        } else {
            return Ok(None);
        };
        let if_exists = self.if_exists()?;
        let name = self.qualified_name()?;
        let args = if self.eat_sym("(") {
            Some(self.types_to_close()?)
        } else {
            None
        };
        let d = DropFunction {
            name,
            if_exists,
            args,
        };
        Ok(Some(if aggregate {
            Statement::DropAggregate(d)
        } else {
            Statement::DropFunction(d)
        }))
    }

    fn create_function(&mut self, or_replace: bool) -> PResult<Statement> {
        let if_not_exists = self.if_not_exists()?;
        let name = self.qualified_name()?;
        self.expect_sym("(")?;
        let mut args = Vec::new();
        if !self.eat_sym(")") {
            loop {
                let a = self.ident()?;
                args.push((a, self.type_expr()?));
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
        }
        let called_on_null_input = if self.eat_kw("called") {
            true
        } else {
            self.expect_kw("returns")?;
            self.expect_kw("null")?;
            false
        };
        self.expect_kw("on")?;
        self.expect_kw("null")?;
        self.expect_kw("input")?;
        self.expect_kw("returns")?;
        let return_type = self.type_expr()?;
        self.expect_kw("language")?;
        let language = self.any_ident()?.to_ascii_lowercase();
        self.expect_kw("as")?;
        let body = match self.peek() {
            Some(Tok::Str(s)) => s.clone(),
            _ => return Err(self.expected("a string or $$ body")),
        };
        self.pos += 1;
        Ok(Statement::CreateFunction(Box::new(CreateFunction {
            name,
            or_replace,
            if_not_exists,
            args,
            called_on_null_input,
            return_type,
            language,
            body,
        })))
    }

    fn create_aggregate(&mut self, or_replace: bool) -> PResult<Statement> {
        let if_not_exists = self.if_not_exists()?;
        let name = self.qualified_name()?;
        self.expect_sym("(")?;
        let args = self.types_to_close()?;
        self.expect_kw("sfunc")?;
        let state_func = self.any_ident()?;
        self.expect_kw("stype")?;
        let state_type = self.type_expr()?;
        let final_func = if self.eat_kw("finalfunc") {
            Some(self.any_ident()?)
        } else {
            None
        };
        let init_cond = if self.eat_kw("initcond") {
            Some(self.term()?)
        } else {
            None
        };
        Ok(Statement::CreateAggregate(Box::new(CreateAggregate {
            name,
            or_replace,
            if_not_exists,
            args,
            state_func,
            state_type,
            final_func,
            init_cond,
        })))
    }
}
