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
            && changes_content(&ev.kind)
            && ev.paths.iter().any(|p| p.file_name().map(|n| n.to_os_string()) == file_name)
        {
            let _ = tx2.send(());
        }
    });
    // The directory is not created here: an observer writes nothing, and a
    // directory that appears later is seen by polling.
    if let Ok(mut w) = watcher
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

/// Whether an event can mean new content. Reading the file (ours, to
/// reload it, or anyone's) opens and closes it; counting those would make
/// every reload trigger the next one.
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What polling compares: time, size, identity, and the change time and
/// mode (a chmod that makes the file readable is a change worth a read).
fn stamp(p: &Path) -> Option<(SystemTime, u64, u64, i64, u32)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len(), m.ino(), m.ctime(), m.mode()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};

    #[test]
    fn reading_the_file_is_not_a_change() {
        for k in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Read),
        ] {
            assert!(!changes_content(&k), "{k:?}");
        }
        for k in [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Remove(notify::event::RemoveKind::File),
        ] {
            assert!(changes_content(&k), "{k:?}");
        }
    }

    /// The feedback loop this guards against: a reload after a change must
    /// not itself be seen as a change.
    #[tokio::test]
    async fn reloading_does_not_trigger_another_reload() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let state = dir.path().join("state.toml");
        std::fs::write(&state, "schema = 1\n").unwrap_or_else(|e| panic!("{e}"));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _guard = spawn(&state, tx);
        // A save by someone else: write a temp file and rename it over.
        let tmp = dir.path().join(".state.tmp");
        std::fs::write(&tmp, "schema = 1\n# changed\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&tmp, &state).unwrap_or_else(|e| panic!("{e}"));
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert!(matches!(got, Ok(Some(()))), "the save is seen");
        tokio::time::sleep(Duration::from_millis(200)).await;
        while rx.try_recv().is_ok() {}
        // Now only reads.
        for _ in 0..5 {
            let _ = std::fs::read_to_string(&state);
        }
        let again = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
        assert!(again.is_err(), "reading the file was taken for a change");
    }
}
