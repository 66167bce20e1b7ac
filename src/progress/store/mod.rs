//! The only code that touches the state file.
//!
//! - The state is human-readable TOML, saved atomically: a temp file with a
//!   random name beside it (opened exclusively), written, fsynced, given the
//!   old file's mode and group, renamed over, and the directory fsynced.
//! - Writers serialize on a separate, permanent lock file
//!   (`<name>.lock`): a lock on the state file itself would die at the
//!   rename. Under the lock, [`Store::apply`] re-reads the file fresh and
//!   applies the ops to what is on disk, so no one's change is lost.
//! - Events beyond [`EVENTS_KEPT`](super::model::EVENTS_KEPT) move to `<stem>.archive.toml`, which is
//!   only ever appended to. Each archived event carries its sequence number
//!   and the state file counts how many were archived (`events_archived`),
//!   so an append that was interrupted before the state was saved is
//!   recognised on the next try and not written twice.
//! - A file that cannot be read (bad TOML, wrong types, not UTF-8, a newer
//!   schema) is reported with file:line:col and left exactly as it is.
//! - A symlink where the state, the lock or the archive should be is
//!   refused: cutover never follows a link it did not expect there.
//!
//! The parts: `format` (the file's text, its errors and schema checks),
//! this file (the store under its lock), `events` (the event archive) and
//! `checks` (the check archive).

mod checks;
mod events;
mod format;
pub mod notes;
mod sections;
mod splice;

pub use checks::ArchivedCheck;
pub(crate) use format::shown;
pub use format::{HEADER, StoreError, from_toml, to_toml};

use super::Op;
use super::model::{CheckRecord, Event, Progress, STATE_SCHEMA};
use crate::files;
use format::{decode, to_toml_with};
use jiff::Timestamp;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What an observer sees before anyone saved progress.
pub const NOTHING_SAVED_YET: &str = "no progress saved yet: steps appear as soon as someone saves one";

/// What an observer is shown instead of the progress ([`Store::load_observed`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unobserved {
    /// There is no state file yet.
    #[error("{}", NOTHING_SAVED_YET)]
    NothingSaved,
    /// The file is there but is not a state this build can read.
    #[error("{0}")]
    Unreadable(#[source] StoreError),
    /// The file cannot be read at all.
    #[error("cannot read the state: {0}")]
    CannotRead(#[source] StoreError),
}
/// A state file larger than this is refused rather than read into memory.
const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;
/// How long a writer waits for the lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// How long a save waits for the lock: 30 s, or `CUTOVER_LOCK_WAIT_SECS`
/// (1 to 30; tests use it to see a timeout without waiting half a minute).
fn lock_wait() -> Duration {
    std::env::var("CUTOVER_LOCK_WAIT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.clamp(1, LOCK_WAIT.as_secs())))
        .unwrap_or(LOCK_WAIT)
}

/// The state file, and the files beside it.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    /// What the file looked like right after this store's (or a clone's)
    /// last save, read under the lock: lets a watcher tell its own save
    /// from someone else's without reading the file again.
    written: std::sync::Arc<std::sync::Mutex<Option<FileStamp>>>,
    /// How many saves this store (and its clones) has made.
    saves: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Told, about once a second, while a save waits for the lock longer
    /// than a second ("waiting for the state lock, held by bob (pid 4242)
    /// for 3 s"); the 30 s limit stays.
    wait_notice: Option<WaitNotice>,
    /// Masks keys in a note's earlier text before it goes to the note
    /// history (see [`super::notes`]).
    note_redactor: Option<notes::Redactor>,
}

/// Where a long wait for the state lock is said (stderr, the TUI footer).
#[derive(Clone)]
pub struct WaitNotice(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl fmt::Debug for WaitNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitNotice")
    }
}

/// Identity, size and modification time of a file.
pub type FileStamp = (u64, u64, Option<std::time::SystemTime>);

fn file_stamp(path: &Path) -> Option<FileStamp> {
    fs::symlink_metadata(path).ok().map(|m| stamp_of(&m))
}

fn stamp_of(m: &fs::Metadata) -> FileStamp {
    use std::os::unix::fs::MetadataExt;
    (m.ino(), m.len(), m.modified().ok())
}

impl Store {
    pub fn new(path: impl Into<PathBuf>) -> Store {
        Store {
            path: path.into(),
            written: Default::default(),
            saves: Default::default(),
            wait_notice: None,
            note_redactor: None,
        }
    }

    /// This store, masking keys with `redactor` in the earlier text of a
    /// note before it is kept in the note history.
    pub fn with_note_redactor(mut self, redactor: notes::Redactor) -> Store {
        self.note_redactor = Some(redactor);
        self
    }

    /// This store, saying where a wait for the lock longer than a second is
    /// reported.
    pub fn with_wait_notice(mut self, notice: WaitNotice) -> Store {
        self.wait_notice = Some(notice);
        self
    }

    /// How many saves this store and its clones have made: a read that
    /// began before the count changed may be older than the last save.
    pub fn saves(&self) -> u64 {
        self.saves.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// True if the file is still exactly what this store last saved, so
    /// there is nothing new in it to read.
    pub fn is_own_last_save(&self) -> bool {
        let written = *self.written.lock().unwrap_or_else(|p| p.into_inner());
        written.is_some() && written == file_stamp(&self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn file_name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state.toml".to_string())
    }

    /// `<state file name>.lock` beside the state: permanent, never replaced.
    pub fn lock_path(&self) -> PathBuf {
        self.dir().join(format!("{}.lock", self.file_name()))
    }

    /// `<stem>.archive.toml` beside the state.
    pub fn archive_path(&self) -> PathBuf {
        let stem =
            self.path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".to_string());
        self.dir().join(format!("{stem}.archive.toml"))
    }

    /// `<stem>.checks.toml` beside the state: every check run in full,
    /// append-only.
    pub fn checks_archive_path(&self) -> PathBuf {
        let stem =
            self.path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".to_string());
        self.dir().join(format!("{stem}.checks.toml"))
    }

    fn shown(&self) -> String {
        shown(&self.path)
    }

    /// Reads the state. A missing file is an empty state. An unparseable
    /// file or one from a newer schema is an error, and the file is left
    /// exactly as it is. Reads without the lock: saves are atomic renames.
    pub fn load(&self) -> Result<Progress, StoreError> {
        match read_regular(&self.path, MAX_STATE_BYTES)? {
            None => Ok(Progress::default()),
            Some((bytes, _)) => decode(&bytes, &self.shown()).map(|(p, _)| p),
        }
    }

    /// Reads the state as an observer sees it: the progress, or what to
    /// show instead of every step as todo ("no progress saved yet" when
    /// there is no file; why it cannot be read, with the fix, when it is
    /// there but unreadable). Writes nothing.
    pub fn load_observed(&self) -> Result<Progress, Unobserved> {
        match read_regular(&self.path, MAX_STATE_BYTES) {
            Ok(None) => Err(Unobserved::NothingSaved),
            Ok(Some((bytes, _))) => decode(&bytes, &self.shown()).map(|(p, _)| p).map_err(Unobserved::Unreadable),
            Err(e) => Err(Unobserved::CannotRead(e)),
        }
    }

    /// Under the exclusive lock: re-reads the file, applies every op, moves
    /// events beyond [`EVENTS_KEPT`](super::model::EVENTS_KEPT) to the archive, saves atomically.
    /// Returns the new state and the events made. If the file cannot be
    /// read, nothing is written.
    pub fn apply(&self, ops: &[Op], by: &str, at: Timestamp) -> Result<(Progress, Vec<Event>), StoreError> {
        self.apply_in(ops, by, at, false)
    }

    /// As [`Store::apply`], for a caller that needs only the guides its ops
    /// name (`cutover mark`, `cutover check`): the progress returned holds
    /// those guides and the events, no others. On a file that ends in a
    /// matching seal (see `splice`), only those guides' tables are read and
    /// written; every other guide's text is kept as it was.
    pub fn apply_touched(&self, ops: &[Op], by: &str, at: Timestamp) -> Result<(Progress, Vec<Event>), StoreError> {
        self.apply_in(ops, by, at, true)
    }

    fn apply_in(
        &self,
        ops: &[Op],
        by: &str,
        at: Timestamp,
        touched_only: bool,
    ) -> Result<(Progress, Vec<Event>), StoreError> {
        let _lock = self.lock()?;
        let bytes = match read_regular(&self.path, MAX_STATE_BYTES)? {
            None => None,
            Some((bytes, meta)) => {
                if !ops.is_empty() {
                    refuse_read_only(&self.path, &meta)?;
                }
                Some(bytes)
            }
        };
        let touched = || ops.iter().map(Op::guide);
        let wanted = (touched_only && !ops.is_empty()).then(|| touched().collect::<Vec<_>>());
        let (mut progress, archived, sealed) = self.decode_for(bytes, wanted)?;
        if ops.is_empty() {
            return Ok((progress, Vec::new()));
        }
        // Every run in full goes to the check archive, fsynced before the
        // state that keeps only its slim latest is renamed in. A schema-1
        // file migrates on this first write: the archive takes every record
        // it held, written out step by step from the model (no copy), and
        // then each step keeps only its slim latest.
        let fresh: Vec<(&str, &str, CheckRecord)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::RecordCheck { guide, step, record } => {
                    let mut rec = (**record).clone();
                    rec.normalize_proof();
                    Some((guide.as_str(), step.as_str(), rec))
                }
                _ => None,
            })
            .collect();
        let migrating = progress.schema < STATE_SCHEMA;
        if migrating || !fresh.is_empty() {
            let old = progress
                .guides
                .iter()
                .filter(|_| migrating)
                .flat_map(|(g, gp)| gp.steps.iter().map(move |(s, r)| (g, s, r)))
                .flat_map(|(g, s, r)| r.checks.iter().map(move |c| (g.as_str(), s.as_str(), c)));
            self.append_checks(old.chain(fresh.iter().map(|(g, s, r)| (*g, *s, r))))?;
        }
        drop(fresh);
        if migrating {
            progress.migrate_to_current();
        }
        // What each changed note said before goes to the note history.
        let mut notes = notes::Changes::new(by, at);
        let events: Vec<Event> = ops
            .iter()
            .map(|op| {
                notes.before(&progress, op);
                let event = progress.apply(op, by, at);
                notes.after(&progress, op);
                event
            })
            .collect();
        notes.record(&self.path, self.note_redactor.as_ref())?;
        let overflow = progress.take_overflow_events();
        progress.events_archived = archived.unwrap_or(0);
        if !overflow.is_empty() {
            progress.events_archived = self.append_archive(archived, &overflow)?;
        }
        self.remove_stale_temps();
        let text = to_toml_with(&progress, progress.events_archived, &self.shown())?;
        let text = match &sealed {
            None => text,
            Some(s) => s.splice(&text).ok_or_else(|| StoreError::Io {
                file: self.shown(),
                message: "cannot write state: the changed guide's text is not laid out as expected".into(),
            })?,
        };
        drop(sealed);
        // The new file's stamp is known before the rename that a watcher
        // sees (under the lock: no other save can replace it meanwhile).
        let written = &self.written;
        let known = |m: &fs::Metadata| *written.lock().unwrap_or_else(|p| p.into_inner()) = Some(stamp_of(m));
        files::write_atomic_seen(&self.path, splice::seal(text).as_bytes(), &temp_prefix(&self.file_name()), known)?;
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if touched_only {
            let names: std::collections::BTreeSet<&str> = touched().collect();
            progress.guides.retain(|g, _| names.contains(g.as_str()));
        }
        Ok((progress, events))
    }

    /// What a change starts from, read under the lock: the progress, the
    /// number of events archived so far (None: there is no file) and, for a
    /// change to the guides `touched` on a sealed file, the sealed text (see
    /// `splice`) whose part it read: the root keys, those guides and the
    /// events. Any other file, or a part that does not read, is read whole,
    /// which accepts it or locates its problem.
    fn decode_for(
        &self,
        bytes: Option<Vec<u8>>,
        touched: Option<Vec<&str>>,
    ) -> Result<(Progress, Option<u64>, Option<splice::Sealed>), StoreError> {
        let Some(bytes) = bytes else { return Ok((Progress::default(), None, None)) };
        let bytes = match touched {
            None => bytes,
            Some(touched) => match self.decode_part(bytes, touched) {
                Ok((p, n, sealed)) => return Ok((p, Some(n), Some(sealed))),
                Err(bytes) => bytes,
            },
        };
        // The text goes as soon as it is read: only the model lives on.
        let (p, n) = decode(&bytes, &self.shown())?;
        Ok((p, Some(n), None))
    }

    /// The part of a sealed file a change to `touched` reads (see
    /// `decode_for`), or the bytes back where there is none that reads.
    fn decode_part(&self, bytes: Vec<u8>, touched: Vec<&str>) -> Result<(Progress, u64, splice::Sealed), Vec<u8>> {
        let text = String::from_utf8(bytes).map_err(|e| e.into_bytes())?;
        let sealed = splice::Sealed::cut(text, touched).map_err(String::into_bytes)?;
        match decode(sealed.part().as_bytes(), &self.shown()) {
            Ok((p, n)) if p.schema == STATE_SCHEMA => Ok((p, n, sealed)),
            _ => Err(sealed.into_text().into_bytes()),
        }
    }

    /// Moves an existing (possibly unreadable) state file aside to
    /// `<name>.broken-<UTC timestamp>` and returns that path; the next load
    /// starts fresh. `Ok(None)` if there was no file.
    pub fn reset(&self, at: Timestamp) -> Result<Option<PathBuf>, StoreError> {
        let _lock = self.lock()?;
        match fs::symlink_metadata(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(&self.path, &e)),
            Ok(m) if m.file_type().is_symlink() => return Err(symlink_refused(&self.path)),
            Ok(m) if !m.is_file() => {
                return Err(StoreError::unsafe_path(&self.path, "is not a regular file; cutover leaves it alone"));
            }
            Ok(_) => {}
        }
        let base = format!("{}.broken-{}", self.file_name(), at.strftime("%Y%m%dT%H%M%SZ"));
        let dir = self.dir();
        let mut target = dir.join(&base);
        let mut n = 1;
        while fs::symlink_metadata(&target).is_ok() {
            n += 1;
            target = dir.join(format!("{base}-{n}"));
        }
        fs::rename(&self.path, &target).map_err(|e| StoreError::io(&self.path, &e))?;
        sync_dir(&dir)?;
        Ok(Some(target))
    }

    /// Takes the exclusive lock on the lock file, creating the directory and
    /// the lock file if needed. Released when the returned file is dropped.
    fn lock(&self) -> Result<File, StoreError> {
        let dir = self.dir();
        ensure_dir(&dir)?;
        let lock_path = self.lock_path();
        regular_meta(&self.path)?;
        let file = open_or_create(&lock_path, OpenMode::Read)?;
        let started = Instant::now();
        let wait = lock_wait();
        let deadline = started + wait;
        let mut pause = Duration::from_millis(1);
        let mut told = 0u64;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) => {
                    let waited = started.elapsed().as_secs();
                    if waited >= 1
                        && waited > told
                        && let Some(notice) = &self.wait_notice
                    {
                        told = waited;
                        let who = lock_holder(&file).map(|h| format!(", held by {h}")).unwrap_or_default();
                        (notice.0)(&format!(
                            "waiting for the state lock{who} for {waited} s (gives up after {} s)",
                            wait.as_secs()
                        ));
                    }
                    if Instant::now() >= deadline {
                        return Err(StoreError::io_msg(
                            &lock_path,
                            format!("another cutover has held the lock for over {}s; is one stuck?", wait.as_secs()),
                        ));
                    }
                    std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(StoreError::io(&lock_path, &e)),
            }
        }
    }

    /// Deletes temp files a killed writer left behind. Called under the lock,
    /// when no other writer can be between creating and renaming one.
    fn remove_stale_temps(&self) {
        // The state's own temps (`.state.toml.…tmp`) and those of the files
        // beside it that share its stem (`.state.notes.toml.…tmp`).
        let stem = self.path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = if stem.is_empty() { temp_prefix(&self.file_name()) } else { format!(".{stem}.") };
        let Ok(entries) = fs::read_dir(self.dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".tmp") && entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn temp_prefix(name: &str) -> String {
    format!(".{name}.")
}

pub(crate) fn symlink_refused(path: &Path) -> StoreError {
    files::symlink_refused(path).into()
}

/// The metadata of `path` if it is a regular file, None if missing, an
/// error if it is a symlink or anything else.
pub(crate) fn regular_meta(path: &Path) -> Result<Option<Metadata>, StoreError> {
    Ok(files::regular_meta(path)?)
}

/// Who holds the lock on `file`: the process Linux's /proc/locks names for
/// its inode, with its user ("bob (pid 4242)"). None where that is not
/// known.
fn lock_holder(file: &File) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let ino = file.metadata().ok()?.ino();
    let locks = fs::read_to_string("/proc/locks").ok()?;
    let pid: u32 = locks.lines().find_map(|l| {
        // "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF"
        let f: Vec<&str> = l.split_whitespace().collect();
        let (pid, dev_ino) = (f.get(4)?, f.get(5)?);
        (dev_ino.rsplit(':').next()?.parse::<u64>().ok()? == ino).then(|| pid.parse().ok()).flatten()
    })?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid: u32 = status.lines().find_map(|l| l.strip_prefix("Uid:")?.split_whitespace().next()?.parse().ok())?;
    let name = crate::files::perm::user_name(uid);
    Some(format!("{} (pid {pid})", crate::sanitize::line(&name)))
}

/// A state file whose mode bits do not let this user write it (0444, say)
/// is never replaced, whatever the file system would allow: as root, or by
/// renaming a new file over it, a replace would succeed. Judged by the bits
/// of the class the user is in (owner, group, others).
fn refuse_read_only(path: &Path, meta: &Metadata) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    // Every group of this process counts (a shared group is usually a
    // supplementary one), as the kernel counts them.
    let (uid, groups) = crate::files::perm::me();
    let mode = meta.mode();
    let (bit, who) = if meta.uid() == uid || uid == 0 {
        (0o200, "u")
    } else if groups.contains(&meta.gid()) {
        (0o020, "g")
    } else {
        (0o002, "o")
    };
    if mode & bit != 0 {
        return Ok(());
    }
    Err(StoreError::unsafe_path(
        path,
        format!(
            "is read-only for you (mode {:04o}): cutover never replaces a state file its mode does not let you write; nothing was saved. To allow changes: chmod {who}+w {}",
            mode & 0o7777,
            shown(path)
        ),
    ))
}

/// Reads a regular file (not through a symlink). None if it is missing.
pub(crate) fn read_regular(path: &Path, max: u64) -> Result<Option<(Vec<u8>, Metadata)>, StoreError> {
    Ok(files::read_regular(path, max)?)
}

pub(crate) use files::OpenMode;

/// Opens (never through a symlink) or creates a file beside the state; a
/// new one gets the directory's mode and group (see [`crate::files`]).
pub(crate) fn open_or_create(path: &Path, how: OpenMode) -> Result<File, StoreError> {
    Ok(files::open_or_create(path, how)?)
}

/// Creates `dir` and its parents if missing (modes: see [`crate::files`]).
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    Ok(files::ensure_dir(dir)?)
}

/// Fsyncs a directory, so that a rename in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    Ok(files::sync_dir(dir)?)
}
