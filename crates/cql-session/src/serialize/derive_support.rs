//! Support for derived code: row structs that can be flattened into other row structs.
//!
//! `#[derive(SerializeRow)]` (with the default `match_by_name` flavor) implements
//! [`SerializeRowByName`] next to [`SerializeRow`], so the struct can be a `#[cql(flatten)]`
//! field of another derived row. Not a stable API: implement [`SerializeRow`] by hand instead.

use proto::response::ColumnSpec;

use super::{RowWriter, SerializationError, SerializeRow};

/// A row type whose fields are matched to bind markers by name, and which can therefore fill
/// some of the markers of a row shared with other fields (`#[cql(flatten)]`). For derived code.
pub trait SerializeRowByName: SerializeRow {
    /// Writes the value of the bind marker `spec` (at `index`) if this type, or a type
    /// flattened into it, has a field of its name; `Ok(false)` (nothing written) when none has.
    fn serialize_by_name(
        &self,
        index: usize,
        spec: &ColumnSpec,
        writer: &mut RowWriter<'_>,
    ) -> Result<bool, SerializationError>;

    /// Checks that `columns` has a bind marker for every field of this type.
    fn check_all_used(columns: &[ColumnSpec]) -> Result<(), SerializationError>;
}
