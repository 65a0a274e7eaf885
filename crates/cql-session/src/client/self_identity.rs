//! [`SelfIdentity`]: what the driver tells each node about itself and the application in
//! STARTUP, as the `scylla` crate's. Servers show it with the connection
//! (`system_views.clients` in Cassandra, `system.clients` in Scylla, `nodetool clientstats`).

/// The driver's and the application's identity, sent in every connection's STARTUP.
///
/// By default the driver's own name and version are sent and nothing about the application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfIdentity {
    custom_driver_name: Option<String>,
    custom_driver_version: Option<String>,
    application_name: Option<String>,
    application_version: Option<String>,
    client_id: Option<String>,
}

macro_rules! identity_field {
    ($field:ident, $with:ident, $set:ident, $get:ident, $what:literal) => {
        #[doc = concat!("Sets ", $what, ".")]
        #[must_use]
        pub fn $with(mut self, value: impl Into<String>) -> Self {
            self.$field = Some(value.into());
            self
        }

        #[doc = concat!("Sets (or clears) ", $what, ".")]
        pub fn $set(&mut self, value: Option<impl Into<String>>) {
            self.$field = value.map(Into::into);
        }

        #[doc = concat!($what, ", if set.")]
        pub fn $get(&self) -> Option<&str> {
            self.$field.as_deref()
        }
    };
}

impl SelfIdentity {
    /// The default identity: the driver's name and version, nothing about the application.
    pub fn new() -> Self {
        Self::default()
    }

    identity_field!(
        custom_driver_name,
        with_custom_driver_name,
        set_custom_driver_name,
        get_custom_driver_name,
        "the `DRIVER_NAME` sent instead of this driver's own"
    );
    identity_field!(
        custom_driver_version,
        with_custom_driver_version,
        set_custom_driver_version,
        get_custom_driver_version,
        "the `DRIVER_VERSION` sent instead of this driver's own"
    );
    identity_field!(
        application_name,
        with_application_name,
        set_application_name,
        get_application_name,
        "the application's name (`APPLICATION_NAME`)"
    );
    identity_field!(
        application_version,
        with_application_version,
        set_application_version,
        get_application_version,
        "the application's version (`APPLICATION_VERSION`)"
    );
    identity_field!(
        client_id,
        with_client_id,
        set_client_id,
        get_client_id,
        "this client instance's id (`CLIENT_ID`), e.g. a UUID"
    );

    /// Applies the identity to a connection configuration.
    pub(crate) fn apply(&self, c: &mut transport::ConnectionConfig) {
        if let Some(n) = &self.custom_driver_name {
            c.driver_name.clone_from(n);
        }
        if let Some(v) = &self.custom_driver_version {
            c.driver_version.clone_from(v);
        }
        c.application.name.clone_from(&self.application_name);
        c.application.version.clone_from(&self.application_version);
        c.application.client_id.clone_from(&self.client_id);
    }
}
