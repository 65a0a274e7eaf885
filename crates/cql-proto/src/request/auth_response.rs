//! AUTH_RESPONSE (section 4.1.2): a `[bytes]` token.

use bytes::{Bytes, BytesMut};

use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};

/// AUTH_RESPONSE: the authenticator-specific token (for PasswordAuthenticator,
/// `\0user\0password`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthResponse {
    /// The token; `None` is a null `[bytes]`.
    pub token: Option<Bytes>,
}

impl AuthResponse {
    pub(crate) fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        codec::write_bytes(buf, self.token.as_deref())
    }

    pub(crate) fn read(r: &mut Reader<'_>, body: &Bytes) -> Result<Self, DecodeError> {
        Ok(Self {
            token: r.read_bytes("auth token")?.map(|b| body.slice_ref(b)),
        })
    }
}
