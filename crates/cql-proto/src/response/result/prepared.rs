//! Prepared results (section 4.2.5.4): `<id: [short bytes]>` (v5: `<result_metadata_id>`)
//! `<metadata><result_metadata>`.

use bytes::{BufMut, Bytes, BytesMut};

use super::ResultMetadata;
use super::metadata::{ColumnSpec, flags, global_flag, read_specs, write_specs};
use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::frame::{BodyExtensions, ProtocolVersion};

/// The bind markers of a prepared statement:
/// `<flags: [int]><columns_count: [int]><pk_count: [int]><pk_index: [short]>*`
/// `[<global_table_spec>]<col_spec>*` (v3 has no pk indexes).
///
/// The GLOBAL_TABLES_SPEC flag is derived from the specs; every other flag bit (such as the bit
/// of Scylla's `SCYLLA_LWT_ADD_METADATA_MARK` extension) is kept in [`Self::extra_flags`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreparedMetadata {
    /// The flag bits other than GLOBAL_TABLES_SPEC (`0x0001`), as read from the wire and written
    /// back as given (the GLOBAL_TABLES_SPEC bit, if set here, is ignored when encoding). Scylla
    /// marks lightweight transactions with a bit of its choosing here (see
    /// [`crate::scylla::SCYLLA_LWT_ADD_METADATA_MARK`] and [`Self::has_flag`]).
    pub extra_flags: i32,
    /// For each partition key component, the index of its bind marker (v4+).
    pub pk_indexes: Vec<u16>,
    /// The bind markers' specs.
    pub col_specs: Vec<ColumnSpec>,
}

impl PreparedMetadata {
    /// The wire flags: GLOBAL_TABLES_SPEC when all specs share a keyspace and table, OR'ed with
    /// [`Self::extra_flags`].
    pub fn flags(&self) -> i32 {
        global_flag(&self.col_specs) | (self.extra_flags & !flags::GLOBAL_TABLES_SPEC)
    }

    /// Whether every bit of `mask` is set in the wire flags; always false for a zero mask.
    ///
    /// With the mask a server advertised under `LWT_OPTIMIZATION_META_BIT_MASK` (and the
    /// extension negotiated in STARTUP), this tells whether the statement is a lightweight
    /// transaction.
    pub fn has_flag(&self, mask: u32) -> bool {
        let flags = u32::from_be_bytes(self.flags().to_be_bytes());
        mask != 0 && flags & mask == mask
    }

    /// Appends the metadata to `buf`.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let len =
            |what, n: usize| i32::try_from(n).map_err(|_| EncodeError::TooLong { what, len: n });
        let f = self.flags();
        buf.put_i32(f);
        buf.put_i32(len("column count", self.col_specs.len())?);
        if version.0 >= 4 {
            buf.put_i32(len("pk count", self.pk_indexes.len())?);
            for i in &self.pk_indexes {
                codec::write_short(buf, *i);
            }
        } else if !self.pk_indexes.is_empty() {
            return Err(EncodeError::Invalid(
                "partition key indexes need protocol v4".into(),
            ));
        }
        write_specs(buf, &self.col_specs, f & flags::GLOBAL_TABLES_SPEC != 0)
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let f = r.read_int("prepared metadata flags")?;
        let col_count = r.read_len("column count")?;
        let mut pk_indexes = Vec::new();
        if version.0 >= 4 {
            let n = r.read_len("pk count")?;
            pk_indexes.reserve(n.min(r.remaining() / 2));
            for _ in 0..n {
                pk_indexes.push(r.read_short("pk index")?);
            }
        }
        let col_specs = read_specs(r, body, col_count, f & flags::GLOBAL_TABLES_SPEC != 0)?;
        Ok(Self {
            extra_flags: f & !flags::GLOBAL_TABLES_SPEC,
            pk_indexes,
            col_specs,
        })
    }
}

/// A Prepared result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prepared {
    /// The prepared statement id.
    pub id: Bytes,
    /// The result metadata id (v5, or before v5 with Scylla's `SCYLLA_USE_METADATA_ID`; written
    /// whenever present).
    pub result_metadata_id: Option<Bytes>,
    /// The bind markers.
    pub metadata: PreparedMetadata,
    /// The metadata of the rows EXECUTE will return.
    pub result_metadata: ResultMetadata,
}

impl Prepared {
    /// Appends the body after the result kind to `buf`.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
        codec::write_short_bytes(buf, &self.id)?;
        if version.is_v5_or_later() {
            codec::write_short_bytes(buf, self.result_metadata_id.as_deref().unwrap_or(&[]))?;
        } else if let Some(m) = &self.result_metadata_id {
            codec::write_short_bytes(buf, m)?;
        }
        self.metadata.encode(version, buf)?;
        self.result_metadata.encode(buf)
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
        ext: BodyExtensions,
    ) -> Result<Self, DecodeError> {
        // A prepared statement keeps its id and column specs for long, so they point into a copy
        // of this (small) body rather than pin the frame's buffer (often a connection's whole
        // read buffer): one allocation per PREPARE instead of one per name.
        let own = Bytes::copy_from_slice(r.rest());
        let mut o = Reader::new(&own);
        let (id, result_metadata_id) = ext.read_prepared_ids(&mut o, &own, version)?;
        let metadata = PreparedMetadata::read(&mut o, &own, version)?;
        let result_metadata = ResultMetadata::read(&mut o, &own)?;
        r.take(own.len() - o.remaining(), "prepared result")?;
        Ok(Self {
            id,
            result_metadata_id,
            metadata,
            result_metadata,
        })
    }
}
