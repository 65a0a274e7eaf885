//! A fast hasher for the maps looked up by keyspace name on every request.
//!
//! `ClusterState::replicas` finds a keyspace's replica sets by name on each request; with the
//! standard SipHash that hash is about 140 instructions for a short name, more than the
//! lookup itself. The names come from the cluster's own schema, not from untrusted input, so
//! a keyed hash's resistance to collision floods is not needed there. This is the multiply-rotate
//! hash of rustc's `FxHasher`, eight bytes at a time.

use std::hash::{BuildHasherDefault, Hasher};

/// `HashMap` state for [`NameHasher`].
pub(crate) type NameHash = BuildHasherDefault<NameHasher>;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// See the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl NameHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn names_that_differ_hash_apart_and_lookups_work() {
        let h = |s: &str| NameHash::default().hash_one(s);
        assert_eq!(h("bench"), h("bench"));
        // Same first eight bytes, a different tail; a prefix; the empty name.
        assert_ne!(h("system_schema"), h("system_traces"));
        assert_ne!(h("system"), h("system_auth"));
        assert_ne!(h(""), h("a"));
        let mut m: HashMap<String, u32, NameHash> = HashMap::default();
        for (i, ks) in ["system", "system_schema", "system_auth", "bench", "ks"]
            .into_iter()
            .enumerate()
        {
            m.insert(ks.to_owned(), i as u32);
        }
        assert_eq!(m.get("bench"), Some(&3));
        assert_eq!(m.get("system_auth"), Some(&2));
        assert_eq!(m.get("missing"), None);
    }
}
