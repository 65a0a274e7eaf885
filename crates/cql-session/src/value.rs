//! Dynamically typed CQL values and rows.

pub use proto::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlTimeuuid, CqlValue, CqlVarint,
    Emptiable, MaybeEmpty, MaybeUnset, Unset, ValueOverflow,
};

/// A row of dynamically typed values: one entry per column, `None` for null.
///
/// Use it when the columns are not known at compile time; otherwise deserialize into a tuple or
/// a struct deriving `DeserializeRow`, which skips the intermediate [`CqlValue`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The row's values in column order; `None` is null.
    pub columns: Vec<Option<CqlValue>>,
}
