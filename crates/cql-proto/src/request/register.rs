//! REGISTER (section 4.1.8): a `[string list]` of event types.

use bytes::BytesMut;

use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};

/// REGISTER: the event types to receive (`TOPOLOGY_CHANGE`, `STATUS_CHANGE`, `SCHEMA_CHANGE`;
/// see [`crate::codes::EventType`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Register {
    /// The event type names.
    pub events: Vec<String>,
}

impl Register {
    pub(crate) fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        codec::write_string_list(buf, &self.events)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            events: r.read_string_list("event types")?,
        })
    }
}
