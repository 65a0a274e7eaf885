//! Batches: every statement's values serialized into one buffer, split zero-copy, routed by
//! the first prepared statement with a token.

//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use bytes::Bytes;
use proto::request::{
    Batch as BatchRequest, BatchStatement as WireBatchStatement, BatchStatementKind, values_len,
};
use proto::response::Prepared;
use proto::{Request, SerializedValues};

use crate::client::execute::Repreparer;
use crate::errors::{BadQuery, ExecutionError};
use crate::policies::load_balancing::RoutingInfo;
use crate::response::QueryResult;
use crate::serialize::{BatchValues, RowSerializationContext, SerializeRow};
use crate::statement::prepared::{PreparedShared, serialize_row};
use crate::statement::{Batch, BatchStatement, PreparedStatement};

use super::SessionInner;

impl SessionInner {
    pub(super) async fn run_batch(
        &self,
        batch: &Batch,
        values: &(impl BatchValues + ?Sized),
    ) -> Result<QueryResult, ExecutionError> {
        let n = batch.statements.len();
        if n > usize::from(u16::MAX) {
            return Err(BadQuery::TooManyQueriesInBatchStatement(n).into());
        }
        if values.len() != n && values.len() != usize::MAX {
            return Err(BadQuery::BatchValuesCountMismatch {
                statements: n,
                values: values.len(),
            }
            .into());
        }
        // Unprepared statements with values are prepared, to type-check their values.
        let mut prepared_here: Vec<(usize, PreparedStatement)> = Vec::new();
        for (i, st) in batch.statements.iter().enumerate() {
            if let BatchStatement::Query(s) = st
                && !values.is_nth_empty(i)
            {
                prepared_here.push((i, self.prepare(s.clone()).await?));
            }
        }
        let find_prepared = |i: usize| -> Option<&PreparedStatement> {
            match &batch.statements[i] {
                BatchStatement::PreparedStatement(p) => Some(p),
                _ => prepared_here.iter().find(|(j, _)| *j == i).map(|(_, p)| p),
            }
        };
        // Every statement's values go into the thread's scratch buffer, then one exact-size
        // copy is split into zero-copy slices (no per-statement buffer, no growth).
        let mut token = None;
        let mut routing_stmt: Option<&PreparedStatement> = None;
        let mut statements = Vec::with_capacity(n);
        let all = proto::scratch::with_scratch(|buf| {
            for (i, st) in batch.statements.iter().enumerate() {
                let start = buf.len();
                let prepared = find_prepared(i);
                let count = match prepared {
                    Some(p) => {
                        let ctx = p.serialization_context();
                        let count = serialize_row(&ctx, &BatchRow(values, i), buf)?;
                        if routing_stmt.is_none() {
                            token = p
                                .token_from_serialized(&buf[start..], count)
                                .map_err(|e| ExecutionError::BadQuery(BadQuery::PartitionKey(e)))?;
                            if token.is_some() {
                                routing_stmt = Some(p);
                            }
                        }
                        count
                    }
                    None => {
                        serialize_row(&RowSerializationContext::empty(), &BatchRow(values, i), buf)?
                    }
                };
                let kind = match (st, prepared) {
                    (_, Some(p)) => BatchStatementKind::Prepared(p.shared.id.clone()),
                    (BatchStatement::Query(s), None) => {
                        BatchStatementKind::Query(s.contents.clone())
                    }
                    (_, None) => {
                        return Err(BadQuery::Other("unsupported batch statement".into()).into());
                    }
                };
                statements.push(WireBatchStatement {
                    kind,
                    values: SerializedValues {
                        count,
                        names: None,
                        // Sliced from the shared copy below.
                        bytes: Bytes::new(),
                    },
                });
            }
            Ok::<_, ExecutionError>(Bytes::copy_from_slice(buf))
        })?;
        split_values(&mut statements, all);
        let profile = self.profile(&batch.config);
        let consistency = batch.config.consistency.unwrap_or(profile.consistency);
        let mut request = Request::Batch(BatchRequest {
            batch_type: batch.batch_type.to_wire(),
            statements,
            consistency: consistency.into(),
            serial_consistency: batch
                .config
                .serial_consistency
                .unwrap_or(profile.serial_consistency)
                .map(Into::into),
            timestamp: self.timestamp(batch.config.timestamp),
            keyspace: None,
            now_in_seconds: None,
        });
        let routing = RoutingInfo {
            consistency,
            token,
            keyspace: routing_stmt.and_then(PreparedStatement::get_keyspace_name),
            table: routing_stmt.and_then(PreparedStatement::get_table_name),
            is_confirmed_lwt: false,
        };
        let reprepare = BatchRepreparer {
            batch,
            prepared_here: &prepared_here,
        };
        let executed = self
            .run(&mut request, &batch.config, &profile, routing, &reprepare)
            .await?;
        self.finish(executed, None).await
    }
}

/// The prepared statements of a batch, for re-preparing after UNPREPARED.
struct BatchRepreparer<'a> {
    batch: &'a Batch,
    /// The batch's unprepared statements with values, prepared for this run.
    prepared_here: &'a [(usize, PreparedStatement)],
}

impl BatchRepreparer<'_> {
    fn prepared(&self) -> impl Iterator<Item = &PreparedShared> {
        let given = self.batch.statements.iter().filter_map(|s| match s {
            BatchStatement::PreparedStatement(p) => Some(&*p.shared),
            BatchStatement::Query(_) => None,
        });
        given.chain(self.prepared_here.iter().map(|(_, p)| &*p.shared))
    }
}

impl Repreparer for BatchRepreparer<'_> {
    fn statement(&self, id: &Bytes) -> Option<proto::Text> {
        self.prepared()
            .find(|p| p.id == *id)
            .map(|p| p.statement.clone())
    }

    fn reprepared(&self, prepared: &Prepared) {
        // Every statement of that id, including ones prepared apart (clones share theirs).
        for p in self.prepared().filter(|p| p.id == prepared.id) {
            p.adopt_reprepared(prepared);
        }
    }
}

/// Gives each statement its values: consecutive zero-copy slices of `all`, each holding its
/// statement's `count` values. Not generic, so it is not compiled again into every caller's
/// `run_batch`.
fn split_values(statements: &mut [WireBatchStatement], mut all: Bytes) {
    for st in statements {
        let len = values_len(&all, st.values.count);
        st.values.bytes = all.split_to(len);
    }
}

/// Row `n` of a batch's values as a row.
struct BatchRow<'a, B: ?Sized>(&'a B, usize);

impl<B: BatchValues + ?Sized> SerializeRow for BatchRow<'_, B> {
    fn serialize(
        &self,
        ctx: &RowSerializationContext<'_>,
        writer: &mut crate::serialize::RowWriter<'_>,
    ) -> Result<(), crate::serialize::SerializationError> {
        self.0.serialize_nth(self.1, ctx, writer)
    }

    fn is_empty(&self) -> bool {
        self.0.is_nth_empty(self.1)
    }
}
