//! Note history: what a note said before each change, kept out of the state
//! file (so the state does not grow with it) in `<stem>.notes.toml` beside
//! it. Written only by [`super::Store::apply`], under the state lock,
//! before the new state is saved: a change is never saved without its
//! earlier text kept.
//!
//! - One `[[notes]]` entry per change: when, by whom, which step, and the
//!   text the note had before (`before`), redacted with the key guard, at
//!   most [`MAX_TEXT_BYTES`]. Every string is on one line and `before` comes
//!   last, so an entry cut short by a crash never reads as complete.
//! - Appended to; capped: when a note has more than twice
//!   [`KEPT_PER_NOTE`] entries or the file passes [`MAX_FILE_BYTES`], the
//!   file is rewritten atomically with the newest [`KEPT_PER_NOTE`] entries
//!   of each note (and the oldest dropped until it fits in half of it).
//! - Written with [`crate::files`]: modes and group follow the directory,
//!   links are refused, a rewrite keeps the file's mode and group.

use super::events::quote;
use super::format::StoreError;
use crate::files;
use crate::progress::Op;
use crate::progress::model::Progress;
use jiff::Timestamp;
use serde::Deserialize;
use std::fmt;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HEADER: &str = "# cutover note history: the text each note had before a change, oldest first. Written by cutover under the state lock, capped; docs/json.md.\n";
/// Entries kept per note once the file is compacted (it holds up to twice
/// as many between compactions).
pub const KEPT_PER_NOTE: usize = 20;
/// The longest earlier text kept for one change; longer ones are cut.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// The file is compacted when it grows past this.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// A history larger than this is not read into memory.
const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;
const ENTRY_HEADER: &str = "[[notes]]";
const CUT: &str = "… (cut)";

/// Masks every key the guard knows in a text; Err(why) when the guard
/// cannot know every key (nothing is kept then, and the save fails closed).
#[derive(Clone)]
pub struct Redactor(pub Arc<RedactFn>);

/// Text in, the text with every key masked out (or why that cannot be done).
pub type RedactFn = dyn Fn(&str) -> Result<String, GuardBroken> + Send + Sync;

/// The key guard cannot know every key (a secrets file it cannot read, say):
/// its own reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GuardBroken(pub String);

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor")
    }
}

/// One change of a note: who changed it when, and what it said before.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteChange {
    pub at: Timestamp,
    pub by: String,
    pub guide: String,
    pub step: String,
    /// The note's text before the change (redacted, at most
    /// [`MAX_TEXT_BYTES`]).
    pub before: String,
}

/// `<stem>.notes.toml` beside the state file.
pub fn path_for(state: &Path) -> PathBuf {
    let stem = state.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".to_string());
    let name = format!("{stem}.notes.toml");
    match state.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(name),
        _ => PathBuf::from(name),
    }
}

/// The note changes made while a batch of ops is applied: call
/// [`Changes::before`] and [`Changes::after`] around each op, then
/// [`Changes::record`].
#[derive(Debug)]
pub struct Changes {
    by: String,
    at: Timestamp,
    pending: Option<String>,
    made: Vec<NoteChange>,
}

impl Changes {
    pub fn new(by: &str, at: Timestamp) -> Changes {
        Changes { by: by.to_string(), at, pending: None, made: Vec::new() }
    }

    /// Remembers the note an op is about to change.
    pub fn before(&mut self, progress: &Progress, op: &Op) {
        self.pending = match op {
            Op::SetNote { guide, step, .. } => {
                Some(progress.step(guide, step).map(|r| r.note.clone()).unwrap_or_default())
            }
            _ => None,
        };
    }

    /// Keeps the remembered text if the op changed the note.
    pub fn after(&mut self, progress: &Progress, op: &Op) {
        let (Some(before), Op::SetNote { guide, step, .. }) = (self.pending.take(), op) else {
            return;
        };
        if progress.step(guide, step).map(|r| r.note.as_str()).unwrap_or_default() != before {
            self.made.push(NoteChange {
                at: self.at,
                by: self.by.clone(),
                guide: guide.clone(),
                step: step.clone(),
                before,
            });
        }
    }

    /// Writes the changes to the history beside `state`: redacted with
    /// `redactor` (without one, as the state file held them), cut to
    /// [`MAX_TEXT_BYTES`], then appended, or the file compacted when it
    /// passes its caps. Nothing to write: nothing is touched.
    pub fn record(self, state: &Path, redactor: Option<&Redactor>) -> Result<(), StoreError> {
        if self.made.is_empty() {
            return Ok(());
        }
        let path = path_for(state);
        remove_stale_temps(&path);
        let mut made = self.made;
        for c in &mut made {
            if let Some(r) = redactor {
                c.before = (r.0)(&c.before).map_err(|why| {
                    StoreError::io_msg(
                        &path,
                        format!(
                            "nothing was saved: the note's earlier text cannot be kept, cutover cannot tell whether it holds a key ({why})"
                        ),
                    )
                })?;
            }
            c.before = cut(&c.before);
        }
        let existing = files::read_regular(&path, MAX_READ_BYTES)?.map(|(b, _)| b).unwrap_or_default();
        let mut all = parse(&existing);
        all.extend(made.iter().cloned());
        // Compacted at twice the cap, so that a busy note rewrites the file
        // once every KEPT_PER_NOTE changes, not on each.
        let over_per_note = made
            .iter()
            .any(|m| all.iter().filter(|e| e.guide == m.guide && e.step == m.step).count() > 2 * KEPT_PER_NOTE);
        let appended: String = made.iter().map(entry).collect();
        if over_per_note || existing.len() + appended.len() > MAX_FILE_BYTES {
            let text = compacted(all);
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Ok(files::write_atomic(&path, text.as_bytes(), &format!(".{name}."))?);
        }
        let mut file = files::open_or_create(&path, files::OpenMode::Append)?;
        let mut text = String::new();
        let len = file.metadata().map_err(|e| StoreError::io(&path, &e))?.len();
        if len == 0 {
            text.push_str(HEADER);
        } else if !ends_with_newline(&mut file, len) {
            // A torn last entry: the next one starts on a line of its own.
            text.push('\n');
        }
        text.push_str(&appended);
        file.write_all(text.as_bytes()).map_err(|e| StoreError::io(&path, &e))?;
        file.sync_all().map_err(|e| StoreError::io(&path, &e))?;
        Ok(())
    }
}

/// Deletes the temp files of a compaction a killed writer left behind
/// (`.<name>.….tmp`). Called under the state lock.
fn remove_stale_temps(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let prefix = format!(".{name}.");
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    for entry in entries.flatten() {
        let n = entry.file_name();
        let n = n.to_string_lossy();
        if n.starts_with(&prefix) && n.ends_with(".tmp") && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn ends_with_newline(file: &mut std::fs::File, len: u64) -> bool {
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1)).is_ok() && file.read_exact(&mut last).is_ok() && last[0] == b'\n'
}

/// The history beside `state`, oldest first (empty if there is none).
pub fn read(state: &Path) -> Result<Vec<NoteChange>, StoreError> {
    let path = path_for(state);
    Ok(files::read_regular(&path, MAX_READ_BYTES)?.map(|(b, _)| parse(&b)).unwrap_or_default())
}

/// What the note said before the change `event` records (a "note" event),
/// if the history still has it. `history` is in file order; the first
/// entry not yet `used` for the same time, person and step is the one.
pub fn before_of<'a>(
    history: &'a [NoteChange],
    used: &mut Vec<usize>,
    event: &crate::progress::model::Event,
) -> Option<&'a str> {
    if event.what != "note" {
        return None;
    }
    let (i, c) = history.iter().enumerate().find(|(i, c)| {
        !used.contains(i) && c.at == event.at && c.by == event.by && c.guide == event.guide && c.step == event.step
    })?;
    used.push(i);
    Some(&c.before)
}

/// `text` cut to [`MAX_TEXT_BYTES`] at a character boundary, marked.
fn cut(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_string();
    }
    let mut end = MAX_TEXT_BYTES - CUT.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT}", &text[..end])
}

/// The newest [`KEPT_PER_NOTE`] entries of each note, oldest entries
/// dropped until the file fits in half of [`MAX_FILE_BYTES`].
fn compacted(all: Vec<NoteChange>) -> String {
    let mut keep = vec![false; all.len()];
    let mut counts: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for (i, c) in all.iter().enumerate().rev() {
        let n = counts.entry((c.guide.as_str(), c.step.as_str())).or_default();
        if *n < KEPT_PER_NOTE {
            *n += 1;
            keep[i] = true;
        }
    }
    let mut entries: Vec<String> = all.iter().zip(keep).filter(|(_, k)| *k).map(|(c, _)| entry(c)).collect();
    let mut size: usize = HEADER.len() + entries.iter().map(String::len).sum::<usize>();
    let mut drop = 0;
    while size > MAX_FILE_BYTES / 2 && drop + 1 < entries.len() {
        size -= entries[drop].len();
        drop += 1;
    }
    entries.drain(..drop);
    format!("{HEADER}{}", entries.concat())
}

fn entry(c: &NoteChange) -> String {
    format!(
        "\n{ENTRY_HEADER}\nat = {}\nby = {}\nguide = {}\nstep = {}\nbefore = {}\n",
        quote(&c.at.to_string()),
        quote(&c.by),
        quote(&c.guide),
        quote(&c.step),
        quote(&c.before)
    )
}

/// The complete entries, in file order; a torn or damaged one is skipped
/// (every value is on one line, so a line `[[notes]]` only ever starts an
/// entry, and an entry holds no blank line).
fn parse(bytes: &[u8]) -> Vec<NoteChange> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut chunk: Option<String> = None;
    let mut finish = |chunk: Option<String>| {
        if let Some(c) = chunk {
            match toml::from_str::<NoteChange>(&c) {
                Ok(e) => out.push(e),
                Err(e) => {
                    tracing::warn!(error = %crate::sanitize::line(e.message()), "skipping an unreadable note history entry")
                }
            }
        }
    };
    for line in text.split('\n') {
        if line == ENTRY_HEADER {
            finish(chunk.take());
            chunk = Some(String::new());
        } else if line.is_empty() {
            // An entry ends at its first blank line: what follows before the
            // next header is a fragment of a torn header.
            finish(chunk.take());
        } else if let Some(c) = chunk.as_mut() {
            c.push_str(line);
            c.push('\n');
        }
    }
    finish(chunk);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn change(i: i64, step: &str, before: &str) -> NoteChange {
        NoteChange { at: t(i), by: "alice".into(), guide: "g".into(), step: step.into(), before: before.into() }
    }

    #[test]
    fn entries_round_trip_and_a_torn_one_is_skipped() {
        let odd = "line\n[[notes]]\nbefore = \"x\" \u{1b}[31m ✓";
        let mut text = HEADER.to_string();
        text.push_str(&entry(&change(1, "a", odd)));
        text.push_str(&entry(&change(2, "b", "two")));
        assert_eq!(parse(text.as_bytes()), vec![change(1, "a", odd), change(2, "b", "two")]);
        let whole = text.len();
        for cut in whole - entry(&change(2, "b", "two")).len()..whole - 1 {
            let got = parse(&text.as_bytes()[..cut]);
            assert_eq!(got, vec![change(1, "a", odd)], "cut at {cut}");
        }
    }

    #[test]
    fn compaction_keeps_the_newest_of_each_note() {
        let mut all: Vec<NoteChange> = (0..30).map(|i| change(i, "a", &format!("a{i}"))).collect();
        all.push(change(40, "b", "b"));
        let kept = parse(compacted(all).as_bytes());
        assert_eq!(kept.iter().filter(|c| c.step == "a").count(), KEPT_PER_NOTE);
        assert_eq!(kept.first().map(|c| c.before.as_str()), Some("a10"));
        assert_eq!(kept.last().map(|c| c.before.as_str()), Some("b"));
        let big: Vec<NoteChange> = (0..200).map(|i| change(i, &format!("s{i}"), &"x".repeat(10_000))).collect();
        let text = compacted(big);
        assert!(text.len() <= MAX_FILE_BYTES / 2, "{}", text.len());
        assert_eq!(parse(text.as_bytes()).last().map(|c| c.step.as_str()), Some("s199"));
    }

    fn note(text: &str) -> Op {
        Op::SetNote { guide: "g".into(), step: "s".into(), note: text.into(), base: None }
    }

    #[test]
    fn the_store_keeps_each_earlier_text_redacted_beside_the_state() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("acme.toml");
        let redactor = Redactor(Arc::new(|t: &str| Ok(t.replace("SECRETKEY123456", "SECR…"))));
        let store = crate::progress::store::Store::new(&state).with_note_redactor(redactor);
        store.apply(&[note("first, key SECRETKEY123456")], "alice", t(1)).unwrap();
        store.apply(&[note("second")], "bob", t(2)).unwrap();
        // Not a change: nothing kept.
        store.apply(&[note("second")], "bob", t(3)).unwrap();
        let history = read(&state).unwrap();
        assert_eq!(
            history.iter().map(|c| (c.by.as_str(), c.before.as_str())).collect::<Vec<_>>(),
            [("alice", ""), ("bob", "first, key SECR…")]
        );
        assert_eq!(path_for(&state), dir.path().join("acme.notes.toml"));
        let mode = std::fs::metadata(path_for(&state)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a private directory: a private file");
        let text = std::fs::read_to_string(&state).unwrap();
        assert!(!text.contains("first"), "the earlier text stays out of the state:\n{text}");
        // A guard that cannot know every key: nothing is saved.
        let broken = Redactor(Arc::new(|_: &str| Err(GuardBroken("secrets.toml unreadable".to_string()))));
        let store = crate::progress::store::Store::new(&state).with_note_redactor(broken);
        let err = store.apply(&[note("third")], "alice", t(4)).unwrap_err();
        assert!(err.to_string().contains("secrets.toml unreadable"), "{err}");
        assert!(!std::fs::read_to_string(&state).unwrap().contains("third"));
        // Each note keeps at most its newest entries.
        let store = crate::progress::store::Store::new(&state);
        for i in 0..(2 * KEPT_PER_NOTE + 5) {
            store.apply(&[note(&format!("v{i}"))], "alice", t(10 + i as i64)).unwrap();
            assert!(read(&state).unwrap().len() <= 2 * KEPT_PER_NOTE);
        }
        let kept = read(&state).unwrap();
        assert!(kept.len() >= KEPT_PER_NOTE, "{}", kept.len());
        assert_eq!(kept.last().map(|c| c.before.as_str()), Some(format!("v{}", 2 * KEPT_PER_NOTE + 3).as_str()));
        // A temp file of a compaction that was killed goes with the next change.
        let stale = dir.path().join(".acme.notes.toml.abc.tmp");
        std::fs::write(&stale, "x").unwrap();
        store.apply(&[note("again")], "alice", t(100)).unwrap();
        assert!(!stale.exists());
    }

    #[test]
    fn long_text_is_cut_on_a_character() {
        let long = "é".repeat(MAX_TEXT_BYTES);
        let c = cut(&long);
        assert!(c.len() <= MAX_TEXT_BYTES && c.ends_with(CUT));
        assert_eq!(cut("short"), "short");
    }
}
