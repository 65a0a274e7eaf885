//! Rows results (section 4.2.5.2): metadata, `<rows_count: [int]>` and the cells, decoded lazily.

use bytes::{BufMut, Bytes, BytesMut};

use super::ResultMetadata;
use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};

/// A Rows result. The rows stay in the frame's bytes and are parsed on demand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rows {
    /// The metadata (column specs parsed once).
    pub metadata: ResultMetadata,
    /// The number of rows announced by the server. Decoding checks it against the content's
    /// length (each cell takes at least 4 bytes), except for rows of zero columns.
    pub rows_count: usize,
    /// The rows' cells: `rows_count * col_count` `[bytes]` values, unparsed.
    pub rows_content: Bytes,
}

impl Rows {
    /// Rows from parts; `rows_content` must hold `rows_count * metadata.col_count` cells.
    pub fn new(metadata: ResultMetadata, rows_count: usize, rows_content: Bytes) -> Self {
        Self {
            metadata,
            rows_count,
            rows_content,
        }
    }

    /// The number of columns per row.
    pub fn col_count(&self) -> usize {
        self.metadata.col_count
    }

    /// Iterates over the rows; each item is checked to hold `col_count` complete cells, and a
    /// truncated or overlong content yields an error (then ends).
    pub fn rows(&self) -> RowIter<'_> {
        RowIter {
            reader: Reader::new(&self.rows_content),
            col_count: self.metadata.col_count,
            remaining: self.rows_count,
            done: false,
        }
    }

    /// Appends the body after the result kind (metadata, count, cells) to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.metadata.encode(buf)?;
        let n = i32::try_from(self.rows_count).map_err(|_| EncodeError::TooLong {
            what: "rows count",
            len: self.rows_count,
        })?;
        buf.put_i32(n);
        buf.put_slice(&self.rows_content);
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, body: &Bytes) -> Result<Self, DecodeError> {
        let metadata = ResultMetadata::read(r, body)?;
        let rows_count = r.read_len("rows count")?;
        let rest = r.rest();
        // Every cell takes at least its 4-byte length: reject an impossible count early, so
        // callers may size buffers by `rows_count`.
        let min_len = (rows_count as u64).saturating_mul(4 * metadata.col_count as u64);
        if min_len > rest.len() as u64 {
            return Err(DecodeError::InvalidLength {
                what: "rows count",
                len: rows_count as i64,
            });
        }
        // A CQL result always has at least one column. Zero-column rows take no bytes, so a
        // hostile count of them would otherwise make a caller iterate (or allocate) 2^31 rows.
        if metadata.col_count == 0 && rows_count > 0 {
            return Err(DecodeError::invalid(
                "rows count",
                format!("{rows_count} rows announced with zero columns"),
            ));
        }
        let rows_content = body.slice_ref(rest);
        r.take(rest.len(), "rows content")?;
        Ok(Self {
            metadata,
            rows_count,
            rows_content,
        })
    }
}

/// Iterator over the rows of a [`Rows`].
#[derive(Debug, Clone)]
pub struct RowIter<'a> {
    reader: Reader<'a>,
    col_count: usize,
    remaining: usize,
    done: bool,
}

impl<'a> Iterator for RowIter<'a> {
    type Item = Result<RawRow<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.remaining == 0 {
            self.done = true;
            return match self.reader.finish("rows content") {
                Ok(()) => None,
                Err(e) => Some(Err(e)),
            };
        }
        self.remaining -= 1;
        let start = self.reader.rest();
        for _ in 0..self.col_count {
            if let Err(e) = self.reader.read_bytes("cell") {
                self.done = true;
                return Some(Err(e));
            }
        }
        let used = start.len() - self.reader.remaining();
        Some(Ok(RawRow {
            bytes: &start[..used],
            col_count: self.col_count,
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, Some(self.remaining.saturating_add(1)))
        }
    }
}

/// One row: `col_count` cells, already checked to be complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRow<'a> {
    bytes: &'a [u8],
    col_count: usize,
}

impl<'a> RawRow<'a> {
    /// The row's bytes as on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The number of cells.
    pub const fn len(&self) -> usize {
        self.col_count
    }

    /// Whether the row has no cells.
    pub const fn is_empty(&self) -> bool {
        self.col_count == 0
    }

    /// The cells in column order; `None` is a null cell.
    pub fn cells(&self) -> CellIter<'a> {
        CellIter {
            reader: Reader::new(self.bytes),
            remaining: self.col_count,
        }
    }
}

/// Iterator over the cells of a [`RawRow`].
#[derive(Debug, Clone)]
pub struct CellIter<'a> {
    reader: Reader<'a>,
    remaining: usize,
}

impl<'a> Iterator for CellIter<'a> {
    type Item = Option<&'a [u8]>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        // The row was validated when it was yielded; a failure here cannot happen, and ends
        // the iteration rather than panicking.
        self.reader.read_bytes("cell").ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for CellIter<'_> {}

/// Builds a Rows result from cells (for servers and simulators).
#[derive(Debug)]
pub struct RowsWriter {
    metadata: ResultMetadata,
    buf: BytesMut,
    rows: usize,
    cells_in_row: usize,
}

impl RowsWriter {
    /// A writer for rows of `metadata.col_count` cells.
    pub fn new(metadata: ResultMetadata) -> Self {
        Self {
            metadata,
            buf: BytesMut::new(),
            rows: 0,
            cells_in_row: 0,
        }
    }

    /// Appends one cell to the current row (`None` writes null).
    pub fn push_cell(&mut self, cell: Option<&[u8]>) -> Result<(), EncodeError> {
        self.check_room()?;
        codec::write_bytes(&mut self.buf, cell)?;
        self.cell_done();
        Ok(())
    }

    /// Appends one cell whose bytes `write` appends directly; the length is patched afterwards.
    pub fn push_cell_with<F>(&mut self, write: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
    {
        self.check_room()?;
        codec::write_with_int_len(&mut self.buf, "cell", write)?;
        self.cell_done();
        Ok(())
    }

    /// Appends a whole row.
    pub fn push_row<'c, I>(&mut self, cells: I) -> Result<(), EncodeError>
    where
        I: IntoIterator<Item = Option<&'c [u8]>>,
    {
        if self.cells_in_row != 0 {
            return Err(EncodeError::Invalid("a row is partly written".into()));
        }
        let start = self.buf.len();
        let mut n = 0;
        for c in cells {
            if n == self.metadata.col_count {
                break;
            }
            if let Err(e) = codec::write_bytes(&mut self.buf, c) {
                self.buf.truncate(start);
                return Err(e);
            }
            n += 1;
        }
        if n != self.metadata.col_count {
            self.buf.truncate(start);
            return Err(EncodeError::Invalid(format!(
                "row has {n} cells, expected {}",
                self.metadata.col_count
            )));
        }
        self.rows += 1;
        Ok(())
    }

    fn check_room(&self) -> Result<(), EncodeError> {
        if self.metadata.col_count == 0 {
            return Err(EncodeError::Invalid(
                "cannot push cells into rows of zero columns".into(),
            ));
        }
        Ok(())
    }

    fn cell_done(&mut self) {
        self.cells_in_row += 1;
        if self.cells_in_row == self.metadata.col_count {
            self.cells_in_row = 0;
            self.rows += 1;
        }
    }

    /// Rows written so far (complete rows only).
    pub const fn rows_count(&self) -> usize {
        self.rows
    }

    /// The finished Rows; fails when the last row is incomplete.
    pub fn finish(self) -> Result<Rows, EncodeError> {
        if self.cells_in_row != 0 {
            return Err(EncodeError::Invalid(format!(
                "last row has {} of {} cells",
                self.cells_in_row, self.metadata.col_count
            )));
        }
        Ok(Rows {
            metadata: self.metadata,
            rows_count: self.rows,
            rows_content: self.buf.freeze(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::ColumnSpec;
    use crate::value::ColumnType;

    fn meta(n: usize) -> ResultMetadata {
        ResultMetadata::new(
            (0..n)
                .map(|i| ColumnSpec {
                    keyspace: "ks".into(),
                    table: "t".into(),
                    name: format!("c{i}").into(),
                    typ: ColumnType::Blob,
                })
                .collect(),
        )
    }

    #[test]
    fn writer_counts_rows_and_writes_cells() {
        let mut w = RowsWriter::new(meta(2));
        w.push_cell(Some(b"a")).unwrap();
        assert_eq!(w.rows_count(), 0);
        w.push_cell_with(|b| {
            b.put_slice(b"bc");
            Ok(())
        })
        .unwrap();
        assert_eq!(w.rows_count(), 1);
        w.push_row([None, Some(&b""[..])]).unwrap();
        let rows = w.finish().unwrap();
        assert_eq!(rows.rows_count, 2);
        assert_eq!(
            &rows.rows_content[..],
            &[
                0, 0, 0, 1, b'a', 0, 0, 0, 2, b'b', b'c', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0
            ]
        );
        let cells: Vec<Vec<_>> = rows.rows().map(|r| r.unwrap().cells().collect()).collect();
        assert_eq!(
            cells,
            vec![
                vec![Some(&b"a"[..]), Some(&b"bc"[..])],
                vec![None, Some(&b""[..])]
            ]
        );
    }

    #[test]
    fn writer_rejects_incomplete_rows() {
        let mut w = RowsWriter::new(meta(2));
        assert!(w.push_row([Some(&b"x"[..])]).is_err());
        w.push_cell(None).unwrap();
        assert!(w.push_row([None, None]).is_err(), "a row is partly written");
        assert!(w.finish().is_err());
        let mut w = RowsWriter::new(meta(1));
        assert!(
            w.push_cell_with(|_| Err(EncodeError::Invalid("no".into())))
                .is_err()
        );
        let rows = w.finish().unwrap();
        assert_eq!(rows.rows_count, 0);
        assert!(
            rows.rows_content.is_empty(),
            "a failed cell leaves no bytes"
        );
    }

    #[test]
    fn no_metadata_rows_iterate_by_column_count() {
        let rows = Rows::new(
            ResultMetadata::no_metadata(2),
            1,
            Bytes::from_static(&[0, 0, 0, 1, 5, 0xff, 0xff, 0xff, 0xff]),
        );
        let row = rows.rows().next().unwrap().unwrap();
        assert_eq!(row.len(), 2);
        assert_eq!(
            row.cells().collect::<Vec<_>>(),
            vec![Some(&[5u8][..]), None]
        );
        assert_eq!(rows.rows().count(), 1);
    }
}
