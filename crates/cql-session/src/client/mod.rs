//! The client: `Session`, its builder, execution profiles, pagers and the caching
//! session.

pub(crate) mod execute;
pub mod execution_profile;
