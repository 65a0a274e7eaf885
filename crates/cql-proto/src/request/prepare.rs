//! PREPARE (section 4.1.5): `<query: [long string]>`, and in v5 `<flags: [int]>[<keyspace>]`.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;
use crate::text::Text;

const KEYSPACE_FLAG: i32 = 0x01;

/// PREPARE: a CQL string to prepare.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prepare {
    /// The CQL text.
    pub query: Text,
    /// The keyspace to prepare in (v5 only).
    pub keyspace: Option<String>,
}

impl Prepare {
    pub(crate) fn encode(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        codec::write_long_text(buf, &self.query)?;
        if version.is_v5_or_later() {
            match &self.keyspace {
                Some(k) => {
                    buf.put_i32(KEYSPACE_FLAG);
                    codec::write_string(buf, k)?;
                }
                None => buf.put_i32(0),
            }
        } else if self.keyspace.is_some() {
            return Err(EncodeError::Invalid(format!(
                "PREPARE with a keyspace needs protocol v5, not {version}"
            )));
        }
        Ok(())
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let query = r.read_long_text(body, "query string")?;
        let mut keyspace = None;
        if version.is_v5_or_later() {
            let flags = r.read_int("prepare flags")?;
            if flags & KEYSPACE_FLAG != 0 {
                keyspace = Some(r.read_string("keyspace")?.to_owned());
            }
        }
        Ok(Self { query, keyspace })
    }
}
