//! CQL text to syntax tree: a `nom` lexer and a recursive-descent parser over its tokens.

pub mod ast;
pub mod auth;
mod lexer;
mod parser;

pub use parser::{Parsed, parse_statement};

#[cfg(test)]
mod tests;
