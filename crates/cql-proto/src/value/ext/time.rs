//! `time` 0.3 (feature `time-03`): `Date` as `date`, `Time` as `time`, `OffsetDateTime` and
//! `PrimitiveDateTime` (taken as UTC) as `timestamp`.

use time_03::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::{ValueOverflow, via_cql};
use crate::value::{CqlDate, CqlTime, CqlTimestamp};

/// The Julian day number of 1970-01-01.
const JULIAN_DAY_AT_EPOCH: i64 = 2_440_588;

/// Every `Date` fits a CQL `date`.
impl From<Date> for CqlDate {
    fn from(d: Date) -> Self {
        let days = i64::from(d.to_julian_day()) - JULIAN_DAY_AT_EPOCH;
        Self((days + (1i64 << 31)) as u32)
    }
}

/// Fails for a date outside `Date`'s range (years ±9999 without `time`'s `large-dates`).
impl TryFrom<CqlDate> for Date {
    type Error = ValueOverflow;

    fn try_from(d: CqlDate) -> Result<Self, ValueOverflow> {
        let julian = i64::from(d.0) - (1i64 << 31) + JULIAN_DAY_AT_EPOCH;
        let julian = i32::try_from(julian).map_err(|_| ValueOverflow)?;
        Self::from_julian_day(julian).map_err(|_| ValueOverflow)
    }
}

/// Every `Time` fits (`time` has no leap seconds).
impl From<Time> for CqlTime {
    fn from(t: Time) -> Self {
        let (h, m, s, n) = t.as_hms_nano();
        let secs = (i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(s);
        Self(secs * 1_000_000_000 + i64::from(n))
    }
}

/// Fails only for a `CqlTime` outside 0..=86399999999999 (never one read from the wire).
impl TryFrom<CqlTime> for Time {
    type Error = ValueOverflow;

    fn try_from(t: CqlTime) -> Result<Self, ValueOverflow> {
        if !(0..=CqlTime::MAX_NANOS).contains(&t.0) {
            return Err(ValueOverflow);
        }
        let secs = t.0 / 1_000_000_000;
        let part = |v: i64| u8::try_from(v).map_err(|_| ValueOverflow);
        let nanos = u32::try_from(t.0 % 1_000_000_000).map_err(|_| ValueOverflow)?;
        Self::from_hms_nano(
            part(secs / 3600)?,
            part(secs / 60 % 60)?,
            part(secs % 60)?,
            nanos,
        )
        .map_err(|_| ValueOverflow)
    }
}

/// Milliseconds since the epoch, rounded towards negative infinity. Every `OffsetDateTime`
/// fits.
impl TryFrom<OffsetDateTime> for CqlTimestamp {
    type Error = ValueOverflow;

    fn try_from(t: OffsetDateTime) -> Result<Self, ValueOverflow> {
        let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
        i64::try_from(millis).map(Self).map_err(|_| ValueOverflow)
    }
}

/// In UTC. Fails for a timestamp outside `OffsetDateTime`'s range (years ±9999 without
/// `time`'s `large-dates`).
impl TryFrom<CqlTimestamp> for OffsetDateTime {
    type Error = ValueOverflow;

    fn try_from(t: CqlTimestamp) -> Result<Self, ValueOverflow> {
        Self::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000).map_err(|_| ValueOverflow)
    }
}

/// A `PrimitiveDateTime` has no offset: it is taken as UTC.
impl TryFrom<PrimitiveDateTime> for CqlTimestamp {
    type Error = ValueOverflow;

    fn try_from(t: PrimitiveDateTime) -> Result<Self, ValueOverflow> {
        Self::try_from(t.assume_utc())
    }
}

/// The UTC date and time of the timestamp.
impl TryFrom<CqlTimestamp> for PrimitiveDateTime {
    type Error = ValueOverflow;

    fn try_from(t: CqlTimestamp) -> Result<Self, ValueOverflow> {
        // `from_unix_timestamp_nanos` gives UTC already; `to_offset` could panic, so no call.
        let utc = OffsetDateTime::try_from(t)?;
        Ok(Self::new(utc.date(), utc.time()))
    }
}

via_cql!(Date, CqlDate);
via_cql!(Time, CqlTime);
via_cql!(OffsetDateTime, CqlTimestamp);
via_cql!(PrimitiveDateTime, CqlTimestamp);
