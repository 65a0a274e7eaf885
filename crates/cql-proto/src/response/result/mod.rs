//! RESULT (section 4.2.5): `<kind: [int]>` and a kind-specific body.

mod metadata;
mod prepared;
mod rows;
mod schema_change;

use bytes::{Bytes, BytesMut};

pub use metadata::{ColumnSpec, ResultMetadata, TableSpec};
pub use prepared::{Prepared, PreparedMetadata};
pub use rows::{CellIter, RawRow, RowIter, Rows, RowsWriter};
pub use schema_change::{SchemaChange, SchemaChangeTarget};

use crate::codec::{self, Reader};
use crate::codes::ResultKind;
use crate::error::{DecodeError, EncodeError};
use crate::frame::{BodyExtensions, ProtocolVersion};

/// A RESULT body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResultBody {
    /// Kind 1: nothing.
    Void,
    /// Kind 2: rows of a SELECT.
    Rows(Rows),
    /// Kind 3: the keyspace set by USE.
    SetKeyspace(String),
    /// Kind 4: a prepared statement. Boxed: it is the largest kind and the rarest on the hot
    /// path, and every response is moved through the driver's layers at the size of its largest
    /// variant.
    Prepared(Box<Prepared>),
    /// Kind 5: a schema change.
    SchemaChange(SchemaChange),
}

impl ResultBody {
    /// The result kind.
    pub const fn kind(&self) -> ResultKind {
        match self {
            Self::Void => ResultKind::VOID,
            Self::Rows(_) => ResultKind::ROWS,
            Self::SetKeyspace(_) => ResultKind::SET_KEYSPACE,
            Self::Prepared(_) => ResultKind::PREPARED,
            Self::SchemaChange(_) => ResultKind::SCHEMA_CHANGE,
        }
    }

    /// Appends the body (kind included) to `buf`.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
        codec::write_int(buf, self.kind().0);
        match self {
            Self::Void => Ok(()),
            Self::Rows(r) => r.encode(buf),
            Self::SetKeyspace(k) => codec::write_string(buf, k),
            Self::Prepared(p) => p.encode(version, buf),
            Self::SchemaChange(s) => s.encode(buf),
        }
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
        ext: BodyExtensions,
    ) -> Result<Self, DecodeError> {
        let kind = ResultKind(r.read_int("result kind")?);
        Ok(match kind {
            ResultKind::VOID => Self::Void,
            ResultKind::ROWS => Self::Rows(Rows::read(r, body)?),
            ResultKind::SET_KEYSPACE => Self::SetKeyspace(r.read_string("keyspace")?.to_owned()),
            ResultKind::PREPARED => Self::Prepared(Box::new(Prepared::read(r, version, ext)?)),
            ResultKind::SCHEMA_CHANGE => Self::SchemaChange(SchemaChange::read(r)?),
            other => {
                return Err(DecodeError::invalid(
                    "result kind",
                    format!("unknown kind {other}"),
                ));
            }
        })
    }
}
