//! Fault injection: rules that drop, delay or fail matching requests, or break the connection.

use std::time::Duration;

use bytes::Bytes;
use proto::codes::{Consistency, ErrorCode, Opcode, WriteType};
use proto::response::{ErrorBody, ErrorDetails};

/// Which requests a [`FaultRule`] applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestMatcher {
    /// Every QUERY, PREPARE, EXECUTE and BATCH.
    AnyStatement,
    /// Every request after the handshake, OPTIONS and REGISTER included (never STARTUP or
    /// AUTH_RESPONSE).
    Everything,
    /// Statements whose CQL text contains this substring (for EXECUTE the prepared text, for
    /// BATCH any statement's text).
    QueryContains(String),
    /// Requests with this opcode.
    Opcode(Opcode),
}

/// What happens to a request that matches a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// No response is ever sent.
    Drop,
    /// This ERROR is sent instead of executing the request. For an UNPREPARED error sent in
    /// reply to an EXECUTE, the id is replaced by the request's id.
    Error(ErrorBody),
    /// The request is executed and answered after this delay.
    Delay(Duration),
    /// The response is written half way, then the connection is closed.
    CloseMidFrame,
    /// A malformed frame (a RESULT whose body cannot be decoded) is sent on the request's
    /// stream instead of the response.
    MalformedFrame,
}

/// A fault rule: a matcher, an action, and how many more times it fires (`None` = forever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// Which requests the rule applies to.
    pub matcher: RequestMatcher,
    /// What happens to them.
    pub action: FaultAction,
    /// How many more matching requests it applies to; `None` for all of them.
    pub remaining: Option<usize>,
}

impl FaultRule {
    /// A rule applying `action` to every request matched by `matcher`.
    pub fn always(matcher: RequestMatcher, action: FaultAction) -> Self {
        Self {
            matcher,
            action,
            remaining: None,
        }
    }

    /// A rule applying `action` to the next `times` requests matched by `matcher`.
    pub fn times(matcher: RequestMatcher, action: FaultAction, times: usize) -> Self {
        Self {
            matcher,
            action,
            remaining: Some(times),
        }
    }
}

/// What a rule looks at in a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestInfo<'a> {
    pub(crate) opcode: Opcode,
    /// The statement texts (empty for non-statements, or an EXECUTE of an unknown id).
    pub(crate) texts: &'a [&'a str],
}

impl RequestMatcher {
    fn matches(&self, info: &RequestInfo<'_>) -> bool {
        let is_statement = matches!(
            info.opcode,
            Opcode::QUERY | Opcode::PREPARE | Opcode::EXECUTE | Opcode::BATCH
        );
        match self {
            Self::AnyStatement => is_statement,
            Self::Everything => true,
            Self::QueryContains(s) => {
                is_statement && info.texts.iter().any(|t| t.contains(s.as_str()))
            }
            Self::Opcode(op) => *op == info.opcode,
        }
    }
}

/// A node's fault state.
#[derive(Debug, Default)]
pub(crate) struct NodeFaults {
    rules: Vec<FaultRule>,
    /// A delay added before every response.
    pub(crate) delay: Option<Duration>,
}

impl NodeFaults {
    pub(crate) fn add(&mut self, rule: FaultRule) {
        if rule.remaining != Some(0) {
            self.rules.push(rule);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
        self.delay = None;
    }

    pub(crate) fn is_quiet(&self) -> bool {
        self.rules.is_empty() && self.delay.is_none()
    }

    /// The action of the first rule matching the request, consuming one of its uses.
    #[cfg(test)]
    pub(crate) fn take(&mut self, info: &RequestInfo<'_>) -> Option<FaultAction> {
        self.take_for(info, false)
    }

    /// As `take`; handshake requests only match [`RequestMatcher::Opcode`] rules.
    pub(crate) fn take_for(
        &mut self,
        info: &RequestInfo<'_>,
        handshake: bool,
    ) -> Option<FaultAction> {
        let i = self.rules.iter().position(|r| {
            (!handshake || matches!(r.matcher, RequestMatcher::Opcode(_)))
                && r.matcher.matches(info)
        })?;
        let rule = &mut self.rules[i];
        let action = rule.action.clone();
        if let Some(n) = &mut rule.remaining {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.rules.remove(i);
            }
        }
        Some(action)
    }
}

fn err(code: ErrorCode, message: impl Into<String>, details: ErrorDetails) -> ErrorBody {
    ErrorBody {
        code,
        message: message.into(),
        details,
    }
}

/// An OVERLOADED (0x1001) error.
pub fn overloaded() -> ErrorBody {
    err(
        ErrorCode::OVERLOADED,
        "Too many in flight requests (max: 1024); request rejected",
        ErrorDetails::None,
    )
}

/// An IS_BOOTSTRAPPING (0x1002) error.
pub fn is_bootstrapping() -> ErrorBody {
    err(
        ErrorCode::IS_BOOTSTRAPPING,
        "Cannot read from a bootstrapping node",
        ErrorDetails::None,
    )
}

/// A SERVER_ERROR (0x0000) error.
pub fn server_error(message: &str) -> ErrorBody {
    err(ErrorCode::SERVER_ERROR, message, ErrorDetails::None)
}

/// An UNAVAILABLE (0x1000) error.
pub fn unavailable(consistency: Consistency, required: i32, alive: i32) -> ErrorBody {
    err(
        ErrorCode::UNAVAILABLE,
        format!("Cannot achieve consistency level {consistency:?}"),
        ErrorDetails::Unavailable {
            consistency,
            required,
            alive,
        },
    )
}

/// A READ_TIMEOUT (0x1200) error.
pub fn read_timeout(
    consistency: Consistency,
    received: i32,
    block_for: i32,
    data_present: bool,
) -> ErrorBody {
    err(
        ErrorCode::READ_TIMEOUT,
        format!("Operation timed out - received only {received} responses."),
        ErrorDetails::ReadTimeout {
            consistency,
            received,
            block_for,
            data_present,
        },
    )
}

/// A WRITE_TIMEOUT (0x1100) error.
pub fn write_timeout(
    consistency: Consistency,
    received: i32,
    block_for: i32,
    write_type: WriteType,
) -> ErrorBody {
    err(
        ErrorCode::WRITE_TIMEOUT,
        format!("Operation timed out - received only {received} responses."),
        ErrorDetails::WriteTimeout {
            consistency,
            received,
            block_for,
            write_type,
            contentions: None,
        },
    )
}

/// An UNPREPARED (0x2500) error; when injected in reply to an EXECUTE the id is the request's.
pub fn unprepared() -> ErrorBody {
    err(
        ErrorCode::UNPREPARED,
        "Prepared query with ID not found",
        ErrorDetails::Unprepared { id: Bytes::new() },
    )
}

/// A TRUNCATE_ERROR (0x1003) error.
pub fn truncate_error() -> ErrorBody {
    err(
        ErrorCode::TRUNCATE_ERROR,
        "Error during truncate",
        ErrorDetails::None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_fire_in_order_and_run_out() {
        let mut f = NodeFaults::default();
        f.add(FaultRule::times(
            RequestMatcher::QueryContains("foo".into()),
            FaultAction::Drop,
            2,
        ));
        f.add(FaultRule::always(
            RequestMatcher::AnyStatement,
            FaultAction::Error(overloaded()),
        ));
        let q = RequestInfo {
            opcode: Opcode::QUERY,
            texts: &["SELECT foo FROM t"],
        };
        let o = RequestInfo {
            opcode: Opcode::OPTIONS,
            texts: &[],
        };
        assert_eq!(f.take(&q), Some(FaultAction::Drop));
        assert_eq!(f.take(&o), None);
        assert_eq!(f.take(&q), Some(FaultAction::Drop));
        assert_eq!(f.take(&q), Some(FaultAction::Error(overloaded())));
        assert_eq!(f.take(&q), Some(FaultAction::Error(overloaded())));
        f.clear();
        assert!(f.is_quiet());
    }
}
