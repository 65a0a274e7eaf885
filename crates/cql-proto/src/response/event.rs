//! EVENT (section 4.2.6): `<type: [string]>` and a type-specific body.

use std::net::SocketAddr;

use bytes::BytesMut;

use super::SchemaChange;
use crate::codec::{self, Reader};
use crate::codes::{EventType, StatusChangeType, TopologyChangeType};
use crate::error::{DecodeError, EncodeError};

/// A server-pushed event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// TOPOLOGY_CHANGE: `<change: [string]><node: [inet]>`.
    TopologyChange {
        /// NEW_NODE, REMOVED_NODE or MOVED_NODE.
        change: TopologyChangeType,
        /// The node's native transport address.
        addr: SocketAddr,
    },
    /// STATUS_CHANGE: `<change: [string]><node: [inet]>`.
    StatusChange {
        /// UP or DOWN.
        change: StatusChangeType,
        /// The node's native transport address.
        addr: SocketAddr,
    },
    /// SCHEMA_CHANGE: as a Schema_change result.
    SchemaChange(SchemaChange),
}

impl Event {
    /// The event's type.
    pub const fn event_type(&self) -> EventType {
        match self {
            Self::TopologyChange { .. } => EventType::TopologyChange,
            Self::StatusChange { .. } => EventType::StatusChange,
            Self::SchemaChange(_) => EventType::SchemaChange,
        }
    }

    /// Appends the body to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        codec::write_string(buf, self.event_type().as_str())?;
        match self {
            Self::TopologyChange { change, addr } => {
                codec::write_string(buf, change.as_str())?;
                codec::write_inet(buf, addr);
                Ok(())
            }
            Self::StatusChange { change, addr } => {
                codec::write_string(buf, change.as_str())?;
                codec::write_inet(buf, addr);
                Ok(())
            }
            Self::SchemaChange(s) => s.encode(buf),
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let typ = EventType::from_wire(r.read_string("event type")?);
        Ok(match typ {
            EventType::TopologyChange => Self::TopologyChange {
                change: TopologyChangeType::from_wire(r.read_string("topology change")?),
                addr: r.read_inet("node address")?,
            },
            EventType::StatusChange => Self::StatusChange {
                change: StatusChangeType::from_wire(r.read_string("status change")?),
                addr: r.read_inet("node address")?,
            },
            EventType::SchemaChange => Self::SchemaChange(SchemaChange::read(r)?),
            EventType::Other(other) => {
                return Err(DecodeError::invalid(
                    "event type",
                    format!("unknown event type {other:?}"),
                ));
            }
        })
    }
}
