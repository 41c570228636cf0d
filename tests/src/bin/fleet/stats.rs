//! What the fleet counts while it runs, and how it reads the server's
//! process from /proc.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Counters shared by every device and mail task.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// HTTP requests answered (any status).
    pub(crate) requests: AtomicU64,
    /// TLS connections open now.
    pub(crate) connected: AtomicUsize,
    /// Devices through Provision, FolderSync and the first Sync.
    pub(crate) set_up: AtomicUsize,
    /// Devices that could not set up (their errors are counted in `errors`).
    pub(crate) failed: AtomicUsize,
    /// Devices that set up and later gave up after repeated Ping failures.
    pub(crate) gave_up: AtomicUsize,
    /// Pings sent and not answered yet.
    pub(crate) holding: AtomicUsize,
    /// Ping answers by Status.
    pub(crate) ping_status: Mutex<BTreeMap<u8, u64>>,
    /// Delivery (end of LMTP DATA) to the Ping answer, one per answer
    /// that a delivery during the Ping caused.
    pub(crate) latencies: Mutex<Vec<Duration>>,
    /// Status 2 answers with no delivery during the Ping: the change was
    /// already waiting when the Ping arrived.
    pub(crate) immediate: AtomicU64,
    /// Items the devices fetched with Sync after a Status 2.
    pub(crate) items: AtomicU64,
    /// LMTP: end of DATA to the 250.
    pub(crate) lmtp_acks: Mutex<Vec<Duration>>,
    pub(crate) delivered: AtomicU64,
    /// What went wrong, by kind.
    pub(crate) errors: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    pub(crate) fn error(&self, kind: impl Into<String>) {
        *lock(&self.errors).entry(kind.into()).or_insert(0) += 1;
    }

    pub(crate) fn ping_answer(&self, status: u8) {
        *lock(&self.ping_status).entry(status).or_insert(0) += 1;
    }

    pub(crate) fn error_count(&self) -> u64 {
        lock(&self.errors).values().sum()
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// A lock that a panicked holder does not poison for the report.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// p in 0..=1 of sorted samples.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted
        .get(i)
        .copied()
        .unwrap_or_else(|| sorted.last().copied().unwrap_or_default())
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// What /proc says about a process.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProcSample {
    /// Resident set, KiB.
    pub(crate) rss_kib: u64,
    /// Peak resident set, KiB.
    pub(crate) hwm_kib: u64,
    pub(crate) threads: u64,
    pub(crate) fds: u64,
    /// User + system CPU, seconds.
    pub(crate) cpu_secs: f64,
}

impl ProcSample {
    pub(crate) fn read(pid: u32) -> Option<ProcSample> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        let cpu_secs = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let after = stat.rsplit_once(')')?.1;
                let mut fields = after.split_whitespace().skip(11);
                let utime: f64 = fields.next()?.parse().ok()?;
                let stime: f64 = fields.next()?.parse().ok()?;
                Some((utime + stime) / 100.0)
            })
            .unwrap_or(0.0);
        Some(ProcSample {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
            threads: field("Threads:"),
            fds,
            cpu_secs,
        })
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "RSS {:.1} MiB (peak {:.1} MiB), {} threads, {} open files, {:.1} s CPU",
            self.rss_kib as f64 / 1024.0,
            self.hwm_kib as f64 / 1024.0,
            self.threads,
            self.fds,
            self.cpu_secs
        )
    }
}

/// The soft open-files limit of a process, from /proc/PID/limits.
pub(crate) fn open_files_limit(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
