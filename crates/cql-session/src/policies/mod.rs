//! Policies: which nodes to try ([`load_balancing`]), whether to retry ([`retry`]), and whether
//! to race a second attempt against a slow one ([`speculative_execution`]), and how many
//! requests may run or start at once ([`throttle`]).

pub mod load_balancing;
pub mod retry;
pub mod speculative_execution;
pub mod throttle;
