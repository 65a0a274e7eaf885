//! [`Consistency`] and [`SerialConsistency`]: the levels a user picks, as closed enums (the
//! `scylla` crate's shapes). Their wire codes are `cql-proto`'s [`proto::Consistency`]; this
//! module only maps between the two.
//!
//! A leaf module: it depends on nothing else in the crate, so errors, statements, profiles and
//! policies can all use it without depending on one another.

use std::fmt;

use proto::Consistency as Wire;

/// How many replicas must answer a read or acknowledge a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Consistency {
    /// A write is stored by any node, possibly as a hint only.
    Any,
    /// One replica.
    One,
    /// Two replicas.
    Two,
    /// Three replicas.
    Three,
    /// A majority of replicas over all datacenters.
    Quorum,
    /// Every replica.
    All,
    /// A majority of replicas in the coordinator's datacenter (the default).
    #[default]
    LocalQuorum,
    /// A majority of replicas in every datacenter.
    EachQuorum,
    /// One replica in the coordinator's datacenter.
    LocalOne,
    /// Paxos consensus over all datacenters (conditional statements' reads).
    Serial,
    /// Paxos consensus in the coordinator's datacenter.
    LocalSerial,
}

/// Every level with its wire code, in declaration order: the one table both directions are
/// read from.
const LEVELS: [(Consistency, Wire); 11] = [
    (Consistency::Any, Wire::ANY),
    (Consistency::One, Wire::ONE),
    (Consistency::Two, Wire::TWO),
    (Consistency::Three, Wire::THREE),
    (Consistency::Quorum, Wire::QUORUM),
    (Consistency::All, Wire::ALL),
    (Consistency::LocalQuorum, Wire::LOCAL_QUORUM),
    (Consistency::EachQuorum, Wire::EACH_QUORUM),
    (Consistency::LocalOne, Wire::LOCAL_ONE),
    (Consistency::Serial, Wire::SERIAL),
    (Consistency::LocalSerial, Wire::LOCAL_SERIAL),
];

impl Consistency {
    /// The level as `cql-proto`'s wire value.
    pub fn to_wire(self) -> Wire {
        // `LEVELS` lists the variants in declaration order (checked by a test).
        LEVELS[self as usize].1
    }

    /// The consistency's `[consistency]` code on the wire.
    pub fn code(self) -> u16 {
        self.to_wire().0
    }

    /// The consistency of a wire code, if it is a known one.
    pub fn from_code(code: u16) -> Option<Self> {
        LEVELS
            .iter()
            .find(|(_, wire)| wire.0 == code)
            .map(|(level, _)| *level)
    }

    /// Whether the level is one of the serial (Paxos) levels.
    pub fn is_serial(self) -> bool {
        matches!(self, Self::Serial | Self::LocalSerial)
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every level of this enum is a named code of `cql-proto`'s table.
        match self.to_wire().name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:?}", self),
        }
    }
}

/// The consistency of the Paxos phase of conditional (`IF ...`) statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SerialConsistency {
    /// Paxos over all datacenters.
    Serial,
    /// Paxos in the coordinator's datacenter (the default).
    #[default]
    LocalSerial,
}

impl From<SerialConsistency> for Consistency {
    fn from(s: SerialConsistency) -> Self {
        match s {
            SerialConsistency::Serial => Self::Serial,
            SerialConsistency::LocalSerial => Self::LocalSerial,
        }
    }
}

impl fmt::Display for SerialConsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Consistency::from(*self).fmt(f)
    }
}

impl From<Consistency> for Wire {
    fn from(c: Consistency) -> Self {
        c.to_wire()
    }
}

impl From<SerialConsistency> for Wire {
    fn from(c: SerialConsistency) -> Self {
        Consistency::from(c).to_wire()
    }
}

impl TryFrom<Wire> for Consistency {
    type Error = u16;

    /// Fails with the raw code for a level this driver does not know.
    fn try_from(c: Wire) -> Result<Self, u16> {
        Self::from_code(c.0).ok_or(c.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_both_ways_with_the_spec_codes() {
        // Spec section 3, `[consistency]`.
        let spec = [
            (Consistency::Any, 0x0000, "ANY"),
            (Consistency::One, 0x0001, "ONE"),
            (Consistency::Two, 0x0002, "TWO"),
            (Consistency::Three, 0x0003, "THREE"),
            (Consistency::Quorum, 0x0004, "QUORUM"),
            (Consistency::All, 0x0005, "ALL"),
            (Consistency::LocalQuorum, 0x0006, "LOCAL_QUORUM"),
            (Consistency::EachQuorum, 0x0007, "EACH_QUORUM"),
            (Consistency::Serial, 0x0008, "SERIAL"),
            (Consistency::LocalSerial, 0x0009, "LOCAL_SERIAL"),
            (Consistency::LocalOne, 0x000A, "LOCAL_ONE"),
        ];
        for (level, code, name) in spec {
            assert_eq!(level.code(), code);
            assert_eq!(Consistency::from_code(code), Some(level));
            assert_eq!(level.to_string(), name);
            assert_eq!(Consistency::try_from(Wire(code)), Ok(level));
        }
        for (i, (level, _)) in LEVELS.iter().enumerate() {
            assert_eq!(*level as usize, i, "LEVELS must follow declaration order");
        }
        assert_eq!(Consistency::from_code(0x000B), None);
        assert_eq!(Consistency::try_from(Wire(0x77)), Err(0x77));
        assert_eq!(SerialConsistency::Serial.to_string(), "SERIAL");
    }
}
