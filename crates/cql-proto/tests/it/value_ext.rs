//! The optional value conversions (features `chrono-04`, `time-03`, `num-bigint-03`,
//! `num-bigint-04`, `bigdecimal-04`, `secrecy-08`): golden bytes from the spec (section 6:
//! `date` is days since the epoch centred at 2^31, `time` nanoseconds since midnight as an 8-byte
//! integer, `timestamp` milliseconds since the epoch as an 8-byte integer, `varint` two's
//! complement big-endian, `decimal` an `[int]` scale then a varint), round trips and range errors.
#![allow(unused_imports, dead_code)]

use std::fmt::Debug;

use bytes::BytesMut;
use cql_proto::value::{DeserializeValue, SerializeValue};
use cql_proto::{ColumnType, DecodeError, EncodeError};

fn bytes<T: SerializeValue>(v: &T, t: &ColumnType) -> Result<Vec<u8>, EncodeError> {
    let mut b = BytesMut::new();
    v.serialize(t, &mut b)?;
    Ok(b.to_vec())
}

/// Writes `v` as `t`, compares with `wire`, and reads it back.
fn golden<T>(v: T, t: &ColumnType, wire: &[u8])
where
    T: SerializeValue + for<'a> DeserializeValue<'a> + PartialEq + Debug,
{
    assert_eq!(bytes(&v, t).unwrap(), wire, "{v:?} as {t}");
    assert_eq!(T::deserialize(t, Some(wire)).unwrap(), v);
    assert!(T::type_check(&ColumnType::Blob).is_err());
    assert!(matches!(
        bytes(&v, &ColumnType::Blob),
        Err(EncodeError::TypeMismatch { .. })
    ));
}

#[cfg(feature = "chrono-04")]
mod chrono {
    use chrono_04::{DateTime, NaiveDate, NaiveTime, Utc};
    use cql_proto::value::{CqlDate, CqlTime, CqlTimestamp};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn golden_bytes() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        golden(d(1970, 1, 1), &ColumnType::Date, &[0x80, 0, 0, 0]);
        golden(d(1970, 1, 2), &ColumnType::Date, &[0x80, 0, 0, 1]);
        golden(
            d(1969, 12, 31),
            &ColumnType::Date,
            &[0x7F, 0xFF, 0xFF, 0xFF],
        );
        // 2000-01-01 is day 10957.
        golden(
            d(2000, 1, 1),
            &ColumnType::Date,
            &(0x8000_0000u32 + 10957).to_be_bytes(),
        );
        let t = NaiveTime::from_hms_nano_opt(0, 0, 1, 5).unwrap();
        golden(t, &ColumnType::Time, &[0, 0, 0, 0, 0x3B, 0x9A, 0xCA, 0x05]);
        let ts = DateTime::<Utc>::from_timestamp_millis(1000).unwrap();
        golden(ts, &ColumnType::Timestamp, &[0, 0, 0, 0, 0, 0, 0x03, 0xE8]);
        let before = DateTime::<Utc>::from_timestamp_millis(-1).unwrap();
        golden(before, &ColumnType::Timestamp, &[0xFF; 8]);
    }

    #[test]
    fn out_of_range_is_a_typed_error() {
        // Day 0 of CQL is 2^31 days before 1970: far outside chrono's ±262,000 years.
        assert!(matches!(
            NaiveDate::deserialize(&ColumnType::Date, Some(&[0, 0, 0, 0])),
            Err(DecodeError::ValueOutOfRange { rust_type, .. }) if rust_type.contains("NaiveDate")
        ));
        assert!(NaiveDate::try_from(CqlDate(0)).is_err());
        assert!(matches!(
            DateTime::<Utc>::deserialize(&ColumnType::Timestamp, Some(&i64::MAX.to_be_bytes())),
            Err(DecodeError::ValueOutOfRange { .. })
        ));
        // A leap second cannot be a CQL time.
        let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
        assert!(matches!(
            bytes(&leap, &ColumnType::Time),
            Err(EncodeError::ValueOutOfRange { .. })
        ));
        assert!(NaiveTime::try_from(CqlTime(-1)).is_err());
        // The extremes of chrono fit CQL.
        for d in [NaiveDate::MIN, NaiveDate::MAX] {
            assert_eq!(NaiveDate::try_from(CqlDate::from(d)).unwrap(), d);
        }
        // Sub-millisecond digits are dropped, towards negative infinity.
        let t = DateTime::<Utc>::from_timestamp(-1, 999_999_999).unwrap();
        assert_eq!(CqlTimestamp::from(t), CqlTimestamp(-1));
    }

    proptest! {
        #[test]
        fn round_trips(days in -200_000i64 * 365..200_000 * 365, nanos in 0..=CqlTime::MAX_NANOS,
                       millis in -8_000_000_000_000_000i64..8_000_000_000_000_000) {
            let date = NaiveDate::try_from(CqlDate((days + (1 << 31)) as u32)).unwrap();
            prop_assert_eq!(CqlDate::from(date), CqlDate((days + (1 << 31)) as u32));
            let time = NaiveTime::try_from(CqlTime(nanos)).unwrap();
            prop_assert_eq!(CqlTime::try_from(time).unwrap(), CqlTime(nanos));
            let ts = DateTime::<Utc>::try_from(CqlTimestamp(millis)).unwrap();
            prop_assert_eq!(CqlTimestamp::from(ts), CqlTimestamp(millis));
        }
    }
}

#[cfg(feature = "time-03")]
mod time {
    use cql_proto::value::{CqlDate, CqlTime, CqlTimestamp};
    use proptest::prelude::*;
    use time_03::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

    use super::*;

    #[test]
    fn golden_bytes() {
        let d = |y, m, dd| Date::from_calendar_date(y, m, dd).unwrap();
        golden(
            d(1970, Month::January, 1),
            &ColumnType::Date,
            &[0x80, 0, 0, 0],
        );
        golden(
            d(1969, Month::December, 31),
            &ColumnType::Date,
            &[0x7F, 0xFF, 0xFF, 0xFF],
        );
        golden(
            d(2000, Month::January, 1),
            &ColumnType::Date,
            &(0x8000_0000u32 + 10957).to_be_bytes(),
        );
        let t = Time::from_hms_nano(0, 0, 1, 5).unwrap();
        golden(t, &ColumnType::Time, &[0, 0, 0, 0, 0x3B, 0x9A, 0xCA, 0x05]);
        let ts = OffsetDateTime::from_unix_timestamp(1).unwrap();
        golden(ts, &ColumnType::Timestamp, &[0, 0, 0, 0, 0, 0, 0x03, 0xE8]);
        let p = PrimitiveDateTime::new(d(1970, Month::January, 1), Time::MIDNIGHT);
        golden(p, &ColumnType::Timestamp, &[0; 8]);
        // Another offset: the same instant, so the same bytes.
        let plus_one = OffsetDateTime::from_unix_timestamp(3600)
            .unwrap()
            .to_offset(UtcOffset::from_hms(1, 0, 0).unwrap());
        assert_eq!(
            bytes(&plus_one, &ColumnType::Timestamp).unwrap(),
            3_600_000i64.to_be_bytes()
        );
    }

    #[test]
    fn out_of_range_is_a_typed_error() {
        assert!(matches!(
            Date::deserialize(&ColumnType::Date, Some(&[0, 0, 0, 0])),
            Err(DecodeError::ValueOutOfRange { .. })
        ));
        assert!(matches!(
            OffsetDateTime::deserialize(&ColumnType::Timestamp, Some(&i64::MIN.to_be_bytes())),
            Err(DecodeError::ValueOutOfRange { .. })
        ));
        assert!(Time::try_from(CqlTime(CqlTime::MAX_NANOS + 1)).is_err());
        let ts = OffsetDateTime::from_unix_timestamp_nanos(-1).unwrap();
        assert_eq!(CqlTimestamp::try_from(ts).unwrap(), CqlTimestamp(-1));
    }

    proptest! {
        #[test]
        fn round_trips(days in -3_000_000i64..2_900_000, nanos in 0..=CqlTime::MAX_NANOS,
                       millis in -60_000_000_000_000i64..250_000_000_000_000) {
            let date = Date::try_from(CqlDate((days + (1 << 31)) as u32)).unwrap();
            prop_assert_eq!(CqlDate::from(date), CqlDate((days + (1 << 31)) as u32));
            let time = Time::try_from(CqlTime(nanos)).unwrap();
            prop_assert_eq!(CqlTime::from(time), CqlTime(nanos));
            let ts = OffsetDateTime::try_from(CqlTimestamp(millis)).unwrap();
            prop_assert_eq!(CqlTimestamp::try_from(ts).unwrap(), CqlTimestamp(millis));
            let p = PrimitiveDateTime::try_from(CqlTimestamp(millis)).unwrap();
            prop_assert_eq!(CqlTimestamp::try_from(p).unwrap(), CqlTimestamp(millis));
        }
    }
}

/// Golden bytes and round trips for one `num-bigint` version.
macro_rules! bigint_tests {
    ($name:ident, $feature:literal, $krate:ident) => {
        #[cfg(feature = $feature)]
        mod $name {
            use cql_proto::value::CqlVarint;
            use proptest::prelude::*;
            use $krate::BigInt;

            use super::*;

            #[test]
            fn golden_bytes() {
                let t = ColumnType::Varint;
                golden(BigInt::from(0), &t, &[0x00]);
                golden(BigInt::from(1), &t, &[0x01]);
                golden(BigInt::from(127), &t, &[0x7F]);
                golden(BigInt::from(128), &t, &[0x00, 0x80]);
                golden(BigInt::from(-1), &t, &[0xFF]);
                golden(BigInt::from(-128), &t, &[0x80]);
                golden(BigInt::from(-129), &t, &[0xFF, 0x7F]);
                golden(BigInt::from(1u64 << 32), &t, &[0x01, 0, 0, 0, 0]);
                assert!(BigInt::deserialize(&t, Some(&[])).is_err());
                assert_eq!(BigInt::from(CqlVarint(vec![0xFF, 0x7F])), BigInt::from(-129));
                assert_eq!(CqlVarint::from(BigInt::from(-129)), CqlVarint(vec![0xFF, 0x7F]));
            }

            proptest! {
                #[test]
                fn agrees_with_cql_varint(v in any::<i128>()) {
                    let big = BigInt::from(v);
                    let wire = bytes(&big, &ColumnType::Varint).unwrap();
                    prop_assert_eq!(&wire, &CqlVarint::from_i128(v).0);
                    prop_assert_eq!(BigInt::deserialize(&ColumnType::Varint, Some(&wire)).unwrap(), big);
                }
            }
        }
    };
}

bigint_tests!(bigint_03, "num-bigint-03", num_bigint_03);
bigint_tests!(bigint_04, "num-bigint-04", num_bigint_04);

#[cfg(feature = "bigdecimal-04")]
mod bigdecimal {
    use std::str::FromStr;

    use bigdecimal_04::BigDecimal;
    use bigdecimal_04::num_bigint::BigInt;
    use cql_proto::value::{CqlDecimal, CqlVarint};

    use super::*;

    #[test]
    fn golden_bytes() {
        let t = ColumnType::Decimal;
        // 1.23: scale 2, unscaled 123.
        golden(
            BigDecimal::from_str("1.23").unwrap(),
            &t,
            &[0, 0, 0, 2, 0x7B],
        );
        // -1.28: scale 2, unscaled -128.
        golden(
            BigDecimal::from_str("-1.28").unwrap(),
            &t,
            &[0, 0, 0, 2, 0x80],
        );
        // 1E+3 as unscaled 1, scale -3.
        golden(
            BigDecimal::new(BigInt::from(1), -3),
            &t,
            &[0xFF, 0xFF, 0xFF, 0xFD, 0x01],
        );
        let d = CqlDecimal::try_from(BigDecimal::from_str("-1.28").unwrap()).unwrap();
        assert_eq!(
            d,
            CqlDecimal {
                unscaled: CqlVarint(vec![0x80]),
                scale: 2
            }
        );
        assert_eq!(BigDecimal::from(d), BigDecimal::from_str("-1.28").unwrap());
    }

    #[test]
    fn a_scale_beyond_i32_is_a_typed_error() {
        let huge = BigDecimal::new(BigInt::from(1), i64::from(i32::MAX) + 1);
        assert!(matches!(
            bytes(&huge, &ColumnType::Decimal),
            Err(EncodeError::ValueOutOfRange { .. })
        ));
        assert!(CqlDecimal::try_from(huge).is_err());
        assert!(BigDecimal::deserialize(&ColumnType::Decimal, Some(&[0, 0, 0])).is_err());
    }
}

#[cfg(feature = "secrecy-08")]
mod secrecy {
    use secrecy_08::{ExposeSecret, Secret};

    use super::*;

    #[test]
    fn secret_is_its_inner_value() {
        let s = Secret::new("pw".to_owned());
        assert_eq!(bytes(&s, &ColumnType::Text).unwrap(), b"pw");
        assert!(bytes(&s, &ColumnType::Int).is_err());
        let back = Secret::<String>::deserialize(&ColumnType::Text, Some(b"pw")).unwrap();
        assert_eq!(back.expose_secret(), "pw");
        let n = Secret::<Option<i32>>::deserialize(&ColumnType::Int, None).unwrap();
        assert_eq!(*n.expose_secret(), None);
        assert!(Secret::<i32>::type_check(&ColumnType::Text).is_err());
    }
}
