//! [`SerializeRow`]: a statement's bound values, and its implementations for std types.
//!
//! # Implementing `SerializeRow` (and what `#[derive(SerializeRow)]` generates)
//!
//! [`SerializeRow::serialize`] receives the statement's bind markers in
//! [`RowSerializationContext::columns`] and must call exactly one `RowWriter::write_*` per marker,
//! in marker order. The caller checks afterwards that the writer's
//! [`value_count`](super::RowWriter::value_count) equals the number of markers.
//!
//! A derived implementation on a struct with named fields matches **fields to bind markers by
//! name** (the marker name is `ColumnSpec::name`: the column name for `col = ?`, or the name of a
//! `:name` marker). A field attribute may rename it. The generated code is:
//!
//! ```ignore
//! impl SerializeRow for User {
//!     fn serialize(
//!         &self,
//!         ctx: &RowSerializationContext<'_>,
//!         writer: &mut RowWriter<'_>,
//!     ) -> Result<(), SerializationError> {
//!         // One `used` flag per field.
//!         let mut used = [false; 2];
//!         for (index, spec) in ctx.columns().iter().enumerate() {
//!             match spec.name.as_str() {
//!                 "id" => { writer.write_value(index, spec, &self.id)?; used[0] = true; }
//!                 "name" => { writer.write_value(index, spec, &self.name)?; used[1] = true; }
//!                 other => return Err(mk_value_missing_err::<Self>(other)),
//!             }
//!         }
//!         // A field no marker asked for is an error (it is probably a typo).
//!         for (field, was_used) in ["id", "name"].iter().zip(used) {
//!             if !was_used {
//!                 return Err(mk_no_column_err::<Self>(field));
//!             }
//!         }
//!         Ok(())
//!     }
//!
//!     fn is_empty(&self) -> bool {
//!         false // `true` only for a struct without fields
//!     }
//! }
//! ```
//!
//! Generated code should name every item through `::cql_session::_macro_internal` (a hidden
//! module re-exporting the traits, `ColumnSpec` and the helper functions below).
//!
//! A marker name that appears twice (`:id` used twice) writes the same field twice. A tuple struct
//! (or a struct with a "positional" attribute) instead writes its fields in order and checks the
//! count first with [`mk_wrong_count_err`], like the tuple implementations here.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use proto::response::{ColumnSpec, PreparedMetadata};

use super::{RowWriter, SerializationError, SerializeValue};

/// What a row needs to know to serialize itself: the statement's bind markers.
#[derive(Debug, Clone, Copy)]
pub struct RowSerializationContext<'a> {
    columns: &'a [ColumnSpec],
}

impl<'a> RowSerializationContext<'a> {
    /// The context of a prepared statement: its bind markers' names and types.
    pub fn from_prepared(prepared: &'a PreparedMetadata) -> Self {
        Self {
            columns: &prepared.col_specs,
        }
    }

    /// A context from bind-marker column specs.
    pub fn from_specs(columns: &'a [ColumnSpec]) -> Self {
        Self { columns }
    }

    /// A context with no bind markers (a statement that takes no values).
    pub const fn empty() -> Self {
        Self { columns: &[] }
    }

    /// The bind markers, in the order their values must be written.
    pub fn columns(&self) -> &'a [ColumnSpec] {
        self.columns
    }

    /// The first bind marker with this name.
    pub fn column_by_name(&self, name: &str) -> Option<&'a ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The bound values of one statement, serialized as a row of `[value]`s.
///
/// Implemented for `()` (no values), `&T`, slices and `Vec`s of one [`SerializeValue`] type,
/// `[&dyn SerializeValue]` (through `&T: SerializeValue`), tuples of up to 16 [`SerializeValue`]s (positional), and
/// `HashMap`/`BTreeMap` from names to values (by bind-marker name). Derive it for a struct with
/// `#[derive(SerializeRow)]` (feature `derive`); see the [module docs](self) for the contract.
///
/// The trait is object safe: `&dyn SerializeRow` is a row too.
pub trait SerializeRow {
    /// Writes one value per bind marker of `ctx`, in marker order.
    ///
    /// On error the writer may hold part of the row; the caller discards the buffer.
    fn serialize(
        &self,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter<'_>,
    ) -> Result<(), SerializationError>;

    /// Whether the row has no values at all.
    ///
    /// An unprepared statement with an empty row is sent as is; one with values is prepared
    /// first so the values can be checked against the bind markers' types.
    fn is_empty(&self) -> bool;
}

/// The error for a bind marker that a named row (`R`) has no value for. For derived code.
pub fn mk_value_missing_err<R: ?Sized>(marker: &str) -> SerializationError {
    SerializationError::ValueMissingForColumn {
        rust_type: std::any::type_name::<R>(),
        name: marker.to_owned(),
    }
}

/// The error for a value of a named row (`R`) that no bind marker asked for. For derived code.
pub fn mk_no_column_err<R: ?Sized>(field: &str) -> SerializationError {
    SerializationError::NoColumnWithName {
        rust_type: std::any::type_name::<R>(),
        name: field.to_owned(),
    }
}

/// The error for a positional row (`R`) with `got` values for `expected` markers. For derived
/// code.
pub fn mk_wrong_count_err<R: ?Sized>(expected: usize, got: usize) -> SerializationError {
    SerializationError::WrongColumnCount {
        rust_type: std::any::type_name::<R>(),
        expected,
        got,
    }
}

/// Checks that a positional row `R` of `got` values fits `ctx`.
fn check_count<R: ?Sized>(
    ctx: &RowSerializationContext<'_>,
    got: usize,
) -> Result<(), SerializationError> {
    let expected = ctx.columns().len();
    if expected == got {
        Ok(())
    } else {
        Err(mk_wrong_count_err::<R>(expected, got))
    }
}

/// Rows of no values: `()`, and `[u8; 0]` for the `&[]` that `scylla` programs pass to unbound
/// statements (the one array type with a row impl, so `&[]` needs no annotation, as in the
/// `scylla` crate; non-empty arrays go as slices, `&[a, b][..]`, or `Vec`s).
macro_rules! impl_empty_row {
    ($($empty:ty),+) => {$(
        impl SerializeRow for $empty {
            fn serialize(
                &self,
                ctx: &RowSerializationContext<'_>,
                _writer: &mut RowWriter<'_>,
            ) -> Result<(), SerializationError> {
                check_count::<Self>(ctx, 0)
            }

            fn is_empty(&self) -> bool {
                true
            }
        }
    )+};
}

impl_empty_row!((), [u8; 0]);

/// A pointer to a row is that row.
macro_rules! impl_pointer_row {
    ($($ptr:ty),+) => {$(
        impl<T: SerializeRow + ?Sized> SerializeRow for $ptr {
            fn serialize(
                &self,
                ctx: &RowSerializationContext<'_>,
                writer: &mut RowWriter<'_>,
            ) -> Result<(), SerializationError> {
                (**self).serialize(ctx, writer)
            }

            fn is_empty(&self) -> bool {
                (**self).is_empty()
            }
        }
    )+};
}

impl_pointer_row!(&T, Box<T>);

/// Writes `values` positionally.
fn serialize_positional<'v, R: ?Sized, V: SerializeValue + ?Sized + 'v>(
    ctx: &RowSerializationContext<'_>,
    writer: &mut RowWriter<'_>,
    values: impl ExactSizeIterator<Item = &'v V>,
) -> Result<(), SerializationError> {
    check_count::<R>(ctx, values.len())?;
    for ((index, spec), v) in ctx.columns().iter().enumerate().zip(values) {
        writer.write_value(index, spec, v)?;
    }
    Ok(())
}

/// A slice or `Vec` of values is a positional row.
macro_rules! impl_positional_row {
    ($($seq:ty),+) => {$(
        impl<T: SerializeValue> SerializeRow for $seq {
            fn serialize(
                &self,
                ctx: &RowSerializationContext<'_>,
                writer: &mut RowWriter<'_>,
            ) -> Result<(), SerializationError> {
                serialize_positional::<Self, T>(ctx, writer, self.iter())
            }

            fn is_empty(&self) -> bool {
                <[T]>::is_empty(self)
            }
        }
    )+};
}

impl_positional_row!([T], Vec<T>);

/// Writes a named row: for each marker, the value under its name; every value must be used.
fn serialize_named<'m, R: ?Sized, K, V, I>(
    ctx: &RowSerializationContext<'_>,
    writer: &mut RowWriter<'_>,
    len: usize,
    get: impl Fn(&str) -> Option<&'m V>,
    keys: I,
) -> Result<(), SerializationError>
where
    K: Borrow<str> + 'm,
    V: SerializeValue + 'm,
    I: Iterator<Item = &'m K>,
{
    let mut found = 0usize;
    for (index, spec) in ctx.columns().iter().enumerate() {
        let Some(v) = get(&spec.name) else {
            return Err(mk_value_missing_err::<R>(&spec.name));
        };
        writer.write_value(index, spec, v)?;
        // A name used by two markers counts once.
        if ctx.columns()[..index].iter().all(|c| c.name != spec.name) {
            found += 1;
        }
    }
    if found < len {
        for k in keys {
            if ctx.column_by_name(k.borrow()).is_none() {
                return Err(mk_no_column_err::<R>(k.borrow()));
            }
        }
    }
    Ok(())
}

/// A map is a named row: each bind marker takes the value under its name.
macro_rules! impl_map_row {
    (impl<$($g:ident),+> for $map:ty where $($bounds:tt)+) => {
        impl<$($g),+> SerializeRow for $map
        where
            $($bounds)+
        {
            fn serialize(
                &self,
                ctx: &RowSerializationContext<'_>,
                writer: &mut RowWriter<'_>,
            ) -> Result<(), SerializationError> {
                serialize_named::<Self, K, V, _>(ctx, writer, self.len(), |n| self.get(n), self.keys())
            }

            fn is_empty(&self) -> bool {
                Self::is_empty(self)
            }
        }
    };
}

impl_map_row!(impl<K, V, S> for HashMap<K, V, S> where K: Borrow<str> + Hash + Eq, V: SerializeValue, S: BuildHasher);
impl_map_row!(impl<K, V> for BTreeMap<K, V> where K: Borrow<str> + Ord, V: SerializeValue);

/// Calls `$m!(n; A 0, B 1, …)` once per tuple arity from 1 to 16 (the arity, then each element's
/// type parameter and index), so that each tuple impl of the row and batch traits is written
/// once.
macro_rules! for_each_tuple {
    ($m:ident) => {
        $m!(1; A 0);
        $m!(2; A 0, B 1);
        $m!(3; A 0, B 1, C 2);
        $m!(4; A 0, B 1, C 2, D 3);
        $m!(5; A 0, B 1, C 2, D 3, E 4);
        $m!(6; A 0, B 1, C 2, D 3, E 4, F 5);
        $m!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
        $m!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
        $m!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
        $m!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
        $m!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
        $m!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
        $m!(13; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
        $m!(14; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
        $m!(15; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
        $m!(16; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
    };
}
pub(crate) use for_each_tuple;

macro_rules! impl_tuple {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<$($t: SerializeValue),+> SerializeRow for ($($t,)+) {
            fn serialize(
                &self,
                ctx: &RowSerializationContext<'_>,
                writer: &mut RowWriter<'_>,
            ) -> Result<(), SerializationError> {
                check_count::<Self>(ctx, $n)?;
                let cols = ctx.columns();
                $( writer.write_value($i, &cols[$i], &self.$i)?; )+
                Ok(())
            }

            fn is_empty(&self) -> bool {
                false
            }
        }
    };
}

for_each_tuple!(impl_tuple);
