//! [`RowBuilder`]: bound values given one at a time, by index or by bind-marker name, as
//! dynamically typed [`CqlValue`]s, each checked against the prepared statement's type when it
//! is set. For wrappers and FFI layers that do not know the Rust types at compile time.
//!
//! The `scylla` crate has no such type: its closest is `SerializedValues::add_value`, which
//! takes values in order only.

use std::sync::Arc;

use bytes::BytesMut;
use proto::EncodeError;
use proto::response::ColumnSpec;

use super::PreparedStatement;
use crate::serialize::row::{RowSerializationContext, SerializeRow, mk_value_missing_err};
use crate::serialize::{RowWriter, SerializationError, SerializeValue};
use crate::value::CqlValue;

/// A value could not be set in a [`RowBuilder`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RowBuilderError {
    /// The index is past the statement's bind markers.
    #[error("bind marker index {index} is out of range: the statement has {count} bind markers")]
    NoSuchIndex {
        /// The index given.
        index: usize,
        /// The number of bind markers.
        count: usize,
    },
    /// No bind marker has this name.
    #[error("the statement has no bind marker named `{name}`")]
    NoSuchName {
        /// The name given.
        name: String,
    },
    /// The value does not fit the bind marker's CQL type.
    #[error(
        "bind marker {index} (`{name}`) is of type {cql_type}, but the value is {value_kind}: {source}"
    )]
    TypeMismatch {
        /// The bind marker's index.
        index: usize,
        /// The bind marker's name.
        name: String,
        /// The marker's CQL type.
        cql_type: String,
        /// What kind of value was given (`CqlValue::kind_name`).
        value_kind: &'static str,
        /// The check that failed.
        #[source]
        source: Box<EncodeError>,
    },
    /// The builder was made for other bind markers than the statement it is executed with.
    #[error(
        "the row was built for other bind markers than this statement has; build it from the \
         statement it is executed with"
    )]
    OtherStatement,
}

/// One bind marker's value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    /// Not given yet: executing fails.
    Missing,
    Null,
    Unset,
    /// The value's serialized bytes (checked against the marker's type).
    Value(std::ops::Range<usize>),
}

/// Bound values set one by one, by index or by name, type-checked as they are set; pass it (or
/// `&RowBuilder`) as the values of `execute_unpaged` and the other `execute_*` methods.
///
/// ```no_run
/// # async fn demo(session: &cql_session::Session) -> Result<(), Box<dyn std::error::Error>> {
/// use cql_session::statement::row_builder::RowBuilder;
/// use cql_session::value::CqlValue;
///
/// let insert = session.prepare("INSERT INTO ks.t (pk, ck, v) VALUES (?, ?, ?)").await?;
/// let mut row = RowBuilder::new(&insert);
/// row.set_by_name("v", Some(CqlValue::Text("hello".into())))?
///     .set_by_index(0, Some(CqlValue::Int(1)))?
///     .set_unset_by_name("ck")?;
/// session.execute_unpaged(&insert, &row).await?;
/// # Ok(())
/// # }
/// ```
///
/// Every bind marker must be given a value (or null, or unset) before executing. A name used by
/// several markers (`:id` twice) sets all of them.
#[derive(Debug, Clone)]
pub struct RowBuilder {
    columns: Arc<[ColumnSpec]>,
    cells: Vec<Cell>,
    /// The serialized values, appended as they are set (a value set twice leaves its old bytes).
    buf: BytesMut,
}

impl RowBuilder {
    /// A builder for the bind markers of `prepared`, every value missing.
    pub fn new(prepared: &PreparedStatement) -> Self {
        Self::from_specs(prepared.get_variable_col_specs())
    }

    /// A builder for these bind markers, every value missing.
    pub fn from_specs(columns: &[ColumnSpec]) -> Self {
        Self {
            columns: columns.into(),
            cells: vec![Cell::Missing; columns.len()],
            buf: BytesMut::new(),
        }
    }

    /// The bind markers, in order.
    pub fn columns(&self) -> &[ColumnSpec] {
        &self.columns
    }

    /// Whether every bind marker has a value (or null, or unset).
    pub fn is_complete(&self) -> bool {
        !self.cells.contains(&Cell::Missing)
    }

    /// Sets the value of the marker at `index`; `None` is null. Fails when there is no such
    /// marker or the value does not fit its type.
    pub fn set_by_index(
        &mut self,
        index: usize,
        value: Option<CqlValue>,
    ) -> Result<&mut Self, RowBuilderError> {
        self.check_index(index)?;
        let cell = match value {
            None => Cell::Null,
            Some(v) => self.serialize(index, &v)?,
        };
        self.cells[index] = cell;
        Ok(self)
    }

    /// Sets the value of every marker named `name`; `None` is null.
    pub fn set_by_name(
        &mut self,
        name: &str,
        value: Option<CqlValue>,
    ) -> Result<&mut Self, RowBuilderError> {
        for index in self.indexes_of(name)? {
            self.set_by_index(index, value.clone())?;
        }
        Ok(self)
    }

    /// Leaves the marker at `index` unset: the server keeps the column's current value.
    pub fn set_unset_by_index(&mut self, index: usize) -> Result<&mut Self, RowBuilderError> {
        self.check_index(index)?;
        self.cells[index] = Cell::Unset;
        Ok(self)
    }

    /// Leaves every marker named `name` unset.
    pub fn set_unset_by_name(&mut self, name: &str) -> Result<&mut Self, RowBuilderError> {
        for index in self.indexes_of(name)? {
            self.cells[index] = Cell::Unset;
        }
        Ok(self)
    }

    fn check_index(&self, index: usize) -> Result<(), RowBuilderError> {
        if index < self.columns.len() {
            Ok(())
        } else {
            Err(RowBuilderError::NoSuchIndex {
                index,
                count: self.columns.len(),
            })
        }
    }

    fn indexes_of(&self, name: &str) -> Result<Vec<usize>, RowBuilderError> {
        let found: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.columns[i].name() == name)
            .collect();
        if found.is_empty() {
            return Err(RowBuilderError::NoSuchName {
                name: name.to_owned(),
            });
        }
        Ok(found)
    }

    fn serialize(&mut self, index: usize, value: &CqlValue) -> Result<Cell, RowBuilderError> {
        let spec = &self.columns[index];
        let start = self.buf.len();
        if let Err(source) = value.serialize(&spec.typ, &mut self.buf) {
            self.buf.truncate(start);
            return Err(RowBuilderError::TypeMismatch {
                index,
                name: spec.name().to_owned(),
                cql_type: spec.typ.to_string(),
                value_kind: value.kind_name(),
                source: Box::new(source),
            });
        }
        Ok(Cell::Value(start..self.buf.len()))
    }
}

impl SerializeRow for RowBuilder {
    fn serialize(
        &self,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter<'_>,
    ) -> Result<(), SerializationError> {
        let same = ctx.columns().len() == self.columns.len()
            && ctx
                .columns()
                .iter()
                .zip(self.columns.iter())
                .all(|(a, b)| a.typ == b.typ);
        if !same {
            return Err(SerializationError::new(RowBuilderError::OtherStatement));
        }
        for (index, cell) in self.cells.iter().enumerate() {
            match cell {
                Cell::Missing => {
                    return Err(mk_value_missing_err::<Self>(self.columns[index].name()));
                }
                Cell::Null => writer.write_null(),
                Cell::Unset => writer.write_unset(),
                Cell::Value(range) => {
                    writer
                        .write_raw(Some(&self.buf[range.clone()]))
                        .map_err(|source| SerializationError::Column {
                            index,
                            name: self.columns[index].name().to_owned(),
                            source,
                        })?
                }
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}
