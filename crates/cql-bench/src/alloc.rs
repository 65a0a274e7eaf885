//! A counting global allocator and `getrusage`: the only `unsafe` code in the workspace.
//!
//! Why `unsafe` is allowed here: a [`GlobalAlloc`] implementation is an `unsafe impl` by
//! definition, and `getrusage` is a C call. Both are needed to measure allocations and CPU time
//! per request, which is the point of this benchmark binary. The allocator only forwards to
//! [`System`] and bumps two relaxed counters; it adds no state that could break the allocator's
//! contract. `getrusage` writes into a zeroed, properly sized `rusage` that we own.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Forwards to [`System`], counting allocations (and reallocations) and the bytes requested.
pub(crate) struct CountingAlloc;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters
// are side effects that never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation counters at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AllocSnapshot {
    /// Allocations and reallocations so far.
    pub(crate) allocs: u64,
    /// Bytes requested so far.
    pub(crate) bytes: u64,
}

/// Reads the allocation counters.
pub(crate) fn alloc_snapshot() -> AllocSnapshot {
    AllocSnapshot {
        allocs: ALLOCS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

/// CPU time of this process so far, in microseconds: (user, system).
pub(crate) fn process_cpu_us() -> (u64, u64) {
    // SAFETY: `rusage` is plain old data, valid when zeroed; `getrusage` fills it and only
    // reads the `who` constant.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, exclusively borrowed `rusage`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return (0, 0);
    }
    let us = |t: libc::timeval| (t.tv_sec as u64) * 1_000_000 + t.tv_usec as u64;
    (us(usage.ru_utime), us(usage.ru_stime))
}

/// Clock ticks per second for `/proc/<pid>/stat` times.
pub(crate) fn clock_ticks_per_sec() -> u64 {
    // SAFETY: `sysconf` only reads a configuration constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}
