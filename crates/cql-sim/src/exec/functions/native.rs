//! The CQL native scalar functions of the `system` keyspace: `now()`, `uuid()`,
//! `current*()`, the time conversions (`toTimestamp`, `toDate`, `toUnixTimestamp`, `dateOf`,
//! `unixTimestampOf`, `minTimeuuid`, `maxTimeuuid`) and the blob conversions `blobAs<type>` /
//! `<type>AsBlob` for every native type. Values go in and out serialized, as cells are stored.

use bytes::Bytes;
use proto::value::{CqlDate, CqlTime, CqlTimestamp};
use proto::{ColumnType, CqlValue};
use uuid::Uuid;

use crate::error::{CqlError, Result};
use crate::exec::term_env::{TermEnv, encode, timeuuid, timeuuid_millis};

/// A native function, resolved by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Native {
    /// `now()` / `currentTimeuuid()`.
    Now,
    /// `uuid()`: a random (version 4) UUID.
    Uuid,
    /// `currentTimestamp()`.
    CurrentTimestamp,
    /// `currentDate()`.
    CurrentDate,
    /// `currentTime()`.
    CurrentTime,
    /// `toTimestamp(timeuuid|date)` and `dateOf(timeuuid)`.
    ToTimestamp,
    /// `toDate(timeuuid|timestamp)`.
    ToDate,
    /// `toUnixTimestamp(timeuuid|timestamp|date)` and `unixTimestampOf(timeuuid)`.
    ToUnixTimestamp,
    /// `minTimeuuid(timestamp)`.
    MinTimeuuid,
    /// `maxTimeuuid(timestamp)`.
    MaxTimeuuid,
    /// `blobAs<type>(blob)`.
    BlobAs(ColumnType),
    /// `<type>AsBlob(type)`.
    AsBlob(ColumnType),
    /// `toJson(x)`: the argument's JSON text, as `SELECT JSON` writes values (any type).
    ToJson,
}

/// A native function's signatures: argument types and return type.
pub(crate) type Signatures = Vec<(Vec<ColumnType>, ColumnType)>;

/// The name a native function has in result column names and messages.
pub(crate) fn display_name(name: &str) -> String {
    format!("system.{name}")
}

impl Native {
    /// The native function `name` (lowercased) and its signatures (argument types, return
    /// type), or `None` when no native function has that name.
    pub(crate) fn lookup(name: &str) -> Option<(Self, Signatures)> {
        use ColumnType as T;
        let none = |r: T| vec![(Vec::new(), r)];
        Some(match name {
            "now" | "currenttimeuuid" => (Self::Now, none(T::Timeuuid)),
            "uuid" => (Self::Uuid, none(T::Uuid)),
            "currenttimestamp" => (Self::CurrentTimestamp, none(T::Timestamp)),
            "currentdate" => (Self::CurrentDate, none(T::Date)),
            "currenttime" => (Self::CurrentTime, none(T::Time)),
            "totimestamp" => (
                Self::ToTimestamp,
                vec![
                    (vec![T::Timeuuid], T::Timestamp),
                    (vec![T::Date], T::Timestamp),
                ],
            ),
            "dateof" => (Self::ToTimestamp, vec![(vec![T::Timeuuid], T::Timestamp)]),
            "todate" => (
                Self::ToDate,
                vec![(vec![T::Timeuuid], T::Date), (vec![T::Timestamp], T::Date)],
            ),
            "tounixtimestamp" => (
                Self::ToUnixTimestamp,
                vec![
                    (vec![T::Timeuuid], T::BigInt),
                    (vec![T::Timestamp], T::BigInt),
                    (vec![T::Date], T::BigInt),
                ],
            ),
            "unixtimestampof" => (Self::ToUnixTimestamp, vec![(vec![T::Timeuuid], T::BigInt)]),
            "mintimeuuid" => (Self::MinTimeuuid, vec![(vec![T::Timestamp], T::Timeuuid)]),
            "maxtimeuuid" => (Self::MaxTimeuuid, vec![(vec![T::Timestamp], T::Timeuuid)]),
            _ => {
                if let Some(t) = name
                    .strip_prefix("blobas")
                    .and_then(ColumnType::from_native_name)
                {
                    return Some((Self::BlobAs(t.clone()), vec![(vec![T::Blob], t)]));
                }
                let t = name
                    .strip_suffix("asblob")
                    .and_then(ColumnType::from_native_name)?;
                (Self::AsBlob(t.clone()), vec![(vec![t], T::Blob)])
            }
        })
    }

    /// Calls the function on serialized arguments of `arg_types`; `env` gives the clock and
    /// the counter that keeps generated ids unique.
    pub(crate) fn call(
        &self,
        name: &str,
        arg_types: &[ColumnType],
        args: &[Option<Bytes>],
        env: &mut TermEnv<'_>,
    ) -> Result<Option<Bytes>> {
        use ColumnType as T;
        let now = env.now_micros;
        let v = match self {
            Self::Now => {
                env.unique += 1;
                CqlValue::Timeuuid(timeuuid(now, env.unique).into())
            }
            Self::Uuid => {
                env.unique += 1;
                let seed = format!("uuid-{now}-{}", env.unique);
                let mut b = *crate::schema::name_uuid(&seed).as_bytes();
                b[6] = (b[6] & 0x0f) | 0x40;
                CqlValue::Uuid(Uuid::from_bytes(b))
            }
            Self::CurrentTimestamp => CqlValue::Timestamp(CqlTimestamp(now.div_euclid(1000))),
            Self::CurrentDate => CqlValue::Date(date_of_millis(now.div_euclid(1000))),
            Self::CurrentTime => CqlValue::Time(CqlTime(now.rem_euclid(86_400_000_000) * 1000)),
            Self::BlobAs(t) => {
                let Some(Some(b)) = args.first() else {
                    return Ok(None);
                };
                if !b.is_empty() && CqlValue::decode_bytes(t, b).is_err() {
                    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                    return Err(CqlError::invalid(format!(
                        "In call to function {}, value 0x{hex} is not a valid binary representation for type {t}",
                        display_name(name)
                    )));
                }
                return Ok(Some(b.clone()));
            }
            Self::AsBlob(_) => return Ok(args.first().cloned().flatten()),
            Self::ToJson => {
                let v = match (args.first(), arg_types.first()) {
                    (Some(Some(b)), Some(t)) if !b.is_empty() => CqlValue::decode_bytes(t, b)
                        .map_err(|e| CqlError::invalid(e.to_string()))?,
                    _ => return Ok(Some(Bytes::from_static(b"null"))),
                };
                let mut out = String::new();
                crate::exec::json::write_value(&v, &mut out);
                return Ok(Some(Bytes::from(out)));
            }
            _ => {
                let (Some(Some(b)), Some(t)) = (args.first(), arg_types.first()) else {
                    return Ok(None);
                };
                let millis = match CqlValue::decode_bytes(t, b) {
                    Ok(CqlValue::Timeuuid(u)) => timeuuid_millis(u.as_uuid()),
                    Ok(CqlValue::Uuid(u)) => timeuuid_millis(&u),
                    Ok(CqlValue::Timestamp(ts)) => ts.0,
                    Ok(CqlValue::Date(d)) => (i64::from(d.0) - (1i64 << 31)) * 86_400_000,
                    _ => return Ok(None),
                };
                match self {
                    Self::ToTimestamp => CqlValue::Timestamp(CqlTimestamp(millis)),
                    Self::ToDate => CqlValue::Date(date_of_millis(millis)),
                    Self::ToUnixTimestamp => CqlValue::BigInt(millis),
                    _ => {
                        let mut u = *timeuuid(millis * 1000, 0).as_bytes();
                        let fill = if *self == Self::MinTimeuuid {
                            0x00
                        } else {
                            0xff
                        };
                        u[8] = (fill & 0x3f) | 0x80;
                        for b in &mut u[9..] {
                            *b = fill;
                        }
                        CqlValue::Timeuuid(Uuid::from_bytes(u).into())
                    }
                }
            }
        };
        let typ = match &v {
            CqlValue::Timeuuid(_) => T::Timeuuid,
            CqlValue::Uuid(_) => T::Uuid,
            CqlValue::Timestamp(_) => T::Timestamp,
            CqlValue::Date(_) => T::Date,
            CqlValue::Time(_) => T::Time,
            _ => T::BigInt,
        };
        encode(&v, &typ).map(Some)
    }
}

fn date_of_millis(millis: i64) -> CqlDate {
    CqlDate((millis.div_euclid(86_400_000) + (1i64 << 31)) as u32)
}
