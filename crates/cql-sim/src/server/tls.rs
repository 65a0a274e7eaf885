//! TLS on the nodes' SSL ports, as Scylla's `client_encryption_options` with
//! `native_transport_port_ssl` (default 9142) and `native_shard_aware_transport_port_ssl` (default
//! 19142): the plain ports keep serving, the SSL ports speak CQL inside TLS (rustls), and
//! SUPPORTED advertises the shard-aware SSL port under `SCYLLA_SHARD_AWARE_PORT_SSL`.
//!
//! The certificate is given ([`SimTls::certificate`]) or generated at start
//! ([`SimTls::generated`]): a test CA, and a node certificate it signs for every address the
//! cluster's nodes can have (their subnet) and `localhost`. Clients trust the CA
//! ([`crate::SimCluster::tls_ca_der`], [`crate::SimCluster::tls_ca_pem`]).

use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use super::error::SimError;

/// Scylla's default `native_transport_port_ssl`.
pub const DEFAULT_SSL_PORT: u16 = 9142;
/// Scylla's default `native_shard_aware_transport_port_ssl`.
pub const DEFAULT_SSL_SHARD_AWARE_PORT: u16 = 19142;

/// TLS settings of a cluster: the certificate and the SSL ports.
#[derive(Debug)]
pub struct SimTls {
    source: Source,
    port: u16,
    shard_aware_port: Option<u16>,
}

#[derive(Debug)]
enum Source {
    Generated(Flaws),
    Given {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    },
}

impl SimTls {
    /// A test CA and a node certificate generated when the cluster starts, on ports 9142 and
    /// 19142.
    pub fn generated() -> Self {
        Self {
            source: Source::Generated(Flaws::default()),
            port: DEFAULT_SSL_PORT,
            shard_aware_port: Some(DEFAULT_SSL_SHARD_AWARE_PORT),
        }
    }

    /// A generated node certificate for these names only (DNS names or IP addresses) instead
    /// of the nodes' addresses: a client verifying the node's address against it must refuse
    /// it. For negative tests; ignored for a given certificate.
    #[must_use]
    pub fn node_cert_names(mut self, names: Vec<String>) -> Self {
        if let Source::Generated(flaws) = &mut self.source {
            flaws.names = Some(names);
        }
        self
    }

    /// A generated node certificate that expired long ago (valid in the year 2000 only): a
    /// client checking validity must refuse it. For negative tests; ignored for a given
    /// certificate.
    #[must_use]
    pub fn node_cert_expired(mut self) -> Self {
        if let Source::Generated(flaws) = &mut self.source {
            flaws.expired = true;
        }
        self
    }

    /// Serves this certificate chain and key (the chain's first certificate is the nodes').
    pub fn certificate(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Self {
        Self {
            source: Source::Given { chain, key },
            ..Self::generated()
        }
    }

    /// The SSL port (default 9142).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The shard-aware SSL port (default 19142; `None`: no shard-aware SSL port).
    #[must_use]
    pub fn shard_aware_port(mut self, port: Option<u16>) -> Self {
        self.shard_aware_port = port;
        self
    }

    /// Builds the server side for nodes at `addresses`.
    pub(crate) fn build(&self, addresses: &[IpAddr]) -> Result<TlsSetup, SimError> {
        let bad = |e: &dyn std::fmt::Display| SimError::InvalidConfig(format!("TLS: {e}"));
        let (chain, key, ca) = match &self.source {
            Source::Given { chain, key } => (chain.clone(), key.clone_key(), None),
            Source::Generated(flaws) => {
                let g = generate(addresses, flaws).map_err(|e| bad(&e))?;
                (vec![g.node_cert], g.node_key, Some((g.ca_der, g.ca_pem)))
            }
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| bad(&e))?;
        Ok(TlsSetup {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca: ca.map(|(der, pem)| (der, Arc::from(pem))),
            port: self.port,
            shard_aware_port: self.shard_aware_port,
        })
    }
}

/// The running cluster's TLS: the acceptor, the generated CA, the ports.
#[derive(Clone)]
pub(crate) struct TlsSetup {
    pub(crate) acceptor: TlsAcceptor,
    /// The generated CA (DER and PEM); `None` for a given certificate.
    pub(crate) ca: Option<(CertificateDer<'static>, Arc<str>)>,
    pub(crate) port: u16,
    pub(crate) shard_aware_port: Option<u16>,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup")
            .field("port", &self.port)
            .field("shard_aware_port", &self.shard_aware_port)
            .finish_non_exhaustive()
    }
}

/// What is wrong on purpose with a generated node certificate (nothing by default).
#[derive(Debug, Default, Clone)]
struct Flaws {
    /// Names instead of the nodes' addresses and `localhost`.
    names: Option<Vec<String>>,
    /// Validity in the past.
    expired: bool,
}

struct Generated {
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    node_cert: CertificateDer<'static>,
    node_key: PrivateKeyDer<'static>,
}

fn generate(addresses: &[IpAddr], flaws: &Flaws) -> Result<Generated, rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "cql-sim test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    let names = match &flaws.names {
        Some(names) => names.clone(),
        None => {
            let mut names: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
            names.push("localhost".to_owned());
            names
        }
    };
    let mut node = CertificateParams::new(names)?;
    node.distinguished_name.push(DnType::CommonName, "cql-sim");
    if flaws.expired {
        node.not_before = rcgen::date_time_ymd(2000, 1, 1);
        node.not_after = rcgen::date_time_ymd(2000, 12, 31);
    }
    let node_key = KeyPair::generate()?;
    let node_cert = node.signed_by(&node_key, &ca)?;
    let ca_cert: &rcgen::Certificate = ca.as_ref();
    Ok(Generated {
        ca_der: ca_cert.der().clone(),
        ca_pem: ca_cert.pem(),
        node_cert: node_cert.der().clone(),
        node_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(node_key.serialize_der())),
    })
}
