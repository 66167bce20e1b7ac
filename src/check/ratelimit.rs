//! Call budgets per host and key (PostNL sandbox: 15 calls a minute), kept
//! in a file beside the state so that several cutover processes share them.
//!
//! The budget file is a cache, not user data: a file that cannot be parsed
//! is replaced by an empty budget, and a file that cannot be used at all
//! falls back to this process's own budget (with a warning in the log).

use crate::clock::Clock;
use crate::files;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// The sliding window.
const WINDOW_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct RateLimiter {
    /// The shared budget file; None keeps the budget in this process only.
    pub path: Option<PathBuf>,
    pub clock: Arc<dyn Clock>,
    /// A budget of this limiter's own (and its clones'), instead of the
    /// process-wide one: for tests that must not share holds.
    own: Option<Arc<Mutex<BudgetFile>>>,
}

/// Budgets of limiters without a file: shared by every such limiter in this
/// process, as the file is shared by every process.
static IN_PROCESS: LazyLock<Mutex<BudgetFile>> = LazyLock::new(|| Mutex::new(BudgetFile::default()));

/// The longest a server's Retry-After is honoured, in seconds (a day).
const HOLD_MAX_SECS: u64 = 24 * 3600;

/// What the budget file holds: bucket -> times of the calls in the window,
/// in milliseconds since the Unix epoch; and bucket -> the time before which
/// no call may go (a server asked to wait).
#[derive(Debug, Default, Serialize, Deserialize)]
struct BudgetFile {
    #[serde(default)]
    buckets: BTreeMap<String, Vec<i64>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    held: BTreeMap<String, i64>,
}

impl BudgetFile {
    /// Forgets buckets with no call left in the window and holds that ended.
    fn tidy(&mut self, now: i64) {
        self.buckets.retain(|_, calls| calls.iter().any(|&t| t > now - WINDOW_MS));
        self.held.retain(|_, until| *until > now);
    }
}

impl RateLimiter {
    /// Why this limiter's budget file cannot be shared with the others on
    /// the state file, None if it can (or it has none).
    pub fn sharing_problem(&self) -> Option<String> {
        self.path.as_deref().and_then(sharing_problem)
    }

    pub fn new(path: Option<PathBuf>, clock: Arc<dyn Clock>) -> Self {
        RateLimiter { path, clock, own: None }
    }

    /// A limiter with a budget of its own, shared only with its clones.
    pub fn isolated(clock: Arc<dyn Clock>) -> Self {
        RateLimiter { path: None, clock, own: Some(Arc::new(Mutex::new(BudgetFile::default()))) }
    }

    /// Runs `f` on the shared budget: the file's under its lock, else this
    /// process's (with a warning in the log when the file is unusable).
    fn with_budget<R>(&self, f: impl Fn(&mut BudgetFile, i64) -> R) -> R {
        let now = self.clock.now().as_millisecond();
        if let Some(path) = &self.path {
            match with_file(path, now, &f) {
                Ok(r) => return r,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "call budget file unusable; keeping the budget in this process")
                }
            }
        }
        let shared = self.own.as_deref().unwrap_or(&IN_PROCESS);
        let mut b = match shared.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let r = f(&mut b, now);
        b.tidy(now);
        r
    }

    /// Takes one call from `bucket`'s budget of `per_minute` if one is free
    /// now (Ok), else says how long until one is (Err). `bucket` names a host
    /// and a key fingerprint, never a key. A budget of 0 means no limit, but
    /// a hold (a server's Retry-After) still applies.
    pub fn try_acquire(&self, bucket: &str, per_minute: u32) -> Result<(), Duration> {
        self.with_budget(|b, now| {
            if let Some(&until) = b.held.get(bucket)
                && until > now
            {
                return Err(Duration::from_millis(u64::try_from(until - now).unwrap_or(1)));
            }
            if per_minute == 0 {
                return Ok(());
            }
            take(b.buckets.entry(bucket.to_string()).or_default(), per_minute, now)
        })
    }

    /// True while a server's asked-for wait holds `bucket`.
    pub fn is_held(&self, bucket: &str) -> bool {
        self.with_budget(|b, now| b.held.get(bucket).is_some_and(|&until| until > now))
    }

    /// A server asked to wait `secs` (Retry-After): no call from this bucket
    /// goes before then, from any process sharing the budget.
    pub fn hold(&self, bucket: &str, secs: u64) {
        let ms = i64::try_from(secs.min(HOLD_MAX_SECS) * 1000).unwrap_or(i64::MAX / 2);
        self.with_budget(|b, now| {
            let until = b.held.entry(bucket.to_string()).or_insert(now);
            *until = (*until).max(now + ms);
        });
    }

    /// A server said "too many" without saying how long to wait: the window
    /// counts as full, so the next call waits until its oldest call leaves
    /// it. Without a known budget, wait a whole window.
    pub fn exhaust(&self, bucket: &str, per_minute: u32) {
        if per_minute == 0 {
            self.hold(bucket, u64::try_from(WINDOW_MS / 1000).unwrap_or(60));
            return;
        }
        self.with_budget(|b, now| {
            let calls = b.buckets.entry(bucket.to_string()).or_default();
            calls.retain(|&t| t > now - WINDOW_MS && t <= now + WINDOW_MS);
            while calls.len() < per_minute as usize {
                calls.push(now);
            }
        });
    }
}

/// The sliding-window rule on one bucket's call times: drop the calls that
/// left the window, then take a call if fewer than `per_minute` remain, else
/// say when enough of them will have left.
fn take(calls: &mut Vec<i64>, per_minute: u32, now: i64) -> Result<(), Duration> {
    // A call stamped more than a window ahead comes from a clock that was
    // wrong; it must not block the budget forever.
    calls.retain(|&t| t > now - WINDOW_MS && t <= now + WINDOW_MS);
    calls.sort_unstable();
    let limit = per_minute as usize;
    if calls.len() < limit {
        calls.push(now);
        return Ok(());
    }
    // For one call to be free, the oldest (len - limit + 1) calls must leave.
    let frees_at = calls[calls.len() - limit] + WINDOW_MS;
    let wait = (frees_at - now).clamp(1, WINDOW_MS);
    Err(Duration::from_millis(u64::try_from(wait).unwrap_or(1)))
}

/// Read-modify-write of the budget file under an exclusive lock on the
/// separate, permanent `<path>.lock` (the budget file itself is replaced by
/// rename, so locking it would lock a different inode each time). Both
/// follow the directory's mode and group (see [`crate::files`]), so everyone
/// on a shared state file shares one budget.
fn with_file<R>(path: &Path, now: i64, f: &impl Fn(&mut BudgetFile, i64) -> R) -> Result<R, files::FileError> {
    files::ensure_dir(&files::parent_of(path))?;
    let lock_file = lock_path(path);
    let lock = files::open_or_create(&lock_file, files::OpenMode::Read)?;
    lock.lock().map_err(|e| files::FileError::io(&lock_file, &e))?;

    let mut budget = match files::read_regular(path, 4 * 1024 * 1024) {
        // A budget file that does not parse is a damaged cache: start afresh.
        Ok(Some((bytes, _))) => {
            std::str::from_utf8(&bytes).ok().and_then(|t| toml::from_str::<BudgetFile>(t).ok()).unwrap_or_default()
        }
        Ok(None) => BudgetFile::default(),
        Err(e) => return Err(e),
    };
    let result = f(&mut budget, now);
    budget.tidy(now);

    let text = format!(
        "# cutover call budgets: times (ms since 1970) of recent calls per host and key fingerprint,\n# and holds a server asked for (Retry-After). A cache; safe to delete.\n{}",
        toml::to_string(&budget).map_err(|e| files::FileError::msg(path, e.to_string()))?
    );
    files::write_atomic(path, text.as_bytes(), ".budget-")?;
    // The lock is released when `lock` is dropped.
    drop(lock);
    Ok(result)
}

/// Why the budget file at `path` cannot be shared by this user (it or its
/// lock cannot be opened for writing, or the folder refuses new files),
/// None if it can. Writes nothing.
pub fn sharing_problem(path: &Path) -> Option<String> {
    for p in [lock_path(path), path.to_path_buf()] {
        match files::regular_meta(&p) {
            Err(e) => return Some(e.to_string()),
            Ok(Some(_)) => {
                if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open(&p) {
                    return Some(files::FileError::io(&p, &e).to_string());
                }
            }
            Ok(None) => {}
        }
    }
    // The budget is replaced by rename: its folder must take new files.
    let dir = files::parent_of(path);
    if dir.exists() && !files::may_write_dir(&dir) {
        let e = std::io::Error::from_raw_os_error(libc::EACCES);
        return Some(files::FileError::io(&path.with_file_name(".budget-new"), &e).to_string());
    }
    None
}

/// The call budget shared by everyone on the state file at `state`:
/// `ratelimit.toml` beside it.
pub fn budget_path(state: &Path) -> PathBuf {
    crate::paths::beside(state, "ratelimit.toml")
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_slides() {
        let mut calls = Vec::new();
        assert_eq!(take(&mut calls, 2, 0), Ok(()));
        assert_eq!(take(&mut calls, 2, 10_000), Ok(()));
        assert_eq!(take(&mut calls, 2, 20_000), Err(Duration::from_secs(40)));
        // The first call leaves the window at 60 s.
        assert_eq!(take(&mut calls, 2, 60_000), Ok(()));
        assert_eq!(take(&mut calls, 2, 60_001), Err(Duration::from_millis(9_999)));
    }

    #[test]
    fn take_with_a_lowered_limit_waits_for_enough_calls() {
        let mut calls = vec![0, 1_000, 2_000, 3_000];
        assert_eq!(take(&mut calls, 2, 4_000), Err(Duration::from_millis(58_000)));
    }

    #[test]
    fn calls_from_a_wrong_clock_do_not_block_forever() {
        let mut calls = vec![10_000_000];
        assert_eq!(take(&mut calls, 1, 0), Ok(()));
    }

    #[test]
    fn lock_path_is_beside() {
        assert_eq!(lock_path(Path::new("/x/budget.toml")), PathBuf::from("/x/budget.toml.lock"));
    }
}
