//! Seeing other instances' changes: watch the state file's directory (the
//! file itself is replaced at every save, so a watch on it would die), with
//! polling as the fallback where watching does not work (network file
//! systems, no inotify instances left).

use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// How often the fallback looks at the file.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// The watch on the state file: kept alive while this lives.
pub struct Watch {
    _guard: Box<dyn std::any::Any + Send>,
    watching: Arc<AtomicBool>,
}

impl Watch {
    /// Whether changes come from the file system's events (else from
    /// polling).
    pub fn watching(&self) -> bool {
        self.watching.load(Ordering::SeqCst)
    }
}

/// Sends `()` on `tx` whenever the state file may have changed: from the
/// directory's events, or by polling where it cannot be watched. A
/// directory that is not there yet (a fresh home: the first save makes it)
/// is polled for, and watched once it appears.
pub fn spawn(state: &Path, tx: mpsc::UnboundedSender<()>) -> Watch {
    let dir = state.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    // The directory is not created here: an observer writes nothing.
    if let Some(w) = watch_dir(state, &dir, tx.clone()) {
        return Watch { _guard: Box::new(w), watching: Arc::new(AtomicBool::new(true)) };
    }
    let missing = !dir.is_dir();
    if missing {
        tracing::info!("the state directory is not there yet; polling every {POLL_EVERY:?} until it is");
    } else {
        tracing::info!("watching the state directory failed; polling every {POLL_EVERY:?}");
    }
    let watching = Arc::new(AtomicBool::new(false));
    let now_watching = watching.clone();
    let path = state.to_path_buf();
    let task = tokio::spawn(async move {
        let mut last = stamp(&path);
        let mut missing = missing;
        loop {
            tokio::time::sleep(POLL_EVERY).await;
            if missing && dir.is_dir() {
                // Tried once, when the directory appears; a watch that
                // fails then (no inotify left) is not tried again.
                missing = false;
                if let Some(w) = watch_dir(&path, &dir, tx.clone()) {
                    now_watching.store(true, Ordering::SeqCst);
                    // A save between the last look and the watch.
                    if stamp(&path) != last {
                        let _ = tx.send(());
                    }
                    let _keep = w;
                    return futures::future::pending::<()>().await;
                }
            }
            let now = stamp(&path);
            if now != last {
                last = now;
                if tx.send(()).is_err() {
                    break;
                }
            }
        }
    });
    Watch { _guard: Box::new(AbortOnDrop(task)), watching }
}

/// A watch on `dir` for changes to `state`'s file name; None where it
/// cannot be watched.
fn watch_dir(state: &Path, dir: &Path, tx: mpsc::UnboundedSender<()>) -> Option<notify::RecommendedWatcher> {
    let file_name = state.file_name().map(|n| n.to_os_string());
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && changes_content(&ev.kind)
            && ev.paths.iter().any(|p| p.file_name().map(|n| n.to_os_string()) == file_name)
        {
            let _ = tx.send(());
        }
    })
    .ok()?;
    w.watch(dir, RecursiveMode::NonRecursive).ok()?;
    Some(w)
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

/// Which file a path names, and as it was: device and inode (a save
/// replaces the file, so a new inode), size, modification and change times
/// (a write in place, a chmod) and mode. Equal ids taken at two moments
/// mean nothing was saved there in between: a save always replaces the
/// file. (A write in place by another program that keeps the size, within
/// one tick of the file system's clock, would look alike; polling has the
/// same limit.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileId {
    /// No file at that path.
    Missing,
    Present {
        dev: u64,
        ino: u64,
        len: u64,
        mtime: (i64, i64),
        ctime: (i64, i64),
        mode: u32,
    },
}

/// The id of the file at `p` now; None when that cannot be told (then the
/// file must be read to know what it holds).
pub fn file_id(p: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(p) {
        Ok(m) => Some(FileId::Present {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            mode: m.mode(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(FileId::Missing),
        Err(_) => None,
    }
}

/// Whether the state file must be read again once the watcher runs: a save
/// that landed after the first load began and before the watcher started
/// is seen by nothing else. `before_load` is the file's id taken just
/// before that load opened it: if the path still names the same file, as
/// it was, the load read what is there now. A save during the load shows
/// as a different id and costs one more read, never a missed one. Only the
/// first load is remembered this way: a later read may be dropped (one an
/// own save overtook), so what it saw says nothing about what the app holds.
pub fn changed_since_load(state: &Path, before_load: Option<FileId>) -> bool {
    match before_load {
        Some(id) => file_id(state) != Some(id),
        None => true,
    }
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

    #[test]
    fn a_save_after_the_first_load_is_a_change_and_nothing_else_is() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let state = dir.path().join("state.toml");
        // No file at the first load, none now: nothing to read.
        let missing = file_id(&state);
        assert_eq!(missing, Some(FileId::Missing));
        assert!(!changed_since_load(&state, missing));
        // The file appears: read it.
        std::fs::write(&state, "schema = 1\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(changed_since_load(&state, missing));
        let loaded = file_id(&state);
        // Read, not written: the same file.
        let _ = std::fs::read_to_string(&state);
        assert!(!changed_since_load(&state, loaded));
        // Replaced by a save of the same size (a new inode).
        let tmp = dir.path().join(".state.tmp");
        std::fs::write(&tmp, "schema = 2\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&tmp, &state).unwrap_or_else(|e| panic!("{e}"));
        assert!(changed_since_load(&state, loaded));
        // Written in place (another size: two writes of one size within
        // the file system's timestamp tick look alike).
        let loaded = file_id(&state);
        std::fs::write(&state, "schema = 33\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(changed_since_load(&state, loaded));
        // Made readable (or not): a chmod is worth a read.
        let loaded = file_id(&state);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o640)).unwrap_or_else(|e| panic!("{e}"));
        assert!(changed_since_load(&state, loaded));
        // Removed.
        let loaded = file_id(&state);
        std::fs::remove_file(&state).unwrap_or_else(|e| panic!("{e}"));
        assert!(changed_since_load(&state, loaded));
        // Not known at the first load: always read.
        assert!(changed_since_load(&state, None));
    }

    /// A fresh home has no state directory until the first save: it is
    /// polled for, watched once it appears, and the save is seen.
    #[tokio::test]
    async fn a_state_directory_that_appears_later_is_watched() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let data = dir.path().join("data").join("cutover");
        let state = data.join("state.toml");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let watch = spawn(&state, tx);
        assert!(!watch.watching(), "no directory to watch yet");
        std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("{e}"));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !watch.watching() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(watch.watching(), "the directory appeared and is watched");
        let tmp = data.join(".state.tmp");
        std::fs::write(&tmp, "schema = 1\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&tmp, &state).unwrap_or_else(|e| panic!("{e}"));
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert!(matches!(got, Ok(Some(()))), "the first save is seen");
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
