//! [`RowWriter`]: appends `[value]`s to a request's buffer.

use bytes::{BufMut, BytesMut};
use proto::response::ColumnSpec;
use proto::{ColumnType, EncodeError};

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
        self.buf.put_i32(-1);
        self.value_count += 1;
    }

    /// Writes an unset value (length `-2`): the column keeps its current value.
    pub fn write_unset(&mut self) {
        self.buf.put_i32(-2);
        self.value_count += 1;
    }

    /// Writes already serialized value bytes (`None` = null) without any type check.
    pub fn write_raw(&mut self, bytes: Option<&[u8]>) -> Result<(), EncodeError> {
        match bytes {
            None => self.write_null(),
            Some(b) => {
                let len = i32::try_from(b.len()).map_err(|_| EncodeError::TooLong {
                    what: "bound value",
                    len: b.len(),
                })?;
                self.buf.put_i32(len);
                self.buf.put_slice(b);
                self.value_count += 1;
            }
        }
        Ok(())
    }
}

/// Reads back the `[value]`s a [`RowWriter`] wrote: `Some(bytes)`, or `None` for null and unset.
///
/// Stops at the first malformed length, which a `RowWriter` never writes.
pub(crate) fn raw_values(mut buf: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    std::iter::from_fn(move || {
        let (len, rest) = buf.split_first_chunk::<4>()?;
        let len = i32::from_be_bytes(*len);
        if len < 0 {
            buf = rest;
            return Some(None);
        }
        let len = usize::try_from(len).ok()?;
        if len > rest.len() {
            buf = &[];
            return None;
        }
        let (value, rest) = rest.split_at(len);
        buf = rest;
        Some(Some(value))
    })
}
