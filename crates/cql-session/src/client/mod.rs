//! The client: `Session`, its builder, execution profiles, pagers and the caching
//! session.

pub(crate) mod backend;
pub(crate) mod execute;
pub mod execution_profile;
pub mod pager;
pub mod session;
