//! QUERY (section 4.1.4): `<query: [long string]><query_parameters>`.

use bytes::{Bytes, BytesMut};

use super::QueryParameters;
use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::frame::ProtocolVersion;
use crate::text::Text;

/// QUERY: a CQL string and its parameters.
///
/// The text is a [`Text`], so a driver sending one statement many times clones a reference
/// count, not the string, and a decoded QUERY points into the frame body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The CQL text.
    pub query: Text,
    /// The parameters.
    pub params: QueryParameters,
}

impl Query {
    pub(crate) fn encode(
        &self,
        version: ProtocolVersion,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        codec::write_long_text(buf, &self.query)?;
        self.params.write(buf, version)
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let query = r.read_long_text(body, "query string")?;
        let params = QueryParameters::read(r, body, version)?;
        Ok(Self { query, params })
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use crate::codes::Opcode;
    use crate::frame::ProtocolVersion;
    use crate::request::{Query, Request};

    #[test]
    fn a_decoded_query_points_into_the_frame_body() {
        #[rustfmt::skip]
        let body = Bytes::from(vec![
            0x00, 0x00, 0x00, 0x08, b'S', b'E', b'L', b'E', b'C', b'T', b' ', b'1',
            0x00, 0x01, // consistency ONE
            0x00, // no flags
        ]);
        let Ok(Request::Query(q)) =
            Request::decode_body(Opcode::QUERY, ProtocolVersion::V4, body.clone())
        else {
            panic!("a query expected")
        };
        assert_eq!(q.query, "SELECT 1");
        assert_eq!(q.query.as_bytes().as_ptr(), body[4..].as_ptr());
        let mut out = BytesMut::new();
        Request::Query(Query {
            query: q.query.clone(),
            params: q.params,
        })
        .encode_body(ProtocolVersion::V4, &mut out)
        .unwrap();
        assert_eq!(out, body);
    }
}
