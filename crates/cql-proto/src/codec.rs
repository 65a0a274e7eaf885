//! The spec's primitive notations (section 3 of the v4 spec): `[int]`, `[long]`, `[short]`,
//! `[string]`, `[long string]`, `[uuid]`, `[string list]`, `[bytes]`, `[value]`, `[short bytes]`,
//! `[inet]`, `[consistency]`, `[string map]`, `[string multimap]`, `[bytes map]`.
//!
//! [`Reader`] never trusts a length: every read is bounds-checked and returns a [`DecodeError`]
//! instead of panicking. Writers append to a caller's [`BytesMut`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{BufMut, Bytes, BytesMut};
use uuid::Uuid;

use crate::error::{DecodeError, EncodeError};
use crate::string_map::{StringMap, StringMultimap};
use crate::text::Text;

/// A `[value]` as read from the wire: bytes, null (`-1`) or unset (`-2`, v4+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// A value with its bytes.
    Value(&'a [u8]),
    /// A null value (length -1).
    Null,
    /// An unset value (length -2).
    Unset,
}

/// A bounds-checked cursor over a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes not yet read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Fails when bytes are left: a body must be consumed exactly.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                what,
                count: self.buf.len(),
            })
        }
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(eof(what, n - self.buf.len()));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// A sub-reader over the next `n` bytes.
    #[allow(dead_code)] // Part of the reader's API; the value decoders may use it.
    pub(crate) fn sub(&mut self, n: usize, what: &'static str) -> Result<Self, DecodeError> {
        Ok(Reader::new(self.take(n, what)?))
    }

    #[inline]
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn read_u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn read_short(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    #[inline]
    pub(crate) fn read_int(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn read_long(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// A non-negative `[int]` used as a count or length.
    pub(crate) fn read_len(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let n = self.read_int(what)?;
        usize::try_from(n).map_err(|_| DecodeError::InvalidLength {
            what,
            len: n.into(),
        })
    }

    pub(crate) fn read_string(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        let n = self.read_short(what)? as usize;
        let b = self.take(n, what)?;
        std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    pub(crate) fn read_long_string(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        let n = self.read_len(what)?;
        let b = self.take(n, what)?;
        std::str::from_utf8(b).map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    /// A `[string]` as a [`Text`] sharing `body`'s memory. `body` must be the buffer this reader
    /// reads (else the string is copied).
    pub(crate) fn read_text(
        &mut self,
        body: &Bytes,
        what: &'static str,
    ) -> Result<Text, DecodeError> {
        let s = self.read_string(what)?;
        Ok(Text::from_checked(sub_bytes(body, s.as_bytes())))
    }

    /// A `[long string]` as a [`Text`] sharing `body`'s memory, as [`read_text`](Self::read_text).
    pub(crate) fn read_long_text(
        &mut self,
        body: &Bytes,
        what: &'static str,
    ) -> Result<Text, DecodeError> {
        let s = self.read_long_string(what)?;
        Ok(Text::from_checked(sub_bytes(body, s.as_bytes())))
    }

    pub(crate) fn read_uuid(&mut self, what: &'static str) -> Result<Uuid, DecodeError> {
        Ok(Uuid::from_bytes(self.array(what)?))
    }

    pub(crate) fn read_string_list(
        &mut self,
        what: &'static str,
    ) -> Result<Vec<String>, DecodeError> {
        let n = self.read_short(what)? as usize;
        let mut v = Vec::with_capacity(n.min(self.remaining() / 2));
        for _ in 0..n {
            v.push(self.read_string(what)?.to_owned());
        }
        Ok(v)
    }

    /// `[bytes]`: `None` for a negative length (null).
    #[inline]
    pub(crate) fn read_bytes(
        &mut self,
        what: &'static str,
    ) -> Result<Option<&'a [u8]>, DecodeError> {
        let n = self.read_int(what)?;
        if n < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(n as usize, what)?))
    }

    /// `[value]`: bytes, null (-1) or unset (-2); other negative lengths are errors.
    pub(crate) fn read_value(&mut self, what: &'static str) -> Result<RawValue<'a>, DecodeError> {
        let n = self.read_int(what)?;
        match n {
            -1 => Ok(RawValue::Null),
            -2 => Ok(RawValue::Unset),
            n if n < 0 => Err(DecodeError::InvalidLength {
                what,
                len: n.into(),
            }),
            n => Ok(RawValue::Value(self.take(n as usize, what)?)),
        }
    }

    pub(crate) fn read_short_bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.read_short(what)? as usize;
        self.take(n, what)
    }

    /// `[inetaddr]`: a one-byte size (4 or 16) and the address bytes.
    pub(crate) fn read_inetaddr(&mut self, what: &'static str) -> Result<IpAddr, DecodeError> {
        let n = self.read_u8(what)?;
        match n {
            4 => Ok(IpAddr::V4(Ipv4Addr::from(self.array::<4>(what)?))),
            16 => Ok(IpAddr::V6(Ipv6Addr::from(self.array::<16>(what)?))),
            n => Err(DecodeError::InvalidLength {
                what,
                len: n.into(),
            }),
        }
    }

    /// `[inet]`: an `[inetaddr]` and an `[int]` port.
    pub(crate) fn read_inet(&mut self, what: &'static str) -> Result<SocketAddr, DecodeError> {
        let ip = self.read_inetaddr(what)?;
        let port = self.read_int(what)?;
        let port =
            u16::try_from(port).map_err(|_| DecodeError::invalid(what, "port out of range"))?;
        Ok(SocketAddr::new(ip, port))
    }

    pub(crate) fn read_string_map(&mut self, what: &'static str) -> Result<StringMap, DecodeError> {
        let n = self.read_short(what)? as usize;
        let mut m = StringMap::with_capacity(n.min(self.remaining() / 4));
        for _ in 0..n {
            let k = self.read_string(what)?.to_owned();
            let v = self.read_string(what)?.to_owned();
            m.push(k, v);
        }
        Ok(m)
    }

    pub(crate) fn read_string_multimap(
        &mut self,
        what: &'static str,
    ) -> Result<StringMultimap, DecodeError> {
        let n = self.read_short(what)? as usize;
        let mut m = StringMultimap::with_capacity(n.min(self.remaining() / 4));
        for _ in 0..n {
            let k = self.read_string(what)?.to_owned();
            let v = self.read_string_list(what)?;
            m.push(k, v);
        }
        Ok(m)
    }

    /// `[bytes map]`: values may be null (kept as `None`).
    pub(crate) fn read_bytes_map(
        &mut self,
        what: &'static str,
    ) -> Result<HashMap<String, Option<Bytes>>, DecodeError> {
        let n = self.read_short(what)? as usize;
        let mut m = HashMap::with_capacity(n.min(self.remaining() / 6));
        for _ in 0..n {
            let k = self.read_string(what)?.to_owned();
            let v = self.read_bytes(what)?.map(Bytes::copy_from_slice);
            m.insert(k, v);
        }
        Ok(m)
    }
}

pub(crate) fn write_short(buf: &mut BytesMut, v: u16) {
    buf.put_u16(v);
}

pub(crate) fn write_int(buf: &mut BytesMut, v: i32) {
    buf.put_i32(v);
}

/// Writes an `[int]` length placeholder, lets `write` append the body, then patches the
/// length in. On any error (from `write`, or a body longer than `i32::MAX` bytes, reported as
/// `what`) the buffer is restored to where it was.
pub(crate) fn write_with_int_len<F>(
    buf: &mut BytesMut,
    what: &'static str,
    write: F,
) -> Result<(), EncodeError>
where
    F: FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
{
    let start = buf.len();
    buf.put_i32(0);
    if let Err(e) = write(buf) {
        buf.truncate(start);
        return Err(e);
    }
    let len = buf.len() - start - 4;
    let Ok(len32) = i32::try_from(len) else {
        buf.truncate(start);
        return Err(EncodeError::TooLong { what, len });
    };
    buf[start..start + 4].copy_from_slice(&len32.to_be_bytes());
    Ok(())
}

pub(crate) fn write_long(buf: &mut BytesMut, v: i64) {
    buf.put_i64(v);
}

fn short_len(what: &'static str, len: usize) -> Result<u16, EncodeError> {
    u16::try_from(len).map_err(|_| EncodeError::TooLong { what, len })
}

fn int_len(what: &'static str, len: usize) -> Result<i32, EncodeError> {
    i32::try_from(len).map_err(|_| EncodeError::TooLong { what, len })
}

pub(crate) fn write_string(buf: &mut BytesMut, s: &str) -> Result<(), EncodeError> {
    buf.put_u16(short_len("[string]", s.len())?);
    buf.put_slice(s.as_bytes());
    Ok(())
}

/// `[string]` from a [`Text`]'s bytes (no UTF-8 check).
pub(crate) fn write_text(buf: &mut BytesMut, s: &Text) -> Result<(), EncodeError> {
    buf.put_u16(short_len("[string]", s.len())?);
    buf.put_slice(s.as_bytes());
    Ok(())
}

/// `[long string]` from a [`Text`]'s bytes (no UTF-8 check).
pub(crate) fn write_long_text(buf: &mut BytesMut, s: &Text) -> Result<(), EncodeError> {
    buf.put_i32(int_len("[long string]", s.len())?);
    buf.put_slice(s.as_bytes());
    Ok(())
}

/// `sub` as a slice of `body` without copying when `sub` lies inside `body` (the usual case: a
/// reader over `body`), else a copy. Unlike `Bytes::slice_ref`, never panics.
pub(crate) fn sub_bytes(body: &Bytes, sub: &[u8]) -> Bytes {
    let start = (sub.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
    if start <= body.len() && sub.len() <= body.len() - start {
        body.slice(start..start + sub.len())
    } else {
        Bytes::copy_from_slice(sub)
    }
}

pub(crate) fn write_uuid(buf: &mut BytesMut, u: &Uuid) {
    buf.put_slice(u.as_bytes());
}

pub(crate) fn write_string_list<S: AsRef<str>>(
    buf: &mut BytesMut,
    l: &[S],
) -> Result<(), EncodeError> {
    buf.put_u16(short_len("[string list]", l.len())?);
    for s in l {
        write_string(buf, s.as_ref())?;
    }
    Ok(())
}

/// `[bytes]`; `None` writes a null (length -1).
pub(crate) fn write_bytes(buf: &mut BytesMut, b: Option<&[u8]>) -> Result<(), EncodeError> {
    match b {
        None => buf.put_i32(-1),
        Some(b) => {
            buf.put_i32(int_len("[bytes]", b.len())?);
            buf.put_slice(b);
        }
    }
    Ok(())
}

pub(crate) fn write_value(buf: &mut BytesMut, v: &RawValue<'_>) -> Result<(), EncodeError> {
    match v {
        RawValue::Null => buf.put_i32(-1),
        RawValue::Unset => buf.put_i32(-2),
        RawValue::Value(b) => write_bytes(buf, Some(b))?,
    }
    Ok(())
}

pub(crate) fn write_short_bytes(buf: &mut BytesMut, b: &[u8]) -> Result<(), EncodeError> {
    buf.put_u16(short_len("[short bytes]", b.len())?);
    buf.put_slice(b);
    Ok(())
}

pub(crate) fn write_inetaddr(buf: &mut BytesMut, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            buf.put_u8(4);
            buf.put_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            buf.put_u8(16);
            buf.put_slice(&a.octets());
        }
    }
}

pub(crate) fn write_inet(buf: &mut BytesMut, addr: &SocketAddr) {
    write_inetaddr(buf, &addr.ip());
    buf.put_i32(i32::from(addr.port()));
}

/// Writes a `[string map]`, entries in the map's order.
pub(crate) fn write_string_map(buf: &mut BytesMut, m: &StringMap) -> Result<(), EncodeError> {
    buf.put_u16(short_len("[string map]", m.len())?);
    for (k, v) in m {
        write_string(buf, k)?;
        write_string(buf, v)?;
    }
    Ok(())
}

/// Writes a `[string multimap]`, entries in the map's order.
pub(crate) fn write_string_multimap(
    buf: &mut BytesMut,
    m: &StringMultimap,
) -> Result<(), EncodeError> {
    buf.put_u16(short_len("[string multimap]", m.len())?);
    for (k, v) in m {
        write_string(buf, k)?;
        write_string_list(buf, v)?;
    }
    Ok(())
}

/// Writes a `[bytes map]`, sorted by key.
pub(crate) fn write_bytes_map(
    buf: &mut BytesMut,
    m: &HashMap<String, Option<Bytes>>,
) -> Result<(), EncodeError> {
    buf.put_u16(short_len("[bytes map]", m.len())?);
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in entries {
        write_string(buf, k)?;
        write_bytes(buf, v.as_deref())?;
    }
    Ok(())
}

/// The error of a read past the end (kept out of line: reads are on every hot path).
#[cold]
#[inline(never)]
fn eof(what: &'static str, needed: usize) -> DecodeError {
    DecodeError::UnexpectedEof { what, needed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_bytes_shares_inside_and_copies_outside() {
        let body = Bytes::from(b"\x00\x02hi rest".to_vec());
        let inside = sub_bytes(&body, &body[2..4]);
        assert_eq!(&inside[..], b"hi");
        assert_eq!(inside.as_ptr(), body[2..].as_ptr());
        let other = b"elsewhere".to_vec();
        let copied = sub_bytes(&body, &other[..4]);
        assert_eq!(&copied[..], b"else");
        assert_ne!(copied.as_ptr(), other.as_ptr());
        assert!(sub_bytes(&body, &[]).is_empty());
        // A slice running past the end of `body` is copied, not sliced out of bounds.
        let long = Bytes::from(b"abcdef".to_vec());
        let short = long.slice(0..3);
        assert_eq!(&sub_bytes(&short, &long[1..5])[..], b"bcde");

        let mut r = Reader::new(&body);
        let t = r.read_text(&body, "name").unwrap();
        assert_eq!(t, "hi");
        assert_eq!(t.as_bytes().as_ptr(), body[2..].as_ptr());
        assert!(
            r.read_text(&body, "name").is_err(),
            "' r' is not a full [string]"
        );
    }

    #[test]
    fn string_golden() {
        // [string]: a [short] n, followed by n bytes of UTF-8.
        let mut b = BytesMut::new();
        write_string(&mut b, "abc").unwrap();
        assert_eq!(&b[..], &[0x00, 0x03, b'a', b'b', b'c']);
        let mut r = Reader::new(&b);
        assert_eq!(r.read_string("s").unwrap(), "abc");
        r.finish("s").unwrap();
    }

    #[test]
    fn value_null_unset_and_bad_length() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(r.read_value("v").unwrap(), RawValue::Null);
        assert_eq!(r.read_value("v").unwrap(), RawValue::Unset);
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xfd]);
        assert!(matches!(
            r.read_value("v"),
            Err(DecodeError::InvalidLength { len: -3, .. })
        ));
    }

    #[test]
    fn lengths_past_the_end_are_errors() {
        let mut r = Reader::new(&[0x00, 0x10, b'a']);
        assert!(matches!(
            r.read_string("s"),
            Err(DecodeError::UnexpectedEof { needed: 15, .. })
        ));
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff]);
        assert!(r.read_bytes("b").is_err());
    }

    #[test]
    fn inet_golden() {
        // [inet]: size byte 4, 4 address bytes, [int] port.
        let bytes = [4, 127, 0, 0, 1, 0, 0, 0x23, 0x52];
        let mut r = Reader::new(&bytes);
        let a = r.read_inet("inet").unwrap();
        assert_eq!(a, "127.0.0.1:9042".parse().unwrap());
        let mut b = BytesMut::new();
        write_inet(&mut b, &a);
        assert_eq!(&b[..], &bytes);
    }
}
