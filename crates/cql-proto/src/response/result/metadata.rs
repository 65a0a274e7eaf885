//! Column specifications and result metadata (section 4.2.5.2).

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::value::ColumnType;

/// Result metadata flags.
pub(crate) mod flags {
    pub(crate) const GLOBAL_TABLES_SPEC: i32 = 0x01;
    pub(crate) const HAS_MORE_PAGES: i32 = 0x02;
    pub(crate) const NO_METADATA: i32 = 0x04;
    pub(crate) const METADATA_CHANGED: i32 = 0x08;
}

/// One column of a result or of a prepared statement's bind markers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    /// The keyspace.
    pub keyspace: String,
    /// The table.
    pub table: String,
    /// The column (or bind marker) name.
    pub name: String,
    /// The CQL type.
    pub typ: ColumnType,
}

/// Whether all specs share one keyspace and table (so the global spec flag can be used).
fn global_spec(specs: &[ColumnSpec]) -> Option<(&str, &str)> {
    let first = specs.first()?;
    specs
        .iter()
        .all(|s| s.keyspace == first.keyspace && s.table == first.table)
        .then_some((first.keyspace.as_str(), first.table.as_str()))
}

/// Writes the global table spec (when `global`) and the column specs.
pub(crate) fn write_specs(
    buf: &mut BytesMut,
    specs: &[ColumnSpec],
    global: bool,
) -> Result<(), EncodeError> {
    if global && let Some((ks, table)) = global_spec(specs) {
        codec::write_string(buf, ks)?;
        codec::write_string(buf, table)?;
    }
    for s in specs {
        if !global {
            codec::write_string(buf, &s.keyspace)?;
            codec::write_string(buf, &s.table)?;
        }
        codec::write_string(buf, &s.name)?;
        s.typ.encode(buf)?;
    }
    Ok(())
}

/// The flag bit for specs written by [`write_specs`].
pub(crate) fn global_flag(specs: &[ColumnSpec]) -> i32 {
    if global_spec(specs).is_some() {
        flags::GLOBAL_TABLES_SPEC
    } else {
        0
    }
}

/// Reads `count` column specs (after the global spec, when `global`).
pub(crate) fn read_specs(
    r: &mut Reader<'_>,
    count: usize,
    global: bool,
) -> Result<Vec<ColumnSpec>, DecodeError> {
    let g = if global {
        Some((
            r.read_string("global keyspace")?,
            r.read_string("global table")?,
        ))
    } else {
        None
    };
    // Each spec takes at least 4 bytes (an empty name and a type id).
    let mut specs = Vec::with_capacity(count.min(r.remaining() / 4));
    for _ in 0..count {
        let (keyspace, table) = match g {
            Some(g) => g,
            None => (r.read_string("keyspace")?, r.read_string("table")?),
        };
        let name = r.read_string("column name")?;
        let typ = ColumnType::read(r, 0)?;
        specs.push(ColumnSpec {
            keyspace: keyspace.to_owned(),
            table: table.to_owned(),
            name: name.to_owned(),
            typ,
        });
    }
    Ok(specs)
}

/// The metadata of a Rows result (or the result metadata of a prepared statement).
///
/// The wire flags are derived: HAS_MORE_PAGES from `paging_state`, METADATA_CHANGED from
/// `new_metadata_id`, NO_METADATA when `col_specs` is empty but `col_count` is not, and
/// GLOBAL_TABLES_SPEC when all specs share one keyspace and table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultMetadata {
    /// The paging state of the next page, when there are more pages.
    pub paging_state: Option<Bytes>,
    /// The new result metadata id, when the metadata changed (v5, or Scylla's metadata id
    /// extension).
    pub new_metadata_id: Option<Bytes>,
    /// The number of columns (sent even with NO_METADATA).
    pub col_count: usize,
    /// The column specs; empty when the server sent NO_METADATA.
    pub col_specs: Vec<ColumnSpec>,
}

impl ResultMetadata {
    /// Metadata with the given column specs.
    pub fn new(col_specs: Vec<ColumnSpec>) -> Self {
        Self {
            paging_state: None,
            new_metadata_id: None,
            col_count: col_specs.len(),
            col_specs,
        }
    }

    /// Metadata for a NO_METADATA result of `col_count` columns.
    pub fn no_metadata(col_count: usize) -> Self {
        Self {
            col_count,
            ..Self::default()
        }
    }

    /// Whether the server omitted the column specs (NO_METADATA).
    pub fn is_no_metadata(&self) -> bool {
        self.col_specs.is_empty() && self.col_count > 0
    }

    /// The wire flags.
    pub fn flags(&self) -> i32 {
        let mut f = 0;
        if self.paging_state.is_some() {
            f |= flags::HAS_MORE_PAGES;
        }
        if self.new_metadata_id.is_some() {
            f |= flags::METADATA_CHANGED;
        }
        if self.is_no_metadata() {
            f |= flags::NO_METADATA;
        } else {
            f |= global_flag(&self.col_specs);
        }
        f
    }

    /// Appends the metadata to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if !self.col_specs.is_empty() && self.col_specs.len() != self.col_count {
            return Err(EncodeError::Invalid(format!(
                "col_count is {} but there are {} column specs",
                self.col_count,
                self.col_specs.len()
            )));
        }
        let col_count = i32::try_from(self.col_count).map_err(|_| EncodeError::TooLong {
            what: "column count",
            len: self.col_count,
        })?;
        let f = self.flags();
        buf.put_i32(f);
        buf.put_i32(col_count);
        if let Some(p) = &self.paging_state {
            codec::write_bytes(buf, Some(p))?;
        }
        if let Some(id) = &self.new_metadata_id {
            codec::write_short_bytes(buf, id)?;
        }
        if f & flags::NO_METADATA == 0 {
            write_specs(buf, &self.col_specs, f & flags::GLOBAL_TABLES_SPEC != 0)?;
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, body: &Bytes) -> Result<Self, DecodeError> {
        let f = r.read_int("metadata flags")?;
        let col_count = r.read_len("column count")?;
        let paging_state = if f & flags::HAS_MORE_PAGES != 0 {
            r.read_bytes("paging state")?.map(|b| body.slice_ref(b))
        } else {
            None
        };
        let new_metadata_id = if f & flags::METADATA_CHANGED != 0 {
            Some(body.slice_ref(r.read_short_bytes("new metadata id")?))
        } else {
            None
        };
        let col_specs = if f & flags::NO_METADATA != 0 {
            Vec::new()
        } else {
            read_specs(r, col_count, f & flags::GLOBAL_TABLES_SPEC != 0)?
        };
        Ok(Self {
            paging_state,
            new_metadata_id,
            col_count,
            col_specs,
        })
    }
}
