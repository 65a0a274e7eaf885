//! Conversions and CQL literal syntax for `date`, `time`, `timestamp` and `duration`.
//!
//! All calendar arithmetic is proleptic Gregorian in UTC; there is no clock and no time zone
//! database. A timestamp literal without a zone is read as UTC (Cassandra would use the
//! coordinator's zone).

use std::fmt;
use std::str::FromStr;

use crate::error::DecodeError;
use crate::value::{CqlDate, CqlDuration, CqlTime, CqlTimestamp};

const EPOCH_OFFSET: i64 = 1 << 31;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn num<T: FromStr>(s: &str, what: &'static str, whole: &str) -> Result<T, DecodeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError::invalid(what, whole.to_owned()));
    }
    s.parse()
        .map_err(|_| DecodeError::invalid(what, whole.to_owned()))
}

/// Parses `[+-]YYYY-MM-DD` into days since the epoch.
fn parse_ymd(s: &str, what: &'static str) -> Result<i64, DecodeError> {
    let bad = || DecodeError::invalid(what, s.to_owned());
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut parts = body.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let y: i64 = num(y, what, s)?;
    let y = if neg { -y } else { y };
    let m: u32 = num(m, what, s)?;
    let d: u32 = num(d, what, s)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || y.abs() > 10_000_000 {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d))
}

/// Parses `hh:mm[:ss[.fffffffff]]` into nanoseconds since midnight.
fn parse_hms(s: &str, what: &'static str) -> Result<i64, DecodeError> {
    let bad = || DecodeError::invalid(what, s.to_owned());
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = hms.split(':');
    let h: i64 = num(parts.next().ok_or_else(bad)?, what, s)?;
    let m: i64 = num(parts.next().ok_or_else(bad)?, what, s)?;
    let sec: i64 = match parts.next() {
        Some(p) => num(p, what, s)?,
        None if frac.is_empty() => 0,
        None => return Err(bad()),
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 59 || frac.len() > 9 {
        return Err(bad());
    }
    let mut nanos = 0i64;
    if !frac.is_empty() {
        let f: i64 = num(frac, what, s)?;
        nanos = f * 10i64.pow(9 - frac.len() as u32);
    }
    Ok(h * NANOS_PER_HOUR + m * NANOS_PER_MINUTE + sec * NANOS_PER_SECOND + nanos)
}

impl CqlDate {
    /// The date `days` days after 1970-01-01 (negative: before).
    pub fn from_days_since_epoch(days: i32) -> Self {
        Self((i64::from(days) + EPOCH_OFFSET) as u32)
    }

    /// Days since 1970-01-01 (negative: before).
    pub fn days_since_epoch(self) -> i32 {
        (i64::from(self.0) - EPOCH_OFFSET) as i32
    }

    /// The date of a year, month (1-12) and day (1-31), or `None` when invalid or out of range.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if year.abs() > 10_000_000 {
            return None;
        }
        let days = i32::try_from(days_from_civil(year, month, day)).ok()?;
        Some(Self::from_days_since_epoch(days))
    }

    /// The year, month and day.
    pub fn to_ymd(self) -> (i64, u32, u32) {
        civil_from_days(i64::from(self.days_since_epoch()))
    }

    /// Parses a CQL date literal: `'2024-01-31'` (without quotes), or an unsigned integer
    /// (the raw value, with 2^31 as the epoch).
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return num(s, "date literal", s).map(Self);
        }
        let days = parse_ymd(s, "date literal")?;
        i32::try_from(days)
            .map(Self::from_days_since_epoch)
            .map_err(|_| DecodeError::invalid("date literal", s.to_owned()))
    }
}

impl fmt::Display for CqlDate {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.to_ymd();
        if y < 0 {
            write!(f, "-{:04}-{m:02}-{d:02}", -y)
        } else {
            write!(f, "{y:04}-{m:02}-{d:02}")
        }
    }
}

impl FromStr for CqlDate {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl CqlTime {
    /// The time of day from hours, minutes, seconds and nanoseconds, or `None` when invalid.
    pub fn from_hms_nano(hour: u32, minute: u32, second: u32, nano: u32) -> Option<Self> {
        if hour > 23 || minute > 59 || second > 59 || nano >= 1_000_000_000 {
            return None;
        }
        Some(Self(
            i64::from(hour) * NANOS_PER_HOUR
                + i64::from(minute) * NANOS_PER_MINUTE
                + i64::from(second) * NANOS_PER_SECOND
                + i64::from(nano),
        ))
    }

    /// Parses a CQL time literal: `13:45:00`, `13:45:00.123` (up to nine fraction digits),
    /// `13:45`, or an integer count of nanoseconds since midnight.
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        let nanos = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            num::<i64>(s, "time literal", s)?
        } else {
            parse_hms(s, "time literal")?
        };
        if !(0..=Self::MAX_NANOS).contains(&nanos) {
            return Err(DecodeError::invalid("time literal", s.to_owned()));
        }
        Ok(Self(nanos))
    }
}

impl fmt::Display for CqlTime {
    /// `hh:mm:ss.nnnnnnnnn` (as cqlsh prints it); out-of-range values print as a number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !(0..=Self::MAX_NANOS).contains(&self.0) {
            return write!(f, "{}", self.0);
        }
        let n = self.0;
        write!(
            f,
            "{:02}:{:02}:{:02}.{:09}",
            n / NANOS_PER_HOUR,
            n % NANOS_PER_HOUR / NANOS_PER_MINUTE,
            n % NANOS_PER_MINUTE / NANOS_PER_SECOND,
            n % NANOS_PER_SECOND
        )
    }
}

impl FromStr for CqlTime {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl CqlTimestamp {
    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses a CQL timestamp literal: an integer of milliseconds, or
    /// `YYYY-MM-DD[( |T)hh:mm[:ss[.fff]]][zone]` with zone `Z`, `+hhmm`, `+hh:mm`, `+hh`
    /// (or `-`). Without a zone the time is UTC.
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        const WHAT: &str = "timestamp literal";
        let bad = || DecodeError::invalid(WHAT, s.to_owned());
        let digits = s.strip_prefix('-').unwrap_or(s);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().map(Self).map_err(|_| bad());
        }
        // The date part: a leading sign belongs to the year, so split after it.
        let start = usize::from(s.starts_with(['-', '+']));
        let sep = s[start..].find([' ', 'T']).map(|i| i + start);
        let (date, rest) = match sep {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => {
                // A date alone may still carry a zone: 2024-01-31+0000.
                let body = &s[start..];
                let zone_at = body
                    .match_indices(['+', 'Z'])
                    .map(|(i, _)| i)
                    .chain(body.match_indices('-').map(|(i, _)| i).skip(2))
                    .min();
                match zone_at {
                    Some(i) => (&s[..start + i], &s[start + i..]),
                    None => (s, ""),
                }
            }
        };
        let days = parse_ymd(date, WHAT)?;
        let rest = rest.trim();
        let zone_at = rest.find(['+', '-', 'Z', 'z']).unwrap_or(rest.len());
        let (time, zone) = rest.split_at(zone_at);
        let time = time.trim();
        let nanos = if time.is_empty() {
            0
        } else {
            parse_hms(time, WHAT)?
        };
        let offset_ms = parse_zone(zone.trim()).ok_or_else(bad)?;
        days.checked_mul(MILLIS_PER_DAY)
            .and_then(|d| d.checked_add(nanos / 1_000_000))
            .and_then(|t| t.checked_sub(offset_ms))
            .map(Self)
            .ok_or_else(bad)
    }
}

/// A zone suffix as an offset from UTC in milliseconds.
fn parse_zone(z: &str) -> Option<i64> {
    if z.is_empty() || z.eq_ignore_ascii_case("z") || z == "UTC" || z == "GMT" {
        return Some(0);
    }
    let (sign, body) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let body: String = body.chars().filter(|&c| c != ':').collect();
    if !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match body.len() {
        2 => (body.parse::<i64>().ok()?, 0),
        4 => (
            body[..2].parse::<i64>().ok()?,
            body[2..].parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3_600_000 + m * 60_000))
}

impl fmt::Display for CqlTimestamp {
    /// `YYYY-MM-DD hh:mm:ss.fff+0000` (UTC), a form CQL accepts back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MILLIS_PER_DAY);
        let ms = self.0.rem_euclid(MILLIS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        if y < 0 {
            write!(f, "-{:04}-{m:02}-{d:02}", -y)?;
        } else {
            write!(f, "{y:04}-{m:02}-{d:02}")?;
        }
        write!(
            f,
            " {:02}:{:02}:{:02}.{:03}+0000",
            ms / 3_600_000,
            ms % 3_600_000 / 60_000,
            ms % 60_000 / 1000,
            ms % 1000
        )
    }
}

impl FromStr for CqlTimestamp {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Accumulates duration components with overflow checks.
#[derive(Default)]
struct DurationBuilder {
    months: i64,
    days: i64,
    nanos: i64,
}

impl DurationBuilder {
    fn add(&mut self, n: i64, unit: &str) -> Option<()> {
        let (field, mul) = match unit.to_ascii_lowercase().as_str() {
            "y" => (&mut self.months, 12),
            "mo" => (&mut self.months, 1),
            "w" => (&mut self.days, 7),
            "d" => (&mut self.days, 1),
            "h" => (&mut self.nanos, NANOS_PER_HOUR),
            "m" => (&mut self.nanos, NANOS_PER_MINUTE),
            "s" => (&mut self.nanos, NANOS_PER_SECOND),
            "ms" => (&mut self.nanos, 1_000_000),
            "us" | "µs" => (&mut self.nanos, 1000),
            "ns" => (&mut self.nanos, 1),
            _ => return None,
        };
        *field = field.checked_add(n.checked_mul(mul)?)?;
        Some(())
    }

    fn build(self, neg: bool) -> Option<CqlDuration> {
        let sign = if neg { -1 } else { 1 };
        Some(CqlDuration {
            months: i32::try_from(self.months * sign).ok()?,
            days: i32::try_from(self.days * sign).ok()?,
            nanoseconds: self.nanos * sign,
        })
    }
}

impl CqlDuration {
    /// Parses a CQL duration literal in any of its three forms: `1h30m`, `-2d10ms`, `1y2mo`
    /// (units `y mo w d h m s ms us µs ns`, case-insensitive); ISO 8601 `P1DT2H`, `P2W`; or the
    /// ISO 8601 alternative `P0001-02-03T04:05:06`.
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        let bad = || DecodeError::invalid("duration literal", s.to_owned());
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let mut b = DurationBuilder::default();
        if let Some(iso) = body.strip_prefix(['P', 'p']) {
            if iso.contains('-') || iso.contains(':') {
                parse_iso_alternative(iso, &mut b).ok_or_else(bad)?;
            } else {
                parse_iso(iso, &mut b).ok_or_else(bad)?;
            }
        } else {
            let mut rest = body;
            if rest.is_empty() {
                return Err(bad());
            }
            while !rest.is_empty() {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let unit_len = rest[digits..]
                    .char_indices()
                    .find(|(_, c)| c.is_ascii_digit())
                    .map_or(rest.len() - digits, |(i, _)| i);
                if digits == 0 || unit_len == 0 {
                    return Err(bad());
                }
                let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
                b.add(n, &rest[digits..digits + unit_len]).ok_or_else(bad)?;
                rest = &rest[digits + unit_len..];
            }
        }
        b.build(neg).ok_or_else(bad)
    }
}

fn parse_iso(iso: &str, b: &mut DurationBuilder) -> Option<()> {
    let (date, time) = match iso.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (iso, None),
    };
    let mut any = false;
    for (part, units) in [(date, "YMWD"), (time.unwrap_or(""), "HMS")] {
        let mut rest = part;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let unit = rest[digits..].chars().next()?.to_ascii_uppercase();
            if digits == 0 || !units.contains(unit) {
                return None;
            }
            let n: i64 = rest[..digits].parse().ok()?;
            let u = match (units, unit) {
                ("YMWD", 'M') => "mo",
                (_, 'Y') => "y",
                (_, 'W') => "w",
                (_, 'D') => "d",
                (_, 'H') => "h",
                (_, 'M') => "m",
                (_, 'S') => "s",
                _ => return None,
            };
            b.add(n, u)?;
            any = true;
            rest = &rest[digits + 1..];
        }
    }
    if !any || time == Some("") {
        return None;
    }
    Some(())
}

fn parse_iso_alternative(iso: &str, b: &mut DurationBuilder) -> Option<()> {
    let (date, time) = iso.split_once(['T', 't'])?;
    let mut d = date.split('-');
    let (y, mo, dd) = (d.next()?, d.next()?, d.next()?);
    let mut t = time.split(':');
    let (h, mi, s) = (t.next()?, t.next()?, t.next()?);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    for (v, unit) in [
        (y, "y"),
        (mo, "mo"),
        (dd, "d"),
        (h, "h"),
        (mi, "m"),
        (s, "s"),
    ] {
        if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        b.add(v.parse().ok()?, unit)?;
    }
    Some(())
}

impl fmt::Display for CqlDuration {
    /// Cassandra's form: `1y2mo3d4h5m6s7ms8us9ns`, with a leading `-` when negative; zero is `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.months < 0 || self.days < 0 || self.nanoseconds < 0;
        if neg {
            f.write_str("-")?;
        }
        let months = i64::from(self.months).unsigned_abs();
        let days = i64::from(self.days).unsigned_abs();
        let mut nanos = self.nanoseconds.unsigned_abs();
        let mut wrote = false;
        let mut put = |f: &mut fmt::Formatter<'_>, v: u64, unit: &str| -> fmt::Result {
            if v > 0 {
                wrote = true;
                write!(f, "{v}{unit}")?;
            }
            Ok(())
        };
        put(f, months / 12, "y")?;
        put(f, months % 12, "mo")?;
        put(f, days, "d")?;
        for (unit, size) in [
            ("h", NANOS_PER_HOUR as u64),
            ("m", NANOS_PER_MINUTE as u64),
            ("s", NANOS_PER_SECOND as u64),
            ("ms", 1_000_000),
            ("us", 1000),
            ("ns", 1),
        ] {
            put(f, nanos / size, unit)?;
            nanos %= size;
        }
        if !wrote {
            f.write_str("0s")?;
        }
        Ok(())
    }
}

impl FromStr for CqlDuration {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(CqlDate::parse("1970-01-01").unwrap(), CqlDate(1 << 31));
        assert_eq!(CqlDate::parse("1970-01-02").unwrap().days_since_epoch(), 1);
        assert_eq!(CqlDate::parse("1969-12-31").unwrap().days_since_epoch(), -1);
        // 2024-01-31 is day 19753 (54 years incl. 13 leap days: 54*365+13 = 19723, +30).
        let d = CqlDate::parse("2024-01-31").unwrap();
        assert_eq!(d.days_since_epoch(), 19753);
        assert_eq!(d.to_string(), "2024-01-31");
        assert_eq!(
            CqlDate::parse("2024-02-29").unwrap().to_ymd(),
            (2024, 2, 29)
        );
        assert!(CqlDate::parse("2023-02-29").is_err());
        assert!(CqlDate::parse("2024-13-01").is_err());
        assert!(CqlDate::parse("2024-1").is_err());
        assert_eq!(CqlDate::parse("2147483648").unwrap(), CqlDate(1 << 31));
        assert_eq!(CqlDate::from_days_since_epoch(-1).to_string(), "1969-12-31");
        assert_eq!(CqlDate(0).to_string(), CqlDate(0).to_string());
        let min = CqlDate(0);
        assert_eq!(CqlDate::parse(&min.to_string()).unwrap(), min);
    }

    #[test]
    fn times() {
        let t = CqlTime::parse("13:45:00.123").unwrap();
        assert_eq!(
            t.0,
            13 * NANOS_PER_HOUR + 45 * NANOS_PER_MINUTE + 123_000_000
        );
        assert_eq!(t.to_string(), "13:45:00.123000000");
        assert_eq!(CqlTime::parse(&t.to_string()).unwrap(), t);
        assert_eq!(
            CqlTime::parse("00:00:01").unwrap(),
            CqlTime(NANOS_PER_SECOND)
        );
        assert_eq!(CqlTime::parse("5").unwrap(), CqlTime(5));
        assert!(CqlTime::parse("24:00:00").is_err());
        assert!(CqlTime::parse("12:00:00.1234567890").is_err());
        assert!(CqlTime::parse("86400000000000").is_err());
        assert_eq!(
            CqlTime::from_hms_nano(23, 59, 59, 999_999_999),
            Some(CqlTime(CqlTime::MAX_NANOS))
        );
    }

    #[test]
    fn timestamps() {
        // 2024-01-31 13:45:00 UTC = 19753 days * 86400000 + 49500000 ms.
        let want = 19753 * MILLIS_PER_DAY + 49_500_000;
        assert_eq!(
            CqlTimestamp::parse("2024-01-31 13:45:00+0000").unwrap().0,
            want
        );
        assert_eq!(CqlTimestamp::parse("2024-01-31T13:45:00Z").unwrap().0, want);
        assert_eq!(
            CqlTimestamp::parse("2024-01-31 14:45:00+01:00").unwrap().0,
            want
        );
        assert_eq!(
            CqlTimestamp::parse("2024-01-31 12:45-0100").unwrap().0,
            want
        );
        assert_eq!(
            CqlTimestamp::parse("2024-01-31 13:45:00.5").unwrap().0,
            want + 500
        );
        assert_eq!(
            CqlTimestamp::parse("2024-01-31").unwrap().0,
            19753 * MILLIS_PER_DAY
        );
        assert_eq!(
            CqlTimestamp::parse("2024-01-31+0100").unwrap().0,
            19753 * MILLIS_PER_DAY - 3_600_000
        );
        assert_eq!(CqlTimestamp::parse("-5").unwrap().0, -5);
        let ts = CqlTimestamp(want + 123);
        assert_eq!(ts.to_string(), "2024-01-31 13:45:00.123+0000");
        assert_eq!(CqlTimestamp::parse(&ts.to_string()).unwrap(), ts);
        assert_eq!(CqlTimestamp(-1).to_string(), "1969-12-31 23:59:59.999+0000");
        assert!(CqlTimestamp::parse("2024-01-31 25:00").is_err());
        assert!(CqlTimestamp::parse("2024-01-31 13:45+9999").is_err());
    }

    #[test]
    fn durations() {
        let d = |m, dd, n| CqlDuration {
            months: m,
            days: dd,
            nanoseconds: n,
        };
        assert_eq!(
            CqlDuration::parse("1h30m").unwrap(),
            d(0, 0, 90 * NANOS_PER_MINUTE)
        );
        assert_eq!(CqlDuration::parse("1y2mo").unwrap(), d(14, 0, 0));
        assert_eq!(
            CqlDuration::parse("-2d10ms").unwrap(),
            d(0, -2, -10_000_000)
        );
        assert_eq!(CqlDuration::parse("1w1us1ns").unwrap(), d(0, 7, 1001));
        assert_eq!(
            CqlDuration::parse("P1DT2H").unwrap(),
            d(0, 1, 2 * NANOS_PER_HOUR)
        );
        assert_eq!(
            CqlDuration::parse("P1Y2M3DT4H5M6S").unwrap().to_string(),
            "1y2mo3d4h5m6s"
        );
        assert_eq!(CqlDuration::parse("P2W").unwrap(), d(0, 14, 0));
        assert_eq!(
            CqlDuration::parse("P0001-02-03T04:05:06").unwrap(),
            d(
                14,
                3,
                4 * NANOS_PER_HOUR + 5 * NANOS_PER_MINUTE + 6 * NANOS_PER_SECOND
            )
        );
        assert_eq!(d(-14, -3, -1).to_string(), "-1y2mo3d1ns");
        assert_eq!(d(0, 0, 0).to_string(), "0s");
        for s in ["", "h", "1", "1x", "P", "PT", "P1H", "1h-1m"] {
            assert!(CqlDuration::parse(s).is_err(), "{s}");
        }
        let x = d(25, 40, 3 * NANOS_PER_HOUR + 7);
        assert_eq!(CqlDuration::parse(&x.to_string()).unwrap(), x);
        assert!(CqlDuration::parse("9999999999y").is_err());
    }
}
