//! QUERY (section 4.1.4): `<query: [long string]><query_parameters>`.

use bytes::{Bytes, BytesMut};

use super::QueryParameters;
use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;

/// QUERY: a CQL string and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The CQL text.
    pub query: String,
    /// The parameters.
    pub params: QueryParameters,
}

impl Query {
    pub(crate) fn encode(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        codec::write_long_string(buf, &self.query)?;
        self.params.write(buf, version)
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let query = r.read_long_string("query string")?.to_owned();
        let params = QueryParameters::read(r, body, version)?;
        Ok(Self { query, params })
    }
}
