//! Custom type class names, including the parameterised `VectorType`.

use super::{ColumnType, MAX_TYPE_DEPTH, VECTOR_CLASS};
use crate::error::DecodeError;

/// The package of Cassandra's marshal classes.
const MARSHAL: &str = "org.apache.cassandra.db.marshal.";

/// Parses a custom type's class name; `VectorType(...)` becomes [`ColumnType::Vector`], with
/// elements of any type by their marshal class names (`ListType(...)`, `FrozenType(...)`,
/// `UserType(...)`, ...).
pub(crate) fn parse_custom_class(class: &str, depth: usize) -> Result<ColumnType, DecodeError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(DecodeError::TooDeep {
            max: MAX_TYPE_DEPTH,
        });
    }
    let Some(params) = class
        .strip_prefix(VECTOR_CLASS)
        .and_then(|p| p.trim_start().strip_prefix('('))
        .and_then(|p| p.trim_end().strip_suffix(')'))
    else {
        return Ok(ColumnType::Custom(class.to_owned()));
    };
    if params.matches('(').count() != params.matches(')').count() {
        return Err(DecodeError::invalid("vector type", class.to_owned()));
    }
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

/// `Name(params)` of a class name without its package: the name and the parameters split at
/// top-level commas.
fn parameterised(short: &str) -> Option<(&str, Vec<&str>)> {
    let open = short.find('(')?;
    let inner = short.strip_suffix(')')?.get(open + 1..)?;
    let mut parts = Vec::new();
    let (mut level, mut from) = (0usize, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '(' => level += 1,
            ')' => level = level.checked_sub(1)?,
            ',' if level == 0 => {
                parts.push(inner[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(inner[from..].trim());
    Some((&short[..open], parts))
}

/// Decodes a hex-encoded UTF-8 name (user type and field names in `UserType(...)`).
fn hex_name(h: &str) -> Option<String> {
    if !h.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Maps a marshal class name (as found inside `VectorType(...)`) to a type.
fn class_to_type(class: &str, depth: usize) -> Result<ColumnType, DecodeError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(DecodeError::TooDeep {
            max: MAX_TYPE_DEPTH,
        });
    }
    let short = class.strip_prefix(MARSHAL).unwrap_or(class);
    let bad = || DecodeError::invalid("marshal type", class.to_owned());
    let one = |ps: &[&str]| -> Result<ColumnType, DecodeError> {
        match ps {
            [p] => class_to_type(p, depth + 1),
            _ => Err(bad()),
        }
    };
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
        _ if short.starts_with("VectorType") => parse_custom_class(class, depth)?,
        _ => match parameterised(short) {
            Some(("FrozenType", ps)) => one(&ps)?,
            Some(("ListType", ps)) => ColumnType::List(Box::new(one(&ps)?)),
            Some(("SetType", ps)) => ColumnType::Set(Box::new(one(&ps)?)),
            Some(("MapType", ps)) => match ps[..] {
                [k, v] => ColumnType::Map(
                    Box::new(class_to_type(k, depth + 1)?),
                    Box::new(class_to_type(v, depth + 1)?),
                ),
                _ => return Err(bad()),
            },
            Some(("TupleType", ps)) => ColumnType::Tuple(
                ps.iter()
                    .map(|p| class_to_type(p, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Some(("UserType", ps)) => {
                let [keyspace, name, fields @ ..] = &ps[..] else {
                    return Err(bad());
                };
                let fields = fields
                    .iter()
                    .map(|f| {
                        let (n, t) = f.split_once(':').ok_or_else(bad)?;
                        Ok((hex_name(n).ok_or_else(bad)?, class_to_type(t, depth + 1)?))
                    })
                    .collect::<Result<_, DecodeError>>()?;
                ColumnType::Udt {
                    keyspace: (*keyspace).to_owned(),
                    name: hex_name(name).ok_or_else(bad)?,
                    fields,
                }
            }
            _ => ColumnType::Custom(class.to_owned()),
        },
    })
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The marshal class name of `t`, as Cassandra's `AbstractType.toString(ignoreFreezing)`
/// writes it: a frozen collection, tuple or user type inside `FrozenType(...)` unless
/// `ignore_freezing` (its own parameters are written with it set), parameters joined by `,`.
fn type_to_class(t: &ColumnType, ignore_freezing: bool) -> String {
    let frozen = |inner: String| {
        if ignore_freezing {
            inner
        } else {
            format!("{MARSHAL}FrozenType({inner})")
        }
    };
    let params = |ts: &[&ColumnType]| -> String {
        ts.iter()
            .map(|t| type_to_class(t, true))
            .collect::<Vec<_>>()
            .join(",")
    };
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
        ColumnType::Vector(elem, dim) => {
            return format!(
                "{VECTOR_CLASS}({} , {dim})",
                type_to_class(elem, ignore_freezing)
            );
        }
        ColumnType::List(e) => return frozen(format!("{MARSHAL}ListType({})", params(&[e]))),
        ColumnType::Set(e) => return frozen(format!("{MARSHAL}SetType({})", params(&[e]))),
        ColumnType::Map(k, v) => {
            return frozen(format!("{MARSHAL}MapType({})", params(&[k, v])));
        }
        ColumnType::Tuple(ts) => {
            let ts: Vec<&ColumnType> = ts.iter().collect();
            return frozen(format!("{MARSHAL}TupleType({})", params(&ts)));
        }
        ColumnType::Udt {
            keyspace,
            name,
            fields,
        } => {
            let mut parts = vec![keyspace.clone(), hex(name)];
            parts.extend(
                fields
                    .iter()
                    .map(|(f, ft)| format!("{}:{}", hex(f), type_to_class(ft, true))),
            );
            return frozen(format!("{MARSHAL}UserType({})", parts.join(",")));
        }
        ColumnType::Custom(c) => return c.clone(),
    };
    format!("{MARSHAL}{short}")
}

/// The class name a vector type is sent as, as Cassandra writes it:
/// `VectorType(<element class> , <dimension>)`, the element frozen.
pub(crate) fn vector_class(t: &ColumnType) -> String {
    type_to_class(t, false)
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
        // Cassandra writes a space on each side of the comma.
        assert_eq!(
            vector_class(&t),
            "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType , 3)"
        );
    }

    #[test]
    fn vectors_of_collections_tuples_and_udts_use_marshal_class_names() {
        let p = "org.apache.cassandra.db.marshal.";
        let list = ColumnType::Vector(Box::new(ColumnType::List(Box::new(ColumnType::Int))), 2);
        let want = format!("{p}VectorType({p}FrozenType({p}ListType({p}Int32Type)) , 2)");
        assert_eq!(vector_class(&list), want);
        assert_eq!(parse_custom_class(&want, 0).unwrap(), list);
        let map = ColumnType::Map(Box::new(ColumnType::Text), Box::new(ColumnType::BigInt));
        let udt = ColumnType::Udt {
            keyspace: "ks".into(),
            name: "pt".into(),
            fields: vec![("x".into(), ColumnType::Float), ("m".into(), map)],
        };
        let v = ColumnType::Vector(Box::new(udt), 4);
        let want = format!(
            "{p}VectorType({p}FrozenType({p}UserType(ks,7074,78:{p}FloatType,6d:{p}MapType({p}UTF8Type,{p}LongType))) , 4)"
        );
        assert_eq!(vector_class(&v), want);
        assert_eq!(parse_custom_class(&want, 0).unwrap(), v);
        let tuple = ColumnType::Vector(
            Box::new(ColumnType::Tuple(vec![ColumnType::Int, ColumnType::Text])),
            1,
        );
        assert_eq!(parse_custom_class(&vector_class(&tuple), 0).unwrap(), tuple);
        // Nested vectors, and the readers' tolerance of spacing.
        let nested = ColumnType::Vector(
            Box::new(ColumnType::Vector(Box::new(ColumnType::Float), 2)),
            3,
        );
        assert_eq!(
            parse_custom_class(&vector_class(&nested), 0).unwrap(),
            nested
        );
        assert_eq!(
            parse_custom_class(&format!("{p}VectorType({p}FloatType,3)"), 0).unwrap(),
            ColumnType::Vector(Box::new(ColumnType::Float), 3)
        );
        // Malformed parameters are errors, not panics.
        for bad in [
            format!("{p}VectorType({p}ListType({p}Int32Type , 2)"),
            format!("{p}VectorType({p}MapType({p}Int32Type) , 2)"),
            format!("{p}VectorType({p}UserType(ks,zz) , 2)"),
        ] {
            assert!(parse_custom_class(&bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_class_stays_custom() {
        assert_eq!(
            parse_custom_class("com.example.Foo", 0).unwrap(),
            ColumnType::Custom("com.example.Foo".into())
        );
    }
}
