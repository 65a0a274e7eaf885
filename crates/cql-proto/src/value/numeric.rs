//! Conversions of [`CqlVarint`] and [`CqlDecimal`] to and from Rust integers and decimal strings.

use std::fmt;
use std::str::FromStr;

use crate::error::DecodeError;
use crate::value::{CqlDecimal, CqlVarint};

impl CqlVarint {
    /// The minimal two's-complement big-endian encoding of `v`.
    pub fn from_i128(v: i128) -> Self {
        let bytes = v.to_be_bytes();
        Self(minimal(&bytes).to_vec())
    }

    /// Strips redundant leading sign bytes (`0x00` before a byte < 0x80, `0xFF` before a byte
    /// >= 0x80); an empty varint becomes `[0x00]`.
    pub fn normalized(&self) -> Self {
        if self.0.is_empty() {
            return Self(vec![0]);
        }
        Self(minimal(&self.0).to_vec())
    }

    /// Whether the value is negative.
    pub fn is_negative(&self) -> bool {
        self.0.first().is_some_and(|b| b & 0x80 != 0)
    }

    /// The value as an `i128`, or `None` when it does not fit.
    pub fn to_i128(&self) -> Option<i128> {
        let m = minimal(&self.0);
        if m.len() > 16 {
            return None;
        }
        let fill = if self.is_negative() { 0xFF } else { 0 };
        let mut a = [fill; 16];
        a[16 - m.len()..].copy_from_slice(m);
        Some(i128::from_be_bytes(a))
    }

    /// The value as an `i64`, or `None` when it does not fit.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// Parses a decimal integer such as `-12345678901234567890123`.
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        let (neg, digits) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DecodeError::invalid("varint literal", s.to_owned()));
        }
        // Magnitude as big-endian base-256, built by multiply-by-10-and-add.
        let mut mag: Vec<u8> = vec![0];
        for d in digits.bytes() {
            let mut carry = u32::from(d - b'0');
            for byte in mag.iter_mut().rev() {
                let x = u32::from(*byte) * 10 + carry;
                *byte = (x & 0xFF) as u8;
                carry = x >> 8;
            }
            while carry > 0 {
                mag.insert(0, (carry & 0xFF) as u8);
                carry >>= 8;
            }
        }
        // Two's complement with room for the sign bit.
        mag.insert(0, 0);
        if neg {
            negate(&mut mag);
        }
        Ok(Self(minimal(&mag).to_vec()))
    }
}

/// The shortest suffix of a two's-complement number with the same value.
fn minimal(b: &[u8]) -> &[u8] {
    let mut i = 0;
    while i + 1 < b.len() {
        let (cur, next) = (b[i], b[i + 1]);
        if (cur == 0 && next & 0x80 == 0) || (cur == 0xFF && next & 0x80 != 0) {
            i += 1;
        } else {
            break;
        }
    }
    &b[i..]
}

/// Two's-complement negation in place.
fn negate(b: &mut [u8]) {
    let mut carry = true;
    for byte in b.iter_mut().rev() {
        let (v, c) = (!*byte).overflowing_add(u8::from(carry));
        *byte = v;
        carry = c;
    }
}

impl From<i64> for CqlVarint {
    fn from(v: i64) -> Self {
        Self::from_i128(i128::from(v))
    }
}

impl From<i128> for CqlVarint {
    fn from(v: i128) -> Self {
        Self::from_i128(v)
    }
}

impl From<i32> for CqlVarint {
    fn from(v: i32) -> Self {
        Self::from_i128(i128::from(v))
    }
}

impl FromStr for CqlVarint {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CqlVarint {
    /// Prints the integer in base 10.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v) = self.to_i128() {
            return write!(f, "{v}");
        }
        let neg = self.is_negative();
        let mut mag = self.0.clone();
        if neg {
            negate(&mut mag);
        }
        // Repeated division by 10 of the big-endian magnitude.
        let mut digits = Vec::new();
        while mag.iter().any(|&b| b != 0) {
            let mut rem = 0u32;
            for byte in &mut mag {
                let x = (rem << 8) | u32::from(*byte);
                *byte = (x / 10) as u8;
                rem = x % 10;
            }
            digits.push(b'0' + rem as u8);
        }
        if digits.is_empty() {
            digits.push(b'0');
        }
        if neg {
            f.write_str("-")?;
        }
        digits.reverse();
        f.write_str(&String::from_utf8_lossy(&digits))
    }
}

impl CqlDecimal {
    /// A decimal from an unscaled integer and a scale: `unscaled × 10^-scale`.
    pub fn from_unscaled(unscaled: i128, scale: i32) -> Self {
        Self {
            unscaled: CqlVarint::from_i128(unscaled),
            scale,
        }
    }

    /// Parses a decimal literal such as `123.45`, `-0.001` or `1.5E3`.
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        let bad = || DecodeError::invalid("decimal literal", s.to_owned());
        let (mantissa, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i32>().map_err(|_| bad())?),
            None => (s, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if !frac.bytes().all(|b| b.is_ascii_digit()) || int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        let int = if matches!(int, "" | "-" | "+") {
            format!("{int}0")
        } else {
            int.to_owned()
        };
        let unscaled = CqlVarint::parse(&format!("{int}{frac}")).map_err(|_| bad())?;
        let frac_len = i32::try_from(frac.len()).map_err(|_| bad())?;
        let scale = frac_len.checked_sub(exp).ok_or_else(bad)?;
        Ok(Self { unscaled, scale })
    }
}

impl FromStr for CqlDecimal {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CqlDecimal {
    /// Prints the plain decimal form (`123.45`), or `<unscaled>E<-scale>` for a negative scale.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.unscaled.to_string();
        if self.scale <= 0 {
            if self.scale == 0 {
                return f.write_str(&digits);
            }
            return write!(f, "{digits}E{}", -i64::from(self.scale));
        }
        let (sign, mag) = match digits.strip_prefix('-') {
            Some(m) => ("-", m),
            None => ("", digits.as_str()),
        };
        let scale = self.scale as usize;
        if mag.len() > scale {
            let (i, fr) = mag.split_at(mag.len() - scale);
            write!(f, "{sign}{i}.{fr}")
        } else {
            write!(f, "{sign}0.{}{mag}", "0".repeat(scale - mag.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_strings() {
        for s in [
            "0",
            "1",
            "-1",
            "127",
            "128",
            "-129",
            "170141183460469231731687303715884105727",
        ] {
            assert_eq!(CqlVarint::parse(s).unwrap().to_string(), s);
        }
        let big = "-1234567890123456789012345678901234567890";
        assert_eq!(CqlVarint::parse(big).unwrap().to_string(), big);
        assert_eq!(CqlVarint::parse("128").unwrap().0, vec![0x00, 0x80]);
        assert_eq!(CqlVarint::parse("-129").unwrap().0, vec![0xff, 0x7f]);
        assert!(CqlVarint::parse("1x").is_err());
        assert!(CqlVarint::parse("").is_err());
        assert_eq!(CqlVarint(vec![0, 0, 1]).normalized().0, vec![1]);
        assert_eq!(CqlVarint(vec![0xff, 0xff, 0x80]).to_i64(), Some(-128));
    }

    #[test]
    fn decimal_strings() {
        let d = CqlDecimal::parse("123.45").unwrap();
        assert_eq!(d, CqlDecimal::from_unscaled(12345, 2));
        assert_eq!(d.to_string(), "123.45");
        assert_eq!(CqlDecimal::parse("-0.001").unwrap().to_string(), "-0.001");
        assert_eq!(
            CqlDecimal::parse("1.5E3").unwrap(),
            CqlDecimal::from_unscaled(15, -2)
        );
        assert_eq!(CqlDecimal::from_unscaled(15, -2).to_string(), "15E2");
        assert_eq!(CqlDecimal::parse("7").unwrap().to_string(), "7");
        assert!(CqlDecimal::parse("1.2.3").is_err());
        assert!(CqlDecimal::parse(".").is_err());
    }
}
