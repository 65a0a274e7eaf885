//! Column specifications and result metadata (section 4.2.5.2).

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::text::Text;
use crate::value::ColumnType;

/// Result metadata flags.
pub(crate) mod flags {
    pub(crate) const GLOBAL_TABLES_SPEC: i32 = 0x01;
    pub(crate) const HAS_MORE_PAGES: i32 = 0x02;
    pub(crate) const NO_METADATA: i32 = 0x04;
    pub(crate) const METADATA_CHANGED: i32 = 0x08;
}

/// One column of a result or of a prepared statement's bind markers.
///
/// The names are [`Text`]s: decoded ones point into the frame body (no allocation), and with a
/// global table spec all columns share one keyspace and one table `Text`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    /// The keyspace.
    pub keyspace: Text,
    /// The table.
    pub table: Text,
    /// The column (or bind marker) name.
    pub name: Text,
    /// The CQL type.
    pub typ: ColumnType,
}

impl ColumnSpec {
    /// The spec of column `name` of type `typ` in `table_spec`, as the `scylla` crate builds
    /// one (say, to test a custom row impl). Unlike a decoded spec, which points into its
    /// frame, this one owns copies of the names.
    pub fn borrowed(name: &str, typ: ColumnType, table_spec: TableSpec<'_>) -> Self {
        Self::owned(name.to_owned(), typ, table_spec)
    }

    /// [`Self::borrowed`] from an owned name, as the `scylla` crate's `owned`.
    pub fn owned(name: String, typ: ColumnType, table_spec: TableSpec<'_>) -> Self {
        Self {
            keyspace: Text::from(table_spec.ks_name().to_owned()),
            table: Text::from(table_spec.table_name().to_owned()),
            name: Text::from(name),
            typ,
        }
    }

    /// The column (or bind marker) name; the `scylla` crate's accessor for [`Self::name`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CQL type; the `scylla` crate's accessor for [`Self::typ`].
    pub fn typ(&self) -> &ColumnType {
        &self.typ
    }

    /// The keyspace and table the column belongs to.
    pub fn table_spec(&self) -> TableSpec<'_> {
        TableSpec {
            ks_name: &self.keyspace,
            table_name: &self.table,
        }
    }
}

/// The keyspace and table of a column ([`ColumnSpec::table_spec`]), as the `scylla` crate
/// names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableSpec<'a> {
    ks_name: &'a str,
    table_name: &'a str,
}

impl<'a> TableSpec<'a> {
    /// The spec of table `table_name` in keyspace `ks_name`; the `scylla` crate's constructor.
    pub const fn borrowed(ks_name: &'a str, table_name: &'a str) -> Self {
        Self {
            ks_name,
            table_name,
        }
    }

    /// The keyspace.
    pub fn ks_name(&self) -> &'a str {
        self.ks_name
    }

    /// The table.
    pub fn table_name(&self) -> &'a str {
        self.table_name
    }
}

/// Whether all specs share one keyspace and table (so the global spec flag can be used).
fn global_spec(specs: &[ColumnSpec]) -> Option<(&Text, &Text)> {
    let first = specs.first()?;
    specs
        .iter()
        .all(|s| s.keyspace == first.keyspace && s.table == first.table)
        .then_some((&first.keyspace, &first.table))
}

/// Writes the global table spec (when `global`) and the column specs.
pub(crate) fn write_specs(
    buf: &mut BytesMut,
    specs: &[ColumnSpec],
    global: bool,
) -> Result<(), EncodeError> {
    if global && let Some((ks, table)) = global_spec(specs) {
        codec::write_text(buf, ks)?;
        codec::write_text(buf, table)?;
    }
    for s in specs {
        if !global {
            codec::write_text(buf, &s.keyspace)?;
            codec::write_text(buf, &s.table)?;
        }
        codec::write_text(buf, &s.name)?;
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

/// Reads `count` column specs (after the global spec, when `global`). The names share `body`'s
/// memory: `r` must read `body`.
pub(crate) fn read_specs(
    r: &mut Reader<'_>,
    body: &Bytes,
    count: usize,
    global: bool,
) -> Result<Vec<ColumnSpec>, DecodeError> {
    let g = if global {
        Some((
            r.read_text(body, "global keyspace")?,
            r.read_text(body, "global table")?,
        ))
    } else {
        None
    };
    // Each spec takes at least 4 bytes (an empty name and a type id).
    let mut specs = Vec::with_capacity(count.min(r.remaining() / 4));
    for _ in 0..count {
        let (keyspace, table) = match &g {
            Some((ks, table)) => (ks.clone(), table.clone()),
            None => (r.read_text(body, "keyspace")?, r.read_text(body, "table")?),
        };
        let name = r.read_text(body, "column name")?;
        let typ = ColumnType::read(r, 0)?;
        specs.push(ColumnSpec {
            keyspace,
            table,
            name,
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
            read_specs(r, body, col_count, f & flags::GLOBAL_TABLES_SPEC != 0)?
        };
        Ok(Self {
            paging_state,
            new_metadata_id,
            col_count,
            col_specs,
        })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::codes::Opcode;
    use crate::frame::ProtocolVersion;
    use crate::response::{Response, ResultBody};
    use crate::text::Text;
    use crate::value::ColumnType;

    fn inside(t: &Text, body: &Bytes) -> bool {
        let range = body.as_ptr_range();
        let p = t.as_bytes().as_ptr_range();
        range.start <= p.start && p.end <= range.end
    }

    fn decode(body: &Bytes) -> ResultBody {
        match Response::decode_body(Opcode::RESULT, ProtocolVersion::V4, body.clone()) {
            Ok(Response::Result(r)) => r,
            other => panic!("a result expected, got {other:?}"),
        }
    }

    #[test]
    fn decoded_names_point_into_the_frame_body() {
        #[rustfmt::skip]
        let body = Bytes::from(vec![
            0x00, 0x00, 0x00, 0x02, // ROWS
            0x00, 0x00, 0x00, 0x01, // flags: GLOBAL_TABLES_SPEC
            0x00, 0x00, 0x00, 0x02, // 2 columns
            0x00, 0x02, b'k', b's', // keyspace "ks"
            0x00, 0x01, b't', // table "t"
            0x00, 0x01, b'a', 0x00, 0x09, // "a" int
            0x00, 0x02, b'b', b'c', 0x00, 0x0d, // "bc" varchar
            0x00, 0x00, 0x00, 0x00, // 0 rows
        ]);
        let ResultBody::Rows(rows) = decode(&body) else {
            panic!("rows expected")
        };
        let specs = &rows.metadata.col_specs;
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].name, "a");
        assert_eq!(specs[1].name, "bc");
        assert_eq!(specs[1].typ, ColumnType::Text);
        for s in specs {
            assert_eq!(s.keyspace, "ks");
            assert_eq!(s.table, "t");
            assert!(inside(&s.name, &body), "{:?} was copied", s.name);
            assert!(inside(&s.keyspace, &body));
            assert!(inside(&s.table, &body));
        }
        // The global spec is read once and shared by every column.
        assert_eq!(
            specs[0].keyspace.as_bytes().as_ptr(),
            specs[1].keyspace.as_bytes().as_ptr()
        );
        assert_eq!(specs[1].name.as_bytes().as_ptr(), body[26..].as_ptr());
    }

    #[test]
    fn per_column_specs_point_into_the_frame_body() {
        #[rustfmt::skip]
        let body = Bytes::from(vec![
            0x00, 0x00, 0x00, 0x02, // ROWS
            0x00, 0x00, 0x00, 0x00, // flags: none
            0x00, 0x00, 0x00, 0x01, // 1 column
            0x00, 0x01, b'k', 0x00, 0x01, b'u', 0x00, 0x01, b'x', 0x00, 0x02, // k.u.x bigint
            0x00, 0x00, 0x00, 0x00, // 0 rows
        ]);
        let ResultBody::Rows(rows) = decode(&body) else {
            panic!("rows expected")
        };
        let s = &rows.metadata.col_specs[0];
        assert_eq!((s.keyspace.as_str(), s.table.as_str()), ("k", "u"));
        assert_eq!(s.name, "x");
        assert_eq!(s.name.as_bytes().as_ptr(), body[20..].as_ptr());
    }

    #[test]
    fn invalid_utf8_in_a_name_is_a_decode_error() {
        #[rustfmt::skip]
        let body = Bytes::from(vec![
            0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x01, b'k', 0x00, 0x01, b't',
            0x00, 0x01, 0xff, 0x00, 0x09, // a name that is not UTF-8
            0x00, 0x00, 0x00, 0x00,
        ]);
        let err = Response::decode_body(Opcode::RESULT, ProtocolVersion::V4, body).unwrap_err();
        assert!(
            matches!(
                err,
                crate::DecodeError::InvalidUtf8 {
                    what: "column name"
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn prepared_specs_do_not_pin_the_frame_body() {
        #[rustfmt::skip]
        let body = Bytes::from(vec![
            0x00, 0x00, 0x00, 0x04, // PREPARED
            0x00, 0x02, 0xab, 0xcd, // id
            // bind markers: global spec, 1 column, 1 pk component at index 0
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
            0x00, 0x02, b'k', b's', 0x00, 0x01, b't', 0x00, 0x01, b'k', 0x00, 0x09,
            // result metadata: global spec, 1 column
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x02, b'k', b's', 0x00, 0x01, b't', 0x00, 0x01, b'v', 0x00, 0x0d,
        ]);
        let ResultBody::Prepared(p) = decode(&body) else {
            panic!("prepared expected")
        };
        assert_eq!(&p.id[..], &[0xab, 0xcd]);
        assert_eq!(p.metadata.pk_indexes, vec![0]);
        let k = &p.metadata.col_specs[0];
        let v = &p.result_metadata.col_specs[0];
        assert_eq!(
            (k.keyspace.as_str(), k.table.as_str(), k.name.as_str()),
            ("ks", "t", "k")
        );
        assert_eq!(
            (v.keyspace.as_str(), v.table.as_str(), v.name.as_str()),
            ("ks", "t", "v")
        );
        assert!(!inside(&k.name, &body), "a prepared spec pins the frame");
        assert!(!inside(&v.name, &body), "a prepared spec pins the frame");
        assert!(
            !body.as_ptr_range().contains(&p.id.as_ptr()),
            "the id pins the frame"
        );
    }
}

#[cfg(test)]
mod accessor_tests {
    use super::*;

    #[test]
    fn scylla_style_accessors_read_the_fields() {
        let spec = ColumnSpec {
            keyspace: "ks".into(),
            table: "t".into(),
            name: "v".into(),
            typ: ColumnType::Int,
        };
        assert_eq!(spec.name(), "v");
        assert_eq!(spec.typ(), &ColumnType::Int);
        assert_eq!(spec.table_spec().ks_name(), "ks");
        assert_eq!(spec.table_spec().table_name(), "t");
    }
}
