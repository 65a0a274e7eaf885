//! [`Session::query_iter`] and [`Session::execute_iter`]: statements whose results are paged
//! through as a stream of rows by a [`QueryPager`].
//!
//! Here rather than in the facade so that the session's core does not depend on the pager,
//! which depends on it.

use std::sync::Arc;

use crate::client::pager::{PagerStatement, QueryPager};
use crate::errors::PagerExecutionError;
use crate::serialize::SerializeRow;
use crate::statement::prepared::PartitionKeyError;
use crate::statement::{PreparedStatement, Statement};

use super::Session;

impl Session {
    /// Runs an unprepared statement and pages through its result as a stream of rows.
    ///
    /// The first page is fetched before this returns; each next page is requested while the
    /// rows of the current one are consumed.
    pub async fn query_iter(
        &self,
        statement: impl Into<Statement>,
        values: impl SerializeRow,
    ) -> Result<QueryPager, PagerExecutionError> {
        let statement = statement.into();
        if values.is_empty() {
            QueryPager::start(
                Arc::clone(&self.inner),
                PagerStatement::Unprepared(statement),
            )
            .await
        } else {
            let prepared = self.prepare(statement).await?;
            self.execute_iter(prepared, values).await
        }
    }

    /// Executes a prepared statement and pages through its result as a stream of rows.
    ///
    /// The values are serialized once for all pages.
    pub async fn execute_iter(
        &self,
        prepared: impl Into<PreparedStatement>,
        values: impl SerializeRow,
    ) -> Result<QueryPager, PagerExecutionError> {
        let prepared = prepared.into();
        let (values, token) = prepared
            .serialize_with_token(&values)
            .map_err(|e| match e {
                PartitionKeyError::Serialization(e) => PagerExecutionError::SerializationError(e),
                e => PagerExecutionError::NextPageError(e.into()),
            })?;
        QueryPager::start(
            Arc::clone(&self.inner),
            PagerStatement::Prepared {
                prepared,
                values,
                token,
            },
        )
        .await
    }
}
