//! `<query_parameters>` shared by QUERY and EXECUTE (section 4.1.4).

use bytes::{BufMut, Bytes, BytesMut};

use super::SerializedValues;
use crate::codec::{self, Reader};
use crate::codes::Consistency;
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;

/// Query flags (a `[byte]` in v4, an `[int]` in v5).
pub(crate) mod flags {
    pub(crate) const VALUES: u32 = 0x01;
    pub(crate) const SKIP_METADATA: u32 = 0x02;
    pub(crate) const PAGE_SIZE: u32 = 0x04;
    pub(crate) const PAGING_STATE: u32 = 0x08;
    pub(crate) const SERIAL_CONSISTENCY: u32 = 0x10;
    pub(crate) const DEFAULT_TIMESTAMP: u32 = 0x20;
    pub(crate) const NAMES_FOR_VALUES: u32 = 0x40;
    pub(crate) const KEYSPACE: u32 = 0x80;
    pub(crate) const NOW_IN_SECONDS: u32 = 0x100;
}

/// Flags that only exist in v5.
const V5_ONLY: u32 = flags::KEYSPACE | flags::NOW_IN_SECONDS;

/// Writes the flags as a `[byte]` (v4) or `[int]` (v5).
pub(crate) fn write_flags(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    f: u32,
) -> Result<(), EncodeError> {
    if version.is_v5_or_later() {
        buf.put_u32(f);
        return Ok(());
    }
    match u8::try_from(f) {
        Ok(b) if f & V5_ONLY == 0 => {
            buf.put_u8(b);
            Ok(())
        }
        _ => Err(EncodeError::Invalid(format!(
            "keyspace and now_in_seconds need protocol v5, not {version}"
        ))),
    }
}

/// Reads the flags as a `[byte]` (v4) or `[int]` (v5).
pub(crate) fn read_flags(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<u32, DecodeError> {
    if version.is_v5_or_later() {
        Ok(r.read_int("query flags")? as u32)
    } else {
        // 0x80 has no meaning in v4: ignore it rather than read a keyspace.
        Ok(u32::from(r.read_u8("query flags")?) & !V5_ONLY)
    }
}

pub(crate) fn read_consistency(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Consistency, DecodeError> {
    Ok(Consistency(r.read_short(what)?))
}

/// The optional fields that end both `<query_parameters>` and a BATCH body, in wire order:
/// serial consistency (flag 0x10), default timestamp (0x20), keyspace (0x80, v5) and
/// now_in_seconds (0x100, v5).
pub(crate) struct TrailingFields {
    pub(crate) serial_consistency: Option<Consistency>,
    pub(crate) timestamp: Option<i64>,
    pub(crate) keyspace: Option<String>,
    pub(crate) now_in_seconds: Option<i32>,
}

impl TrailingFields {
    /// Reads the fields whose bits are set in `f`.
    pub(crate) fn read(r: &mut Reader<'_>, f: u32) -> Result<Self, DecodeError> {
        let serial_consistency = if f & flags::SERIAL_CONSISTENCY != 0 {
            Some(read_consistency(r, "serial consistency")?)
        } else {
            None
        };
        let timestamp = if f & flags::DEFAULT_TIMESTAMP != 0 {
            Some(r.read_long("default timestamp")?)
        } else {
            None
        };
        let keyspace = if f & flags::KEYSPACE != 0 {
            Some(r.read_string("keyspace")?.to_owned())
        } else {
            None
        };
        let now_in_seconds = if f & flags::NOW_IN_SECONDS != 0 {
            Some(r.read_int("now in seconds")?)
        } else {
            None
        };
        Ok(Self {
            serial_consistency,
            timestamp,
            keyspace,
            now_in_seconds,
        })
    }
}

/// Writes the fields that are present (see [`TrailingFields`]); the caller has set their flags.
pub(crate) fn write_trailing_fields(
    buf: &mut BytesMut,
    serial_consistency: Option<Consistency>,
    timestamp: Option<i64>,
    keyspace: Option<&str>,
    now_in_seconds: Option<i32>,
) -> Result<(), EncodeError> {
    if let Some(c) = serial_consistency {
        codec::write_short(buf, c.0);
    }
    if let Some(t) = timestamp {
        codec::write_long(buf, t);
    }
    if let Some(k) = keyspace {
        codec::write_string(buf, k)?;
    }
    if let Some(n) = now_in_seconds {
        codec::write_int(buf, n);
    }
    Ok(())
}

/// The parameters of a QUERY or EXECUTE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParameters {
    /// The consistency level.
    pub consistency: Consistency,
    /// The bound values (flag 0x01 when not empty, 0x40 when named).
    pub values: SerializedValues,
    /// Ask the server to omit result metadata (flag 0x02).
    pub skip_metadata: bool,
    /// The page size in rows (flag 0x04).
    pub page_size: Option<i32>,
    /// The paging state of the page to fetch (flag 0x08).
    pub paging_state: Option<Bytes>,
    /// The serial consistency of a conditional update (flag 0x10).
    pub serial_consistency: Option<Consistency>,
    /// The default timestamp in microseconds (flag 0x20).
    pub timestamp: Option<i64>,
    /// The keyspace to run in (flag 0x80, v5 only).
    pub keyspace: Option<String>,
    /// The "current time" for the query, in seconds (flag 0x100, v5 only).
    pub now_in_seconds: Option<i32>,
}

impl Default for QueryParameters {
    fn default() -> Self {
        Self {
            consistency: Consistency::ONE,
            values: SerializedValues::new(),
            skip_metadata: false,
            page_size: None,
            paging_state: None,
            serial_consistency: None,
            timestamp: None,
            keyspace: None,
            now_in_seconds: None,
        }
    }
}

impl QueryParameters {
    /// The flags these parameters are sent with.
    pub fn flags(&self) -> u32 {
        let mut f = 0;
        let set = |f: &mut u32, bit: u32, on: bool| {
            if on {
                *f |= bit;
            }
        };
        set(&mut f, flags::VALUES, !self.values.is_empty());
        set(&mut f, flags::SKIP_METADATA, self.skip_metadata);
        set(&mut f, flags::PAGE_SIZE, self.page_size.is_some());
        set(&mut f, flags::PAGING_STATE, self.paging_state.is_some());
        set(
            &mut f,
            flags::SERIAL_CONSISTENCY,
            self.serial_consistency.is_some(),
        );
        set(&mut f, flags::DEFAULT_TIMESTAMP, self.timestamp.is_some());
        set(&mut f, flags::NAMES_FOR_VALUES, self.values.has_names());
        set(&mut f, flags::KEYSPACE, self.keyspace.is_some());
        set(&mut f, flags::NOW_IN_SECONDS, self.now_in_seconds.is_some());
        f
    }

    pub(crate) fn write(
        &self,
        buf: &mut BytesMut,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        let f = self.flags();
        codec::write_short(buf, self.consistency.0);
        write_flags(buf, version, f)?;
        if f & flags::VALUES != 0 {
            self.values.write(buf, f & flags::NAMES_FOR_VALUES != 0)?;
        }
        if let Some(n) = self.page_size {
            codec::write_int(buf, n);
        }
        if let Some(p) = &self.paging_state {
            codec::write_bytes(buf, Some(p))?;
        }
        write_trailing_fields(
            buf,
            self.serial_consistency,
            self.timestamp,
            self.keyspace.as_deref(),
            self.now_in_seconds,
        )
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let consistency = read_consistency(r, "consistency")?;
        let f = read_flags(r, version)?;
        let values = if f & flags::VALUES != 0 {
            SerializedValues::read(r, body, f & flags::NAMES_FOR_VALUES != 0)?
        } else {
            SerializedValues::new()
        };
        let page_size = if f & flags::PAGE_SIZE != 0 {
            Some(r.read_int("page size")?)
        } else {
            None
        };
        let paging_state = if f & flags::PAGING_STATE != 0 {
            r.read_bytes("paging state")?.map(|b| body.slice_ref(b))
        } else {
            None
        };
        let TrailingFields {
            serial_consistency,
            timestamp,
            keyspace,
            now_in_seconds,
        } = TrailingFields::read(r, f)?;
        Ok(Self {
            consistency,
            values,
            skip_metadata: f & flags::SKIP_METADATA != 0,
            page_size,
            paging_state,
            serial_consistency,
            timestamp,
            keyspace,
            now_in_seconds,
        })
    }
}
