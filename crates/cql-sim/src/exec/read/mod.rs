//! SELECT: key lookups and token-ordered scans, clustering slices, filtering, paging, and the
//! reads behind LWT conditions.
//!
//! - [`select`]: the entry point, running one SELECT over the candidate partitions;
//! - [`selection`]: the output columns of a SELECT (columns, functions, aggregates, JSON);
//! - [`restrictions`]: the WHERE clause turned into keys, token and clustering ranges and
//!   per-row filters;
//! - [`rows`]: the live values of a stored row and the filters evaluated on it;
//! - [`scan`]: token-ordered scans merged from replicas, and the paging state;
//! - [`conditions`]: LWT conditions evaluated against the current row;
//! - [`view`]: the rows of a materialized view, derived from its base table.

use std::ops::Bound;

use bytes::Bytes;

use crate::exec::ColumnSpec;

mod conditions;
mod restrictions;
mod rows;
mod scan;
mod select;
mod selection;
mod view;

pub(crate) use conditions::{check_conditions, current_row};
pub(in crate::exec) use select::select;
pub(crate) use selection::result_columns;

/// A range of encoded clustering keys.
pub(crate) type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The serialized cells of one result row.
pub(crate) type RowCells = Vec<Option<Bytes>>;

/// Columns and cells shown with a failed LWT.
pub(crate) type Shown = (Vec<ColumnSpec>, Vec<Option<Bytes>>);
