//! The CQL type grammar: the `[option]` of section 4.2.5.2 (v4) / 6.2.5.2 (v5).

mod custom;

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::codec::{self, Reader};
use crate::error::{DecodeError, EncodeError};

/// The deepest type nesting accepted from the wire (a guard against stack exhaustion).
pub const MAX_TYPE_DEPTH: usize = 32;

/// The Java class name Cassandra uses for the vector type, sent as a custom type.
pub const VECTOR_CLASS: &str = "org.apache.cassandra.db.marshal.VectorType";

/// A CQL data type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// A custom type, named by its server-side class name (id 0x0000).
    Custom(String),
    /// `ascii` (0x0001).
    Ascii,
    /// `bigint` (0x0002).
    BigInt,
    /// `blob` (0x0003).
    Blob,
    /// `boolean` (0x0004).
    Boolean,
    /// `counter` (0x0005).
    Counter,
    /// `decimal` (0x0006).
    Decimal,
    /// `double` (0x0007).
    Double,
    /// `float` (0x0008).
    Float,
    /// `int` (0x0009).
    Int,
    /// `timestamp` (0x000B).
    Timestamp,
    /// `uuid` (0x000C).
    Uuid,
    /// `text` / `varchar` (0x000D).
    Text,
    /// `varint` (0x000E).
    Varint,
    /// `timeuuid` (0x000F).
    Timeuuid,
    /// `inet` (0x0010).
    Inet,
    /// `date` (0x0011).
    Date,
    /// `time` (0x0012).
    Time,
    /// `smallint` (0x0013).
    SmallInt,
    /// `tinyint` (0x0014).
    TinyInt,
    /// `duration` (0x0015).
    Duration,
    /// `list<T>` (0x0020).
    List(Box<Self>),
    /// `map<K, V>` (0x0021).
    Map(Box<Self>, Box<Self>),
    /// `set<T>` (0x0022).
    Set(Box<Self>),
    /// A user-defined type (0x0030).
    Udt {
        /// The keyspace the type lives in.
        keyspace: String,
        /// The type's name.
        name: String,
        /// Field names and types, in declaration order.
        fields: Vec<(String, Self)>,
    },
    /// `tuple<...>` (0x0031).
    Tuple(Vec<Self>),
    /// `vector<T, n>`: sent on the wire as the custom type [`VECTOR_CLASS`] with parameters.
    Vector(Box<Self>, u32),
}

impl ColumnType {
    /// The native (non-parameterized) type a CQL type name denotes: `int`, `text` (or its alias
    /// `varchar`), `timeuuid`, ... in lower case as CQL and `system_schema` write them; `None`
    /// for any other name (collections, tuples, vectors, user-defined types). The inverse of
    /// [`Display`](fmt::Display) for native types.
    pub fn from_native_name(name: &str) -> Option<Self> {
        Some(match name {
            "ascii" => Self::Ascii,
            "bigint" => Self::BigInt,
            "blob" => Self::Blob,
            "boolean" => Self::Boolean,
            "counter" => Self::Counter,
            "date" => Self::Date,
            "decimal" => Self::Decimal,
            "double" => Self::Double,
            "duration" => Self::Duration,
            "float" => Self::Float,
            "inet" => Self::Inet,
            "int" => Self::Int,
            "smallint" => Self::SmallInt,
            "text" | "varchar" => Self::Text,
            "time" => Self::Time,
            "timestamp" => Self::Timestamp,
            "timeuuid" => Self::Timeuuid,
            "tinyint" => Self::TinyInt,
            "uuid" => Self::Uuid,
            "varint" => Self::Varint,
            _ => return None,
        })
    }

    /// Decodes an `[option]` type description.
    pub fn decode(bytes: &[u8]) -> Result<(Self, usize), DecodeError> {
        let mut r = Reader::new(bytes);
        let t = Self::read(&mut r, 0)?;
        Ok((t, bytes.len() - r.remaining()))
    }

    pub(crate) fn read(r: &mut Reader<'_>, depth: usize) -> Result<Self, DecodeError> {
        if depth > MAX_TYPE_DEPTH {
            return Err(DecodeError::TooDeep {
                max: MAX_TYPE_DEPTH,
            });
        }
        let id = r.read_short("type id")?;
        Ok(match id {
            0x0000 => {
                let class = r.read_string("custom type class")?;
                custom::parse_custom_class(class, depth)?
            }
            0x0001 => Self::Ascii,
            0x0002 => Self::BigInt,
            0x0003 => Self::Blob,
            0x0004 => Self::Boolean,
            0x0005 => Self::Counter,
            0x0006 => Self::Decimal,
            0x0007 => Self::Double,
            0x0008 => Self::Float,
            0x0009 => Self::Int,
            0x000B => Self::Timestamp,
            0x000C => Self::Uuid,
            0x000D => Self::Text,
            0x000E => Self::Varint,
            0x000F => Self::Timeuuid,
            0x0010 => Self::Inet,
            0x0011 => Self::Date,
            0x0012 => Self::Time,
            0x0013 => Self::SmallInt,
            0x0014 => Self::TinyInt,
            0x0015 => Self::Duration,
            0x0020 => Self::List(Box::new(Self::read(r, depth + 1)?)),
            0x0021 => {
                let k = Self::read(r, depth + 1)?;
                let v = Self::read(r, depth + 1)?;
                Self::Map(Box::new(k), Box::new(v))
            }
            0x0022 => Self::Set(Box::new(Self::read(r, depth + 1)?)),
            0x0030 => {
                let keyspace = r.read_string("udt keyspace")?.to_owned();
                let name = r.read_string("udt name")?.to_owned();
                let n = r.read_short("udt field count")? as usize;
                let mut fields = Vec::with_capacity(n.min(r.remaining() / 4));
                for _ in 0..n {
                    let f = r.read_string("udt field name")?;
                    // Field names identify fields (values are matched by name), so a type
                    // naming one field twice is malformed; CQL itself rejects it.
                    if fields.iter().any(|(existing, _)| existing == f) {
                        return Err(DecodeError::invalid(
                            "udt field name",
                            format!("field {f:?} declared twice"),
                        ));
                    }
                    let f = f.to_owned();
                    fields.push((f, Self::read(r, depth + 1)?));
                }
                Self::Udt {
                    keyspace,
                    name,
                    fields,
                }
            }
            0x0031 => {
                let n = r.read_short("tuple arity")? as usize;
                let mut elems = Vec::with_capacity(n.min(r.remaining() / 2));
                for _ in 0..n {
                    elems.push(Self::read(r, depth + 1)?);
                }
                Self::Tuple(elems)
            }
            other => {
                return Err(DecodeError::invalid(
                    "type id",
                    format!("unknown type id 0x{other:04x}"),
                ));
            }
        })
    }

    /// Encodes this type as an `[option]`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let id: u16 = match self {
            Self::Custom(class) => {
                buf.put_u16(0x0000);
                return codec::write_string(buf, class);
            }
            Self::Vector(..) => {
                buf.put_u16(0x0000);
                return codec::write_string(buf, &custom::vector_class(self));
            }
            Self::Ascii => 0x0001,
            Self::BigInt => 0x0002,
            Self::Blob => 0x0003,
            Self::Boolean => 0x0004,
            Self::Counter => 0x0005,
            Self::Decimal => 0x0006,
            Self::Double => 0x0007,
            Self::Float => 0x0008,
            Self::Int => 0x0009,
            Self::Timestamp => 0x000B,
            Self::Uuid => 0x000C,
            Self::Text => 0x000D,
            Self::Varint => 0x000E,
            Self::Timeuuid => 0x000F,
            Self::Inet => 0x0010,
            Self::Date => 0x0011,
            Self::Time => 0x0012,
            Self::SmallInt => 0x0013,
            Self::TinyInt => 0x0014,
            Self::Duration => 0x0015,
            Self::List(t) => {
                buf.put_u16(0x0020);
                return t.encode(buf);
            }
            Self::Map(k, v) => {
                buf.put_u16(0x0021);
                k.encode(buf)?;
                return v.encode(buf);
            }
            Self::Set(t) => {
                buf.put_u16(0x0022);
                return t.encode(buf);
            }
            Self::Udt {
                keyspace,
                name,
                fields,
            } => {
                buf.put_u16(0x0030);
                codec::write_string(buf, keyspace)?;
                codec::write_string(buf, name)?;
                let n = u16::try_from(fields.len()).map_err(|_| EncodeError::TooLong {
                    what: "udt fields",
                    len: fields.len(),
                })?;
                buf.put_u16(n);
                for (f, t) in fields {
                    codec::write_string(buf, f)?;
                    t.encode(buf)?;
                }
                return Ok(());
            }
            Self::Tuple(elems) => {
                buf.put_u16(0x0031);
                let n = u16::try_from(elems.len()).map_err(|_| EncodeError::TooLong {
                    what: "tuple elements",
                    len: elems.len(),
                })?;
                buf.put_u16(n);
                for t in elems {
                    t.encode(buf)?;
                }
                return Ok(());
            }
        };
        buf.put_u16(id);
        Ok(())
    }
}

impl fmt::Display for ColumnType {
    /// Prints the type in CQL syntax, e.g. `map<text, frozen<list<int>>>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom(c) => write!(f, "'{c}'"),
            Self::Ascii => f.write_str("ascii"),
            Self::BigInt => f.write_str("bigint"),
            Self::Blob => f.write_str("blob"),
            Self::Boolean => f.write_str("boolean"),
            Self::Counter => f.write_str("counter"),
            Self::Decimal => f.write_str("decimal"),
            Self::Double => f.write_str("double"),
            Self::Float => f.write_str("float"),
            Self::Int => f.write_str("int"),
            Self::Timestamp => f.write_str("timestamp"),
            Self::Uuid => f.write_str("uuid"),
            Self::Text => f.write_str("text"),
            Self::Varint => f.write_str("varint"),
            Self::Timeuuid => f.write_str("timeuuid"),
            Self::Inet => f.write_str("inet"),
            Self::Date => f.write_str("date"),
            Self::Time => f.write_str("time"),
            Self::SmallInt => f.write_str("smallint"),
            Self::TinyInt => f.write_str("tinyint"),
            Self::Duration => f.write_str("duration"),
            Self::List(t) => write!(f, "list<{t}>"),
            Self::Map(k, v) => write!(f, "map<{k}, {v}>"),
            Self::Set(t) => write!(f, "set<{t}>"),
            Self::Udt { keyspace, name, .. } => write!(f, "{keyspace}.{name}"),
            Self::Tuple(ts) => {
                f.write_str("tuple<")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
            Self::Vector(t, n) => write!(f, "vector<{t}, {n}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ColumnType;

    #[test]
    fn native_names_round_trip_through_display() {
        let natives = [
            ColumnType::Ascii,
            ColumnType::BigInt,
            ColumnType::Blob,
            ColumnType::Boolean,
            ColumnType::Counter,
            ColumnType::Date,
            ColumnType::Decimal,
            ColumnType::Double,
            ColumnType::Duration,
            ColumnType::Float,
            ColumnType::Inet,
            ColumnType::Int,
            ColumnType::SmallInt,
            ColumnType::Text,
            ColumnType::Time,
            ColumnType::Timestamp,
            ColumnType::Timeuuid,
            ColumnType::TinyInt,
            ColumnType::Uuid,
            ColumnType::Varint,
        ];
        for t in natives {
            assert_eq!(ColumnType::from_native_name(&t.to_string()), Some(t));
        }
        assert_eq!(
            ColumnType::from_native_name("varchar"),
            Some(ColumnType::Text)
        );
        for other in [
            "list", "map", "frozen", "tuple", "vector", "address", "INT", "",
        ] {
            assert_eq!(ColumnType::from_native_name(other), None, "{other}");
        }
    }
}
