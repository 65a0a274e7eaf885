//! `[string map]` and `[string multimap]` (section 3 of the spec) as decoded: entries in wire
//! order, so a decoded STARTUP or SUPPORTED re-encodes byte for byte.

use std::fmt;

/// A map from option names to values that keeps its entries in insertion (or wire) order.
///
/// STARTUP's options and SUPPORTED's are a handful of entries, so lookups scan a `Vec`. Its
/// methods follow `HashMap`'s. A duplicate key read from the wire is kept, so the body
/// re-encodes as it came; lookups then see the last one, as Cassandra's `HashMap` does.
/// Equality ignores the order, as a `HashMap`'s does: compare encoded bytes to check the order.
#[derive(Clone)]
pub struct StringMap<V = String> {
    entries: Vec<(String, V)>,
}

/// A `[string multimap]`: option names to lists of values (SUPPORTED).
pub type StringMultimap = StringMap<Vec<String>>;

impl<V> StringMap<V> {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The position of `key`'s (last) entry.
    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().rposition(|(k, _)| k == key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` has an entry.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`: in place when `key` has an entry (returning the old value),
    /// otherwise as a new last entry.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Appends an entry without looking for an existing one, as a decoder does.
    pub(crate) fn push(&mut self, key: String, value: V) {
        self.entries.push((key, value));
    }

    /// Removes every entry of `key`, returning the value a lookup would have seen.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.position(key)?;
        let (_, value) = self.entries.remove(i);
        self.entries.retain(|(k, _)| k != key);
        Some(value)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<V> Default for StringMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: PartialEq> PartialEq for StringMap<V> {
    fn eq(&self, other: &Self) -> bool {
        let within = |a: &Self, b: &Self| a.iter().all(|(k, v)| b.get(k) == Some(v));
        self.len() == other.len() && within(self, other) && within(other, self)
    }
}

impl<V: Eq> Eq for StringMap<V> {}

impl<V: fmt::Debug> fmt::Debug for StringMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Entries are [inserted](StringMap::insert) in order: a repeated key keeps its first position
/// and its last value.
impl<V> FromIterator<(String, V)> for StringMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut m = Self::new();
        m.extend(iter);
        m
    }
}

impl<V> Extend<(String, V)> for StringMap<V> {
    fn extend<I: IntoIterator<Item = (String, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<V, const N: usize> From<[(String, V); N]> for StringMap<V> {
    fn from(entries: [(String, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<V> IntoIterator for StringMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a StringMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_replaces_in_place() {
        let mut m = StringMap::new();
        assert_eq!(m.insert("b".to_owned(), "1".to_owned()), None);
        m.insert("a".to_owned(), "2".to_owned());
        assert_eq!(
            m.insert("b".to_owned(), "3".to_owned()),
            Some("1".to_owned())
        );
        let keys: Vec<&String> = m.keys().collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(m.get("b").map(String::as_str), Some("3"));
        assert!(m.contains_key("a") && !m.contains_key("c"));
        assert_eq!(m.remove("b"), Some("3".to_owned()));
        assert_eq!(m.len(), 1);
        assert_eq!(format!("{m:?}"), r#"{"a": "2"}"#);
        let entry = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let other = StringMap::from([entry("x", "1"), entry("a", "2")]);
        let reversed = StringMap::from([entry("a", "2"), entry("x", "1")]);
        assert_eq!(other, reversed, "equality ignores the order");
        assert_ne!(m, other);
    }

    #[test]
    fn duplicates_from_the_wire_are_kept_and_the_last_wins() {
        let mut m: StringMap = StringMap::new();
        m.push("k".to_owned(), "first".to_owned());
        m.push("k".to_owned(), "last".to_owned());
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("k").map(String::as_str), Some("last"));
        assert_eq!(m.remove("k"), Some("last".to_owned()));
        assert!(m.is_empty());
    }
}
