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

use super::Op;
use super::model::{CheckRecord, Event, GuideProgress, Progress, STATE_SCHEMA, STATE_SCHEMA_OLDEST};
use crate::files;
use crate::guide::parse::line_col;
use crate::sanitize;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The first line of every state file.
pub const HEADER: &str =
    "# cutover progress state: written by cutover, format documented in docs/json.md and the README.\n";
const ARCHIVE_HEADER: &str = "# cutover event archive: events moved out of the state file, oldest first. Appended by cutover, never rewritten.\n";
/// What an observer sees before anyone saved progress.
pub const NOTHING_SAVED_YET: &str = "no progress saved yet: steps appear as soon as someone saves one";
/// A state file larger than this is refused rather than read into memory.
const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;
/// How much of the archive's end is read to find where it stops.
const ARCHIVE_TAIL_BYTES: u64 = 64 * 1024;
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The file is not a state file this build can read.
    Parse { file: String, line: usize, col: usize, message: String },
    /// The file was written by a newer cutover.
    NewerSchema { file: String, line: usize, col: usize, found: u32, supported: u32 },
    /// The file system said no.
    Io { file: String, message: String },
    /// Something is where cutover did not expect it (a symlink, a directory).
    Unsafe { file: String, message: String },
}

impl StoreError {
    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            StoreError::Parse { file, .. }
            | StoreError::NewerSchema { file, .. }
            | StoreError::Io { file, .. }
            | StoreError::Unsafe { file, .. } => file,
        }
    }

    pub(crate) fn io(path: &Path, e: &io::Error) -> StoreError {
        files::FileError::io(path, e).into()
    }

    /// True for a permission problem (its message says whose the file is
    /// and how to fix it; `--reset-state` is not the fix).
    pub fn is_denied(&self) -> bool {
        matches!(self, StoreError::Io { message, .. } if message.starts_with("permission denied"))
    }

    pub(crate) fn io_msg(path: &Path, message: impl Into<String>) -> StoreError {
        StoreError::Io { file: shown(path), message: message.into() }
    }

    pub(crate) fn unsafe_path(path: &Path, message: impl Into<String>) -> StoreError {
        StoreError::Unsafe { file: shown(path), message: message.into() }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Parse { file, line, col, message } => write!(f, "{file}:{line}:{col}: {message}"),
            StoreError::NewerSchema { file, line, col, found, supported } => write!(
                f,
                "{file}:{line}:{col}: written by a newer cutover (state schema {found}; this build reads schema {supported} and older). Update cutover to open it; the file was left unchanged."
            ),
            StoreError::Io { file, message } => write!(f, "{file}: {message}"),
            StoreError::Unsafe { file, message } => write!(f, "{file}: {message}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<files::FileError> for StoreError {
    fn from(e: files::FileError) -> StoreError {
        match e {
            files::FileError::Io { file, message, .. } => StoreError::Io { file, message },
            files::FileError::Unsafe { file, message } => StoreError::Unsafe { file, message },
        }
    }
}

/// A path as it may be shown on a terminal.
pub(crate) fn shown(path: &Path) -> String {
    sanitize::line(&path.display().to_string())
}

/// The state file as written. `events_archived` is the number of events
/// moved to the archive so far: the sequence number of `events[0]`.
#[derive(Serialize)]
struct DiskOut<'a> {
    schema: u32,
    #[serde(skip_serializing_if = "is_zero")]
    events_archived: u64,
    guides: &'a BTreeMap<String, GuideProgress>,
    #[serde(skip_serializing_if = "<[Event]>::is_empty")]
    events: &'a [Event],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiskIn {
    schema: u32,
    #[serde(default)]
    events_archived: u64,
    #[serde(default)]
    guides: BTreeMap<String, GuideProgress>,
    #[serde(default)]
    events: Vec<Event>,
}

/// Only the schema, read leniently, to refuse a newer file with the right
/// message even when its other fields are unknown here.
#[derive(Deserialize)]
struct SchemaProbe {
    schema: Option<toml::Spanned<i64>>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Serializes progress as the state file's text.
pub fn to_toml(p: &Progress) -> Result<String, StoreError> {
    to_toml_with(p, 0, "state")
}

fn to_toml_with(p: &Progress, events_archived: u64, file: &str) -> Result<String, StoreError> {
    let out = DiskOut { schema: p.schema, events_archived, guides: &p.guides, events: &p.events };
    let body = toml::to_string_pretty(&out)
        .map_err(|e| StoreError::Io { file: file.to_string(), message: format!("cannot write state as TOML: {e}") })?;
    Ok(format!("{HEADER}{body}"))
}

/// Parses a state file's text. `file` names it in errors.
pub fn from_toml(src: &str, file: &str) -> Result<Progress, StoreError> {
    parse_disk(src, file).map(|(p, _)| p)
}

fn parse_error(src: &str, file: &str, offset: usize, message: impl AsRef<str>) -> StoreError {
    let (line, col) = line_col(src, offset);
    StoreError::Parse { file: file.to_string(), line, col, message: sanitize::line(message.as_ref().trim()) }
}

fn parse_disk(src: &str, file: &str) -> Result<(Progress, u64), StoreError> {
    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
    if body.trim().is_empty() {
        return Ok((Progress::default(), 0));
    }
    match toml::from_str::<DiskIn>(body) {
        Ok(d) => {
            if !(STATE_SCHEMA_OLDEST..=STATE_SCHEMA).contains(&d.schema) {
                return Err(schema_error(body, file).unwrap_or_else(|| {
                    parse_error(body, file, 0, format!("state schema {} is not supported", d.schema))
                }));
            }
            let mut p = Progress { schema: d.schema, guides: d.guides, events: d.events };
            for r in p.guides.values_mut().flat_map(|g| g.steps.values_mut()).flat_map(|s| s.checks.iter_mut()) {
                r.normalize_proof();
            }
            Ok((p, d.events_archived))
        }
        Err(e) => {
            if let Some(err) = schema_error(body, file) {
                return Err(err);
            }
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            Err(parse_error(body, file, offset, e.message()))
        }
    }
}

/// The error for a schema other than this build's, if the file's schema
/// can be read at all.
fn schema_error(src: &str, file: &str) -> Option<StoreError> {
    let probe: SchemaProbe = toml::from_str(src).ok()?;
    let schema = probe.schema?;
    let found = *schema.get_ref();
    if (i64::from(STATE_SCHEMA_OLDEST)..=i64::from(STATE_SCHEMA)).contains(&found) {
        return None;
    }
    if found > i64::from(STATE_SCHEMA)
        && let Ok(found) = u32::try_from(found)
    {
        let (line, col) = line_col(src, schema.span().start);
        return Some(StoreError::NewerSchema { file: file.to_string(), line, col, found, supported: STATE_SCHEMA });
    }
    Some(parse_error(
        src,
        file,
        schema.span().start,
        format!("state schema {found} is not supported (this build reads schema {STATE_SCHEMA})"),
    ))
}

/// Decodes the bytes of a state file.
fn decode(bytes: &[u8], file: &str) -> Result<(Progress, u64), StoreError> {
    match std::str::from_utf8(bytes) {
        Ok(src) => parse_disk(src, file),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, col) = line_col(valid, valid.len());
            Err(StoreError::Parse {
                file: file.to_string(),
                line,
                col,
                message: format!(
                    "not valid UTF-8 (byte {}): this is not a state file written by cutover",
                    e.valid_up_to() + 1
                ),
            })
        }
    }
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
    note_redactor: Option<super::notes::Redactor>,
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
    use std::os::unix::fs::MetadataExt;
    let m = fs::symlink_metadata(path).ok()?;
    Some((m.ino(), m.len(), m.modified().ok()))
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
    pub fn with_note_redactor(mut self, redactor: super::notes::Redactor) -> Store {
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
    pub fn load_observed(&self) -> Result<Progress, String> {
        match read_regular(&self.path, MAX_STATE_BYTES) {
            Ok(None) => Err(NOTHING_SAVED_YET.to_string()),
            Ok(Some((bytes, _))) => decode(&bytes, &self.shown()).map(|(p, _)| p).map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot read the state: {e}")),
        }
    }

    /// Under the exclusive lock: re-reads the file, applies every op, moves
    /// events beyond [`EVENTS_KEPT`](super::model::EVENTS_KEPT) to the archive, saves atomically.
    /// Returns the new state and the events made. If the file cannot be
    /// read, nothing is written.
    pub fn apply(&self, ops: &[Op], by: &str, at: Timestamp) -> Result<(Progress, Vec<Event>), StoreError> {
        let _lock = self.lock()?;
        let current = read_regular(&self.path, MAX_STATE_BYTES)?;
        if let Some((_, meta)) = &current
            && !ops.is_empty()
        {
            refuse_read_only(&self.path, meta)?;
        }
        let (mut progress, archived) = match &current {
            None => (Progress::default(), None),
            Some((bytes, _)) => {
                let (p, n) = decode(bytes, &self.shown())?;
                (p, Some(n))
            }
        };
        if ops.is_empty() {
            return Ok((progress, Vec::new()));
        }
        // Every run in full goes to the check archive, fsynced before the
        // state that keeps only its slim latest is renamed in. A schema-1
        // file migrates on this first write: the archive takes every record
        // it held.
        let mut full: Vec<ArchivedCheck> = Vec::new();
        let migrating = progress.schema < STATE_SCHEMA;
        if migrating {
            for (guide, g) in &progress.guides {
                for (step, r) in &g.steps {
                    for rec in &r.checks {
                        full.push(ArchivedCheck { guide: guide.clone(), step: step.clone(), record: rec.clone() });
                    }
                }
            }
        }
        for op in ops {
            if let Op::RecordCheck { guide, step, record } = op {
                let mut rec = (**record).clone();
                rec.normalize_proof();
                full.push(ArchivedCheck { guide: guide.clone(), step: step.clone(), record: rec });
            }
        }
        if !full.is_empty() {
            self.append_checks(&full)?;
        }
        if migrating {
            progress.migrate_to_current();
        }
        // What each changed note said before goes to the note history.
        let mut notes = super::notes::Changes::new(by, at);
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
        let mut events_archived = archived.unwrap_or(0);
        if !overflow.is_empty() {
            events_archived = self.append_archive(archived, &overflow)?;
        }
        self.remove_stale_temps();
        let text = to_toml_with(&progress, events_archived, &self.shown())?;
        write_atomic(&self.path, text.as_bytes(), &temp_prefix(&self.file_name()))?;
        // Still under the lock: no other save can have replaced it yet.
        *self.written.lock().unwrap_or_else(|p| p.into_inner()) = file_stamp(&self.path);
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok((progress, events))
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

    /// The archived events, oldest first (for `cutover log`).
    pub fn archived_events(&self) -> Result<Vec<Event>, StoreError> {
        // The state is read first: see `archived_before`. An unreadable state
        // only means no entry can be recognised as still being in it.
        let state = match read_regular(&self.path, MAX_STATE_BYTES) {
            Ok(Some((bytes, _))) => decode(&bytes, &self.shown()).ok(),
            _ => None,
        };
        self.archived_before(state.as_ref().map(|(p, n)| (p.events.as_slice(), *n)))
    }

    /// Every event, oldest first: the archive, then the state file's. Each
    /// appears once, also when a save died between appending to the archive
    /// and replacing the state.
    pub fn all_events(&self) -> Result<Vec<Event>, StoreError> {
        let (p, n) = match read_regular(&self.path, MAX_STATE_BYTES)? {
            None => (Progress::default(), 0),
            Some((bytes, _)) => decode(&bytes, &self.shown())?,
        };
        let mut out = self.archived_before(Some((&p.events, n)))?;
        out.extend(p.events);
        Ok(out)
    }

    /// The archive's events, leaving out those that are also in `state`
    /// (its events, and the sequence number of the first): a save that died
    /// after appending to the archive leaves them in both until the next
    /// save. The state must have been read before the archive: a save in
    /// between only appends what that state still holds.
    fn archived_before(&self, state: Option<(&[Event], u64)>) -> Result<Vec<Event>, StoreError> {
        let path = self.archive_path();
        let Some((bytes, _)) = read_regular(&path, u64::MAX)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut next: Option<u64> = None;
        for (seq, event) in parse_archive(&bytes, false) {
            // A repeated sequence number is an entry written twice; keep the first.
            if next.is_some_and(|n| seq < n) {
                continue;
            }
            next = Some(seq + 1);
            let in_state = state.is_some_and(|(events, first)| {
                seq.checked_sub(first).and_then(|i| usize::try_from(i).ok()).and_then(|i| events.get(i)) == Some(&event)
            });
            if !in_state {
                out.push(event);
            }
        }
        Ok(out)
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

    /// Appends `overflow` to the archive. `archived` is the state's count of
    /// events already archived (None: no state file). Returns the new count.
    fn append_archive(&self, archived: Option<u64>, overflow: &[Event]) -> Result<u64, StoreError> {
        let path = self.archive_path();
        let mut file = open_or_create(&path, OpenMode::Append)?;
        let first = archived.unwrap_or(0);
        let tail = read_archive_tail(&mut file, first).map_err(|e| StoreError::io(&path, &e))?;
        let k = overflow.len() as u64;
        // Where the new entries go, and how many of `overflow` are already there.
        let (skip, first_seq) = match tail.last_seq {
            None => (0, first),
            Some(last) if last < first => (0, first),
            Some(last) => {
                let upto = last.min(first + k - 1);
                let same = archived.is_some()
                    && (first..=upto).all(|seq| {
                        let i = (seq - first) as usize;
                        tail.entries.iter().find(|(s, _)| *s == seq).is_some_and(|(_, e)| overflow.get(i) == Some(e))
                    });
                if same {
                    // An earlier save appended these and died before the state was renamed.
                    ((upto - first + 1) as usize, first)
                } else {
                    // The archive belongs to an earlier history (a reset or restored state): continue after it.
                    (0, last + 1)
                }
            }
        };
        let mut text = String::new();
        if tail.len == 0 {
            text.push_str(ARCHIVE_HEADER);
        } else if !tail.ends_with_newline {
            text.push('\n');
        }
        for (i, event) in overflow.iter().enumerate().skip(skip) {
            text.push_str(&archive_entry(first_seq + i as u64, event));
        }
        if skip < overflow.len() || tail.len == 0 {
            file.write_all(text.as_bytes()).map_err(|e| StoreError::io(&path, &e))?;
            file.sync_all().map_err(|e| StoreError::io(&path, &e))?;
        }
        Ok(first_seq + k)
    }

    /// Appends full check records to the check archive and fsyncs it.
    fn append_checks(&self, records: &[ArchivedCheck]) -> Result<(), StoreError> {
        let path = self.checks_archive_path();
        let mut file = open_or_create(&path, OpenMode::Append)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut text = String::new();
        if len == 0 {
            text.push_str(CHECKS_HEADER);
        }
        for r in records {
            let block = toml::to_string(&ChecksBlock { check: std::slice::from_ref(r) }).map_err(|e| {
                StoreError::Io { file: shown(&path), message: format!("cannot write a check record as TOML: {e}") }
            })?;
            // A block starts on a line of its own, after a torn one too.
            text.push('\n');
            text.push_str(&block);
        }
        file.write_all(text.as_bytes()).map_err(|e| StoreError::io(&path, &e))?;
        file.sync_all().map_err(|e| StoreError::io(&path, &e))?;
        Ok(())
    }

    /// Every check run in full, oldest first: the check archive, then any
    /// record only the state holds (a schema-1 file not yet migrated).
    /// Duplicates (a save that died after appending and was made again) and
    /// a torn last entry are dropped. Read only for the history and reports.
    pub fn archived_checks(&self) -> Result<Vec<ArchivedCheck>, StoreError> {
        let path = self.checks_archive_path();
        let mut out: Vec<ArchivedCheck> = match read_regular(&path, MAX_CHECKS_ARCHIVE_BYTES)? {
            None => Vec::new(),
            Some((bytes, _)) => parse_checks(&String::from_utf8_lossy(&bytes)),
        };
        if let Ok(p) = self.load() {
            for (guide, g) in &p.guides {
                for (step, r) in &g.steps {
                    for rec in &r.checks {
                        if !out.iter().any(|a| &a.guide == guide && &a.step == step && a.record.same_run(rec)) {
                            out.push(ArchivedCheck { guide: guide.clone(), step: step.clone(), record: rec.clone() });
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// `progress` with each slim latest record replaced by its full copy
    /// from the archive (for reports).
    pub fn with_full_records(&self, mut progress: Progress) -> Progress {
        let Ok(all) = self.archived_checks() else {
            return progress;
        };
        for (guide, g) in progress.guides.iter_mut() {
            for (step, r) in g.steps.iter_mut() {
                for rec in r.checks.iter_mut() {
                    if let Some(a) =
                        all.iter().rev().find(|a| &a.guide == guide && &a.step == step && a.record.same_run(rec))
                    {
                        *rec = a.record.clone();
                    }
                }
            }
        }
        progress
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

/// One check run in the check archive: which guide and step it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchivedCheck {
    pub guide: String,
    pub step: String,
    pub record: CheckRecord,
}

#[derive(Serialize)]
struct ChecksBlock<'a> {
    check: &'a [ArchivedCheck],
}

#[derive(Deserialize)]
struct ChecksBlockIn {
    check: Vec<ArchivedCheck>,
}

const CHECKS_HEADER: &str = "# cutover check archive: every check run in full, oldest first, appended by cutover.\n# The state file keeps only each check's latest verdict; this file keeps the rest.\n";

/// The most of the check archive read.
const MAX_CHECKS_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;

/// The entries of a check archive, each `[[check]]` block parsed on its
/// own so that a torn last block (a writer killed mid-append) costs only
/// itself; duplicates dropped.
fn parse_checks(text: &str) -> Vec<ArchivedCheck> {
    let mut out: Vec<ArchivedCheck> = Vec::new();
    let mut blocks: Vec<String> = Vec::new();
    for line in text.lines() {
        if line == "[[check]]" {
            blocks.push(String::new());
        }
        if let Some(b) = blocks.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    for b in blocks {
        let Ok(parsed) = toml::from_str::<ChecksBlockIn>(&b) else { continue };
        for a in parsed.check {
            if !out
                .iter()
                .rev()
                .take(64)
                .any(|o| o.guide == a.guide && o.step == a.step && o.record.same_run(&a.record))
            {
                out.push(a);
            }
        }
    }
    out
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

/// Replaces `path` with `bytes` atomically (see [`files::write_atomic`]):
/// the old file's mode and group are kept, a new one follows its directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], prefix: &str) -> Result<(), StoreError> {
    Ok(files::write_atomic(path, bytes, prefix)?)
}

/// One archive entry: `[[events]]` with every string on one line. A string
/// comes last: any part of an entry cut short by a crash is either missing
/// a field or ends in an unterminated string, so it is never read as a
/// complete entry (a number last could be cut to a shorter number).
fn archive_entry(seq: u64, e: &Event) -> String {
    format!(
        "\n[[events]]\nseq = {seq}\nat = {}\nby = {}\nguide = {}\nstep = {}\nwhat = {}\ndetail = {}\n",
        quote(&e.at.to_string()),
        quote(&e.by),
        quote(&e.guide),
        quote(&e.step),
        quote(&e.what),
        quote(&e.detail)
    )
}

/// A TOML basic string on one line (also the note history's).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchivedEvent {
    at: Timestamp,
    by: String,
    guide: String,
    step: String,
    what: String,
    detail: String,
    seq: u64,
}

const ENTRY_HEADER: &[u8] = b"[[events]]\n";

/// The complete entries in archive bytes, in file order. An entry torn by
/// a crash (or damaged by hand) is skipped: it was never part of a saved
/// state, and the save that follows writes it again. With `partial_start`,
/// the bytes start in the middle of the file and everything before the
/// first entry header is ignored.
fn parse_archive(bytes: &[u8], partial_start: bool) -> Vec<(u64, Event)> {
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(pos) = find(&bytes[i..], ENTRY_HEADER) {
        let at = i + pos;
        if at == 0 && !partial_start || at > 0 && bytes[at - 1] == b'\n' {
            starts.push(at + ENTRY_HEADER.len());
        }
        i = at + ENTRY_HEADER.len();
    }
    let mut out = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map(|&s| s - ENTRY_HEADER.len()).unwrap_or(bytes.len());
        let chunk = &bytes[start..end];
        let Ok(text) = std::str::from_utf8(chunk) else {
            tracing::warn!("skipping an archive entry that is not UTF-8");
            continue;
        };
        // An entry ends at its first blank line: what follows it there is a
        // fragment of a torn header, not part of the entry.
        let text = match text.find("\n\n") {
            Some(blank) => &text[..blank + 1],
            None => text,
        };
        match toml::from_str::<ArchivedEvent>(text) {
            Ok(a) => out.push((
                a.seq,
                Event { at: a.at, by: a.by, guide: a.guide, step: a.step, what: a.what, detail: a.detail },
            )),
            Err(e) => {
                tracing::warn!(error = %sanitize::line(e.message()), "skipping an unreadable archive entry")
            }
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

struct ArchiveTail {
    len: u64,
    ends_with_newline: bool,
    last_seq: Option<u64>,
    entries: Vec<(u64, Event)>,
}

/// Reads the end of the archive: enough to see its last entries from
/// sequence number `from` on (the whole file if need be).
fn read_archive_tail(file: &mut File, from: u64) -> io::Result<ArchiveTail> {
    let len = file.metadata()?.len();
    let mut start = len.saturating_sub(ARCHIVE_TAIL_BYTES);
    loop {
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        Read::by_ref(file).take(len - start).read_to_end(&mut bytes)?;
        let entries = parse_archive(&bytes, start > 0);
        let enough = start == 0
            || entries.first().is_some_and(|(s, _)| *s <= from)
            || entries.last().is_some_and(|(s, _)| *s < from);
        if enough {
            let last_seq = entries.iter().map(|(s, _)| *s).max();
            let ends_with_newline = bytes.last().is_none_or(|b| *b == b'\n');
            return Ok(ArchiveTail { len, ends_with_newline, last_seq, entries });
        }
        start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::model::Status;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn ev(i: u64, detail: &str) -> Event {
        Event {
            at: t(i as i64),
            by: format!("u{i}"),
            guide: "g".into(),
            step: "s".into(),
            what: "note".into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn quote_round_trips_through_toml() {
        for s in [
            "plain",
            "with \"quotes\" and \\back",
            "new\nline\r\n",
            "tab\there",
            "\u{1b}[31mred\u{7f}",
            "ünïcødé ✓",
            "",
        ] {
            let text = format!("v = {}\n", quote(s));
            assert!(!text.trim_end().contains('\n'), "{text}");
            let table: toml::Table = toml::from_str(&text).unwrap_or_default();
            assert_eq!(table.get("v").and_then(|v| v.as_str()), Some(s));
        }
    }

    #[test]
    fn archive_entries_parse_and_torn_tail_is_skipped() {
        let mut bytes = ARCHIVE_HEADER.as_bytes().to_vec();
        for i in 0..3 {
            bytes.extend_from_slice(archive_entry(i, &ev(i, "line\n[[events]]\nseq = 99")).as_bytes());
        }
        let full = parse_archive(&bytes, false);
        assert_eq!(full.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(full[1].1, ev(1, "line\n[[events]]\nseq = 99"));
        // Every truncation of the last entry yields exactly the two before it,
        // or all three once the entry is complete.
        let whole = bytes.len();
        let last_start = whole - archive_entry(2, &ev(2, "line\n[[events]]\nseq = 99")).len();
        for cut in last_start..whole {
            let torn = &bytes[..cut];
            let got = parse_archive(torn, false);
            // Only the final newline missing: the entry is complete.
            assert_eq!(got.len(), if cut == whole - 1 { 3 } else { 2 }, "cut at {cut}");
            // The next append starts on a new line, after the torn entry.
            let mut resumed = torn.to_vec();
            if !resumed.ends_with(b"\n") {
                resumed.push(b'\n');
            }
            resumed.extend_from_slice(archive_entry(2, &ev(2, "again \"quoted\"")).as_bytes());
            let got = parse_archive(&resumed, false);
            if cut < whole - 1 {
                assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![0, 1, 2], "cut at {cut}");
                assert_eq!(got[2].1, ev(2, "again \"quoted\""), "cut at {cut}");
            }
        }
    }

    #[test]
    fn tail_window_finds_the_last_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        let mut text = ARCHIVE_HEADER.to_string();
        let long = "x".repeat(500);
        for i in 0..400 {
            text.push_str(&archive_entry(i, &ev(i, &long)));
        }
        fs::write(&path, &text).unwrap();
        let mut f = File::open(&path).unwrap();
        let tail = read_archive_tail(&mut f, 395).unwrap();
        assert_eq!(tail.last_seq, Some(399));
        assert!(tail.entries.len() < 400, "read only the end");
        let whole = read_archive_tail(&mut f, 3).unwrap();
        assert_eq!(whole.entries.len(), 400);
    }

    #[test]
    fn schema_zero_is_located() {
        let src = "# c\nschema = 0\n";
        match from_toml(src, "s.toml") {
            Err(StoreError::Parse { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn newer_schema_with_unknown_fields_is_newer_schema() {
        let src = "schema = 7\nfuture = true\n";
        assert!(matches!(
            from_toml(src, "s.toml"),
            Err(StoreError::NewerSchema { found: 7, supported: STATE_SCHEMA, .. })
        ));
        let src = "schema = 3\n";
        let err = from_toml(src, "s.toml").unwrap_err();
        assert!(err.to_string().contains("update cutover") || err.to_string().contains("Update cutover"), "{err}");
    }

    #[test]
    fn whitespace_only_is_empty_state() {
        assert_eq!(from_toml("", "s").unwrap(), Progress::default());
        assert_eq!(from_toml(" \n\t\n", "s").unwrap(), Progress::default());
        assert!(from_toml("# only a comment\n", "s").is_err());
    }

    #[test]
    fn to_toml_shows_step_tables() {
        let mut p = Progress::default();
        p.apply(
            &Op::SetStatus { guide: "postnl".into(), step: "sandbox-api-key".into(), status: Status::Done, hash: None },
            "a",
            t(0),
        );
        let text = to_toml(&p).unwrap();
        assert!(text.starts_with(HEADER));
        assert!(text.contains("[guides.postnl.steps.sandbox-api-key]"), "{text}");
    }
}
