//! The schema grammar: CREATE, DROP and ALTER of keyspaces, tables, types, indexes,
//! materialized views, functions and roles, with their `WITH` properties.

use super::{PResult, Parser};
use crate::cql::ast::*;
use crate::cql::lexer::Tok;
use crate::error::CqlError;

/// What follows `WITH` in a table or view definition: the clustering order, the other
/// options, and whether COMPACT STORAGE was given.
pub(super) type TableWith = (Vec<(String, bool)>, Vec<(String, Term)>, bool);

impl Parser<'_> {
    /// One identifier, or a parenthesised, comma-separated list of them (a composite
    /// partition key, `ALTER TABLE ... DROP (a, b)`).
    pub(super) fn ident_or_list(&mut self) -> PResult<Vec<String>> {
        if !self.eat_sym("(") {
            return Ok(vec![self.ident()?]);
        }
        let mut idents = vec![self.ident()?];
        while self.eat_sym(",") {
            idents.push(self.ident()?);
        }
        self.expect_sym(")")?;
        Ok(idents)
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

    /// CREATE KEYSPACE / TABLE / TYPE / INDEX / MATERIALIZED VIEW / ... after `CREATE`.
    pub(super) fn create(&mut self) -> PResult<Statement> {
        if let Some(st) = self.create_routine()? {
            return Ok(st);
        }
        if let Some(role) = self.create_role() {
            return role;
        }
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
        if self.eat_kw("materialized") {
            self.expect_kw("view")?;
            return self.create_view();
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
            let properties = if self.eat_kw("with") {
                self.properties()?
            } else {
                Vec::new()
            };
            if custom && custom_class.is_none() {
                return Err(self.expected("K_USING"));
            }
            return Ok(Statement::CreateIndex {
                name,
                table,
                target,
                if_not_exists,
                custom_class,
                properties,
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
                partition_key.extend(self.ident_or_list()?);
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
        let (clustering_order, options, compact_storage) = self.table_with()?;
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

    /// `WITH CLUSTERING ORDER BY (...) AND COMPACT STORAGE AND name = value ...` after a table
    /// or view definition: the clustering order, the other options, and COMPACT STORAGE.
    pub(super) fn table_with(&mut self) -> PResult<TableWith> {
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
        Ok((clustering_order, options, compact_storage))
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

    /// DROP of a keyspace, table, type, index, view, ... after `DROP`.
    pub(super) fn drop(&mut self) -> PResult<Statement> {
        if let Some(st) = self.drop_routine()? {
            return Ok(st);
        }
        if let Some(role) = self.drop_role() {
            return role;
        }
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
        if self.eat_kw("materialized") {
            self.expect_kw("view")?;
            let if_exists = self.if_exists()?;
            let name = self.qualified_name()?;
            return Ok(Statement::DropView { name, if_exists });
        }
        Err(self.err_here("no viable alternative"))
    }

    /// ALTER KEYSPACE / TABLE / TYPE / ... after `ALTER`.
    /// `ALTER TYPE name ADD field type` or `RENAME a TO b [AND ...]`, after `ALTER TYPE`.
    fn alter_user_type(&mut self) -> PResult<Statement> {
        let name = self.qualified_name()?;
        let op = if self.eat_kw("add") {
            let field = self.ident()?;
            AlterUserTypeOp::Add(field, self.type_expr()?)
        } else if self.eat_kw("rename") {
            let mut pairs = Vec::new();
            loop {
                let a = self.ident()?;
                self.expect_kw("to")?;
                pairs.push((a, self.ident()?));
                if !self.eat_kw("and") {
                    break;
                }
            }
            AlterUserTypeOp::Rename(pairs)
        } else {
            return Err(self.err_here("no viable alternative"));
        };
        Ok(Statement::AlterUserType { name, op })
    }

    pub(super) fn alter(&mut self) -> PResult<Statement> {
        if let Some(role) = self.alter_role() {
            return role;
        }
        if self.eat_kw("keyspace") || self.eat_kw("schema") {
            let name = self.ident()?;
            self.expect_kw("with")?;
            let options = self.properties()?;
            return Ok(Statement::AlterKeyspace { name, options });
        }
        if self.eat_kw("materialized") {
            self.expect_kw("view")?;
            let name = self.qualified_name()?;
            self.expect_kw("with")?;
            let options = self.properties()?;
            return Ok(Statement::AlterView { name, options });
        }
        if self.eat_kw("type") {
            return self.alter_user_type();
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
            cols.extend(self.ident_or_list()?);
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
}
