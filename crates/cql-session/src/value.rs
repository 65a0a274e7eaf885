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

/// The value of a `counter` column, as the `scylla` crate names it. Binding or reading it as any
/// other CQL type is a type error; a plain `i64` binds and reads counters too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter(pub i64);

impl proto::value::SerializeValue for Counter {
    fn serialize(
        &self,
        typ: &proto::ColumnType,
        buf: &mut bytes::BytesMut,
    ) -> Result<(), proto::EncodeError> {
        match typ {
            proto::ColumnType::Counter => self.0.serialize(typ, buf),
            _ => Err(proto::EncodeError::TypeMismatch {
                expected: typ.to_string(),
                got: "Counter".to_owned(),
            }),
        }
    }
}

impl<'frame> proto::value::DeserializeValue<'frame> for Counter {
    fn type_check(typ: &proto::ColumnType) -> Result<(), proto::DecodeError> {
        match typ {
            proto::ColumnType::Counter => Ok(()),
            _ => Err(proto::DecodeError::TypeMismatch {
                expected: "Counter".to_owned(),
                got: typ.to_string(),
            }),
        }
    }

    fn deserialize(
        typ: &'frame proto::ColumnType,
        v: Option<&'frame [u8]>,
    ) -> Result<Self, proto::DecodeError> {
        Self::type_check(typ)?;
        i64::deserialize(typ, v).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use proto::ColumnType;
    use proto::value::{DeserializeValue, SerializeValue};

    use super::Counter;

    #[test]
    fn counter_is_a_counter_and_nothing_else() {
        let mut buf = BytesMut::new();
        Counter(-7)
            .serialize(&ColumnType::Counter, &mut buf)
            .unwrap();
        assert_eq!(&buf[..], &(-7i64).to_be_bytes());
        assert_eq!(
            Counter::deserialize(&ColumnType::Counter, Some(&buf[..])).unwrap(),
            Counter(-7)
        );
        assert!(
            Counter(1)
                .serialize(&ColumnType::BigInt, &mut BytesMut::new())
                .is_err()
        );
        assert!(Counter::type_check(&ColumnType::BigInt).is_err());
        assert!(Counter::deserialize(&ColumnType::BigInt, Some(&buf[..])).is_err());
        assert!(Counter::deserialize(&ColumnType::Counter, None).is_err());
    }
}
