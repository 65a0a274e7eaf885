//! `USE <keyspace>` on every connection, and keyspace-name validation.

//! [`Session`]: the driver's main object. It owns the connections to the cluster and runs
//! statements, prepared statements and batches.

use std::sync::Arc;

use crate::errors::{BadKeyspaceName, UseKeyspaceError};

use super::SessionInner;

impl SessionInner {
    /// Sets the keyspace on every connection, current and future.
    pub(crate) async fn use_keyspace(&self, name: String) -> Result<(), UseKeyspaceError> {
        if let Err(e) = self.cluster.use_keyspace(&name).await {
            let e = crate::client::target::attempt_error(e);
            // A server error (an unknown keyspace) is the answer; a broken connection is not:
            // it uses the keyspace once reconnected.
            if e.db_error().is_some() {
                return Err(UseKeyspaceError::RequestError(e));
            }
            tracing::warn!(error = %e, "USE failed on a connection; it is set again on reconnect");
        }
        self.keyspace.store(Some(Arc::new(name)));
        Ok(())
    }
}

/// Checks a keyspace name: 1 to 48 ASCII letters, digits and underscores.
pub(crate) fn validate_keyspace_name(name: &str) -> Result<(), BadKeyspaceName> {
    if name.is_empty() {
        return Err(BadKeyspaceName::Empty);
    }
    let len = name.chars().count();
    if len > 48 {
        return Err(BadKeyspaceName::TooLong(name.to_owned(), len));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '_')
    {
        return Err(BadKeyspaceName::IllegalCharacter(name.to_owned(), c));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_names_are_validated() {
        assert!(validate_keyspace_name("my_ks_1").is_ok());
        assert_eq!(validate_keyspace_name(""), Err(BadKeyspaceName::Empty));
        let long = "k".repeat(49);
        assert_eq!(
            validate_keyspace_name(&long),
            Err(BadKeyspaceName::TooLong(long.clone(), 49))
        );
        assert!(validate_keyspace_name(&"k".repeat(48)).is_ok());
        assert_eq!(
            validate_keyspace_name("ks-1"),
            Err(BadKeyspaceName::IllegalCharacter("ks-1".into(), '-'))
        );
        assert!(matches!(
            validate_keyspace_name("ks\"; DROP"),
            Err(BadKeyspaceName::IllegalCharacter(_, '"'))
        ));
    }
}
