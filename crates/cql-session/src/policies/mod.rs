//! Policies: which nodes to connect to ([`host_filter`]), which nodes to try
//! ([`load_balancing`]), whether to retry ([`retry`]), whether to race a second attempt
//! against a slow one ([`speculative_execution`]), how many requests may run or start at once
//! ([`throttle`]), the client-side write timestamps ([`timestamp_generator`]), and how often a
//! node's pool tries to reconnect ([`reconnect`]).

pub mod host_filter;
pub mod load_balancing;
pub mod reconnect;
pub mod retry;
pub mod speculative_execution;
pub mod throttle;
pub mod timestamp_generator;
