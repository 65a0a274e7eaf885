//! [`RowWriter`]: appends `[value]`s to a request's buffer.

use bytes::BytesMut;
use proto::request::write_raw_value;
use proto::response::ColumnSpec;
use proto::{ColumnType, EncodeError, RawValue};

use super::{SerializationError, SerializeValue};

/// Appends the `[value]`s of one row (a statement's bound values) to a buffer.
///
/// Each `write_*` call appends exactly one `[value]`: an `[int]` length followed by the value's
/// bytes, or the length `-1` (null) or `-2` (unset). The writer counts the values it wrote so the
/// caller can check the count against the statement's bind markers.
#[derive(Debug)]
pub struct RowWriter<'buf> {
    buf: &'buf mut BytesMut,
    value_count: usize,
}

impl<'buf> RowWriter<'buf> {
    /// A writer appending to `buf`.
    pub fn new(buf: &'buf mut BytesMut) -> Self {
        Self {
            buf,
            value_count: 0,
        }
    }

    /// How many values were written so far.
    pub fn value_count(&self) -> usize {
        self.value_count
    }

    /// Writes `value` as the bind marker described by `spec`.
    ///
    /// `index` is the marker's position, used only in the error. The value is checked against the
    /// marker's CQL type by [`SerializeValue::serialize`].
    pub fn write_value<V: SerializeValue + ?Sized>(
        &mut self,
        index: usize,
        spec: &ColumnSpec,
        value: &V,
    ) -> Result<(), SerializationError> {
        self.write_typed(&spec.typ, value)
            .map_err(|source| SerializationError::Column {
                index,
                name: spec.name.to_string(),
                source,
            })
    }

    /// Writes `value` as CQL type `typ`, with its `[int]` length prefix.
    pub fn write_typed<V: SerializeValue + ?Sized>(
        &mut self,
        typ: &ColumnType,
        value: &V,
    ) -> Result<(), EncodeError> {
        let start = self.buf.len();
        if let Err(e) = value.serialize_cell(typ, self.buf) {
            self.buf.truncate(start);
            return Err(e);
        }
        self.value_count += 1;
        Ok(())
    }

    /// Writes a null value (length `-1`).
    pub fn write_null(&mut self) {
        self.write_marker(RawValue::Null);
    }

    /// Writes an unset value (length `-2`): the column keeps its current value.
    pub fn write_unset(&mut self) {
        self.write_marker(RawValue::Unset);
    }

    /// Writes a null or unset marker, which has no bytes and so always fits.
    fn write_marker(&mut self, marker: RawValue<'_>) {
        // `cql-proto` writes a bare length for these; nothing can overflow.
        let _ = write_raw_value(self.buf, marker);
        self.value_count += 1;
    }

    /// Writes already serialized value bytes (`None` = null) without any type check.
    pub fn write_raw(&mut self, bytes: Option<&[u8]>) -> Result<(), EncodeError> {
        let value = bytes.map_or(RawValue::Null, RawValue::Value);
        write_raw_value(self.buf, value)?;
        self.value_count += 1;
        Ok(())
    }
}
