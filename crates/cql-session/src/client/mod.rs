//! The client: `Session`, its builder, execution profiles, pagers and the caching
//! session.

pub mod execution_profile;
