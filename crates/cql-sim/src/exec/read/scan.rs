//! Scans in token order: partitions merged from several replica stores, token ranges as key
//! ranges, and the paging state that resumes a scan where a page ended.

use std::collections::btree_map;
use std::iter::Peekable;
use std::ops::Bound;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{CqlError, Result};
use crate::storage::{Partition, PartitionKey};

/// Merges the partitions of several stores in (token, key) order, dropping duplicates.
pub(super) struct MergedPartitions<'a> {
    pub(super) iters: Vec<Peekable<btree_map::Range<'a, PartitionKey, Partition>>>,
}

impl<'a> Iterator for MergedPartitions<'a> {
    type Item = (&'a PartitionKey, &'a Partition);

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, &'a PartitionKey)> = None;
        for (i, it) in self.iters.iter_mut().enumerate() {
            if let Some((k, _)) = it.peek()
                && best.is_none_or(|(_, b)| *k < b)
            {
                best = Some((i, *k));
            }
        }
        let (i, key) = best?;
        let item = self.iters[i].next();
        for it in &mut self.iters {
            while it.peek().is_some_and(|(k, _)| *k == key) {
                it.next();
            }
        }
        item
    }
}

/// Where a page ended.
pub(super) struct PagePos {
    pub(super) key: PartitionKey,
    pub(super) ck: Option<Vec<u8>>,
    pub(super) emitted: i64,
    pub(super) in_partition: i64,
}

const PAGING_MAGIC: &[u8; 4] = b"CSP1";

/// The paging state of a page that ended at `pos`, for the query with fingerprint `fp`.
pub(super) fn encode_paging(fp: u64, pos: &PagePos) -> Bytes {
    let mut b = BytesMut::new();
    b.put_slice(PAGING_MAGIC);
    b.put_u64(fp);
    b.put_i64(pos.key.token);
    b.put_u32(pos.key.key.len() as u32);
    b.put_slice(&pos.key.key);
    match &pos.ck {
        Some(ck) => {
            b.put_u8(1);
            b.put_u32(ck.len() as u32);
            b.put_slice(ck);
        }
        None => b.put_u8(0),
    }
    b.put_i64(pos.emitted);
    b.put_i64(pos.in_partition);
    b.freeze()
}

/// Decodes a paging state, rejecting one made for another query.
pub(super) fn decode_paging(fp: u64, b: &[u8]) -> Result<PagePos> {
    let bad = || CqlError::Protocol("Invalid value for the paging state".into());
    let mut r = b;
    let mut take = |n: usize| -> Result<&[u8]> {
        if r.len() < n {
            return Err(bad());
        }
        let (h, t) = r.split_at(n);
        r = t;
        Ok(h)
    };
    if take(4)? != PAGING_MAGIC {
        return Err(bad());
    }
    let be8 = |s: &[u8]| -> [u8; 8] {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        a
    };
    let be4 = |s: &[u8]| -> [u8; 4] {
        let mut a = [0u8; 4];
        a.copy_from_slice(s);
        a
    };
    if u64::from_be_bytes(be8(take(8)?)) != fp {
        return Err(bad());
    }
    let token = i64::from_be_bytes(be8(take(8)?));
    let klen = u32::from_be_bytes(be4(take(4)?)) as usize;
    let key = Bytes::copy_from_slice(take(klen)?);
    let ck = match take(1)?[0] {
        0 => None,
        1 => {
            let n = u32::from_be_bytes(be4(take(4)?)) as usize;
            Some(take(n)?.to_vec())
        }
        _ => return Err(bad()),
    };
    let emitted = i64::from_be_bytes(be8(take(8)?));
    let in_partition = i64::from_be_bytes(be8(take(8)?));
    if !r.is_empty() || emitted < 0 || in_partition < 0 {
        return Err(bad());
    }
    Ok(PagePos {
        key: PartitionKey { token, key },
        ck,
        emitted,
        in_partition,
    })
}

/// Token bounds as partition key bounds; `None` when the range is empty.
pub(super) fn token_range(
    lo: Bound<i64>,
    hi: Bound<i64>,
) -> Option<(Bound<PartitionKey>, Bound<PartitionKey>)> {
    let at = |t: i64| PartitionKey {
        token: t,
        key: Bytes::new(),
    };
    let start = match lo {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Included(t) => Bound::Included(at(t)),
        Bound::Excluded(t) => match t.checked_add(1) {
            Some(n) => Bound::Included(at(n)),
            None => return None,
        },
    };
    let end = match hi {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Excluded(t) => Bound::Excluded(at(t)),
        Bound::Included(t) => match t.checked_add(1) {
            Some(n) => Bound::Excluded(at(n)),
            None => Bound::Unbounded,
        },
    };
    if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) =
        (&start, &end)
        && a > b
    {
        return None;
    }
    Some((start, end))
}

/// Whether `BTreeMap::range` accepts these bounds (it panics on a reversed range and on equal
/// excluded bounds).
pub(super) fn valid_range<T: Ord>(lo: &Bound<T>, hi: &Bound<T>) -> bool {
    match (lo, hi) {
        (Bound::Excluded(a), Bound::Excluded(b)) => a < b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            a <= b
        }
        _ => true,
    }
}
