//! The client: [`session::Session`], its builder, execution profiles, pagers and the caching
//! session.

pub mod caching_session;
pub(crate) mod execute;
pub mod execution_profile;
pub mod pager;
pub mod self_identity;
pub mod session;
pub mod session_builder;

pub use self_identity::SelfIdentity;
pub use session_builder::WriteCoalescingDelay;
pub(crate) mod target;
