//! Bound values of QUERY, EXECUTE and BATCH: `[short] n` followed by n `[value]`s, optionally
//! each preceded by a `[string]` name.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, RawValue, Reader};
use crate::error::{DecodeError, EncodeError};

/// Bound values, kept as their exact wire bytes so the driver serializes them once.
///
/// `bytes` holds `count` consecutive `[value]`s (each an `[int]` length and its bytes, `-1` for
/// null, `-2` for unset) without the count prefix and without names. `names`, when present, holds
/// one name per value (the "names for values" flag 0x40).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SerializedValues {
    /// The number of values in `bytes`.
    pub count: u16,
    /// The values' names, one per value, when sent by name.
    pub names: Option<Vec<String>>,
    /// The `[value]`s as on the wire.
    pub bytes: Bytes,
}

impl SerializedValues {
    /// No values.
    pub const fn new() -> Self {
        Self {
            count: 0,
            names: None,
            bytes: Bytes::new(),
        }
    }

    /// Whether there are no values.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether the values carry names (flag 0x40).
    pub fn has_names(&self) -> bool {
        self.count > 0 && self.names.is_some()
    }

    /// Iterates over `(name, value)` pairs; yields an error (and stops) on malformed bytes.
    pub fn iter(&self) -> SerializedValuesIter<'_> {
        SerializedValuesIter {
            reader: Reader::new(&self.bytes),
            names: self.names.as_deref(),
            index: 0,
            count: self.count,
            failed: false,
        }
    }

    /// Writes `[short] n` and the values (interleaving names when `named`).
    pub(crate) fn write(&self, buf: &mut BytesMut, named: bool) -> Result<(), EncodeError> {
        codec::write_short(buf, self.count);
        if !named {
            buf.put_slice(&self.bytes);
            return Ok(());
        }
        let names = self.names.as_deref().unwrap_or(&[]);
        if names.len() != usize::from(self.count) {
            return Err(EncodeError::Invalid(format!(
                "{} values but {} names (named values need one name per value)",
                self.count,
                names.len()
            )));
        }
        for item in self.iter() {
            let (name, value) = item.map_err(|e| EncodeError::Invalid(e.to_string()))?;
            codec::write_string(buf, name.unwrap_or_default())?;
            codec::write_value(buf, &value)?;
        }
        Ok(())
    }

    /// Reads `[short] n` and the values; zero-copy from `body` when the values are unnamed.
    pub(crate) fn read(r: &mut Reader<'_>, body: &Bytes, named: bool) -> Result<Self, DecodeError> {
        let count = r.read_short("value count")?;
        if count == 0 {
            return Ok(Self::new());
        }
        if !named {
            let start = r.rest();
            for _ in 0..count {
                r.read_value("bound value")?;
            }
            let used = start.len() - r.remaining();
            // `start` is a sub-slice of `body`, so `slice_ref` cannot fail.
            let bytes = body.slice_ref(&start[..used]);
            return Ok(Self {
                count,
                names: None,
                bytes,
            });
        }
        let mut names = Vec::with_capacity(usize::from(count).min(r.remaining() / 6));
        let mut bytes = BytesMut::new();
        for _ in 0..count {
            names.push(r.read_string("value name")?.to_owned());
            let v = r.read_value("bound value")?;
            codec::write_value(&mut bytes, &v)
                .map_err(|e| DecodeError::invalid("bound value", e.to_string()))?;
        }
        Ok(Self {
            count,
            names: Some(names),
            bytes: bytes.freeze(),
        })
    }
}

impl SerializedValues {
    /// Splits the first `count` `[value]`s off the front of `bytes`, zero-copy: how the values of
    /// many statements written into one buffer (a batch) become one `SerializedValues` each.
    ///
    /// Malformed or truncated input takes at most what is left of `bytes`.
    #[inline]
    pub fn split_from(bytes: &mut Bytes, count: u16) -> Self {
        let len = values_len(bytes, count);
        Self {
            count,
            names: None,
            bytes: bytes.split_to(len),
        }
    }
}

/// The byte length of the first `count` `[value]`s of `buf` (a negative length is null or
/// unset: no bytes follow), at most `buf.len()`.
#[inline]
pub fn values_len(buf: &[u8], count: u16) -> usize {
    let mut pos = 0usize;
    for _ in 0..count {
        let Some(&[a, b, c, d]) = buf.get(pos..pos.saturating_add(4)) else {
            return buf.len();
        };
        let len = usize::try_from(i32::from_be_bytes([a, b, c, d])).unwrap_or(0);
        pos = pos.saturating_add(4 + len);
    }
    pos.min(buf.len())
}

/// Iterates over consecutive unnamed `[value]`s (the `bytes` of [`SerializedValues`]) and stops
/// at the end or at the first malformed length.
#[inline]
pub fn raw_values(buf: &[u8]) -> RawValues<'_> {
    RawValues { rest: buf }
}

/// The iterator of [`raw_values`].
#[derive(Debug, Clone)]
pub struct RawValues<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RawValues<'a> {
    type Item = RawValue<'a>;

    #[inline]
    fn next(&mut self) -> Option<RawValue<'a>> {
        let (len, rest) = self.rest.split_first_chunk::<4>()?;
        let value = match i32::from_be_bytes(*len) {
            -1 => RawValue::Null,
            -2 => RawValue::Unset,
            n => match usize::try_from(n).ok().and_then(|n| rest.get(..n)) {
                Some(bytes) => {
                    self.rest = &rest[bytes.len()..];
                    return Some(RawValue::Value(bytes));
                }
                // A negative length other than -1/-2, or one past the end: malformed.
                None => {
                    self.rest = &[];
                    return None;
                }
            },
        };
        self.rest = rest;
        Some(value)
    }
}

/// Appends one `[value]`: an `[int]` length and the bytes, or the length `-1` (null) or `-2`
/// (unset).
pub fn write_raw_value(buf: &mut BytesMut, value: RawValue<'_>) -> Result<(), EncodeError> {
    codec::write_value(buf, &value)
}

/// Iterator over [`SerializedValues`].
#[derive(Debug, Clone)]
pub struct SerializedValuesIter<'a> {
    reader: Reader<'a>,
    names: Option<&'a [String]>,
    index: u16,
    count: u16,
    failed: bool,
}

impl<'a> Iterator for SerializedValuesIter<'a> {
    type Item = Result<(Option<&'a str>, RawValue<'a>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.index >= self.count {
            return None;
        }
        let name = self
            .names
            .and_then(|n| n.get(usize::from(self.index)))
            .map(String::as_str);
        self.index += 1;
        match self.reader.read_value("bound value") {
            Ok(v) => Some(Ok((name, v))),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Appends bound values into one buffer, counting them.
#[derive(Debug, Default)]
pub struct SerializedValuesBuilder {
    count: u16,
    names: Option<Vec<String>>,
    buf: BytesMut,
}

impl SerializedValuesBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with `capacity` bytes reserved.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            count: 0,
            names: None,
            buf: BytesMut::with_capacity(capacity),
        }
    }

    fn bump(&mut self, named: bool) -> Result<(), EncodeError> {
        if self.count > 0 && named != self.names.is_some() {
            return Err(EncodeError::Invalid(
                "cannot mix named and unnamed bound values".into(),
            ));
        }
        self.count = self
            .count
            .checked_add(1)
            .ok_or_else(|| EncodeError::Invalid("more than 65535 bound values".into()))?;
        Ok(())
    }

    /// Appends an unnamed value.
    pub fn push(&mut self, value: RawValue<'_>) -> Result<(), EncodeError> {
        self.bump(false)?;
        codec::write_value(&mut self.buf, &value)
    }

    /// Appends a named value (all values must then be named).
    pub fn push_named(&mut self, name: &str, value: RawValue<'_>) -> Result<(), EncodeError> {
        self.bump(true)?;
        self.names
            .get_or_insert_with(Vec::new)
            .push(name.to_owned());
        codec::write_value(&mut self.buf, &value)
    }

    /// Appends an unnamed value whose bytes `write` appends directly to the buffer; the length
    /// prefix is patched afterwards. On error the buffer is restored.
    pub fn push_with<F>(&mut self, write: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
    {
        let start = self.buf.len();
        codec::write_with_int_len(&mut self.buf, "[value]", write)?;
        if let Err(e) = self.bump(false) {
            self.buf.truncate(start);
            return Err(e);
        }
        Ok(())
    }

    /// The number of values so far.
    pub const fn count(&self) -> u16 {
        self.count
    }

    /// The finished values.
    pub fn finish(self) -> SerializedValues {
        SerializedValues {
            count: self.count,
            names: self.names,
            bytes: self.buf.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_by_their_lengths() {
        // Spec section 1.3 `[value]`s. Statement 1: two values, 3 bytes and null. Statement 2:
        // none. Statement 3: one unset value (-2). Statement 4: one empty value.
        let wire: &[u8] = &[
            0, 0, 0, 3, b'a', b'b', b'c', 0xff, 0xff, 0xff, 0xff, // 1
            0xff, 0xff, 0xff, 0xfe, // 3
            0, 0, 0, 0, // 4
        ];
        let mut all = Bytes::copy_from_slice(wire);
        let got: Vec<SerializedValues> = [2u16, 0, 1, 1]
            .into_iter()
            .map(|count| SerializedValues::split_from(&mut all, count))
            .collect();
        let bytes: Vec<&[u8]> = got.iter().map(|v| &v.bytes[..]).collect();
        assert_eq!(
            bytes,
            vec![&wire[..11], &[][..], &wire[11..15], &wire[15..]]
        );
        assert_eq!(
            got.iter().map(|v| v.count).collect::<Vec<_>>(),
            [2, 0, 1, 1]
        );
        assert!(all.is_empty());
        let items: Vec<RawValue<'_>> = raw_values(wire).collect();
        assert_eq!(
            items,
            [
                RawValue::Value(b"abc"),
                RawValue::Null,
                RawValue::Unset,
                RawValue::Value(b""),
            ]
        );
        // A truncated buffer never reads past its end.
        assert_eq!(values_len(&[0, 0, 0, 9, 1], 1), 5);
        assert_eq!(values_len(&[0, 0], 3), 2);
        assert_eq!(raw_values(&[0, 0, 0, 9, 1]).count(), 0);
    }

    #[test]
    fn raw_values_are_written_as_the_spec_says() {
        let mut buf = BytesMut::new();
        write_raw_value(&mut buf, RawValue::Value(b"ab")).unwrap();
        write_raw_value(&mut buf, RawValue::Null).unwrap();
        write_raw_value(&mut buf, RawValue::Unset).unwrap();
        assert_eq!(
            &buf[..],
            [
                0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe
            ]
        );
    }

    #[test]
    fn builder_and_iter() {
        let mut b = SerializedValuesBuilder::new();
        b.push(RawValue::Value(&[1, 2])).unwrap();
        b.push(RawValue::Null).unwrap();
        b.push_with(|buf| {
            buf.put_slice(b"xyz");
            Ok(())
        })
        .unwrap();
        b.push(RawValue::Unset).unwrap();
        assert!(b.push_named("a", RawValue::Null).is_err());
        let v = b.finish();
        assert_eq!(v.count, 4);
        assert_eq!(
            &v.bytes[..],
            &[
                0, 0, 0, 2, 1, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 3, b'x', b'y', b'z', 0xff, 0xff,
                0xff, 0xfe
            ]
        );
        let items: Vec<_> = v.iter().map(Result::unwrap).collect();
        assert_eq!(
            items,
            vec![
                (None, RawValue::Value(&[1, 2])),
                (None, RawValue::Null),
                (None, RawValue::Value(b"xyz")),
                (None, RawValue::Unset),
            ]
        );
    }

    #[test]
    fn malformed_bytes_error_in_iter() {
        let v = SerializedValues {
            count: 2,
            names: None,
            bytes: Bytes::from_static(&[0, 0, 0, 9, 1]),
        };
        let mut it = v.iter();
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }
}
