//! A per-thread reusable buffer for encoding, so that building a frame or a row of values
//! costs one exact-size allocation (the copy handed on) instead of a buffer grown step by step.

use std::cell::RefCell;

use bytes::BytesMut;

/// Scratch buffers that grew beyond this are dropped after use rather than kept per thread.
const MAX_KEPT: usize = 256 * 1024;

thread_local! {
    static SCRATCH: RefCell<BytesMut> = RefCell::new(BytesMut::with_capacity(1024));
}

/// Runs `f` with an empty buffer reused across calls on this thread.
///
/// `f` must copy out what it keeps (for example with `Bytes::copy_from_slice`): the buffer is
/// cleared before the next use. A nested call (from inside `f`) gets a fresh buffer.
pub fn with_scratch<R>(f: impl FnOnce(&mut BytesMut) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let r = f(&mut buf);
            if buf.capacity() > MAX_KEPT {
                *buf = BytesMut::with_capacity(1024);
            }
            r
        }
        Err(_) => f(&mut BytesMut::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_empty_and_keeps_its_allocation() {
        let first = with_scratch(|buf| {
            buf.extend_from_slice(b"abc");
            buf.as_ptr() as usize
        });
        let (len, ptr) = with_scratch(|buf| (buf.len(), buf.as_ptr() as usize));
        assert_eq!(len, 0);
        assert_eq!(ptr, first, "the buffer is reused, not reallocated");
    }

    #[test]
    fn nested_use_gets_its_own_buffer() {
        let inner = with_scratch(|outer| {
            outer.extend_from_slice(b"outer");
            let inner = with_scratch(|b| {
                b.extend_from_slice(b"inner");
                b.to_vec()
            });
            assert_eq!(&outer[..], b"outer");
            inner
        });
        assert_eq!(inner, b"inner");
    }

    #[test]
    fn a_huge_buffer_is_not_kept() {
        with_scratch(|buf| buf.resize(MAX_KEPT + 1, 0));
        assert!(with_scratch(|buf| buf.capacity()) <= MAX_KEPT);
    }
}
