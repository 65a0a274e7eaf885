//! Retry policies: what to do after an attempt failed.
//!
//! The [`DefaultRetryPolicy`] follows Cassandra's default, with one rule above all: a write that
//! is not idempotent is never retried after an error that leaves it unknown whether it applied.
//!
//! | error | decision |
//! | --- | --- |
//! | unavailable | the next node, once |
//! | read timeout | the same node, once, if enough replicas answered but the data replica did not |
//! | write timeout | the same node, once, for an idempotent `BATCH_LOG` write |
//! | overloaded, server error, truncate error | the next node, if idempotent |
//! | bootstrapping, request not sent | the next node (nothing was executed) |
//! | broken connection, client timeout | the next node, if idempotent |
//! | anything else | give up |

use std::fmt::Debug;

use crate::consistency::Consistency;
use crate::errors::{DbError, RequestAttemptError, WriteType};

/// What a retry policy is told about a failed attempt.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RequestInfo<'a> {
    /// Why the attempt failed.
    pub error: &'a RequestAttemptError,
    /// Whether the statement is idempotent.
    pub is_idempotent: bool,
    /// The consistency the attempt used.
    pub consistency: Consistency,
}

impl<'a> RequestInfo<'a> {
    /// The information of one failed attempt.
    pub fn new(
        error: &'a RequestAttemptError,
        is_idempotent: bool,
        consistency: Consistency,
    ) -> Self {
        Self {
            error,
            is_idempotent,
            consistency,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Retry on the same node, optionally at another consistency.
    RetrySameTarget(Option<Consistency>),
    /// Retry on the next node of the plan, optionally at another consistency.
    RetryNextTarget(Option<Consistency>),
    /// Give up and return the error.
    DontRetry,
    /// Treat a failed write as successful (return an empty result).
    IgnoreWriteError,
}

/// Decides retries. Creates one [`RetrySession`] per request (only once a first attempt failed,
/// so a successful request allocates none).
pub trait RetryPolicy: Debug + Send + Sync {
    /// A fresh decision state for one request.
    fn new_session(&self) -> Box<dyn RetrySession>;
}

/// The retry decisions of one request; may keep counts across its attempts.
pub trait RetrySession: Send + Sync {
    /// Decides what to do after a failed attempt.
    fn decide_should_retry(&mut self, request_info: RequestInfo<'_>) -> RetryDecision;

    /// Forgets earlier attempts (used between pages of a paged query).
    fn reset(&mut self);
}

/// Never retries.
#[derive(Debug, Clone, Copy, Default)]
pub struct FallthroughRetryPolicy;

impl FallthroughRetryPolicy {
    /// The policy.
    pub fn new() -> Self {
        Self
    }
}

impl RetryPolicy for FallthroughRetryPolicy {
    fn new_session(&self) -> Box<dyn RetrySession> {
        Box::new(FallthroughRetrySession)
    }
}

/// The session of [`FallthroughRetryPolicy`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FallthroughRetrySession;

impl RetrySession for FallthroughRetrySession {
    fn decide_should_retry(&mut self, _request_info: RequestInfo<'_>) -> RetryDecision {
        RetryDecision::DontRetry
    }

    fn reset(&mut self) {}
}

/// Cassandra's default retry rules; see the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRetryPolicy;

impl DefaultRetryPolicy {
    /// The policy.
    pub fn new() -> Self {
        Self
    }
}

impl RetryPolicy for DefaultRetryPolicy {
    fn new_session(&self) -> Box<dyn RetrySession> {
        Box::new(DefaultRetrySession::new())
    }
}

/// The session of [`DefaultRetryPolicy`]: each one-shot rule fires at most once per request.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRetrySession {
    was_unavailable_retry: bool,
    was_read_timeout_retry: bool,
    was_write_timeout_retry: bool,
}

impl DefaultRetrySession {
    /// A fresh session.
    pub fn new() -> Self {
        Self::default()
    }
}

impl RetrySession for DefaultRetrySession {
    fn decide_should_retry(&mut self, info: RequestInfo<'_>) -> RetryDecision {
        let idempotent = info.is_idempotent;
        let next_if = |cond: bool| {
            if cond {
                RetryDecision::RetryNextTarget(None)
            } else {
                RetryDecision::DontRetry
            }
        };
        match info.error {
            RequestAttemptError::DbError(db, _) => match db {
                DbError::Unavailable { .. } => {
                    let first = !self.was_unavailable_retry;
                    self.was_unavailable_retry = true;
                    next_if(first)
                }
                DbError::ReadTimeout {
                    received,
                    required,
                    data_present,
                    ..
                } => {
                    if !self.was_read_timeout_retry && received >= required && !*data_present {
                        self.was_read_timeout_retry = true;
                        RetryDecision::RetrySameTarget(None)
                    } else {
                        RetryDecision::DontRetry
                    }
                }
                DbError::WriteTimeout { write_type, .. } => {
                    if !self.was_write_timeout_retry
                        && idempotent
                        && *write_type == WriteType::BatchLog
                    {
                        self.was_write_timeout_retry = true;
                        RetryDecision::RetrySameTarget(None)
                    } else {
                        RetryDecision::DontRetry
                    }
                }
                DbError::Overloaded | DbError::ServerError | DbError::TruncateError => {
                    next_if(idempotent)
                }
                DbError::IsBootstrapping => RetryDecision::RetryNextTarget(None),
                _ => RetryDecision::DontRetry,
            },
            RequestAttemptError::NotSent(_) => RetryDecision::RetryNextTarget(None),
            // A response that does not decode says nothing about whether the request applied:
            // like a broken connection, another node may take an idempotent one.
            RequestAttemptError::BrokenConnection(_)
            | RequestAttemptError::Timeout(_)
            | RequestAttemptError::Decode(_) => next_if(idempotent),
            _ => RetryDecision::DontRetry,
        }
    }

    fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Retries at a lower consistency when not enough replicas answered, trading consistency for
/// availability (like the Java driver's policy of the same name). Use with care: a read may
/// then see stale data, and a write may be applied on fewer replicas than asked.
///
/// | error | decision (once per request) |
/// | --- | --- |
/// | unavailable | the next node, at the highest level the alive replicas can meet |
/// | read timeout, too few answers | the same node, at the level the answers met |
/// | read timeout, data missing | the same node |
/// | write timeout (idempotent) | `SIMPLE`/`BATCH` with an acknowledgement: ignore the error; `UNLOGGED_BATCH`: the same node at the level met; `BATCH_LOG`: the same node |
/// | anything else | as [`DefaultRetryPolicy`] |
#[derive(Debug, Clone, Copy, Default)]
pub struct DowngradingConsistencyRetryPolicy;

impl DowngradingConsistencyRetryPolicy {
    /// The policy.
    pub fn new() -> Self {
        Self
    }
}

impl RetryPolicy for DowngradingConsistencyRetryPolicy {
    fn new_session(&self) -> Box<dyn RetrySession> {
        Box::new(DowngradingConsistencyRetrySession::default())
    }
}

/// The session of [`DowngradingConsistencyRetryPolicy`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DowngradingConsistencyRetrySession {
    retried: bool,
    fallback: DefaultRetrySession,
}

/// The highest level `n` answering replicas can meet.
fn max_likely_to_work(n: i32) -> Option<Consistency> {
    match n {
        i32::MIN..=0 => None,
        1 => Some(Consistency::One),
        2 => Some(Consistency::Two),
        _ => Some(Consistency::Three),
    }
}

impl RetrySession for DowngradingConsistencyRetrySession {
    fn decide_should_retry(&mut self, info: RequestInfo<'_>) -> RetryDecision {
        let RequestAttemptError::DbError(db, _) = info.error else {
            return self.fallback.decide_should_retry(info);
        };
        let decision = match db {
            DbError::Unavailable { alive, .. } if !info.consistency.is_serial() => {
                match max_likely_to_work(*alive) {
                    Some(c) => RetryDecision::RetryNextTarget(Some(c)),
                    None => RetryDecision::DontRetry,
                }
            }
            DbError::ReadTimeout {
                received,
                required,
                data_present,
                ..
            } if !info.consistency.is_serial() => {
                if received < required {
                    match max_likely_to_work(*received) {
                        Some(c) => RetryDecision::RetrySameTarget(Some(c)),
                        None => RetryDecision::DontRetry,
                    }
                } else if !data_present {
                    RetryDecision::RetrySameTarget(None)
                } else {
                    RetryDecision::DontRetry
                }
            }
            DbError::WriteTimeout {
                received,
                write_type,
                ..
            } if info.is_idempotent => match write_type {
                WriteType::Simple | WriteType::Batch if *received > 0 => {
                    RetryDecision::IgnoreWriteError
                }
                WriteType::UnloggedBatch => match max_likely_to_work(*received) {
                    Some(c) => RetryDecision::RetrySameTarget(Some(c)),
                    None => RetryDecision::DontRetry,
                },
                WriteType::BatchLog => RetryDecision::RetrySameTarget(None),
                _ => RetryDecision::DontRetry,
            },
            DbError::Unavailable { .. }
            | DbError::ReadTimeout { .. }
            | DbError::WriteTimeout { .. } => RetryDecision::DontRetry,
            _ => return self.fallback.decide_should_retry(info),
        };
        if self.retried {
            return RetryDecision::DontRetry;
        }
        if decision != RetryDecision::DontRetry {
            self.retried = true;
        }
        decision
    }

    fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn db(e: DbError) -> RequestAttemptError {
        RequestAttemptError::DbError(e, "msg".into())
    }

    fn decide(s: &mut dyn RetrySession, e: &RequestAttemptError, idem: bool) -> RetryDecision {
        s.decide_should_retry(RequestInfo::new(e, idem, Consistency::Quorum))
    }

    #[test]
    fn unavailable_tries_next_node_once() {
        let mut s = DefaultRetryPolicy::new().new_session();
        let e = db(DbError::Unavailable {
            consistency: Ok(Consistency::Quorum),
            required: 2,
            alive: 1,
        });
        assert_eq!(
            decide(&mut *s, &e, false),
            RetryDecision::RetryNextTarget(None)
        );
        assert_eq!(decide(&mut *s, &e, false), RetryDecision::DontRetry);
        s.reset();
        assert_eq!(
            decide(&mut *s, &e, false),
            RetryDecision::RetryNextTarget(None)
        );
    }

    #[test]
    fn read_timeout_retries_only_when_data_missing_but_enough_answers() {
        let e = |received, data_present| {
            db(DbError::ReadTimeout {
                consistency: Ok(Consistency::Quorum),
                received,
                required: 2,
                data_present,
            })
        };
        let mut s = DefaultRetryPolicy::new().new_session();
        assert_eq!(
            decide(&mut *s, &e(1, false), true),
            RetryDecision::DontRetry
        );
        assert_eq!(decide(&mut *s, &e(2, true), true), RetryDecision::DontRetry);
        assert_eq!(
            decide(&mut *s, &e(2, false), false),
            RetryDecision::RetrySameTarget(None)
        );
        assert_eq!(
            decide(&mut *s, &e(2, false), false),
            RetryDecision::DontRetry
        );
    }

    #[test]
    fn write_timeout_retries_idempotent_batch_log_only() {
        let e = |write_type| {
            db(DbError::WriteTimeout {
                consistency: Ok(Consistency::Quorum),
                received: 0,
                required: 2,
                write_type,
            })
        };
        let mut s = DefaultRetryPolicy::new().new_session();
        assert_eq!(
            decide(&mut *s, &e(WriteType::BatchLog), false),
            RetryDecision::DontRetry
        );
        assert_eq!(
            decide(&mut *s, &e(WriteType::Simple), true),
            RetryDecision::DontRetry
        );
        assert_eq!(
            decide(&mut *s, &e(WriteType::BatchLog), true),
            RetryDecision::RetrySameTarget(None)
        );
        assert_eq!(
            decide(&mut *s, &e(WriteType::BatchLog), true),
            RetryDecision::DontRetry
        );
    }

    #[test]
    fn ambiguous_errors_retry_only_idempotent_statements() {
        let mut s = DefaultRetryPolicy::new().new_session();
        for e in [
            db(DbError::Overloaded),
            db(DbError::ServerError),
            RequestAttemptError::Timeout(Duration::from_secs(1)),
            RequestAttemptError::BrokenConnection(transport::ConnectionError::Broken(
                transport::BrokenReason::Eof,
            )),
            RequestAttemptError::Decode(transport::ConnectionError::Invalid(
                "a body that does not decode".into(),
            )),
        ] {
            assert_eq!(decide(&mut *s, &e, false), RetryDecision::DontRetry, "{e}");
            assert_eq!(
                decide(&mut *s, &e, true),
                RetryDecision::RetryNextTarget(None),
                "{e}"
            );
        }
        let boot = db(DbError::IsBootstrapping);
        assert_eq!(
            decide(&mut *s, &boot, false),
            RetryDecision::RetryNextTarget(None)
        );
        for e in [db(DbError::SyntaxError), db(DbError::Invalid)] {
            assert_eq!(decide(&mut *s, &e, true), RetryDecision::DontRetry);
        }
    }

    #[test]
    fn downgrading_lowers_the_consistency_once() {
        let mut s = DowngradingConsistencyRetryPolicy::new().new_session();
        let unavailable = db(DbError::Unavailable {
            consistency: Ok(Consistency::Quorum),
            required: 3,
            alive: 2,
        });
        assert_eq!(
            decide(&mut *s, &unavailable, false),
            RetryDecision::RetryNextTarget(Some(Consistency::Two))
        );
        assert_eq!(
            decide(&mut *s, &unavailable, false),
            RetryDecision::DontRetry
        );

        let mut s = DowngradingConsistencyRetryPolicy::new().new_session();
        let read = db(DbError::ReadTimeout {
            consistency: Ok(Consistency::Quorum),
            received: 1,
            required: 2,
            data_present: false,
        });
        assert_eq!(
            decide(&mut *s, &read, false),
            RetryDecision::RetrySameTarget(Some(Consistency::One))
        );

        let write = |write_type, received| {
            db(DbError::WriteTimeout {
                consistency: Ok(Consistency::Quorum),
                received,
                required: 2,
                write_type,
            })
        };
        let mut s = DowngradingConsistencyRetryPolicy::new().new_session();
        assert_eq!(
            decide(&mut *s, &write(WriteType::Simple, 1), false),
            RetryDecision::DontRetry,
            "never for non-idempotent writes"
        );
        assert_eq!(
            decide(&mut *s, &write(WriteType::Simple, 1), true),
            RetryDecision::IgnoreWriteError
        );
        let mut s = DowngradingConsistencyRetryPolicy::new().new_session();
        assert_eq!(
            decide(&mut *s, &write(WriteType::UnloggedBatch, 1), true),
            RetryDecision::RetrySameTarget(Some(Consistency::One))
        );
        let mut s = DowngradingConsistencyRetryPolicy::new().new_session();
        assert_eq!(
            decide(&mut *s, &write(WriteType::Simple, 0), true),
            RetryDecision::DontRetry
        );
    }

    #[test]
    fn fallthrough_never_retries() {
        let mut s = FallthroughRetryPolicy::new().new_session();
        let e = db(DbError::IsBootstrapping);
        assert_eq!(decide(&mut *s, &e, true), RetryDecision::DontRetry);
    }
}
