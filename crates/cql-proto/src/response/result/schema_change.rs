//! Schema_change results and events (section 4.2.5.5):
//! `<change_type: [string]><target: [string]><options>`.

use bytes::BytesMut;

use crate::codec::{self, Reader};
use crate::codes::SchemaChangeType;
use crate::error::{DecodeError, EncodeError};

/// What a schema change touched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaChangeTarget {
    /// KEYSPACE: `<keyspace>`.
    Keyspace {
        /// The keyspace.
        keyspace: String,
    },
    /// TABLE: `<keyspace><table>`.
    Table {
        /// The keyspace.
        keyspace: String,
        /// The table.
        name: String,
    },
    /// TYPE: `<keyspace><type>`.
    Type {
        /// The keyspace.
        keyspace: String,
        /// The user-defined type.
        name: String,
    },
    /// FUNCTION: `<keyspace><function><arg types: [string list]>`.
    Function {
        /// The keyspace.
        keyspace: String,
        /// The function.
        name: String,
        /// The argument types, in CQL syntax.
        args: Vec<String>,
    },
    /// AGGREGATE: `<keyspace><aggregate><arg types: [string list]>`.
    Aggregate {
        /// The keyspace.
        keyspace: String,
        /// The aggregate.
        name: String,
        /// The argument types, in CQL syntax.
        args: Vec<String>,
    },
}

impl SchemaChangeTarget {
    /// The target as spelled on the wire.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Keyspace { .. } => "KEYSPACE",
            Self::Table { .. } => "TABLE",
            Self::Type { .. } => "TYPE",
            Self::Function { .. } => "FUNCTION",
            Self::Aggregate { .. } => "AGGREGATE",
        }
    }

    /// The keyspace the change is in.
    pub fn keyspace(&self) -> &str {
        match self {
            Self::Keyspace { keyspace }
            | Self::Table { keyspace, .. }
            | Self::Type { keyspace, .. }
            | Self::Function { keyspace, .. }
            | Self::Aggregate { keyspace, .. } => keyspace,
        }
    }
}

/// A schema change (RESULT kind 5, or the body of a SCHEMA_CHANGE event).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaChange {
    /// CREATED, UPDATED or DROPPED.
    pub change_type: SchemaChangeType,
    /// What changed.
    pub target: SchemaChangeTarget,
}

impl SchemaChange {
    /// Appends `<change_type><target><options>` to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        codec::write_string(buf, self.change_type.as_str())?;
        codec::write_string(buf, self.target.as_str())?;
        match &self.target {
            SchemaChangeTarget::Keyspace { keyspace } => codec::write_string(buf, keyspace),
            SchemaChangeTarget::Table { keyspace, name }
            | SchemaChangeTarget::Type { keyspace, name } => {
                codec::write_string(buf, keyspace)?;
                codec::write_string(buf, name)
            }
            SchemaChangeTarget::Function {
                keyspace,
                name,
                args,
            }
            | SchemaChangeTarget::Aggregate {
                keyspace,
                name,
                args,
            } => {
                codec::write_string(buf, keyspace)?;
                codec::write_string(buf, name)?;
                codec::write_string_list(buf, args)
            }
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let change_type = SchemaChangeType::from_wire(r.read_string("schema change type")?);
        let target = r.read_string("schema change target")?;
        let mut s = |what| r.read_string(what).map(str::to_owned);
        let target = match target {
            "KEYSPACE" => SchemaChangeTarget::Keyspace {
                keyspace: s("keyspace")?,
            },
            "TABLE" => SchemaChangeTarget::Table {
                keyspace: s("keyspace")?,
                name: s("table")?,
            },
            "TYPE" => SchemaChangeTarget::Type {
                keyspace: s("keyspace")?,
                name: s("type")?,
            },
            "FUNCTION" | "AGGREGATE" => {
                let keyspace = s("keyspace")?;
                let name = s("function")?;
                let args = r.read_string_list("argument types")?;
                if target == "FUNCTION" {
                    SchemaChangeTarget::Function {
                        keyspace,
                        name,
                        args,
                    }
                } else {
                    SchemaChangeTarget::Aggregate {
                        keyspace,
                        name,
                        args,
                    }
                }
            }
            other => {
                return Err(DecodeError::invalid(
                    "schema change target",
                    format!("unknown target {other:?}"),
                ));
            }
        };
        Ok(Self {
            change_type,
            target,
        })
    }
}
