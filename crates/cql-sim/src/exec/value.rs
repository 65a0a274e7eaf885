//! Terms to values: literals converted to a column's type, bind markers checked against it,
//! and native function calls (`now()`, `toTimestamp(now())`, `intAsBlob(1)`, ...), evaluated
//! under a statement's [`TermEnv`].

use std::net::IpAddr;

use proto::value::{CqlDate, CqlDecimal, CqlTime, CqlTimestamp, CqlVarint};
use proto::{ColumnType, CqlValue};
use uuid::Uuid;

use super::BoundValue;
use super::functions::native::{Native, display_name as native_name};
pub(crate) use super::term_env::{TermEnv, encode, timeuuid_millis};
use crate::cql::ast::Term;
use crate::error::{CqlError, Result};

impl TermEnv<'_> {
    fn marker(&self, index: usize) -> Result<&BoundValue> {
        self.values.get(index).ok_or_else(|| {
            CqlError::invalid(format!(
                "There were {} markers(?) in CQL but {} bound variables",
                index + 1,
                self.values.len()
            ))
        })
    }

    /// A term as serialized bytes of `typ` (or null/unset).
    pub(crate) fn bytes(&mut self, t: &Term, typ: &ColumnType, col: &str) -> Result<BoundValue> {
        if let Term::Bind(m) = t {
            let v = self.marker(m.index)?.clone();
            if let BoundValue::Value(b) = &v {
                validate(typ, b).map_err(|e| {
                    CqlError::invalid(format!("Exception while binding column {col}: {e}"))
                })?;
            }
            return Ok(v);
        }
        match self.value(t, typ, col)? {
            None => Ok(BoundValue::Null),
            Some(v) => Ok(BoundValue::Value(encode(&v, typ)?)),
        }
    }

    /// A term as a value of `typ`; `None` is null (unset markers count as null here).
    pub(crate) fn value(
        &mut self,
        t: &Term,
        typ: &ColumnType,
        col: &str,
    ) -> Result<Option<CqlValue>> {
        let bad = |what: &str| {
            CqlError::invalid(format!(
                "Invalid {what} constant for \"{col}\" of type {typ}"
            ))
        };
        use ColumnType as T;
        Ok(Some(match (t, typ) {
            (Term::Null, _) => return Ok(None),
            (Term::Bind(m), _) => match self.marker(m.index)? {
                BoundValue::Value(b) => CqlValue::decode_bytes(typ, b).map_err(|e| {
                    CqlError::invalid(format!("Exception while binding column {col}: {e}"))
                })?,
                BoundValue::Null | BoundValue::Unset => return Ok(None),
            },
            (Term::Str(s), T::Text) => CqlValue::Text(s.clone()),
            (Term::Str(s), T::Ascii) if s.is_ascii() => CqlValue::Ascii(s.clone()),
            (Term::Str(s), T::Timestamp) => {
                CqlValue::Timestamp(CqlTimestamp(parse_timestamp(s).ok_or_else(|| {
                    CqlError::invalid(format!("Unable to coerce '{s}' to a formatted date (long)"))
                })?))
            }
            (Term::Str(s), T::Date) => CqlValue::Date(CqlDate(parse_date(s).ok_or_else(|| {
                CqlError::invalid(format!("Unable to coerce '{s}' to a formatted date (long)"))
            })?)),
            (Term::Str(s), T::Time) => CqlValue::Time(CqlTime(parse_time(s).ok_or_else(|| {
                CqlError::invalid(format!("Unable to coerce '{s}' to a formatted time (long)"))
            })?)),
            (Term::Str(s), T::Inet) => CqlValue::Inet(s.parse::<IpAddr>().map_err(|_| {
                CqlError::invalid(format!("Unable to make inet address from '{s}'"))
            })?),
            (Term::Str(s), T::Uuid) => {
                CqlValue::Uuid(Uuid::parse_str(s).map_err(|_| bad("STRING"))?)
            }
            (Term::Str(s), T::Timeuuid) => {
                CqlValue::Timeuuid(Uuid::parse_str(s).map_err(|_| bad("STRING"))?.into())
            }
            (Term::Str(s), T::Custom(_)) => CqlValue::Custom(s.as_bytes().to_vec()),
            (Term::Int(s), T::TinyInt) => CqlValue::TinyInt(s.parse().map_err(|_| bad("INTEGER"))?),
            (Term::Int(s), T::SmallInt) => {
                CqlValue::SmallInt(s.parse().map_err(|_| bad("INTEGER"))?)
            }
            (Term::Int(s), T::Int) => CqlValue::Int(s.parse().map_err(|_| bad("INTEGER"))?),
            (Term::Int(s), T::BigInt) => CqlValue::BigInt(s.parse().map_err(|_| bad("INTEGER"))?),
            (Term::Int(s), T::Counter) => CqlValue::Counter(s.parse().map_err(|_| bad("INTEGER"))?),
            (Term::Int(s), T::Timestamp) => {
                CqlValue::Timestamp(CqlTimestamp(s.parse().map_err(|_| bad("INTEGER"))?))
            }
            (Term::Int(s), T::Date) => {
                CqlValue::Date(CqlDate(s.parse().map_err(|_| bad("INTEGER"))?))
            }
            (Term::Int(s), T::Time) => {
                CqlValue::Time(CqlTime(s.parse().map_err(|_| bad("INTEGER"))?))
            }
            (Term::Int(s), T::Varint) => {
                CqlValue::Varint(CqlVarint::parse(s).map_err(|_| bad("INTEGER"))?)
            }
            (Term::Int(s) | Term::Float(s), T::Decimal) => {
                CqlValue::Decimal(CqlDecimal::parse(s).map_err(|_| bad("FLOAT"))?)
            }
            (Term::Int(s) | Term::Float(s), T::Double) => {
                CqlValue::Double(s.parse().map_err(|_| bad("FLOAT"))?)
            }
            (Term::Int(s) | Term::Float(s), T::Float) => {
                CqlValue::Float(s.parse().map_err(|_| bad("FLOAT"))?)
            }
            (Term::NaN, T::Double) => CqlValue::Double(f64::NAN),
            (Term::NaN, T::Float) => CqlValue::Float(f32::NAN),
            (Term::Infinity(neg), T::Double) => CqlValue::Double(if *neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            (Term::Infinity(neg), T::Float) => CqlValue::Float(if *neg {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            }),
            (Term::Bool(b), T::Boolean) => CqlValue::Boolean(*b),
            (Term::Uuid(u), T::Uuid) => CqlValue::Uuid(*u),
            (Term::Uuid(u), T::Timeuuid) if u.get_version_num() == 1 => {
                CqlValue::Timeuuid((*u).into())
            }
            (Term::Blob(b), T::Blob | T::Custom(_)) => CqlValue::Blob(b.clone()),
            (Term::Duration(d), T::Duration) => CqlValue::Duration(*d),
            (Term::List(items), T::List(e) | T::Vector(e, _)) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.value(it, e, col)?.ok_or_else(|| {
                        CqlError::invalid("null is not supported inside collections")
                    })?);
                }
                if let T::Vector(_, n) = typ {
                    if out.len() != *n as usize {
                        return Err(CqlError::invalid(format!(
                            "Invalid vector literal for {col} of type {typ}; expected {n} elements, but given {}",
                            out.len()
                        )));
                    }
                    CqlValue::Vector(out)
                } else {
                    CqlValue::List(out)
                }
            }
            (Term::Set(items), T::Set(e)) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.value(it, e, col)?.ok_or_else(|| {
                        CqlError::invalid("null is not supported inside collections")
                    })?);
                }
                CqlValue::Set(out)
            }
            (Term::Map(m), T::Set(_) | T::List(_)) if m.is_empty() => CqlValue::List(Vec::new()),
            (Term::Map(entries), T::Map(k, v)) => {
                let mut out = Vec::with_capacity(entries.len());
                for (kt, vt) in entries {
                    let kv = self.value(kt, k, col)?.ok_or_else(|| {
                        CqlError::invalid("null is not supported inside collections")
                    })?;
                    let vv = self.value(vt, v, col)?.ok_or_else(|| {
                        CqlError::invalid("null is not supported inside collections")
                    })?;
                    out.push((kv, vv));
                }
                CqlValue::Map(out)
            }
            (Term::Tuple(items), T::Tuple(ts)) => {
                if items.len() > ts.len() {
                    return Err(CqlError::invalid(format!(
                        "Invalid tuple literal for {col}: too many elements. Type {typ} expects {} but got {}",
                        ts.len(),
                        items.len()
                    )));
                }
                let mut out = Vec::new();
                for (it, t) in items.iter().zip(ts) {
                    out.push(self.value(it, t, col)?);
                }
                CqlValue::Tuple(out)
            }
            (
                Term::Udt(given),
                T::Udt {
                    keyspace,
                    name,
                    fields,
                },
            ) => {
                for (g, _) in given {
                    if !fields.iter().any(|(f, _)| f == g) {
                        return Err(CqlError::invalid(format!(
                            "Unknown field '{g}' in value of user defined type {name}"
                        )));
                    }
                }
                let mut out = Vec::new();
                for (f, ft) in fields {
                    let v = match given.iter().find(|(g, _)| g == f) {
                        Some((_, t)) => self.value(t, ft, col)?,
                        None => None,
                    };
                    out.push((f.clone(), v));
                }
                CqlValue::Udt {
                    keyspace: keyspace.clone(),
                    name: name.clone(),
                    fields: out,
                }
            }
            (Term::Function { name, args }, _) => return self.function(name, args, typ, col),
            (Term::Str(_), _) => return Err(bad("STRING")),
            (Term::Int(_), _) => return Err(bad("INTEGER")),
            (Term::Float(_) | Term::NaN | Term::Infinity(_), _) => return Err(bad("FLOAT")),
            (Term::Bool(_), _) => return Err(bad("BOOLEAN")),
            (Term::Uuid(_), _) => return Err(bad("UUID")),
            (Term::Blob(_), _) => return Err(bad("HEX")),
            (Term::Duration(_), _) => return Err(bad("DURATION")),
            _ => {
                return Err(CqlError::invalid(format!(
                    "Invalid literal for \"{col}\" of type {typ}"
                )));
            }
        }))
    }

    /// A native function call as a value of `typ`: the first signature whose parameter types
    /// accept the arguments is called (see [`Native`]).
    fn function(
        &mut self,
        name: &str,
        args: &[Term],
        typ: &ColumnType,
        col: &str,
    ) -> Result<Option<CqlValue>> {
        let fname = name.strip_prefix("system.").unwrap_or(name);
        // fromJson returns whatever type it is assigned to.
        if let ("fromjson", [arg]) = (fname, args) {
            let Some(CqlValue::Text(doc)) = self.value(arg, &ColumnType::Text, col)? else {
                return Ok(None);
            };
            let term = super::json::to_term(&super::json::parse(&doc)?, typ, col)?;
            return self.value(&term, typ, col);
        }
        let Some((f, sigs)) = Native::lookup(fname) else {
            return Err(CqlError::invalid(format!("Unknown function '{name}'")));
        };
        let shown = native_name(fname);
        let mut last = None;
        for (params, ret) in sigs.iter().filter(|(p, _)| p.len() == args.len()) {
            let mut vals = Vec::with_capacity(args.len());
            for (a, p) in args.iter().zip(params) {
                match self.bytes(a, p, col) {
                    Ok(BoundValue::Value(b)) => vals.push(Some(b)),
                    Ok(_) => vals.push(None),
                    Err(e) => {
                        last = Some(e);
                        break;
                    }
                }
            }
            if vals.len() < args.len() {
                continue;
            }
            let assignable =
                ret == typ || matches!((ret, typ), (ColumnType::Timeuuid, ColumnType::Uuid));
            if !assignable {
                return Err(CqlError::invalid(format!(
                    "Type error: cannot assign result of function {shown} (type {ret}) to {col} (type {typ})"
                )));
            }
            return match f.call(fname, params, &vals, self)? {
                None => Ok(None),
                Some(b) if b.is_empty() => Ok(Some(CqlValue::Empty)),
                Some(b) => CqlValue::decode_bytes(typ, &b)
                    .map(Some)
                    .map_err(|e| CqlError::invalid(e.to_string())),
            };
        }
        Err(last.unwrap_or_else(|| {
            CqlError::invalid(format!(
                "Invalid number of arguments in call to function {shown}: {} provided",
                args.len()
            ))
        }))
    }
}

/// Checks that bytes are a valid value of `typ`, without building the value for the common
/// fixed-size and string types (the hot path of prepared statements).
fn validate(typ: &ColumnType, b: &[u8]) -> std::result::Result<(), String> {
    let fixed = |n: usize| {
        if b.is_empty() || b.len() == n {
            Ok(())
        } else {
            Err(format!("expected {n} bytes for {typ}, got {}", b.len()))
        }
    };
    match typ {
        ColumnType::TinyInt | ColumnType::Boolean => fixed(1),
        ColumnType::SmallInt => fixed(2),
        ColumnType::Int | ColumnType::Float => fixed(4),
        ColumnType::BigInt | ColumnType::Counter | ColumnType::Timestamp | ColumnType::Double => {
            fixed(8)
        }
        ColumnType::Uuid => fixed(16),
        ColumnType::Blob => Ok(()),
        ColumnType::Text => std::str::from_utf8(b)
            .map(|_| ())
            .map_err(|_| "invalid UTF-8 in text value".to_owned()),
        ColumnType::Ascii if b.is_ascii() => Ok(()),
        _ => CqlValue::decode_bytes(typ, b)
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `[+|-]yyyy-mm-dd` (negative years are before year 1, as Cassandra's proleptic Gregorian
/// calendar counts them) to days since the epoch; an impossible date (`2023-02-30`) is `None`.
fn parse_ymd(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => (-1, &s[1..]),
        b'+' => (1, &s[1..]),
        _ => (1, s),
    };
    let mut it = rest.splitn(3, '-');
    let y: i64 = sign * it.next()?.parse::<i64>().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    let leap = y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `yyyy-mm-dd` to the centred day count of the `date` type.
pub(crate) fn parse_date(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let days = parse_ymd(s)?;
    u32::try_from(days + (1i64 << 31)).ok()
}

/// `hh:mm:ss[.fffffffff]` to nanoseconds since midnight.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut it = hms.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let sec: i64 = it.next().unwrap_or("0").parse().ok()?;
    if h > 23 || m > 59 || sec > 59 || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0i64;
    if !frac.is_empty() {
        nanos = format!("{frac:0<9}").parse().ok()?;
    }
    Some(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos)
}

/// Cassandra's timestamp formats (`yyyy-mm-dd[( |T)hh:mm[:ss[.fff]]][Z|(+|-)hhmm]`) or millis.
pub(crate) fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let s = s.trim();
    let (date, rest) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let days = parse_ymd(date)?;
    let (time, offset_min) = split_zone(rest)?;
    let nanos = if time.is_empty() {
        0
    } else {
        parse_time(time)?
    };
    Some(days * 86_400_000 + nanos / 1_000_000 - offset_min * 60_000)
}

fn split_zone(s: &str) -> Option<(&str, i64)> {
    if let Some(t) = s.strip_suffix('Z').or_else(|| s.strip_suffix("UTC")) {
        return Some((t.trim(), 0));
    }
    if let Some(i) = s.rfind(['+', '-']) {
        let (t, z) = (&s[..i], &s[i..]);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 4 && digits.len() != 2 {
            return None;
        }
        let h: i64 = digits[..2].parse().ok()?;
        let m: i64 = if digits.len() == 4 {
            digits[2..].parse().ok()?
        } else {
            0
        };
        return Some((t.trim(), sign * (h * 60 + m)));
    }
    Some((s, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00+0000"), Some(0));
        assert_eq!(
            parse_timestamp("2011-02-03T04:05:00.123Z"),
            Some(1_296_705_900_123)
        );
        assert_eq!(
            parse_timestamp("2011-02-03 04:05+0100"),
            Some(1_296_705_900_000 - 3_600_000)
        );
        assert_eq!(parse_timestamp("2011-02-03"), Some(1_296_691_200_000));
        assert_eq!(parse_date("1970-01-02"), Some((1u32 << 31) + 1));
        // The range of `date`, as Cassandra documents it, and dates outside it or impossible.
        assert_eq!(parse_date("-5877641-06-23"), Some(0));
        assert_eq!(parse_date("5881580-07-11"), Some(u32::MAX));
        assert_eq!(parse_date("+5881580-07-11"), Some(u32::MAX));
        assert_eq!(parse_date("5881580-07-12"), None);
        assert_eq!(parse_date("-5877641-06-22"), None);
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-02-29"), Some((1u32 << 31) + 19_782));
        assert_eq!(parse_date("2023-04-31"), None);
        // Year 0 is 1 BC; -0001 is 2 BC (proleptic Gregorian, as java.time counts).
        assert_eq!(
            parse_date("0000-12-31").map(|d| d + 1),
            parse_date("0001-01-01")
        );
        assert_eq!(
            parse_date("-0001-12-31").map(|d| d + 1),
            parse_date("0000-01-01")
        );
        assert_eq!(parse_time("01:02:03.5"), Some(3_723_500_000_000));
        assert_eq!(parse_time("25:00:00"), None);
    }
}
