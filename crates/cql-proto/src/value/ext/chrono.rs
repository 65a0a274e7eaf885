//! `chrono` 0.4 (feature `chrono-04`): `NaiveDate` as `date`, `NaiveTime` as `time`,
//! `DateTime<Utc>` as `timestamp`.

use chrono_04::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

use super::{ValueOverflow, via_cql};
use crate::value::{CqlDate, CqlTime, CqlTimestamp};

/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
const CE_DAYS_AT_EPOCH: i64 = 719_163;

/// Every `NaiveDate` (about ±262,000 years) fits a CQL `date` (about ±5.8 million years).
impl From<NaiveDate> for CqlDate {
    fn from(d: NaiveDate) -> Self {
        let days = i64::from(d.num_days_from_ce()) - CE_DAYS_AT_EPOCH;
        Self((days + (1i64 << 31)) as u32)
    }
}

/// Fails for a date outside `NaiveDate`'s range.
impl TryFrom<CqlDate> for NaiveDate {
    type Error = ValueOverflow;

    fn try_from(d: CqlDate) -> Result<Self, ValueOverflow> {
        let days = i64::from(d.0) - (1i64 << 31) + CE_DAYS_AT_EPOCH;
        i32::try_from(days)
            .ok()
            .and_then(Self::from_num_days_from_ce_opt)
            .ok_or(ValueOverflow)
    }
}

/// Fails for a leap second (`chrono` writes 23:59:60 as a nanosecond field past 10^9), which
/// CQL `time` cannot hold.
impl TryFrom<NaiveTime> for CqlTime {
    type Error = ValueOverflow;

    fn try_from(t: NaiveTime) -> Result<Self, ValueOverflow> {
        if t.nanosecond() >= 1_000_000_000 {
            return Err(ValueOverflow);
        }
        Ok(Self(
            i64::from(t.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(t.nanosecond()),
        ))
    }
}

/// Fails only for a `CqlTime` outside 0..=86399999999999 (never one read from the wire).
impl TryFrom<CqlTime> for NaiveTime {
    type Error = ValueOverflow;

    fn try_from(t: CqlTime) -> Result<Self, ValueOverflow> {
        if !(0..=CqlTime::MAX_NANOS).contains(&t.0) {
            return Err(ValueOverflow);
        }
        let secs = u32::try_from(t.0 / 1_000_000_000).map_err(|_| ValueOverflow)?;
        let nanos = u32::try_from(t.0 % 1_000_000_000).map_err(|_| ValueOverflow)?;
        Self::from_num_seconds_from_midnight_opt(secs, nanos).ok_or(ValueOverflow)
    }
}

/// Milliseconds since the epoch, rounded towards negative infinity (sub-millisecond digits are
/// dropped, as the server would).
impl From<DateTime<Utc>> for CqlTimestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t.timestamp_millis())
    }
}

/// Fails for a timestamp outside `DateTime`'s range (about ±262,000 years).
impl TryFrom<CqlTimestamp> for DateTime<Utc> {
    type Error = ValueOverflow;

    fn try_from(t: CqlTimestamp) -> Result<Self, ValueOverflow> {
        Self::from_timestamp_millis(t.0).ok_or(ValueOverflow)
    }
}

via_cql!(NaiveDate, CqlDate);
via_cql!(NaiveTime, CqlTime);
via_cql!(DateTime<Utc>, CqlTimestamp);
