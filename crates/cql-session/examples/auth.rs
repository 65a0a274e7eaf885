//! Authentication with PasswordAuthenticator: the embedded cluster requires `cassandra` /
//! `cassandra`; a wrong password is refused with an error that says so. Against real nodes, set
//! `CQL_NODES`, `CQL_USER` and `CQL_PASSWORD`.
//!
//! ```sh
//! cargo run --example auth
//! ```

use std::error::Error;

use cql_session::SessionBuilder;

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let user = std::env::var("CQL_USER").unwrap_or_else(|_| "cassandra".into());
    let password = std::env::var("CQL_PASSWORD").unwrap_or_else(|_| "cassandra".into());
    let (nodes, _embedded) = common::cluster_nodes(Some((&user, &password))).await?;

    match SessionBuilder::new()
        .known_nodes(&nodes)
        .user(&user, "not-the-password")
        .build()
        .await
    {
        Ok(_) => println!("warning: the cluster accepted a wrong password (is auth enabled?)"),
        Err(e) => println!("wrong password refused: {e}"),
    }

    let session = SessionBuilder::new()
        .known_nodes(&nodes)
        .user(&user, &password)
        .build()
        .await?;
    let version = session
        .query_unpaged("SELECT release_version FROM system.local", ())
        .await?
        .into_rows_result()?
        .single_row::<(String,)>()?
        .0;
    println!("authenticated as {user}; server release_version {version}");
    Ok(())
}
