//! The stream-id allocator: a bitmap of 32,768 ids in 512 `u64` words.

/// The number of stream ids a v3+ connection can have in flight (`0..=32767`).
pub const MAX_STREAMS: usize = 32_768;

const WORDS: usize = MAX_STREAMS / 64;

/// A bitmap of used stream ids. Allocation scans from a hint word, so it is O(1) while the
/// low words have free bits and at most 512 word tests when nearly full.
#[derive(Debug)]
pub(crate) struct StreamIds {
    used: Box<[u64; WORDS]>,
    in_use: usize,
    capacity: usize,
    hint: usize,
}

impl StreamIds {
    /// An allocator handing out ids `0..capacity` (`capacity` is capped at [`MAX_STREAMS`]).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            used: Box::new([0; WORDS]),
            in_use: 0,
            capacity: capacity.clamp(1, MAX_STREAMS),
            hint: 0,
        }
    }

    /// Whether [`Self::alloc`] would succeed.
    pub(crate) fn has_free(&self) -> bool {
        self.in_use < self.capacity
    }

    /// The number of ids in use.
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> usize {
        self.in_use
    }

    /// Takes the lowest free id at or after the hint word, wrapping around.
    pub(crate) fn alloc(&mut self) -> Option<i16> {
        if !self.has_free() {
            return None;
        }
        let words = self.capacity.div_ceil(64);
        for step in 0..words {
            let w = (self.hint + step) % words;
            let word = self.used[w];
            if word != u64::MAX {
                let bit = word.trailing_ones() as usize;
                let id = w * 64 + bit;
                if id >= self.capacity {
                    continue;
                }
                self.used[w] |= 1 << bit;
                self.in_use += 1;
                self.hint = w;
                // The id is below MAX_STREAMS = 2^15, so it fits an i16.
                return i16::try_from(id).ok();
            }
        }
        None
    }

    /// Frees an id; returns false if it was not in use (a bug or a bogus server stream id).
    pub(crate) fn free(&mut self, id: i16) -> bool {
        let Ok(id) = usize::try_from(id) else {
            return false;
        };
        if id >= self.capacity {
            return false;
        }
        let (w, bit) = (id / 64, id % 64);
        if self.used[w] & (1 << bit) == 0 {
            return false;
        }
        self.used[w] &= !(1 << bit);
        self.in_use -= 1;
        if w < self.hint {
            self.hint = w;
        }
        true
    }

    /// Whether `id` is currently allocated.
    pub(crate) fn is_used(&self, id: i16) -> bool {
        usize::try_from(id)
            .ok()
            .filter(|&id| id < self.capacity)
            .is_some_and(|id| self.used[id / 64] & (1 << (id % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_lowest_first_and_reuses_freed() {
        let mut ids = StreamIds::new(MAX_STREAMS);
        assert_eq!(ids.alloc(), Some(0));
        assert_eq!(ids.alloc(), Some(1));
        assert_eq!(ids.alloc(), Some(2));
        assert!(ids.free(1));
        assert!(!ids.free(1), "double free is reported");
        assert_eq!(ids.alloc(), Some(1));
        assert_eq!(ids.in_use(), 3);
    }

    #[test]
    fn exhausts_at_32768_and_every_id_is_distinct() {
        let mut ids = StreamIds::new(MAX_STREAMS);
        let mut seen = vec![false; MAX_STREAMS];
        for _ in 0..MAX_STREAMS {
            let id = ids.alloc().expect("free id");
            let idx = usize::try_from(id).expect("non-negative");
            assert!(!seen[idx], "id {id} handed out twice");
            seen[idx] = true;
        }
        assert!(!ids.has_free());
        assert_eq!(ids.alloc(), None);
        assert!(ids.free(12_345));
        assert_eq!(ids.alloc(), Some(12_345));
        assert_eq!(ids.alloc(), None);
    }

    #[test]
    fn smaller_capacity_and_bogus_ids() {
        let mut ids = StreamIds::new(3);
        assert_eq!(
            (ids.alloc(), ids.alloc(), ids.alloc(), ids.alloc()),
            (Some(0), Some(1), Some(2), None)
        );
        assert!(!ids.free(-1));
        assert!(!ids.free(3));
        assert!(ids.is_used(2));
        assert!(!ids.is_used(5));
    }
}
