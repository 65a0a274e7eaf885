//! STARTUP (section 4.1.1): a `[string map]` of options.

use bytes::BytesMut;

use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};
use crate::string_map::StringMap;

/// STARTUP: `CQL_VERSION` (required), `COMPRESSION`, `DRIVER_NAME`, ... and Scylla extension keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Startup {
    /// The options, encoded in their order (a decoded STARTUP keeps the wire order).
    pub options: StringMap,
}

impl Startup {
    /// The option naming the CQL version (`"3.0.0"`).
    pub const CQL_VERSION: &'static str = "CQL_VERSION";
    /// The option naming the body compression.
    pub const COMPRESSION: &'static str = "COMPRESSION";
    /// The option naming the driver.
    pub const DRIVER_NAME: &'static str = "DRIVER_NAME";
    /// The option giving the driver's version.
    pub const DRIVER_VERSION: &'static str = "DRIVER_VERSION";
    /// The option naming the application (not in the spec text; Cassandra 4+ shows every
    /// option in `system_views.clients`, and the Java and `scylla` drivers send this key).
    pub const APPLICATION_NAME: &'static str = "APPLICATION_NAME";
    /// The option giving the application's version (as [`Self::APPLICATION_NAME`]).
    pub const APPLICATION_VERSION: &'static str = "APPLICATION_VERSION";
    /// The option identifying this client instance, e.g. a UUID (as [`Self::APPLICATION_NAME`]).
    pub const CLIENT_ID: &'static str = "CLIENT_ID";
    /// The option asking the server not to compact result sets (ignored by most servers).
    pub const NO_COMPACT: &'static str = "NO_COMPACT";
    /// The option asking the server to reply OVERLOADED instead of applying backpressure.
    pub const THROW_ON_OVERLOAD: &'static str = "THROW_ON_OVERLOAD";

    pub(crate) fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        codec::write_string_map(buf, &self.options)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            options: r.read_string_map("startup options")?,
        })
    }
}
