//! [`Text`]: an immutable UTF-8 string that shares memory with a frame.
//!
//! Column names, keyspace and table names and CQL statements travel as `[string]` or
//! `[long string]`. Decoding them into `String`s cost one allocation each, per column, per
//! response. A [`Text`] is instead a [`Bytes`] slice of the frame body, checked to be UTF-8 once
//! when it is made: decoding and cloning it allocate nothing.
//!
//! # Why `as_str` checks the bytes again
//!
//! The crate forbids `unsafe`, which rules out `str::from_utf8_unchecked`, and a safe type cannot
//! borrow a `&str` from its own `Bytes`. So [`Text::as_str`] (and `Deref`, `Display`, `Hash`)
//! runs `str::from_utf8` again: a word-at-a-time scan, measured by `cargo bench -p cql-proto
//! --bench codec -- text` at about 7 ns for a 2-byte column name and 9 ns for a 53-byte
//! statement (a byte comparison is about 3 ns). Everything that does not need a `&str` skips it:
//! [`as_bytes`](Text::as_bytes), [`len`](Text::len), equality and ordering (which compare bytes,
//! consistent with `str`), and the encoders, which copy the bytes. Hot paths (matching a column
//! name per row, writing a statement per request) use those.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::str::Utf8Error;

use bytes::Bytes;

/// An immutable UTF-8 string backed by [`Bytes`]: cloning it bumps a reference count, and one
/// decoded from a frame points into the frame's body.
///
/// It dereferences to `str`, and compares, orders and hashes like one, so it can key a map looked
/// up by `&str`. See the [module docs](self) for the cost of getting the `&str`.
///
/// ```
/// use cql_proto::Text;
///
/// let name = Text::from("pk"); // a literal: no allocation
/// assert_eq!(name, "pk");
/// assert!(name.starts_with('p'));
/// let owned = Text::from(String::from("c1")); // takes the String's buffer
/// assert_eq!(owned.as_str(), "c1");
/// assert!(Text::from_utf8(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default)]
pub struct Text(Bytes);

impl Text {
    /// A text of a `'static` string, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }

    /// Checks that `bytes` are UTF-8 and keeps them, without copying.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }

    /// A text of bytes the caller has already checked to be UTF-8.
    ///
    /// Not `unsafe`: bytes that are not UTF-8 read as `""` rather than misbehave.
    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// A text that copies `s` into its own buffer.
    pub fn copy_from_str(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// The string. Checks the UTF-8 again (see the [module docs](self)).
    pub fn as_str(&self) -> &str {
        // Invariant: every constructor checked that the bytes are UTF-8, so the fallback is never
        // taken; it exists only because a safe `&str` has to come out of `from_utf8`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes, without checking them again.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying buffer, by value.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

// Equality and order compare bytes: for UTF-8 that is exactly `str`'s equality and order, and it
// skips the UTF-8 check.
impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

// `Borrow<str>` requires the same hash as the `str`; `str` hashes with `Hasher::write_str`, which
// a hasher may override, so hash the `str` itself.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

macro_rules! impl_eq_str {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Text {
            fn eq(&self, other: &$t) -> bool {
                self.as_bytes() == other.as_bytes()
            }
        }

        impl PartialEq<Text> for $t {
            fn eq(&self, other: &Text) -> bool {
                self.as_bytes() == other.as_bytes()
            }
        }
    )*};
}

impl_eq_str!(str, &str, String);

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Self {
        Self::from_static(s)
    }
}

impl From<String> for Text {
    /// Takes the `String`'s buffer, without copying.
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<&String> for Text {
    /// Copies the string.
    fn from(s: &String) -> Self {
        Self::copy_from_str(s)
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Self {
        Self(Bytes::from(s.into_boxed_bytes()))
    }
}

impl From<Text> for String {
    /// Copies the text.
    fn from(t: Text) -> Self {
        t.as_str().to_owned()
    }
}

impl From<&Text> for String {
    /// Copies the text.
    fn from(t: &Text) -> Self {
        t.as_str().to_owned()
    }
}

impl From<Text> for Bytes {
    fn from(t: Text) -> Self {
        t.0
    }
}

impl TryFrom<Bytes> for Text {
    type Error = Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        Self::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::collections::hash_map::DefaultHasher;

    use super::*;

    fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn invalid_utf8_is_rejected_with_the_position() {
        let err = Text::from_utf8(Bytes::from_static(b"ab\xc3(")).unwrap_err();
        assert_eq!(err.valid_up_to(), 2);
        assert!(Text::try_from(Bytes::from_static(b"\xff")).is_err());
        let ok = Text::from_utf8(Bytes::from_static("é".as_bytes())).unwrap();
        assert_eq!(ok.as_str(), "é");
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn compares_and_hashes_like_str() {
        let words = ["", "a", "ab", "b", "é", "z", "ä"];
        for a in words {
            let ta = Text::copy_from_str(a);
            assert_eq!(hash_of(&ta), hash_of(a), "{a:?}");
            assert_eq!(ta, a);
            assert_eq!(a, ta);
            assert_eq!(ta, *a);
            assert_eq!(ta, a.to_owned());
            assert_eq!(a.to_owned(), ta);
            for b in words {
                let tb = Text::from(b);
                assert_eq!(ta == tb, a == b, "{a:?} == {b:?}");
                assert_eq!(ta.cmp(&tb), a.cmp(b), "{a:?} cmp {b:?}");
                assert_eq!(ta.partial_cmp(&tb), a.partial_cmp(b));
                assert_eq!(ta != b, a != b);
            }
        }
    }

    #[test]
    fn keys_a_map_looked_up_by_str() {
        let mut m = HashMap::new();
        m.insert(Text::from("pk"), 1);
        m.insert(Text::from(String::from("c1")), 2);
        assert_eq!(m.get("pk"), Some(&1));
        assert_eq!(m.get("c1"), Some(&2));
        assert_eq!(m.get("c2"), None);
    }

    #[test]
    fn formats_like_str() {
        let t = Text::from("a\"b");
        assert_eq!(format!("{t}"), "a\"b");
        assert_eq!(format!("{t:?}"), format!("{:?}", "a\"b"));
        assert_eq!(format!("{t:>5}"), "  a\"b");
    }

    #[test]
    fn constructors_share_or_take_memory() {
        static S: &str = "static text";
        let t = Text::from(S);
        assert_eq!(t.as_str().as_ptr(), S.as_ptr(), "a literal is not copied");
        let s = String::from("owned");
        let p = s.as_ptr();
        let t = Text::from(s);
        assert_eq!(t.as_bytes().as_ptr(), p, "a String's buffer is taken");
        let c = t.clone();
        assert_eq!(c.as_bytes().as_ptr(), p, "a clone shares the buffer");
        assert_eq!(c, t);
        let b = Bytes::from_static(b"hello world");
        let t = Text::from_utf8(b.slice(6..)).unwrap();
        assert_eq!(t, "world");
        assert_eq!(t.as_bytes().as_ptr(), b[6..].as_ptr());
        assert_eq!(Text::default(), "");
        assert!(Text::default().is_empty());
        assert_eq!(String::from(&t), "world");
        assert_eq!(Bytes::from(t), Bytes::from_static(b"world"));
        assert_eq!(Text::from(Box::<str>::from("boxed")), "boxed");
    }

    #[test]
    fn derefs_to_str() {
        let t = Text::from("SELECT 1");
        assert!(t.starts_with("SELECT"));
        let s: &str = &t;
        assert_eq!(s, "SELECT 1");
        let r: &str = t.as_ref();
        assert_eq!(r, "SELECT 1");
        let b: &str = t.borrow();
        assert_eq!(b, "SELECT 1");
    }
}
