//! INSERT, UPDATE, DELETE and BATCH: statements become partition mutations, conditions are
//! checked on one replica, and mutations are applied to every replica.
//!
//! This file holds the mutation types the submodules share:
//! - [`keys`]: the key values a write's WHERE clause (or VALUES) restricts, and the encoded
//!   clustering bounds of a slice (also used by reads);
//! - [`writer`]: one statement's assignments and values turned into column operations;
//! - [`batch`]: the entry point, every statement of a batch turned into [`Mutation`]s;
//! - [`lwt`]: the conditions of a conditional batch checked on one replica;
//! - [`pack`]: a mutation's bytes copied into one buffer before it is stored;
//! - [`apply`]: mutations applied to the partitions of a replica.

use std::sync::Arc;

use bytes::Bytes;

use crate::cql::ast::*;
use crate::exec::BoundValue;
use crate::schema::TableDef;
use crate::storage::{Cell, Element, PartitionKey, RangeTombstone};

mod apply;
mod batch;
mod keys;
mod lwt;
mod pack;
mod writer;

pub(in crate::exec) use batch::batch;
pub(crate) use keys::{
    cartesian, clustering_types, eq_values, int_term, partition_key, range_bounds,
    require_partition_key,
};

/// One side of a clustering slice: the value and whether it is inclusive.
pub(crate) type SliceBound = Option<(Bytes, bool)>;

/// A clustering slice: lower and upper bounds on one column.
pub(crate) type Slice = (SliceBound, SliceBound);

/// An operation on one column.
#[derive(Debug, Clone)]
pub(crate) enum ColOp {
    /// Overwrite a simple cell (or tombstone it).
    Set(Cell),
    /// Replace a whole non-frozen collection: tombstone at `ts - 1`, then these elements.
    Replace {
        ts: i64,
        elements: Vec<(Vec<u8>, Element)>,
    },
    /// Add elements (set/map union, map put).
    Put(Vec<(Vec<u8>, Element)>),
    /// Append (or prepend) list values.
    Append {
        values: Vec<Bytes>,
        prepend: bool,
        cell: Cell,
    },
    /// Remove elements by key (set/map).
    RemoveKeys { keys: Vec<Vec<u8>>, ts: i64 },
    /// Remove every list element equal to one of these values.
    RemoveValues { values: Vec<Bytes>, ts: i64 },
    /// Set list element at an index.
    SetIndex { index: i32, cell: Cell },
    /// Delete list element at an index.
    DeleteIndex { index: i32, ts: i64 },
    /// Delete the whole collection.
    DeleteCollection { ts: i64 },
    /// Add to a counter.
    Counter(i64),
    /// Set one field of a (non-frozen) UDT value; the value is kept whole, so the field is
    /// merged into the current value and the result written with the update's timestamp.
    SetField {
        index: usize,
        count: usize,
        cell: Cell,
    },
}

/// A mutation of one row (or the static row, or the partition).
#[derive(Debug, Clone)]
pub(crate) struct RowMutation {
    pub(crate) clustering: Option<(Vec<u8>, Vec<Bytes>)>,
    pub(crate) marker: Option<Cell>,
    pub(crate) delete_row: Option<i64>,
    pub(crate) ops: Vec<(String, bool, ColOp)>,
}

/// A mutation of one partition.
#[derive(Debug, Clone)]
pub(crate) struct Mutation {
    pub(crate) table: Arc<TableDef>,
    pub(crate) key: PartitionKey,
    pub(crate) key_values: Vec<Bytes>,
    pub(crate) delete_partition: Option<i64>,
    pub(crate) range_deletes: Vec<RangeTombstone>,
    pub(crate) rows: Vec<RowMutation>,
}

/// A statement of a batch, its bound values and the keyspace unqualified names resolve in.
pub(super) type BatchItem<'a> = (&'a Statement, &'a [BoundValue], Option<&'a str>);
