//! Guaranteed teardown: clusters register a cleanup that runs exactly once, from the guard's
//! `Drop` on every normal or error path, or from the SIGINT/SIGTERM handler on Ctrl-C.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;

type Action = Box<dyn FnOnce() + Send>;

/// Pending cleanups by id. A cleanup is taken out of the list before it runs, so the guard and
/// the signal handler can never both run it.
static PENDING: Mutex<Vec<(u64, Action)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Runs its cleanup when dropped (unless the signal handler already ran it).
#[must_use = "the cleanup runs when the guard is dropped; bind it to a variable"]
pub(crate) struct Guard {
    id: u64,
}

impl Guard {
    /// Registers `action` and returns the guard that runs it on drop.
    pub(crate) fn new(action: impl FnOnce() + Send + 'static) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        lock().push((id, Box::new(action)));
        Self { id }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Hold the lock while the action runs: a concurrent signal handler waits for the
        // teardown to finish before it exits the process.
        let mut pending = lock();
        if let Some(pos) = pending.iter().position(|(id, _)| *id == self.id) {
            let (_, action) = pending.remove(pos);
            action();
        }
    }
}

/// Installs the SIGINT/SIGTERM/SIGHUP handler that runs every pending cleanup, then exits
/// with 130. Call once, before starting anything that needs a cleanup.
pub(crate) fn install_signal_handler() -> Result<()> {
    ctrlc::set_handler(|| {
        eprintln!("xtask: interrupted, tearing down the cluster");
        let mut pending = lock();
        for (_, action) in pending.drain(..) {
            action();
        }
        drop(pending);
        std::process::exit(130);
    })?;
    Ok(())
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(u64, Action)>> {
    // A panic inside a cleanup must not stop later cleanups from running.
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
