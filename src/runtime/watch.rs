//! Seeing other instances' changes: watch the state file's directory (the
//! file itself is replaced at every save, so a watch on it would die), with
//! polling as the fallback where watching does not work (network file
//! systems, no inotify instances left).

use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// How often the fallback looks at the file.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// Sends `()` on `tx` whenever the state file may have changed. The returned
/// guard keeps the watch alive.
pub fn spawn(state: &Path, tx: mpsc::UnboundedSender<()>) -> Box<dyn std::any::Any + Send> {
    let file_name = state.file_name().map(|n| n.to_os_string());
    let dir = state.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let tx2 = tx.clone();
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && ev.paths.iter().any(|p| p.file_name().map(|n| n.to_os_string()) == file_name)
        {
            let _ = tx2.send(());
        }
    });
    if let Ok(mut w) = watcher
        && std::fs::create_dir_all(&dir).is_ok()
        && w.watch(&dir, RecursiveMode::NonRecursive).is_ok()
    {
        return Box::new(w);
    }
    tracing::info!("watching the state directory failed; polling every {POLL_EVERY:?}");
    let path = state.to_path_buf();
    let task = tokio::spawn(async move {
        let mut last = stamp(&path);
        loop {
            tokio::time::sleep(POLL_EVERY).await;
            let now = stamp(&path);
            if now != last {
                last = now;
                if tx.send(()).is_err() {
                    break;
                }
            }
        }
    });
    Box::new(AbortOnDrop(task))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn stamp(p: &Path) -> Option<(SystemTime, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len(), m.ino()))
}
