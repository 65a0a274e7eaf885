//! Support for derived code: row structs that can be flattened into other row structs.
//!
//! `#[derive(DeserializeRow)]` (with the default `match_by_name` flavor) implements
//! [`DeserializeRowByName`] next to [`DeserializeRow`], so the struct can be a
//! `#[cql(flatten)]` field of another derived row. Not a stable API: implement
//! [`DeserializeRow`] by hand instead.

use proto::response::ColumnSpec;

use super::{ColumnIterator, DeserializationError, DeserializeRow, TypeCheckError};

/// A row type whose fields are matched to columns by name, and which can therefore take its
/// columns out of a row shared with other fields (`#[cql(flatten)]`). For derived code.
pub trait DeserializeRowByName<'frame>: DeserializeRow<'frame> {
    /// Type-checks the column `spec` (at `index`) if this type, or a type flattened into it,
    /// has a field of its name; `None` when none has.
    fn type_check_by_name(index: usize, spec: &ColumnSpec) -> Option<Result<(), TypeCheckError>>;

    /// Checks that `specs` has a column for every field this type requires.
    fn check_required(specs: &[ColumnSpec]) -> Result<(), TypeCheckError>;

    /// Builds a value from the columns of `row` it has fields for, skipping every other column.
    fn deserialize_by_name(row: ColumnIterator<'frame>) -> Result<Self, DeserializationError>;
}
