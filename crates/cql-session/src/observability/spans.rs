//! `tracing` spans per request and per attempt, with the OpenTelemetry database
//! semantic-convention fields, so a `tracing-opentelemetry` layer (or any subscriber) shows each
//! request and its attempts as they reached the cluster.
//!
//! Both spans are at the `DEBUG` level under the target `cql_session::request`: enable them with
//! a filter such as `cql_session::request=debug`. With no subscriber interested, creating a span
//! is one atomic load and nothing is allocated or moved: the request and attempt futures carry a
//! span only when one is enabled (boxed then), so the hot path's future sizes do not change.
//!
//! The request span (`cql.request`):
//! - `db.system` (`"cassandra"`, the semantic conventions' name for every CQL database),
//!   `db.namespace` (the keyspace, when known), `db.operation.name` (the statement's first
//!   keyword, e.g. `SELECT`, or `BATCH`), `db.query.text` (prepared statements only: their text
//!   has bind markers, not values);
//! - `db.cassandra.consistency_level`, `db.cassandra.idempotence`, `db.cassandra.page_size`;
//! - at the end, on failure: `error.type` and `error`.
//!
//! Each attempt span (`cql.attempt`), a child of the request span:
//! - `attempt` (0 for the first), `server.address`, `server.port`, `node` (the host id) and
//!   `db.cassandra.coordinator.dc`;
//! - at the end: `shard` (the shard whose connection carried it), and on failure `error.type`,
//!   `error` and `retry_decision` (what the retry policy chose next).

use std::net::SocketAddr;

use proto::Request;
use tracing::Span;
use tracing::field::Empty;
use transport::state::NodeRef;

use crate::consistency::Consistency;
use crate::errors::{ExecutionError, RequestAttemptError};
use crate::policies::retry::RetryDecision;

/// The `tracing` target of the request and attempt spans.
pub const SPAN_TARGET: &str = "cql_session::request";

/// What the request span says about its statement.
pub(crate) struct RequestFields<'a> {
    /// The keyspace the statement runs in, when known.
    pub(crate) keyspace: Option<&'a str>,
    /// The request, for its operation name, page size and (prepared) text.
    pub(crate) request: &'a Request,
    /// The text of a prepared statement (an EXECUTE carries only its id).
    pub(crate) prepared_text: Option<proto::Text>,
    pub(crate) consistency: Consistency,
    pub(crate) idempotent: bool,
}

/// Whether a subscriber wants the request and attempt spans: one atomic load when none does.
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: SPAN_TARGET, tracing::Level::DEBUG)
}

/// The request span, or `None` when no subscriber wants it.
pub(crate) fn request(f: RequestFields<'_>) -> Option<Span> {
    let (operation, page_size) = match f.request {
        Request::Query(q) => (operation_name(q.query.as_str()), q.params.page_size),
        Request::Execute(e) => (
            f.prepared_text
                .as_ref()
                .map_or_else(|| "EXECUTE".to_owned(), |t| operation_name(t.as_str())),
            e.params.page_size,
        ),
        Request::Batch(_) => ("BATCH".to_owned(), None),
        _ => ("OTHER".to_owned(), None),
    };
    let span = tracing::debug_span!(
        target: SPAN_TARGET,
        "cql.request",
        db.system = "cassandra",
        db.namespace = f.keyspace,
        db.operation.name = operation,
        db.query.text = f.prepared_text.as_ref().map(proto::Text::as_str),
        db.cassandra.consistency_level = %f.consistency,
        db.cassandra.idempotence = f.idempotent,
        db.cassandra.page_size = page_size,
        error.r#type = Empty,
        error = Empty,
    );
    (!span.is_disabled()).then_some(span)
}

/// Records a request's outcome on its span.
pub(crate) fn record_request<T>(span: &Span, result: &Result<T, ExecutionError>) {
    if let Err(e) = result {
        span.record("error.type", execution_error_type(e));
        span.record("error", tracing::field::display(e));
    }
}

/// An attempt's span, or `None` when no subscriber wants it. Boxed: the attempt loop's future
/// holds it across the attempt, and a pointer costs it 8 bytes where a span would cost 40.
pub(crate) fn attempt(
    attempt: usize,
    address: SocketAddr,
    node: Option<&NodeRef>,
) -> Option<Box<Span>> {
    if !enabled() {
        return None;
    }
    let span = tracing::debug_span!(
        target: SPAN_TARGET,
        "cql.attempt",
        attempt,
        server.address = %address.ip(),
        server.port = address.port(),
        node = node.and_then(|n| n.host_id).map(tracing::field::display),
        db.cassandra.coordinator.dc = node.and_then(|n| n.datacenter.as_deref()),
        shard = Empty,
        error.r#type = Empty,
        error = Empty,
        retry_decision = Empty,
    );
    (!span.is_disabled()).then(|| Box::new(span))
}

/// Records the shard that carried an attempt.
pub(crate) fn record_shard(span: &Span, shard: Option<u32>) {
    if let Some(s) = shard {
        span.record("shard", s);
    }
}

/// Records a failed attempt and what the retry policy decided after it.
pub(crate) fn record_attempt_error(
    span: &Span,
    error: &RequestAttemptError,
    decision: &RetryDecision,
) {
    span.record("error.type", attempt_error_type(error));
    span.record("error", tracing::field::display(error));
    span.record("retry_decision", decision_name(decision));
}

/// The first keyword of a CQL statement, upper-cased (`"select"` -> `"SELECT"`); comments and
/// leading whitespace skipped.
fn operation_name(text: &str) -> String {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--").or_else(|| rest.strip_prefix("//")) {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if word.is_empty() {
        "UNKNOWN".to_owned()
    } else {
        word
    }
}

/// A short, stable name of a retry decision.
fn decision_name(d: &RetryDecision) -> &'static str {
    match d {
        RetryDecision::RetrySameTarget(_) => "retry_same_target",
        RetryDecision::RetryNextTarget(_) => "retry_next_target",
        RetryDecision::DontRetry => "dont_retry",
        RetryDecision::IgnoreWriteError => "ignore_write_error",
    }
}

/// A short, stable name of an attempt error's kind (`error.type`).
pub(crate) fn attempt_error_type(e: &RequestAttemptError) -> &'static str {
    match e {
        RequestAttemptError::DbError(db, _) => {
            db.error_code().name().unwrap_or("server_error_code")
        }
        RequestAttemptError::Timeout(_) => "timeout",
        RequestAttemptError::NodeUnresponsive(_) => "node_unresponsive",
        RequestAttemptError::NotSent(_) => "not_sent",
        RequestAttemptError::BrokenConnection(_) => "broken_connection",
        _ => "other",
    }
}

/// A short, stable name of a request error's kind (`error.type`).
fn execution_error_type(e: &ExecutionError) -> &'static str {
    match e {
        ExecutionError::LastAttemptError { error, .. } => attempt_error_type(error),
        ExecutionError::RequestTimeout { .. } => "request_timeout",
        ExecutionError::EmptyPlan => "empty_plan",
        ExecutionError::BadQuery(_) => "bad_query",
        ExecutionError::Throttled(_) => "throttled",
        ExecutionError::SessionClosed => "session_closed",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::operation_name;

    #[test]
    fn operation_names_are_the_first_keyword_after_comments() {
        assert_eq!(operation_name("select * from t"), "SELECT");
        assert_eq!(operation_name("  INSERT INTO t"), "INSERT");
        assert_eq!(operation_name("-- a\n/* b */ update t"), "UPDATE");
        assert_eq!(operation_name("// c\nBEGIN BATCH"), "BEGIN");
        assert_eq!(operation_name("(1)"), "UNKNOWN");
    }
}
