//! BATCH (section 4.1.7):
//! `<type: [byte]><n: [short]><query_1>...<query_n><consistency: [short]><flags>`
//! `[<serial_consistency: [short]>][<timestamp: [long]>]` (v5 adds `[<keyspace>][<now_in_seconds>]`),
//! where each query is `<kind: [byte]><string_or_id><n: [short]><value_1>...<value_n>`.

use bytes::{BufMut, Bytes, BytesMut};

use super::SerializedValues;
use super::params::{
    TrailingFields, flags, read_consistency, read_flags, write_flags, write_trailing_fields,
};
use crate::codec::{self, Reader};
use crate::codes::{BatchType, Consistency};
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;
use crate::text::Text;

/// What a batch statement runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchStatementKind {
    /// Kind 0: a CQL string.
    Query(Text),
    /// Kind 1: a prepared statement id.
    Prepared(Bytes),
}

/// One statement of a BATCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchStatement {
    /// The statement.
    pub kind: BatchStatementKind,
    /// Its bound values.
    pub values: SerializedValues,
}

/// BATCH: several statements at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Logged, unlogged or counter.
    pub batch_type: BatchType,
    /// The statements.
    pub statements: Vec<BatchStatement>,
    /// The consistency level.
    pub consistency: Consistency,
    /// The serial consistency (flag 0x10).
    pub serial_consistency: Option<Consistency>,
    /// The default timestamp in microseconds (flag 0x20).
    pub timestamp: Option<i64>,
    /// The keyspace (flag 0x80, v5 only).
    pub keyspace: Option<String>,
    /// The "current time" in seconds (flag 0x100, v5 only).
    pub now_in_seconds: Option<i32>,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            batch_type: BatchType::LOGGED,
            statements: Vec::new(),
            consistency: Consistency::ONE,
            serial_consistency: None,
            timestamp: None,
            keyspace: None,
            now_in_seconds: None,
        }
    }
}

impl Batch {
    /// The flags this batch is sent with (0x40 when any statement's values are named).
    pub fn flags(&self) -> u32 {
        let mut f = 0;
        if self.serial_consistency.is_some() {
            f |= flags::SERIAL_CONSISTENCY;
        }
        if self.timestamp.is_some() {
            f |= flags::DEFAULT_TIMESTAMP;
        }
        if self.statements.iter().any(|s| s.values.has_names()) {
            f |= flags::NAMES_FOR_VALUES;
        }
        if self.keyspace.is_some() {
            f |= flags::KEYSPACE;
        }
        if self.now_in_seconds.is_some() {
            f |= flags::NOW_IN_SECONDS;
        }
        f
    }

    pub(crate) fn encode(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let f = self.flags();
        let named = f & flags::NAMES_FOR_VALUES != 0;
        buf.put_u8(self.batch_type.0);
        let n = u16::try_from(self.statements.len()).map_err(|_| EncodeError::TooLong {
            what: "batch statements",
            len: self.statements.len(),
        })?;
        codec::write_short(buf, n);
        for s in &self.statements {
            match &s.kind {
                BatchStatementKind::Query(q) => {
                    buf.put_u8(0);
                    codec::write_long_text(buf, q)?;
                }
                BatchStatementKind::Prepared(id) => {
                    buf.put_u8(1);
                    codec::write_short_bytes(buf, id)?;
                }
            }
            s.values.write(buf, named && !s.values.is_empty())?;
        }
        codec::write_short(buf, self.consistency.0);
        write_flags(buf, version, f)?;
        write_trailing_fields(
            buf,
            self.serial_consistency,
            self.timestamp,
            self.keyspace.as_deref(),
            self.now_in_seconds,
        )
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        // The flags saying whether values are named come after the statements. A BATCH body
        // ends with its flags' fields, so parse with the unnamed layout first and accept it when
        // it consumes the whole body and its flags agree; otherwise parse again named.
        let mut unnamed = r.clone();
        if let Ok((batch, f)) = Self::read_layout(&mut unnamed, body, version, false)
            && f & flags::NAMES_FOR_VALUES == 0
            && unnamed.is_empty()
        {
            *r = unnamed;
            return Ok(batch);
        }
        let mut named = r.clone();
        let (batch, f) = Self::read_layout(&mut named, body, version, true)?;
        if f & flags::NAMES_FOR_VALUES == 0 {
            return Err(DecodeError::invalid(
                "batch",
                "statements do not match the batch flags",
            ));
        }
        *r = named;
        Ok(batch)
    }

    fn read_layout(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
        named: bool,
    ) -> Result<(Self, u32), DecodeError> {
        let batch_type = BatchType(r.read_u8("batch type")?);
        let n = r.read_short("batch statement count")?;
        let mut statements = Vec::with_capacity(usize::from(n).min(r.remaining() / 7));
        for _ in 0..n {
            let kind = match r.read_u8("batch statement kind")? {
                0 => BatchStatementKind::Query(r.read_long_text(body, "query string")?),
                1 => {
                    BatchStatementKind::Prepared(body.slice_ref(r.read_short_bytes("prepared id")?))
                }
                k => {
                    return Err(DecodeError::invalid(
                        "batch statement kind",
                        format!("expected 0 or 1, got {k}"),
                    ));
                }
            };
            let values = SerializedValues::read(r, body, named)?;
            statements.push(BatchStatement { kind, values });
        }
        let consistency = read_consistency(r, "consistency")?;
        let f = read_flags(r, version)?;
        let TrailingFields {
            serial_consistency,
            timestamp,
            keyspace,
            now_in_seconds,
        } = TrailingFields::read(r, f)?;
        let batch = Self {
            batch_type,
            statements,
            consistency,
            serial_consistency,
            timestamp,
            keyspace,
            now_in_seconds,
        };
        Ok((batch, f))
    }
}
