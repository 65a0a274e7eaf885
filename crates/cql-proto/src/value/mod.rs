//! CQL types and values: the type grammar, value encoding of every type, and value traits.

mod compare;
pub(crate) mod decode;
mod display;
pub(crate) mod encode;
mod ext;
mod maybe;
mod numeric;
mod temporal;
mod timeuuid;
mod traits;
mod tuple;
pub mod types;
mod vint;
mod wrappers;

pub use compare::compare;
pub use encode::{vector_element_size, write_cell};
pub use ext::ValueOverflow;
pub use maybe::{Emptiable, MaybeEmpty, MaybeUnset};
pub use timeuuid::CqlTimeuuid;
pub use traits::{DeserializeValue, SerializeValue, Unset};

use std::net::IpAddr;

use uuid::Uuid;

pub use types::ColumnType;

/// A CQL `date`: days since the epoch, centred at 2^31 (so 2^31 is 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CqlDate(pub u32);

/// A CQL `time`: nanoseconds since midnight, 0 to 86399999999999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CqlTime(pub i64);

impl CqlTime {
    /// The last nanosecond of a day: 86399999999999.
    pub const MAX_NANOS: i64 = 86_399_999_999_999;
}

/// A CQL `timestamp`: milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CqlTimestamp(pub i64);

/// A CQL `duration`: months, days and nanoseconds (all with the same sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CqlDuration {
    /// Months.
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Nanoseconds.
    pub nanoseconds: i64,
}

/// A CQL `varint`: a two's-complement big-endian integer of any size, kept as its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CqlVarint(pub Vec<u8>);

/// A CQL `decimal`: an unscaled varint and a scale (value = unscaled × 10^-scale).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CqlDecimal {
    /// The unscaled value, two's-complement big-endian.
    pub unscaled: CqlVarint,
    /// The scale.
    pub scale: i32,
}

/// A dynamically typed CQL value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CqlValue {
    /// `ascii`.
    Ascii(String),
    /// `bigint`.
    BigInt(i64),
    /// `blob`.
    Blob(Vec<u8>),
    /// `boolean`.
    Boolean(bool),
    /// `counter`.
    Counter(i64),
    /// `decimal`.
    Decimal(CqlDecimal),
    /// `date`.
    Date(CqlDate),
    /// `double`.
    Double(f64),
    /// `duration`.
    Duration(CqlDuration),
    /// `float`.
    Float(f32),
    /// `int`.
    Int(i32),
    /// `inet`.
    Inet(IpAddr),
    /// `list<T>`.
    List(Vec<Self>),
    /// `map<K, V>`, in wire order.
    Map(Vec<(Self, Self)>),
    /// `set<T>`, in wire order.
    Set(Vec<Self>),
    /// `smallint`.
    SmallInt(i16),
    /// `text`.
    Text(String),
    /// `time`.
    Time(CqlTime),
    /// `timestamp`.
    Timestamp(CqlTimestamp),
    /// `timeuuid`, ordered as the server orders it (see [`CqlTimeuuid`]).
    Timeuuid(CqlTimeuuid),
    /// `tinyint`.
    TinyInt(i8),
    /// `tuple<...>`: a `None` element is null.
    Tuple(Vec<Option<Self>>),
    /// A user-defined type value: fields in declaration order, `None` = null.
    Udt {
        /// The keyspace of the type.
        keyspace: String,
        /// The type's name.
        name: String,
        /// Field names and values.
        fields: Vec<(String, Option<Self>)>,
    },
    /// `uuid`.
    Uuid(Uuid),
    /// `varint`.
    Varint(CqlVarint),
    /// `vector<T, n>`.
    Vector(Vec<Self>),
    /// A value of a custom type, kept as bytes.
    Custom(Vec<u8>),
    /// An empty value (zero-length bytes) of a type for which that is not a normal value.
    Empty,
}
