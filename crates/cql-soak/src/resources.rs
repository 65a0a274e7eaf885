//! Process resources, sampled to show growth: resident memory, open file descriptors (client
//! and in-process server sockets alike) and the tokio runtime's alive tasks.

use std::fmt;

/// One sample of the process's resources.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sample {
    /// Resident set size in KiB (`VmRSS` of `/proc/self/status`), 0 when unknown.
    pub(crate) rss_kib: u64,
    /// Open file descriptors (entries of `/proc/self/fd`), 0 when unknown.
    pub(crate) fds: u64,
    /// Tasks alive in the tokio runtime.
    pub(crate) tasks: u64,
}

impl Sample {
    /// Samples now; call from inside the runtime.
    pub(crate) fn take() -> Self {
        Self {
            rss_kib: rss_kib().unwrap_or(0),
            fds: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64),
            tasks: tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks() as u64,
        }
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rss {:.1} MiB, fds {}, tasks {}",
            self.rss_kib as f64 / 1024.0,
            self.fds,
            self.tasks
        )
    }
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sample_sees_this_process() {
        let s = Sample::take();
        assert!(s.rss_kib > 0, "{s}");
        assert!(s.fds >= 3, "{s}");
        let before = s.tasks;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = rx.await;
        });
        assert_eq!(Sample::take().tasks, before + 1);
        drop(tx);
        task.await.unwrap();
    }
}
