//! Size budgets of the response types: every response is moved whole through each layer of a
//! driver between the connection and the caller, so its size is paid on every request. The
//! rare parts (a PREPARED result, a custom payload) are boxed to keep these down; a new large
//! variant or field fails here instead of slowing every request unnoticed.

use cql_proto::frame::ResponseEnvelope;
use cql_proto::response::{Response, ResultBody};

#[test]
fn a_response_envelope_stays_within_its_size_budget() {
    assert!(
        size_of::<ResponseEnvelope>() <= 192,
        "ResponseEnvelope is {} bytes (budget 192): box the rare part that grew it",
        size_of::<ResponseEnvelope>()
    );
    assert!(
        size_of::<Response>() <= 136,
        "Response is {} bytes (budget 136)",
        size_of::<Response>()
    );
    assert!(
        size_of::<ResultBody>() <= 136,
        "ResultBody is {} bytes (budget 136)",
        size_of::<ResultBody>()
    );
}
