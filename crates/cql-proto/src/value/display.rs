//! Accessors of [`CqlValue`] and its `Display` in CQL literal syntax.

use std::fmt;
use std::net::IpAddr;

use uuid::Uuid;

use crate::value::{
    CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlTimeuuid, CqlValue, CqlVarint,
};

macro_rules! copy_accessor {
    ($(#[$doc:meta] $name:ident -> $t:ty { $($pat:pat => $e:expr),+ })+) => {
        $(
            #[$doc]
            pub fn $name(&self) -> Option<$t> {
                match self {
                    $($pat => Some($e),)+
                    _ => None,
                }
            }
        )+
    };
}

impl CqlValue {
    copy_accessor! {
        /// The value of an `int`.
        as_int -> i32 { Self::Int(v) => *v }
        /// The value of a `bigint` (not a counter: see [`CqlValue::as_counter`]).
        as_bigint -> i64 { Self::BigInt(v) => *v }
        /// The value of a `counter`.
        as_counter -> i64 { Self::Counter(v) => *v }
        /// The value of a `smallint`.
        as_smallint -> i16 { Self::SmallInt(v) => *v }
        /// The value of a `tinyint`.
        as_tinyint -> i8 { Self::TinyInt(v) => *v }
        /// The value of a `boolean`.
        as_boolean -> bool { Self::Boolean(v) => *v }
        /// The value of a `float`.
        as_float -> f32 { Self::Float(v) => *v }
        /// The value of a `double`.
        as_double -> f64 { Self::Double(v) => *v }
        /// The value of a `uuid` or `timeuuid`.
        as_uuid -> Uuid { Self::Uuid(v) => *v, Self::Timeuuid(v) => *v.as_uuid() }
        /// The value of a `timeuuid`.
        as_timeuuid -> CqlTimeuuid { Self::Timeuuid(v) => *v }
        /// The value of an `inet`.
        as_inet -> IpAddr { Self::Inet(v) => *v }
        /// The value of a `date`.
        as_date -> CqlDate { Self::Date(v) => *v }
        /// The value of a `time`.
        as_time -> CqlTime { Self::Time(v) => *v }
        /// The value of a `timestamp`.
        as_timestamp -> CqlTimestamp { Self::Timestamp(v) => *v }
        /// The value of a `duration`.
        as_duration -> CqlDuration { Self::Duration(v) => *v }
        /// The string of a `text` or `ascii` value.
        as_text -> &str { Self::Text(s) => s, Self::Ascii(s) => s }
        /// The bytes of a `blob` or custom value.
        as_blob -> &[u8] { Self::Blob(b) => b, Self::Custom(b) => b }
        /// A `varint`.
        as_varint -> &CqlVarint { Self::Varint(v) => v }
        /// A `decimal`.
        as_decimal -> &CqlDecimal { Self::Decimal(v) => v }
        /// The elements of a `list`, `set` or `vector`.
        as_list -> &[Self] { Self::List(v) => v, Self::Set(v) => v, Self::Vector(v) => v }
        /// The entries of a `map`, in wire order.
        as_map -> &[(Self, Self)] { Self::Map(v) => v }
        /// The elements of a `tuple` (`None` = null).
        as_tuple -> &[Option<Self>] { Self::Tuple(v) => v }
        /// The fields of a user-defined type value (`None` = null).
        as_udt_fields -> &[(String, Option<Self>)] { Self::Udt { fields, .. } => fields }
    }

    /// The string of an `ascii` value (alias of [`CqlValue::as_text`] for ascii).
    pub fn as_ascii(&self) -> Option<&str> {
        match self {
            Self::Ascii(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is [`CqlValue::Empty`].
    pub fn is_empty_value(&self) -> bool {
        matches!(self, Self::Empty)
    }
}

fn quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for (i, part) in s.split('\'').enumerate() {
        if i > 0 {
            f.write_str("''")?;
        }
        f.write_str(part)?;
    }
    f.write_str("'")
}

fn hex(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    for x in b {
        write!(f, "{x:02x}")?;
    }
    Ok(())
}

fn float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("NaN")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        write!(f, "{x:?}")
    }
}

fn seq<'a>(
    f: &mut fmt::Formatter<'_>,
    open: &str,
    close: &str,
    items: impl Iterator<Item = &'a CqlValue>,
) -> fmt::Result {
    f.write_str(open)?;
    for (i, v) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str(close)
}

fn opt(f: &mut fmt::Formatter<'_>, v: Option<&CqlValue>) -> fmt::Result {
    match v {
        Some(v) => write!(f, "{v}"),
        None => f.write_str("null"),
    }
}

impl fmt::Display for CqlValue {
    /// Prints the value as a CQL literal: strings, dates, times, timestamps and inets quoted,
    /// blobs as `0x…`, lists and vectors `[…]`, sets `{…}`, maps `{k: v}`, tuples `(…)`, UDTs
    /// `{field: value}`, nulls `null`. [`CqlValue::Empty`] has no literal and prints `<empty>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ascii(s) | Self::Text(s) => quoted(f, s),
            Self::BigInt(v) | Self::Counter(v) => write!(f, "{v}"),
            Self::Blob(b) | Self::Custom(b) => hex(f, b),
            Self::Boolean(v) => write!(f, "{v}"),
            Self::Decimal(v) => write!(f, "{v}"),
            Self::Date(v) => write!(f, "'{v}'"),
            Self::Double(v) => float(f, *v),
            Self::Duration(v) => write!(f, "{v}"),
            Self::Float(v) => float(f, f64::from(*v)),
            Self::Int(v) => write!(f, "{v}"),
            Self::Inet(v) => write!(f, "'{v}'"),
            Self::List(v) | Self::Vector(v) => seq(f, "[", "]", v.iter()),
            Self::Set(v) => seq(f, "{", "}", v.iter()),
            Self::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Self::SmallInt(v) => write!(f, "{v}"),
            Self::Time(v) => write!(f, "'{v}'"),
            Self::Timestamp(v) => write!(f, "'{v}'"),
            Self::Timeuuid(v) => write!(f, "{v}"),
            Self::Uuid(v) => write!(f, "{v}"),
            Self::TinyInt(v) => write!(f, "{v}"),
            Self::Tuple(items) => {
                f.write_str("(")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    opt(f, v.as_ref())?;
                }
                f.write_str(")")
            }
            Self::Udt { fields, .. } => {
                f.write_str("{")?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: ")?;
                    opt(f, v.as_ref())?;
                }
                f.write_str("}")
            }
            Self::Varint(v) => write!(f, "{v}"),
            Self::Empty => f.write_str("<empty>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        let v = CqlValue::Map(vec![(
            CqlValue::Text("it's".into()),
            CqlValue::List(vec![CqlValue::Int(1), CqlValue::Blob(vec![0xca, 0xfe])]),
        )]);
        assert_eq!(v.to_string(), "{'it''s': [1, 0xcafe]}");
        let t = CqlValue::Tuple(vec![Some(CqlValue::Date(CqlDate(1 << 31))), None]);
        assert_eq!(t.to_string(), "('1970-01-01', null)");
        assert_eq!(
            CqlValue::Set(vec![CqlValue::Double(1.5)]).to_string(),
            "{1.5}"
        );
        assert_eq!(CqlValue::Float(f32::NAN).to_string(), "NaN");
        assert_eq!(
            CqlValue::Udt {
                keyspace: "ks".into(),
                name: "u".into(),
                fields: vec![("a".into(), Some(CqlValue::Boolean(true)))],
            }
            .to_string(),
            "{a: true}"
        );
        assert_eq!(CqlValue::Int(3).as_int(), Some(3));
        assert_eq!(CqlValue::Int(3).as_bigint(), None);
        assert_eq!(CqlValue::Ascii("a".into()).as_text(), Some("a"));
    }
}
