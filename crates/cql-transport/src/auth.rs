//! Authentication: the SASL exchange of AUTHENTICATE / AUTH_CHALLENGE / AUTH_SUCCESS.

use futures::future::BoxFuture;

/// What [`AuthenticatorProvider::start_session`] yields: the initial token and the session.
pub type AuthStart = Result<(Option<Vec<u8>>, Box<dyn AuthenticatorSession>), String>;

/// Creates an authentication session per connection when the server asks for authentication.
///
/// Async-friendly: every step returns a boxed future, so an authenticator may fetch tokens over
/// the network.
pub trait AuthenticatorProvider: Send + Sync + std::fmt::Debug {
    /// Starts a session for the server's authenticator class (from AUTHENTICATE) and returns the
    /// initial token to send in the first AUTH_RESPONSE.
    fn start_session<'a>(&'a self, authenticator: &'a str) -> BoxFuture<'a, AuthStart>;
}

/// One connection's authentication exchange.
pub trait AuthenticatorSession: Send + Sync {
    /// Answers an AUTH_CHALLENGE; the returned token goes into the next AUTH_RESPONSE.
    fn evaluate_challenge<'a>(
        &'a mut self,
        token: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>>;

    /// Called with the AUTH_SUCCESS token; an error fails the connection.
    fn success<'a>(&'a mut self, token: Option<&'a [u8]>) -> BoxFuture<'a, Result<(), String>>;
}

/// Cassandra's / Scylla's `PasswordAuthenticator`: SASL PLAIN, token `\0user\0password`.
#[derive(Clone)]
pub struct PasswordAuthenticator {
    username: String,
    password: String,
}

impl std::fmt::Debug for PasswordAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordAuthenticator")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl PasswordAuthenticator {
    /// An authenticator sending these credentials.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The SASL PLAIN token: `\0username\0password`.
    pub fn initial_token(&self) -> Vec<u8> {
        let mut t = Vec::with_capacity(2 + self.username.len() + self.password.len());
        t.push(0);
        t.extend_from_slice(self.username.as_bytes());
        t.push(0);
        t.extend_from_slice(self.password.as_bytes());
        t
    }
}

struct PlainSession;

impl AuthenticatorSession for PlainSession {
    fn evaluate_challenge<'a>(
        &'a mut self,
        _token: Option<&'a [u8]>,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, String>> {
        Box::pin(async {
            Err("PasswordAuthenticator does not expect an AUTH_CHALLENGE".to_owned())
        })
    }

    fn success<'a>(&'a mut self, _token: Option<&'a [u8]>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

impl AuthenticatorProvider for PasswordAuthenticator {
    fn start_session<'a>(&'a self, _authenticator: &'a str) -> BoxFuture<'a, AuthStart> {
        let token = self.initial_token();
        Box::pin(async move {
            Ok((
                Some(token),
                Box::new(PlainSession) as Box<dyn AuthenticatorSession>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_token_layout() {
        let a = PasswordAuthenticator::new("cassandra", "pw");
        assert_eq!(a.initial_token(), b"\0cassandra\0pw".to_vec());
        assert!(
            !format!("{a:?}").contains("pw"),
            "debug output hides the password"
        );
    }
}
