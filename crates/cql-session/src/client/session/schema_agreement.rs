//! Schema agreement: every node that is up reports the same `schema_version`.

//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use futures::future::join_all;
use proto::frame::RequestOptions;
use proto::request::{Query, QueryParameters};
use proto::{Request, UnexpectedResponse};
use uuid::Uuid;

use crate::client::target::attempt_error;
use crate::errors::{RequestAttemptError, SchemaAgreementError};
use crate::response::QueryResult;

use super::SessionInner;

impl SessionInner {
    pub(crate) async fn await_schema_agreement(&self) -> Result<Uuid, SchemaAgreementError> {
        let limit = self.options.schema_agreement_timeout;
        let interval = self.options.schema_agreement_interval;
        let wait = async {
            loop {
                if let Some(v) = self.check_schema_agreement().await? {
                    return Ok(v);
                }
                tokio::time::sleep(interval).await;
            }
        };
        tokio::time::timeout(limit, wait)
            .await
            .unwrap_or(Err(SchemaAgreementError::Timeout(limit)))
    }

    pub(crate) async fn check_schema_agreement(
        &self,
    ) -> Result<Option<Uuid>, SchemaAgreementError> {
        let state = self.cluster.state();
        let conns: Vec<_> = state
            .nodes()
            .iter()
            .filter(|n| n.is_up())
            .filter_map(|n| n.pool().and_then(|p| p.any_connection()))
            .collect();
        if conns.is_empty() {
            return Err(SchemaAgreementError::ConnectionPoolError(
                crate::errors::ConnectionPoolError::Initializing,
            ));
        }
        let request = Request::Query(Query {
            query: "SELECT schema_version FROM system.local WHERE key = 'local'".into(),
            params: QueryParameters::default(),
        });
        // A node that does not answer must not stall the check.
        let limit = self
            .default_profile
            .load_full()
            .request_timeout
            .unwrap_or(self.options.schema_agreement_timeout);
        let versions = join_all(conns.iter().map(|c| async {
            tokio::time::timeout(limit, schema_version(c, &request))
                .await
                .unwrap_or(Err(SchemaAgreementError::RequestError(
                    RequestAttemptError::Timeout(limit),
                )))
        }))
        .await;
        let mut agreed: Option<Uuid> = None;
        for v in versions {
            let v = v?;
            match agreed {
                None => agreed = Some(v),
                Some(a) if a != v => return Ok(None),
                Some(_) => {}
            }
        }
        Ok(agreed)
    }
}

/// Reads one node's schema version.
async fn schema_version(
    conn: &transport::Connection,
    request: &Request,
) -> Result<Uuid, SchemaAgreementError> {
    let env = conn
        .send(request, &RequestOptions::default())
        .await
        .map_err(|e| SchemaAgreementError::RequestError(attempt_error(e)))?;
    let body = env.response.into_result().map_err(|e| match e {
        UnexpectedResponse::Error(_) => {
            SchemaAgreementError::RequestError(RequestAttemptError::from_response("QUERY", e))
        }
        other => SchemaAgreementError::BadResponse(format!("{other} to a schema version query")),
    })?;
    let rows = QueryResult::new(body, None, None, Vec::new())
        .into_rows_result()
        .map_err(|e| SchemaAgreementError::BadResponse(e.to_string()))?;
    let (v,) = rows.single_row::<(Uuid,)>()?;
    Ok(v)
}
