//! TLS with rustls: since connections are generic over the stream, TLS is just another stream.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::{ConnectionError, TlsError};

/// TLS settings of a connection.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    client: Arc<rustls::ClientConfig>,
    server_name: Option<String>,
}

impl TlsConfig {
    /// Trusts `roots` and, if given, presents `client_cert` (chain and key) to the server.
    pub fn new(
        roots: Vec<CertificateDer<'static>>,
        client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    ) -> Result<Self, ConnectionError> {
        let mut store = rustls::RootCertStore::empty();
        for cert in roots {
            store
                .add(cert)
                .map_err(|e| ConnectionError::Tls(e.into()))?;
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectionError::Tls(e.into()))?
        .with_root_certificates(store);
        let client = match client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ConnectionError::Tls(e.into()))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Self {
            client: Arc::new(client),
            server_name: None,
        })
    }

    /// Uses a prepared rustls client configuration as is.
    pub fn from_rustls(client: Arc<rustls::ClientConfig>) -> Self {
        Self {
            client,
            server_name: None,
        }
    }

    /// The name to verify the server certificate against (SNI); by default the IP address.
    ///
    /// (A rustls configuration converts with `From` too: `TlsConfig::from(Arc<ClientConfig>)`.)
    #[must_use]
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    pub(crate) async fn connect(
        &self,
        addr: SocketAddr,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, ConnectionError> {
        let name = match &self.server_name {
            Some(n) => ServerName::try_from(n.clone())
                .map_err(|_| ConnectionError::Tls(TlsError::ServerName(n.clone())))?,
            None => ServerName::IpAddress(addr.ip().into()),
        };
        TlsConnector::from(Arc::clone(&self.client))
            .connect(name, tcp)
            .await
            .map_err(|e| {
                ConnectionError::Tls(TlsError::Handshake {
                    addr,
                    source: Arc::new(e),
                })
            })
    }
}

/// A prepared rustls client configuration, used as is (the `scylla` crate's `TlsContext`
/// conversion).
impl From<Arc<rustls::ClientConfig>> for TlsConfig {
    fn from(client: Arc<rustls::ClientConfig>) -> Self {
        Self::from_rustls(client)
    }
}

/// A rustls client configuration, used as is.
impl From<rustls::ClientConfig> for TlsConfig {
    fn from(client: rustls::ClientConfig) -> Self {
        Self::from_rustls(Arc::new(client))
    }
}
