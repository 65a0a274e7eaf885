//! EXECUTE (section 4.1.6): `<id: [short bytes]>` (v5: `<result_metadata_id: [short bytes]>`)
//! `<query_parameters>`.

use bytes::{Bytes, BytesMut};

use super::QueryParameters;
use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::frame::{BodyExtensions, ProtocolVersion};

/// EXECUTE: runs a prepared statement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Execute {
    /// The prepared statement id.
    pub id: Bytes,
    /// The id of the result metadata the driver has cached (v5, required there; before v5 only
    /// with Scylla's `SCYLLA_USE_METADATA_ID`, and written whenever present).
    pub result_metadata_id: Option<Bytes>,
    /// The parameters.
    pub params: QueryParameters,
}

impl Execute {
    pub(crate) fn encode(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        codec::write_short_bytes(buf, &self.id)?;
        if version.is_v5_or_later() {
            let Some(m) = &self.result_metadata_id else {
                return Err(EncodeError::Invalid(
                    "EXECUTE in protocol v5 needs a result_metadata_id".into(),
                ));
            };
            codec::write_short_bytes(buf, m)?;
        } else if let Some(m) = &self.result_metadata_id {
            codec::write_short_bytes(buf, m)?;
        }
        self.params.write(buf, version)
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
        ext: BodyExtensions,
    ) -> Result<Self, DecodeError> {
        let (id, result_metadata_id) = ext.read_prepared_ids(r, body, version)?;
        let params = QueryParameters::read(r, body, version)?;
        Ok(Self {
            id,
            result_metadata_id,
            params,
        })
    }
}
