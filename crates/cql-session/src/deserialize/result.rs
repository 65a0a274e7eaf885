//! [`TypedRowIterator`]: the rows of a result, decoded as a Rust row type.

use std::marker::PhantomData;

use proto::response::{ColumnSpec, RowIter};

use super::{ColumnIterator, DeserializationError, DeserializeRow};

/// Iterates over a result's rows, decoding each as `R`.
///
/// Created by [`QueryRowsResult::rows`](crate::response::query_result::QueryRowsResult::rows)
/// after `R` passed its type check. A malformed row yields an error and ends the iteration.
#[derive(Debug)]
pub struct TypedRowIterator<'frame, R> {
    specs: &'frame [ColumnSpec],
    rows: RowIter<'frame>,
    remaining: usize,
    _row: PhantomData<fn() -> R>,
}

impl<'frame, R: DeserializeRow<'frame>> TypedRowIterator<'frame, R> {
    pub(crate) fn new(
        specs: &'frame [ColumnSpec],
        rows: RowIter<'frame>,
        remaining: usize,
    ) -> Self {
        Self {
            specs,
            rows,
            remaining,
            _row: PhantomData,
        }
    }

    /// The result's column specs.
    pub fn column_specs(&self) -> &'frame [ColumnSpec] {
        self.specs
    }

    /// The number of rows not yet yielded.
    pub fn rows_remaining(&self) -> usize {
        self.remaining
    }
}

impl<'frame, R: DeserializeRow<'frame>> Iterator for TypedRowIterator<'frame, R> {
    type Item = Result<R, DeserializationError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match self.rows.next()? {
            Ok(raw) => Some(R::deserialize(ColumnIterator::new(self.specs, raw))),
            Err(e) => {
                self.remaining = 0;
                Some(Err(DeserializationError::Malformed(e)))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}
