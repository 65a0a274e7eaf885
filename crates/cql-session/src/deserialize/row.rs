//! [`DeserializeRow`]: a Rust type built from one result row, and its implementations.
//!
//! # Implementing `DeserializeRow` (and what `#[derive(DeserializeRow)]` generates)
//!
//! A row type is checked once per result against the result's column specs
//! ([`DeserializeRow::type_check`]), then built from each row's columns
//! ([`DeserializeRow::deserialize`]). `deserialize` may assume `type_check` passed with the same
//! specs, but must still not panic on any input.
//!
//! A derived implementation on a struct with named fields matches **fields to columns by name**
//! (`ColumnSpec::name`; a field attribute may rename it). Every column must have a field and every
//! field a column. The generated code is:
//!
//! ```ignore
//! impl<'frame> DeserializeRow<'frame> for User<'frame> {
//!     fn type_check(specs: &[ColumnSpec]) -> Result<(), TypeCheckError> {
//!         let mut seen = [false; 2];
//!         for (index, spec) in specs.iter().enumerate() {
//!             match spec.name.as_str() {
//!                 "id" => { type_check_column::<Self, i64>(index, spec)?; seen[0] = true; }
//!                 "name" => { type_check_column::<Self, &'frame str>(index, spec)?; seen[1] = true; }
//!                 other => return Err(mk_unexpected_column_err::<Self>(other)),
//!             }
//!         }
//!         for (field, was_seen) in ["id", "name"].iter().zip(seen) {
//!             if !was_seen {
//!                 return Err(mk_missing_column_typck_err::<Self>(field));
//!             }
//!         }
//!         Ok(())
//!     }
//!
//!     fn deserialize(row: ColumnIterator<'frame>) -> Result<Self, DeserializationError> {
//!         let mut id = None;
//!         let mut name = None;
//!         for col in row {
//!             let col = col?;
//!             match col.spec.name.as_str() {
//!                 "id" => id = Some(deserialize_column::<Self, i64>(col)?),
//!                 "name" => name = Some(deserialize_column::<Self, &'frame str>(col)?),
//!                 // Unreachable after a passed type check; skip rather than panic.
//!                 _ => {}
//!             }
//!         }
//!         Ok(Self {
//!             id: id.ok_or_else(|| mk_missing_column_deser_err::<Self>("id"))?,
//!             name: name.ok_or_else(|| mk_missing_column_deser_err::<Self>("name"))?,
//!         })
//!     }
//! }
//! ```
//!
//! Generated code should name every item through `::cql_session::_macro_internal` (a hidden
//! module re-exporting the traits, `ColumnSpec` and the helper functions below).
//!
//! A tuple struct (or a struct with a "positional" attribute) instead checks the count with
//! [`mk_wrong_count_typck_err`] and reads columns in order, like the tuple implementations here.
//! The helper functions below are public for derived code; they put the Rust type's name and the
//! column's name and position into every error.

use proto::CqlValue;
use proto::response::{CellIter, ColumnSpec, RawRow};

use super::{DeserializationError, DeserializeValue, TypeCheckError};
use crate::serialize::row::for_each_tuple;
use crate::value::Row;

/// One column of one row, not yet decoded.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RawColumn<'frame> {
    /// The column's position in the row.
    pub index: usize,
    /// The column's name and type.
    pub spec: &'frame ColumnSpec,
    /// The column's bytes in the frame; `None` is null.
    pub slice: Option<&'frame [u8]>,
}

/// Iterates over the columns of one row, yielding [`RawColumn`]s.
///
/// Yields exactly one item per column spec. A malformed row yields an error and then ends.
#[derive(Debug, Clone)]
pub struct ColumnIterator<'frame> {
    specs: &'frame [ColumnSpec],
    index: usize,
    cells: CellIter<'frame>,
    failed: bool,
}

impl<'frame> ColumnIterator<'frame> {
    pub(crate) fn new(specs: &'frame [ColumnSpec], row: RawRow<'frame>) -> Self {
        Self {
            specs,
            index: 0,
            cells: row.cells(),
            failed: false,
        }
    }

    /// The specs of all the row's columns.
    pub fn specs(&self) -> &'frame [ColumnSpec] {
        self.specs
    }

    /// How many columns are left.
    pub fn columns_remaining(&self) -> usize {
        if self.failed {
            0
        } else {
            self.specs.len() - self.index
        }
    }
}

impl<'frame> Iterator for ColumnIterator<'frame> {
    type Item = Result<RawColumn<'frame>, DeserializationError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let spec = self.specs.get(self.index)?;
        match self.cells.next() {
            Some(slice) => {
                let col = RawColumn {
                    index: self.index,
                    spec,
                    slice,
                };
                self.index += 1;
                Some(Ok(col))
            }
            // The row has fewer cells than the result has columns.
            None => Some(Err(short_row(self))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.columns_remaining();
        (0, Some(n))
    }
}

/// A Rust type built from one row of a result.
///
/// Implemented for tuples of up to 16 [`DeserializeValue`]s (by position) and [`Row`] (any
/// columns, as [`CqlValue`]s). Derive it for a struct with `#[derive(DeserializeRow)]` (feature
/// `derive`); see the [module docs](self) for the contract.
///
/// `'frame` is the lifetime of the response frame (and its column specs): a row type may borrow
/// `&'frame str` or `&'frame [u8]` from it.
pub trait DeserializeRow<'frame>: Sized {
    /// Checks that this type can be built from rows with these columns.
    fn type_check(specs: &[ColumnSpec]) -> Result<(), TypeCheckError>;

    /// Builds a value from one row.
    fn deserialize(row: ColumnIterator<'frame>) -> Result<Self, DeserializationError>;
}

/// A row type that borrows nothing from the frame (`for<'frame> DeserializeRow<'frame>`), so
/// it can outlive the page it was read from: what pagers yield.
pub trait DeserializeOwnedRow: for<'frame> DeserializeRow<'frame> {}

impl<T: for<'frame> DeserializeRow<'frame>> DeserializeOwnedRow for T {}

/// Checks that column `index` (`spec`) can be read as `V`, for row type `R`. For derived code.
pub fn type_check_column<'frame, R: ?Sized, V: DeserializeValue<'frame>>(
    index: usize,
    spec: &ColumnSpec,
) -> Result<(), TypeCheckError> {
    V::type_check(&spec.typ).map_err(|source| TypeCheckError::ColumnType {
        rust_type: std::any::type_name::<R>(),
        index,
        name: spec.name.to_string(),
        source,
    })
}

/// Decodes `col` as `V`, for row type `R`. For derived code.
pub fn deserialize_column<'frame, R: ?Sized, V: DeserializeValue<'frame>>(
    col: RawColumn<'frame>,
) -> Result<V, DeserializationError> {
    V::deserialize(&col.spec.typ, col.slice)
        .map_err(|source| column_error::<R>(col.index, col.spec, source))
}

/// The type-check error for a field of `R` with no column of that name. For derived code.
pub fn mk_missing_column_typck_err<R: ?Sized>(name: &str) -> TypeCheckError {
    TypeCheckError::MissingColumn {
        rust_type: std::any::type_name::<R>(),
        name: name.to_owned(),
    }
}

/// The type-check error for a column that `R` has no field for. For derived code.
pub fn mk_unexpected_column_err<R: ?Sized>(name: &str) -> TypeCheckError {
    TypeCheckError::UnexpectedColumn {
        rust_type: std::any::type_name::<R>(),
        name: name.to_owned(),
    }
}

/// The type-check error for a positional `R` of `expected` values and `got` columns. For derived
/// code.
pub fn mk_wrong_count_typck_err<R: ?Sized>(expected: usize, got: usize) -> TypeCheckError {
    TypeCheckError::WrongColumnCount {
        rust_type: std::any::type_name::<R>(),
        expected,
        got,
    }
}

/// The deserialization error for a field of `R` whose column the row did not have. For derived
/// code.
pub fn mk_missing_column_deser_err<R: ?Sized>(name: &str) -> DeserializationError {
    DeserializationError::MissingColumn {
        rust_type: std::any::type_name::<R>(),
        name: name.to_owned(),
    }
}

/// Takes the next column of a positional row `R`. For derived code.
pub fn next_column<'frame, R: ?Sized>(
    row: &mut ColumnIterator<'frame>,
    index: usize,
) -> Result<RawColumn<'frame>, DeserializationError> {
    match row.next() {
        Some(col) => col,
        None => Err(mk_missing_column_deser_err::<R>(&index.to_string())),
    }
}

/// Reads the next column of a positional row `R` as `V`: [`next_column`] and
/// [`deserialize_column`] in one step, without building a [`RawColumn`] or moving an
/// `Option<Result<..>>` per cell (the row-decoding hot path). For derived code.
#[inline]
pub fn next_value<'frame, R: ?Sized, V: DeserializeValue<'frame>>(
    row: &mut ColumnIterator<'frame>,
    index: usize,
) -> Result<V, DeserializationError> {
    let (spec, cell) = match (row.failed, row.specs.get(row.index)) {
        (false, Some(spec)) => match row.cells.next() {
            Some(cell) => (spec, cell),
            None => return Err(short_row(row)),
        },
        _ => return Err(mk_missing_column_deser_err::<R>(&index.to_string())),
    };
    let at = row.index;
    row.index += 1;
    V::deserialize(&spec.typ, cell).map_err(|source| column_error::<R>(at, spec, source))
}

/// The error of a row with fewer cells than the result has columns; ends the iteration.
#[cold]
#[inline(never)]
fn short_row(row: &mut ColumnIterator<'_>) -> DeserializationError {
    row.failed = true;
    DeserializationError::Malformed(proto::DecodeError::UnexpectedEof {
        what: "row cell",
        needed: 4,
    })
}

#[cold]
#[inline(never)]
fn column_error<R: ?Sized>(
    index: usize,
    spec: &ColumnSpec,
    source: proto::DecodeError,
) -> DeserializationError {
    DeserializationError::Column {
        rust_type: std::any::type_name::<R>(),
        index,
        name: spec.name.to_string(),
        source,
    }
}

impl<'frame> DeserializeRow<'frame> for ColumnIterator<'frame> {
    fn type_check(_specs: &[ColumnSpec]) -> Result<(), TypeCheckError> {
        Ok(())
    }

    fn deserialize(row: Self) -> Result<Self, DeserializationError> {
        Ok(row)
    }
}

impl<'frame> DeserializeRow<'frame> for Row {
    fn type_check(_specs: &[ColumnSpec]) -> Result<(), TypeCheckError> {
        Ok(())
    }

    fn deserialize(row: ColumnIterator<'frame>) -> Result<Self, DeserializationError> {
        let mut columns = Vec::with_capacity(row.columns_remaining());
        for col in row {
            let col = col?;
            let value = match col.slice {
                None => None,
                Some(bytes) => Some(CqlValue::decode_bytes(&col.spec.typ, bytes).map_err(
                    |source| DeserializationError::Column {
                        rust_type: std::any::type_name::<Self>(),
                        index: col.index,
                        name: col.spec.name.to_string(),
                        source,
                    },
                )?),
            };
            columns.push(value);
        }
        Ok(Self { columns })
    }
}

macro_rules! impl_tuple {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<'frame, $($t: DeserializeValue<'frame>),+> DeserializeRow<'frame> for ($($t,)+) {
            fn type_check(specs: &[ColumnSpec]) -> Result<(), TypeCheckError> {
                if specs.len() != $n {
                    return Err(mk_wrong_count_typck_err::<Self>($n, specs.len()));
                }
                $( type_check_column::<Self, $t>($i, &specs[$i])?; )+
                Ok(())
            }

            fn deserialize(mut row: ColumnIterator<'frame>) -> Result<Self, DeserializationError> {
                Ok(($( next_value::<Self, $t>(&mut row, $i)?, )+))
            }
        }
    };
}

for_each_tuple!(impl_tuple);
