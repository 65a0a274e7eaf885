//! [`BatchValues`]: one row of bound values per statement of a batch.

use super::row::for_each_tuple;
use super::{RowSerializationContext, RowWriter, SerializationError, SerializeRow};

/// The bound values of a batch: one [`SerializeRow`] per statement, in statement order.
///
/// Implemented for `()` (every statement takes no values), slices and `Vec`s of one row type,
/// `&T`, and tuples of up to 16 rows of different types.
pub trait BatchValues {
    /// The number of rows (it must equal the number of statements in the batch).
    fn len(&self) -> usize;

    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Serializes row `n` (`n < len()`) with the bind markers of statement `n`.
    fn serialize_nth(
        &self,
        n: usize,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter<'_>,
    ) -> Result<(), SerializationError>;

    /// Whether row `n` has no values (so an unprepared statement need not be prepared).
    fn is_nth_empty(&self, n: usize) -> bool;
}

impl BatchValues for () {
    /// `()` fits a batch of any size, giving every statement no values.
    fn len(&self) -> usize {
        usize::MAX
    }

    fn serialize_nth(
        &self,
        _n: usize,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter<'_>,
    ) -> Result<(), SerializationError> {
        ().serialize(ctx, writer)
    }

    fn is_nth_empty(&self, _n: usize) -> bool {
        true
    }
}

impl<B: BatchValues + ?Sized> BatchValues for &B {
    fn len(&self) -> usize {
        (**self).len()
    }

    fn serialize_nth(
        &self,
        n: usize,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter<'_>,
    ) -> Result<(), SerializationError> {
        (**self).serialize_nth(n, ctx, writer)
    }

    fn is_nth_empty(&self, n: usize) -> bool {
        (**self).is_nth_empty(n)
    }
}

impl<R: SerializeRow> BatchValues for [R] {
    fn len(&self) -> usize {
        <[R]>::len(self)
    }

    fn serialize_nth(
        &self,
        n: usize,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter<'_>,
    ) -> Result<(), SerializationError> {
        match self.get(n) {
            Some(row) => row.serialize(ctx, writer),
            None => ().serialize(ctx, writer),
        }
    }

    fn is_nth_empty(&self, n: usize) -> bool {
        self.get(n).is_none_or(SerializeRow::is_empty)
    }
}

impl<R: SerializeRow> BatchValues for Vec<R> {
    fn len(&self) -> usize {
        Self::len(self)
    }

    fn serialize_nth(
        &self,
        n: usize,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter<'_>,
    ) -> Result<(), SerializationError> {
        self.as_slice().serialize_nth(n, ctx, writer)
    }

    fn is_nth_empty(&self, n: usize) -> bool {
        self.as_slice().is_nth_empty(n)
    }
}

macro_rules! impl_batch_tuple {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<$($t: SerializeRow),+> BatchValues for ($($t,)+) {
            fn len(&self) -> usize {
                $n
            }

            fn serialize_nth(
                &self,
                n: usize,
                ctx: &RowSerializationContext<'_>,
                writer: &mut RowWriter<'_>,
            ) -> Result<(), SerializationError> {
                match n {
                    $( $i => self.$i.serialize(ctx, writer), )+
                    _ => ().serialize(ctx, writer),
                }
            }

            fn is_nth_empty(&self, n: usize) -> bool {
                match n {
                    $( $i => self.$i.is_empty(), )+
                    _ => true,
                }
            }
        }
    };
}

for_each_tuple!(impl_batch_tuple);
