//! Custom type class names, including the parameterised `VectorType`.

use super::{ColumnType, MAX_TYPE_DEPTH, VECTOR_CLASS};
use crate::error::DecodeError;

/// Parses a custom type's class name; `VectorType(...)` becomes [`ColumnType::Vector`].
pub(crate) fn parse_custom_class(class: &str, depth: usize) -> Result<ColumnType, DecodeError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(DecodeError::TooDeep {
            max: MAX_TYPE_DEPTH,
        });
    }
    let Some(params) = class
        .strip_prefix(VECTOR_CLASS)
        .and_then(|p| p.strip_prefix('('))
        .and_then(|p| p.strip_suffix(')'))
    else {
        return Ok(ColumnType::Custom(class.to_owned()));
    };
    let (elem, dim) = params
        .rsplit_once(',')
        .ok_or_else(|| DecodeError::invalid("vector type", class.to_owned()))?;
    let dim: u32 = dim
        .trim()
        .parse()
        .map_err(|_| DecodeError::invalid("vector dimension", dim.to_owned()))?;
    let elem = class_to_type(elem.trim(), depth + 1)?;
    Ok(ColumnType::Vector(Box::new(elem), dim))
}

/// Maps a marshal class name (as found inside `VectorType(...)`) to a type.
fn class_to_type(class: &str, depth: usize) -> Result<ColumnType, DecodeError> {
    let short = class
        .strip_prefix("org.apache.cassandra.db.marshal.")
        .unwrap_or(class);
    Ok(match short {
        "AsciiType" => ColumnType::Ascii,
        "LongType" => ColumnType::BigInt,
        "BytesType" => ColumnType::Blob,
        "BooleanType" => ColumnType::Boolean,
        "CounterColumnType" => ColumnType::Counter,
        "DecimalType" => ColumnType::Decimal,
        "DoubleType" => ColumnType::Double,
        "FloatType" => ColumnType::Float,
        "Int32Type" => ColumnType::Int,
        "TimestampType" => ColumnType::Timestamp,
        "UUIDType" => ColumnType::Uuid,
        "UTF8Type" => ColumnType::Text,
        "IntegerType" => ColumnType::Varint,
        "TimeUUIDType" => ColumnType::Timeuuid,
        "InetAddressType" => ColumnType::Inet,
        "SimpleDateType" => ColumnType::Date,
        "TimeType" => ColumnType::Time,
        "ShortType" => ColumnType::SmallInt,
        "ByteType" => ColumnType::TinyInt,
        "DurationType" => ColumnType::Duration,
        _ if short.starts_with("VectorType(") => parse_custom_class(class, depth)?,
        _ => ColumnType::Custom(class.to_owned()),
    })
}

fn type_to_class(t: &ColumnType) -> String {
    let p = "org.apache.cassandra.db.marshal.";
    let short = match t {
        ColumnType::Ascii => "AsciiType",
        ColumnType::BigInt => "LongType",
        ColumnType::Blob => "BytesType",
        ColumnType::Boolean => "BooleanType",
        ColumnType::Counter => "CounterColumnType",
        ColumnType::Decimal => "DecimalType",
        ColumnType::Double => "DoubleType",
        ColumnType::Float => "FloatType",
        ColumnType::Int => "Int32Type",
        ColumnType::Timestamp => "TimestampType",
        ColumnType::Uuid => "UUIDType",
        ColumnType::Text => "UTF8Type",
        ColumnType::Varint => "IntegerType",
        ColumnType::Timeuuid => "TimeUUIDType",
        ColumnType::Inet => "InetAddressType",
        ColumnType::Date => "SimpleDateType",
        ColumnType::Time => "TimeType",
        ColumnType::SmallInt => "ShortType",
        ColumnType::TinyInt => "ByteType",
        ColumnType::Duration => "DurationType",
        ColumnType::Vector(..) => return vector_class(t),
        ColumnType::Custom(c) => return c.clone(),
        // Collections inside vectors are rare; name them by their CQL text.
        other => return other.to_string(),
    };
    format!("{p}{short}")
}

/// The class name a vector type is sent as: `VectorType(<element class>, <dimension>)`.
pub(crate) fn vector_class(t: &ColumnType) -> String {
    match t {
        ColumnType::Vector(elem, dim) => format!("{VECTOR_CLASS}({}, {dim})", type_to_class(elem)),
        other => type_to_class(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_class_round_trip() {
        let t = parse_custom_class(
            "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType, 3)",
            0,
        )
        .unwrap();
        assert_eq!(t, ColumnType::Vector(Box::new(ColumnType::Float), 3));
        assert_eq!(parse_custom_class(&vector_class(&t), 0).unwrap(), t);
    }

    #[test]
    fn unknown_class_stays_custom() {
        assert_eq!(
            parse_custom_class("com.example.Foo", 0).unwrap(),
            ColumnType::Custom("com.example.Foo".into())
        );
    }
}
