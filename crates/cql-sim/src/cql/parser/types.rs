//! Type expressions: native types, collections, tuples, `frozen<...>` and user types.

use proto::ColumnType;

use super::{PResult, Parser};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;

impl Parser<'_> {
    /// A type expression.
    pub(super) fn type_expr(&mut self) -> PResult<TypeExpr> {
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
}
