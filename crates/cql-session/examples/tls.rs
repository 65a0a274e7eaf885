//! TLS: connect to nodes that require TLS, trusting a CA certificate given as a DER file, with
//! optional PasswordAuthenticator credentials. `cql-sim` speaks plain TCP only, so this example
//! needs real nodes:
//!
//! ```sh
//! CQL_NODES=10.0.0.1:9142 CQL_TLS_CA=ca.der [CQL_TLS_SERVER_NAME=db.example.com] \
//!   [CQL_USER=u CQL_PASSWORD=p] cargo run -p cql-session --features tls --example tls
//! ```

use std::error::Error;

use cql_session::SessionBuilder;
use cql_session::tls::TlsConfig;
use cql_session::tls::rustls::pki_types::CertificateDer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (Ok(nodes), Ok(ca_path)) = (std::env::var("CQL_NODES"), std::env::var("CQL_TLS_CA")) else {
        eprintln!("set CQL_NODES=host:port,... and CQL_TLS_CA=<CA certificate, DER>");
        std::process::exit(2);
    };
    let ca = std::fs::read(&ca_path).map_err(|e| format!("cannot read {ca_path}: {e}"))?;
    let mut tls = TlsConfig::new(vec![CertificateDer::from(ca)], None)?;
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
