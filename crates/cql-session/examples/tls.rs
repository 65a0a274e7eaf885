//! TLS: connect to nodes that require TLS, trusting a CA certificate given as a PEM or DER file,
//! with optional PasswordAuthenticator credentials. Against a local simulator that generates its
//! own CA:
//!
//! ```sh
//! cargo run -p cql-sim -- --nodes 3 --tls --tls-ca-out /tmp/ca.pem &
//! CQL_NODES=127.0.0.1:9142 CQL_TLS_CA=/tmp/ca.pem cargo run -p cql-session --features tls --example tls
//! ```
//!
//! Against real nodes: `CQL_NODES=10.0.0.1:9142 CQL_TLS_CA=ca.der [CQL_TLS_SERVER_NAME=db.example.com]
//! [CQL_USER=u CQL_PASSWORD=p]`.

use std::error::Error;

use cql_session::SessionBuilder;
use cql_session::tls::TlsConfig;
use cql_session::tls::rustls::pki_types::CertificateDer;
use cql_session::tls::rustls::pki_types::pem::PemObject;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (Ok(nodes), Ok(ca_path)) = (std::env::var("CQL_NODES"), std::env::var("CQL_TLS_CA")) else {
        eprintln!("set CQL_NODES=host:port,... and CQL_TLS_CA=<CA certificate, PEM or DER>");
        std::process::exit(2);
    };
    let ca = std::fs::read(&ca_path).map_err(|e| format!("cannot read {ca_path}: {e}"))?;
    let ca = if ca.starts_with(b"-----BEGIN") {
        CertificateDer::from_pem_slice(&ca).map_err(|e| format!("{ca_path}: {e}"))?
    } else {
        CertificateDer::from(ca)
    };
    let mut tls = TlsConfig::new(vec![ca], None)?;
    if let Ok(name) = std::env::var("CQL_TLS_SERVER_NAME") {
        tls = tls.with_server_name(name);
    }
    let mut builder = SessionBuilder::new()
        .known_nodes(nodes.split(',').map(str::trim))
        .tls_context(Some(tls));
    if let (Ok(user), Ok(password)) = (std::env::var("CQL_USER"), std::env::var("CQL_PASSWORD")) {
        builder = builder.user(user, password);
    }
    let session = builder.build().await?;
    let (cluster, version) = session
        .query_unpaged("SELECT cluster_name, release_version FROM system.local", ())
        .await?
        .into_rows_result()?
        .single_row::<(String, String)>()?;
    println!("connected over TLS to cluster {cluster:?}, release {version}");
    Ok(())
}
