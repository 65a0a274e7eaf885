//! CREATE MATERIALIZED VIEW: `AS SELECT cols FROM base WHERE c IS NOT NULL AND ...
//! PRIMARY KEY (...) WITH ...`.

use super::{PResult, Parser};
use crate::cql::ast::*;

impl Parser<'_> {
    /// CREATE MATERIALIZED VIEW after `CREATE MATERIALIZED VIEW`.
    pub(super) fn create_view(&mut self) -> PResult<Statement> {
        let if_not_exists = self.if_not_exists()?;
        let name = self.qualified_name()?;
        self.expect_kw("as")?;
        self.expect_kw("select")?;
        let columns = if self.eat_sym("*") {
            None
        } else {
            let mut cols = vec![self.ident()?];
            while self.eat_sym(",") {
                cols.push(self.ident()?);
            }
            Some(cols)
        };
        self.expect_kw("from")?;
        let base = self.qualified_name()?;
        let mut not_null = Vec::new();
        if self.eat_kw("where") {
            loop {
                let c = self.ident()?;
                self.expect_kw("is")?;
                self.expect_kw("not")?;
                self.expect_kw("null")?;
                not_null.push(c);
                if !self.eat_kw("and") {
                    break;
                }
            }
        }
        self.expect_kw("primary")?;
        self.expect_kw("key")?;
        self.expect_sym("(")?;
        let mut partition_key = Vec::new();
        partition_key.extend(self.ident_or_list()?);
        let mut clustering = Vec::new();
        while self.eat_sym(",") {
            clustering.push(self.ident()?);
        }
        self.expect_sym(")")?;
        let (clustering_order, options, compact) = self.table_with()?;
        if compact {
            return Err(self.expected("a view property"));
        }
        Ok(Statement::CreateView(CreateView {
            name,
            if_not_exists,
            base,
            columns,
            not_null,
            partition_key,
            clustering,
            clustering_order,
            options,
        }))
    }
}
