//! Policies: which nodes to try ([`load_balancing`]), whether to retry ([`retry`]), and whether
//! to race a second attempt against a slow one ([`speculative_execution`]).

pub mod load_balancing;
pub mod retry;
pub mod speculative_execution;
