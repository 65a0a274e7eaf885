//! The protocol's enumerated values: opcodes, consistency levels, error codes, result kinds, batch
//! types, write types and event kinds.
//!
//! Numeric value sets are *open* newtypes with named consts, so a value from a newer server still
//! decodes; their `Debug` and `Display` print the const's name, or hex for an unknown value.
//! String value sets are enums with an `Other(String)` variant for the same reason.

use std::fmt;

/// Declares an open numeric newtype with named consts and a name-or-hex `Debug`.
macro_rules! open_code {
    (
        $(#[$meta:meta])*
        $name:ident($inner:ty), hex width $width:literal {
            $( $(#[$cmeta:meta])* $cname:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $inner);

        impl $name {
            $( $(#[$cmeta])* pub const $cname: Self = Self($value); )*

            /// Every value this crate knows a name for, in spec order.
            pub const KNOWN: &'static [Self] = &[$(Self::$cname),*];

            /// The spec's name of this value, or `None` for a value unknown to this crate.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( v if v == $value => Some(stringify!($cname)), )*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!(stringify!($name), "(0x{:0", $width, "x})"), self.0),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}
pub(crate) use open_code;

open_code! {
    /// A frame's opcode (section 2.4): which message the body holds.
    Opcode(u8), hex width 2 {
        /// ERROR (response).
        ERROR = 0x00,
        /// STARTUP (request).
        STARTUP = 0x01,
        /// READY (response).
        READY = 0x02,
        /// AUTHENTICATE (response).
        AUTHENTICATE = 0x03,
        /// OPTIONS (request).
        OPTIONS = 0x05,
        /// SUPPORTED (response).
        SUPPORTED = 0x06,
        /// QUERY (request).
        QUERY = 0x07,
        /// RESULT (response).
        RESULT = 0x08,
        /// PREPARE (request).
        PREPARE = 0x09,
        /// EXECUTE (request).
        EXECUTE = 0x0A,
        /// REGISTER (request).
        REGISTER = 0x0B,
        /// EVENT (response, pushed by the server on stream -1).
        EVENT = 0x0C,
        /// BATCH (request).
        BATCH = 0x0D,
        /// AUTH_CHALLENGE (response).
        AUTH_CHALLENGE = 0x0E,
        /// AUTH_RESPONSE (request).
        AUTH_RESPONSE = 0x0F,
        /// AUTH_SUCCESS (response).
        AUTH_SUCCESS = 0x10,
    }
}

open_code! {
    /// A `[consistency]` level (section 3).
    Consistency(u16), hex width 4 {
        /// ANY.
        ANY = 0x0000,
        /// ONE.
        ONE = 0x0001,
        /// TWO.
        TWO = 0x0002,
        /// THREE.
        THREE = 0x0003,
        /// QUORUM.
        QUORUM = 0x0004,
        /// ALL.
        ALL = 0x0005,
        /// LOCAL_QUORUM.
        LOCAL_QUORUM = 0x0006,
        /// EACH_QUORUM.
        EACH_QUORUM = 0x0007,
        /// SERIAL.
        SERIAL = 0x0008,
        /// LOCAL_SERIAL.
        LOCAL_SERIAL = 0x0009,
        /// LOCAL_ONE.
        LOCAL_ONE = 0x000A,
    }
}

impl Consistency {
    /// Whether this is a serial level (SERIAL or LOCAL_SERIAL).
    pub const fn is_serial(self) -> bool {
        self.0 == Self::SERIAL.0 || self.0 == Self::LOCAL_SERIAL.0
    }
}

open_code! {
    /// An ERROR message's code (section 9).
    ErrorCode(i32), hex width 4 {
        /// Server error: something unexpected happened.
        SERVER_ERROR = 0x0000,
        /// Protocol error: a client message violated the protocol.
        PROTOCOL_ERROR = 0x000A,
        /// Authentication failed: bad credentials.
        BAD_CREDENTIALS = 0x0100,
        /// Not enough live replicas for the consistency level.
        UNAVAILABLE = 0x1000,
        /// The coordinator is overloaded.
        OVERLOADED = 0x1001,
        /// The coordinator is bootstrapping.
        IS_BOOTSTRAPPING = 0x1002,
        /// A truncation failed.
        TRUNCATE_ERROR = 0x1003,
        /// A write timed out.
        WRITE_TIMEOUT = 0x1100,
        /// A read timed out.
        READ_TIMEOUT = 0x1200,
        /// A non-timeout read failure.
        READ_FAILURE = 0x1300,
        /// A user-defined function failed.
        FUNCTION_FAILURE = 0x1400,
        /// A non-timeout write failure.
        WRITE_FAILURE = 0x1500,
        /// A CDC write failed (v5).
        CDC_WRITE_FAILURE = 0x1600,
        /// A contended CAS write has an unknown outcome (v5).
        CAS_WRITE_UNKNOWN = 0x1700,
        /// The query has a syntax error.
        SYNTAX_ERROR = 0x2000,
        /// The user is not allowed to run the query.
        UNAUTHORIZED = 0x2100,
        /// The query is syntactically correct but invalid.
        INVALID = 0x2200,
        /// The query is invalid because of a configuration issue.
        CONFIG_ERROR = 0x2300,
        /// The keyspace or table to create already exists.
        ALREADY_EXISTS = 0x2400,
        /// The prepared statement id is unknown to the node.
        UNPREPARED = 0x2500,
    }
}

open_code! {
    /// A RESULT message's kind (section 4.2.5).
    ResultKind(i32), hex width 4 {
        /// Void: no information.
        VOID = 0x0001,
        /// Rows: a SELECT result.
        ROWS = 0x0002,
        /// Set_keyspace: the result of a USE.
        SET_KEYSPACE = 0x0003,
        /// Prepared: the result of a PREPARE.
        PREPARED = 0x0004,
        /// Schema_change: the result of a DDL statement.
        SCHEMA_CHANGE = 0x0005,
    }
}

open_code! {
    /// A BATCH's type (section 4.1.7).
    BatchType(u8), hex width 2 {
        /// A logged (atomic) batch.
        LOGGED = 0,
        /// An unlogged batch.
        UNLOGGED = 1,
        /// A batch of counter updates.
        COUNTER = 2,
    }
}

/// Declares an open string enum: known spellings as variants plus `Other(String)`.
macro_rules! open_str {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value unknown to this crate, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as spelled on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(s) => s,
                }
            }

            /// Parses the wire spelling; unknown spellings become `Other`.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_str! {
    /// The kind of write that timed out or failed (`<writeType>` in section 9).
    WriteType {
        /// A non-batched, non-counter write.
        Simple = "SIMPLE",
        /// A logged batch write (the batch log write succeeded).
        Batch = "BATCH",
        /// An unlogged batch.
        UnloggedBatch = "UNLOGGED_BATCH",
        /// A counter write.
        Counter = "COUNTER",
        /// The batch log write of a logged batch.
        BatchLog = "BATCH_LOG",
        /// The Paxos phase of a CAS write.
        Cas = "CAS",
        /// A materialized view update.
        View = "VIEW",
        /// A write blocked by CDC space limits.
        Cdc = "CDC",
    }
}

open_str! {
    /// An event type a client can REGISTER for (section 4.2.6).
    EventType {
        /// Nodes joined, left or moved.
        TopologyChange = "TOPOLOGY_CHANGE",
        /// Nodes went up or down.
        StatusChange = "STATUS_CHANGE",
        /// The schema changed.
        SchemaChange = "SCHEMA_CHANGE",
    }
}

open_str! {
    /// The change of a TOPOLOGY_CHANGE event.
    TopologyChangeType {
        /// A node joined the cluster.
        NewNode = "NEW_NODE",
        /// A node left the cluster.
        RemovedNode = "REMOVED_NODE",
        /// A node moved (token change).
        MovedNode = "MOVED_NODE",
    }
}

open_str! {
    /// The change of a STATUS_CHANGE event.
    StatusChangeType {
        /// A node is up.
        Up = "UP",
        /// A node is down.
        Down = "DOWN",
    }
}

open_str! {
    /// The change of a SCHEMA_CHANGE event or result.
    SchemaChangeType {
        /// An element was created.
        Created = "CREATED",
        /// An element was altered.
        Updated = "UPDATED",
        /// An element was dropped.
        Dropped = "DROPPED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_name_or_hex() {
        assert_eq!(format!("{:?}", Opcode::QUERY), "QUERY");
        assert_eq!(format!("{:?}", Opcode(0x42)), "Opcode(0x42)");
        assert_eq!(format!("{:?}", ErrorCode::UNPREPARED), "UNPREPARED");
        assert_eq!(format!("{:?}", ErrorCode(0x4321)), "ErrorCode(0x4321)");
        assert_eq!(format!("{}", Consistency(0x77)), "Consistency(0x0077)");
        assert_eq!(Consistency::LOCAL_ONE.name(), Some("LOCAL_ONE"));
        assert_eq!(BatchType::KNOWN.len(), 3);
    }

    #[test]
    fn string_sets_keep_unknown_values() {
        assert_eq!(WriteType::from_wire("CAS"), WriteType::Cas);
        assert_eq!(
            WriteType::from_wire("NEWKIND"),
            WriteType::Other("NEWKIND".into())
        );
        assert_eq!(WriteType::Other("X".into()).as_str(), "X");
        assert_eq!(SchemaChangeType::Dropped.to_string(), "DROPPED");
    }
}
