use bytes::Bytes;
use proto::ErrorCode;
use proto::response::{ErrorBody, ErrorDetails};

use super::*;

fn body(code: ErrorCode, details: ErrorDetails) -> ErrorBody {
    ErrorBody {
        code,
        message: "m".into(),
        details,
    }
}

#[test]
fn server_errors_are_typed() {
    let e = DbError::from_error_body(&body(
        ErrorCode::UNAVAILABLE,
        ErrorDetails::Unavailable {
            consistency: proto::Consistency::QUORUM,
            required: 3,
            alive: 1,
        },
    ));
    assert_eq!(
        e,
        DbError::Unavailable {
            consistency: Ok(Consistency::Quorum),
            required: 3,
            alive: 1
        }
    );
    assert_eq!(e.code(), 0x1000);
    assert!(e.is_retryable());

    let e = DbError::from_error_body(&body(
        ErrorCode::WRITE_TIMEOUT,
        ErrorDetails::WriteTimeout {
            consistency: proto::Consistency(0x00ff),
            received: 1,
            block_for: 2,
            write_type: WriteType::BatchLog,
            contentions: None,
        },
    ));
    assert_eq!(
        e,
        DbError::WriteTimeout {
            consistency: Err(0x00ff),
            received: 1,
            required: 2,
            write_type: WriteType::BatchLog
        }
    );
    assert!(e.is_timeout());

    for (code, want) in [
        (ErrorCode::OVERLOADED, DbError::Overloaded),
        (ErrorCode::IS_BOOTSTRAPPING, DbError::IsBootstrapping),
        (ErrorCode::SYNTAX_ERROR, DbError::SyntaxError),
        (ErrorCode::INVALID, DbError::Invalid),
        (ErrorCode::BAD_CREDENTIALS, DbError::AuthenticationError),
        (ErrorCode(0x4321), DbError::Other(0x4321)),
    ] {
        let got = DbError::from_error_body(&body(code, ErrorDetails::None));
        assert_eq!(got, want);
        assert_eq!(got.code(), code.0);
    }
    assert!(DbError::SyntaxError.is_statement_error());
    assert!(!DbError::SyntaxError.is_retryable());

    let e = DbError::from_error_body(&body(
        ErrorCode::UNPREPARED,
        ErrorDetails::Unprepared {
            id: Bytes::from_static(b"\x01\x02"),
        },
    ));
    assert_eq!(
        e,
        DbError::Unprepared {
            statement_id: Bytes::from_static(b"\x01\x02")
        }
    );
}

#[test]
fn the_rate_limit_error_is_typed_only_under_the_negotiated_code() {
    let raw = body(
        ErrorCode(0xF000),
        ErrorDetails::Unknown(Bytes::from_static(&[0, 1])),
    );
    assert_eq!(
        DbError::from_error_body_on(&raw, Some(0xF000)),
        DbError::RateLimitReached {
            op_type: OperationType::Read,
            rejected_by_coordinator: true,
        }
    );
    // Another code, or none negotiated: the code is not Scylla's rate limit here.
    assert_eq!(
        DbError::from_error_body_on(&raw, Some(0x1234)),
        DbError::Other(0xF000)
    );
    assert_eq!(
        DbError::from_error_body_on(&raw, None),
        DbError::Other(0xF000)
    );
    assert_eq!(OperationType::from(1), OperationType::Write);
    assert_eq!(OperationType::from(9).to_string(), "operation of type 9");
    assert!(!DbError::from_error_body_on(&raw, Some(0xF000)).is_retryable());
}
