//! [`Session::get_tracing_info`]: reads a traced request's session and events from
//! `system_traces`.

//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use std::net::IpAddr;

use uuid::Uuid;

use crate::errors::TracingError;
use crate::observability::tracing::{TracingEvent, TracingInfo};
use crate::statement::Statement;
use crate::value::CqlTimestamp;

use super::Session;

impl Session {
    /// Reads the tracing session of a traced request from `system_traces`, retrying while the
    /// server has not written it completely yet.
    pub async fn get_tracing_info(&self, tracing_id: &Uuid) -> Result<TracingInfo, TracingError> {
        let opts = &self.inner.options;
        for attempt in 0..opts.tracing_info_fetch_attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(opts.tracing_info_fetch_interval).await;
            }
            if let Some(info) = self.try_tracing_info(tracing_id).await? {
                return Ok(info);
            }
        }
        Err(TracingError::EmptyResults(*tracing_id))
    }

    async fn try_tracing_info(&self, id: &Uuid) -> Result<Option<TracingInfo>, TracingError> {
        type SessionRow = (
            Option<IpAddr>,
            Option<String>,
            Option<IpAddr>,
            Option<i32>,
            Option<std::collections::HashMap<String, String>>,
            Option<String>,
            Option<CqlTimestamp>,
        );
        type EventRow = (
            Uuid,
            Option<String>,
            Option<IpAddr>,
            Option<i32>,
            Option<String>,
        );
        let consistency = self.inner.options.tracing_info_fetch_consistency;
        let mut sessions = Statement::new(
            "SELECT client, command, coordinator, duration, parameters, request, started_at \
             FROM system_traces.sessions WHERE session_id = ?",
        );
        sessions.set_consistency(consistency);
        let sessions = self
            .query_unpaged(sessions, (id,))
            .await?
            .into_rows_result()?;
        let Some(row) = sessions
            .maybe_first_row::<SessionRow>()
            .map_err(|e| match e {
                crate::response::query_result::MaybeFirstRowError::TypeCheckFailed(e) => {
                    TracingError::TypeCheck(e)
                }
                crate::response::query_result::MaybeFirstRowError::DeserializationFailed(e) => {
                    TracingError::Deserialization(e)
                }
            })?
        else {
            return Ok(None);
        };
        // The duration is written when the request finished; until then the session is partial.
        if row.3.is_none() {
            return Ok(None);
        }
        let mut events = Statement::new(
            "SELECT event_id, activity, source, source_elapsed, thread \
             FROM system_traces.events WHERE session_id = ?",
        );
        events.set_consistency(consistency);
        let events = self
            .query_unpaged(events, (id,))
            .await?
            .into_rows_result()?;
        let mut list = Vec::with_capacity(events.rows_num());
        for e in events.rows::<EventRow>()? {
            let (event_id, activity, source, source_elapsed, thread) = e?;
            list.push(TracingEvent {
                event_id,
                activity,
                source,
                source_elapsed,
                thread,
            });
        }
        Ok(Some(TracingInfo {
            client: row.0,
            command: row.1,
            coordinator: row.2,
            duration: row.3,
            parameters: row.4,
            request: row.5,
            started_at: row.6,
            events: list,
        }))
    }
}
