//! Evidence: text files a person attaches to a step (a request and response
//! of their own integration, an email from the carrier), kept beside the
//! state file so that the hand-off report can show them.
//!
//! Layout: `<state stem>.evidence/<guide>/<id>.txt` holds the redacted,
//! sanitized text; `<id>.toml` beside it says which step it belongs to, its
//! original name, and who attached it when. Files and folders follow the
//! state directory's mode and group (0600/0700, or 0660/2770 in a shared
//! setgid directory; see [`crate::files`]). Nothing in that directory is
//! followed if it is a symbolic link, and an existing file is never
//! overwritten.

use crate::files::FileError;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most text kept of one attachment; the rest is cut and the
/// attachment marked `truncated`.
pub const MAX_BYTES: usize = 256 * 1024;
/// Read this much beyond [`MAX_BYTES`], so that redaction sees whole keys
/// near the cut and escape sequences can shrink the text without losing any.
const READ_SLACK: usize = 64 * 1024;
/// Dropped from the end of a read that did not reach the end of the file: a
/// key cut in half by the read is not recognised by redaction, so the tail
/// where such a fragment can be goes. Far longer than any API key.
const TAIL_GUARD: usize = 1024;
/// Longest stored id (from the step and the original name).
const MAX_ID: usize = 80;
/// Most attachments with the same id before `add` gives up.
const MAX_SUFFIX: u32 = 10_000;

/// Why a file was not attached, or the attachments cannot be listed. Paths
/// and names in it are sanitized; it never holds the file's content. The
/// I/O error is kept behind an `Arc` so the error can travel in an
/// `Action`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EvidenceError {
    /// A guide id that cannot name a folder.
    #[error("{what} id {id:?} is not usable for a directory name")]
    BadId { what: &'static str, id: String },
    /// A step id that is empty or holds control characters.
    #[error("step id {0:?} is not usable")]
    BadStep(String),
    /// The file to attach is a symbolic link.
    #[error("{0} is a symbolic link: attach the file it points to, by its own name")]
    SourceIsLink(String),
    /// The file to attach is a folder, a FIFO, a device.
    #[error("{0} is not a regular file")]
    NotAFile(String),
    #[error(
        "{0} looks binary (it contains NUL bytes): attach text only, such as a request and its response saved as .txt or .json"
    )]
    Binary(String),
    #[error(
        "{file} is not UTF-8 text (invalid byte at offset {offset}): attach text only, or convert it to UTF-8 first"
    )]
    NotUtf8 { file: String, offset: usize },
    /// The evidence folder (or one above it) is a symbolic link.
    #[error("{0} is a symbolic link: cutover does not follow links in its evidence directory")]
    LinkedDir(String),
    #[error("{0} is not a directory")]
    NotADir(String),
    /// The folder beside the state file cannot be made.
    #[error("{0}")]
    StateDir(#[source] FileError),
    #[error("cannot create {0}")]
    CreateDir(#[source] FileError),
    /// A file or folder cannot be read.
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    #[error("cannot describe the attachment: {0}")]
    Describe(#[source] toml::ser::Error),
    /// A file of the attachment cannot be written.
    #[error("cannot write {file}: {source}")]
    Write {
        file: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    #[error("too many attachments named like {id} in {dir}")]
    TooMany { id: String, dir: String },
}

/// Equal when of the same kind and saying the same (an I/O error has no
/// equality of its own).
impl PartialEq for EvidenceError {
    fn eq(&self, other: &EvidenceError) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other) && self.to_string() == other.to_string()
    }
}

fn read_error(file: &Path, e: std::io::Error) -> EvidenceError {
    EvidenceError::Read { file: crate::files::shown(file), source: Arc::new(e) }
}

fn write_error(file: &Path, e: std::io::Error) -> EvidenceError {
    EvidenceError::Write { file: crate::files::shown(file), source: Arc::new(e) }
}

/// One attached file, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Step id the file belongs to.
    pub step: String,
    /// The file's original name (sanitized, without directories).
    pub name: String,
    pub added_at: Timestamp,
    pub added_by: String,
    /// The redacted, sanitized text.
    pub content: String,
    /// The original was longer than [`MAX_BYTES`] and was cut.
    pub truncated: bool,
}

/// The sidecar written next to each stored file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    step: String,
    name: String,
    added_at: Timestamp,
    added_by: String,
    #[serde(default)]
    truncated: bool,
}

/// `<state stem>.evidence/<guide>/` beside the state file.
pub fn evidence_dir(state_path: &Path, guide: &str) -> PathBuf {
    root_dir(state_path).join(guide)
}

fn root_dir(state_path: &Path) -> PathBuf {
    let stem = state_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "state".to_string());
    crate::paths::beside(state_path, &format!("{stem}.evidence"))
}

/// Copies `file` into the evidence dir for (`guide`, `step`): every key
/// `redact` knows is masked on the way in, control and escape sequences are
/// stripped, text beyond [`MAX_BYTES`] is cut (and the attachment marked
/// truncated). Binary and non-UTF-8 files, symbolic links and anything but
/// a regular file are refused.
pub fn add(
    state_path: &Path,
    guide: &str,
    step: &str,
    file: &Path,
    by: &str,
    at: Timestamp,
    redact: &dyn Fn(&str) -> String,
) -> Result<Attachment, EvidenceError> {
    check_id("guide", guide)?;
    if step.trim().is_empty() || crate::sanitize::line(step) != step {
        return Err(EvidenceError::BadStep(step.to_string()));
    }
    let shown = crate::sanitize::line(&file.display().to_string());
    let (raw, cut) = read_source(file, &shown)?;
    let text = decode(&raw, cut, &shown)?;

    // Redact, then drop the tail a cut read may have split a key in, strip
    // escapes (which can join two halves of a key), redact again; only then
    // cut to size.
    let once = redact(&text);
    let once = if cut { drop_tail(&once) } else { once.as_str() };
    let clean = redact(&crate::sanitize::multiline(once));
    let (content, truncated) = cap(&clean, cut);

    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "attachment".to_string());
    let name = redact(&crate::sanitize::line(&redact(&name)));
    let by = crate::sanitize::line(by);

    let dir = prepare_dir(state_path, guide)?;
    let sidecar = Sidecar { step: step.to_string(), name: name.clone(), added_at: at, added_by: by.clone(), truncated };
    let meta = toml::to_string(&sidecar).map_err(EvidenceError::Describe)?;
    store(&dir, &base_id(step, &name), &content, &meta)?;
    Ok(Attachment { step: step.to_string(), name, added_at: at, added_by: by, content, truncated })
}

/// Every attachment of `guide`, oldest first. A missing directory is no
/// attachment; files that are not cutover's own (no sidecar, unreadable
/// sidecar, symbolic links) are left out.
pub fn list(state_path: &Path, guide: &str) -> Result<Vec<Attachment>, EvidenceError> {
    check_id("guide", guide)?;
    let dir = evidence_dir(state_path, guide);
    for d in [root_dir(state_path), dir.clone()] {
        match fs::symlink_metadata(&d) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(EvidenceError::LinkedDir(crate::files::shown(&d)));
            }
            Ok(m) if !m.is_dir() => {
                return Err(EvidenceError::NotADir(crate::files::shown(&d)));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(read_error(&d, e)),
        }
    }
    let entries = fs::read_dir(&dir).map_err(|e| read_error(&dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| read_error(&dir, e))?;
        let fname = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = fname.strip_suffix(".toml") else {
            continue;
        };
        if !is_stored_id(id) {
            continue;
        }
        let meta_path = dir.join(&fname);
        let text_path = dir.join(format!("{id}.txt"));
        let Ok((meta_raw, _)) = read_limited(&meta_path, 64 * 1024) else {
            tracing::warn!(file = %meta_path.display(), "evidence sidecar unreadable; skipped");
            continue;
        };
        let Some(side) = std::str::from_utf8(&meta_raw).ok().and_then(|s| toml::from_str::<Sidecar>(s).ok()) else {
            tracing::warn!(file = %meta_path.display(), "evidence sidecar invalid; skipped");
            continue;
        };
        let Ok((raw, cut)) = read_limited(&text_path, MAX_BYTES) else {
            tracing::warn!(file = %text_path.display(), "evidence file unreadable; skipped");
            continue;
        };
        let text = String::from_utf8_lossy(&raw);
        out.push(Attachment {
            step: crate::sanitize::line(&side.step),
            name: crate::sanitize::line(&side.name),
            added_at: side.added_at,
            added_by: crate::sanitize::line(&side.added_by),
            content: crate::sanitize::multiline(&text),
            truncated: side.truncated || cut,
        });
    }
    out.sort_by(|a, b| (a.added_at, &a.step, &a.name).cmp(&(b.added_at, &b.step, &b.name)));
    Ok(out)
}

fn check_id(what: &'static str, id: &str) -> Result<(), EvidenceError> {
    let ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(EvidenceError::BadId { what, id: crate::sanitize::line(id) }) }
}

/// Reads at most `MAX_BYTES + READ_SLACK` of a regular, non-link file.
/// Returns the bytes and whether the file went on beyond them.
fn read_source(file: &Path, shown: &str) -> Result<(Vec<u8>, bool), EvidenceError> {
    let read = |e| EvidenceError::Read { file: shown.to_string(), source: Arc::new(e) };
    let meta = fs::symlink_metadata(file).map_err(read)?;
    if meta.file_type().is_symlink() {
        return Err(EvidenceError::SourceIsLink(shown.to_string()));
    }
    if !meta.is_file() {
        return Err(EvidenceError::NotAFile(shown.to_string()));
    }
    read_limited(file, MAX_BYTES + READ_SLACK).map_err(read)
}

/// Opens without following a link and without blocking on a FIFO, checks
/// that it is a regular file, reads at most `limit` bytes.
fn read_limited(path: &Path, limit: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let f = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut buf = Vec::new();
    let want = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    f.take(want).read_to_end(&mut buf)?;
    let cut = buf.len() > limit;
    buf.truncate(limit);
    Ok((buf, cut))
}

/// The bytes as text; refuses binary (a NUL byte) and non-UTF-8 files. When
/// the read was cut, a character split by the cut goes.
fn decode(raw: &[u8], cut: bool, shown: &str) -> Result<String, EvidenceError> {
    if raw.contains(&0) {
        return Err(EvidenceError::Binary(shown.to_string()));
    }
    let text = match std::str::from_utf8(raw) {
        Ok(s) => s,
        // A multi-byte character split by the read limit: the text before
        // it is valid by construction.
        Err(e) if cut && e.error_len().is_none() => std::str::from_utf8(&raw[..e.valid_up_to()]).unwrap_or_default(),
        Err(e) => return Err(EvidenceError::NotUtf8 { file: shown.to_string(), offset: e.valid_up_to() }),
    };
    Ok(text.to_string())
}

/// `text` without its last [`TAIL_GUARD`] bytes (on a character boundary).
fn drop_tail(text: &str) -> &str {
    let mut end = text.len().saturating_sub(TAIL_GUARD);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Cuts `text` to [`MAX_BYTES`] on a character boundary.
fn cap(text: &str, already_cut: bool) -> (String, bool) {
    if text.len() <= MAX_BYTES {
        return (text.to_string(), already_cut);
    }
    let mut end = MAX_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

/// `<step>--<name>` reduced to `[a-z0-9_-]`, at most [`MAX_ID`] bytes.
fn base_id(step: &str, name: &str) -> String {
    let part = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_end_matches('-').to_string()
    };
    let (step, name) = (part(step), part(name));
    let mut id = match (step.is_empty(), name.is_empty()) {
        (false, false) => format!("{step}--{name}"),
        (false, true) => step,
        (true, false) => name,
        (true, true) => "attachment".to_string(),
    };
    id.truncate(MAX_ID);
    id.trim_end_matches('-').to_string()
}

fn is_stored_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID + 8
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Creates `<stem>.evidence/<guide>/` (the directory's mode and group) and
/// makes sure neither is a symbolic link.
fn prepare_dir(state_path: &Path, guide: &str) -> Result<PathBuf, EvidenceError> {
    let root = root_dir(state_path);
    let dir = evidence_dir(state_path, guide);
    crate::files::ensure_dir(&crate::files::parent_of(&root)).map_err(EvidenceError::StateDir)?;
    for d in [&root, &dir] {
        crate::files::ensure_own_dir(d).map_err(|e| match e {
            FileError::Unsafe { .. } if fs::symlink_metadata(d).is_ok_and(|m| m.is_symlink()) => {
                EvidenceError::LinkedDir(crate::files::shown(d))
            }
            e => EvidenceError::CreateDir(e),
        })?;
    }
    Ok(dir)
}

/// Creates a new file (the directory's mode and group), failing if
/// anything (a link included) is there.
fn create_new(path: &Path) -> std::io::Result<File> {
    crate::files::create_new(path).map_err(|e| {
        if fs::symlink_metadata(path).is_ok() {
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, e.to_string())
        } else {
            std::io::Error::other(e.message().to_string())
        }
    })
}

/// Writes `<id>.txt` and `<id>.toml` under the first free id (`id`, `id-2`,
/// ...); never replaces an existing file.
fn store(dir: &Path, id: &str, content: &str, meta: &str) -> Result<(), EvidenceError> {
    for n in 1..=MAX_SUFFIX {
        let candidate = if n == 1 { id.to_string() } else { format!("{id}-{n}") };
        let text_path = dir.join(format!("{candidate}.txt"));
        let meta_path = dir.join(format!("{candidate}.toml"));
        let mut text_file = match create_new(&text_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(write_error(&text_path, e)),
        };
        let mut meta_file = match create_new(&meta_path) {
            Ok(f) => f,
            Err(e) => {
                let _ = fs::remove_file(&text_path);
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    continue;
                }
                return Err(write_error(&meta_path, e));
            }
        };
        let written = text_file
            .write_all(content.as_bytes())
            .and_then(|()| text_file.sync_all())
            .map_err(|e| write_error(&text_path, e))
            .and_then(|()| {
                meta_file
                    .write_all(meta.as_bytes())
                    .and_then(|()| meta_file.sync_all())
                    .map_err(|e| write_error(&meta_path, e))
            });
        if let Err(e) = written {
            let _ = fs::remove_file(&text_path);
            let _ = fs::remove_file(&meta_path);
            return Err(e);
        }
        return Ok(());
    }
    Err(EvidenceError::TooMany { id: id.to_string(), dir: crate::files::shown(dir) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain() {
        assert_eq!(base_id("sandbox-integration", "My Call (1).TXT"), "sandbox-integration--my-call-1-txt");
        assert_eq!(base_id("s", "../../etc/passwd"), "s--etc-passwd");
        assert!(base_id("s", &"x".repeat(500)).len() <= MAX_ID);
    }

    #[test]
    fn evidence_dir_sits_beside_the_state() {
        let p = evidence_dir(Path::new("dir/state.toml"), "postnl");
        assert_eq!(p, Path::new("dir/state.evidence/postnl"));
    }

    #[test]
    fn a_missing_file_keeps_its_io_error_as_the_source() {
        let err = read_source(Path::new("no-such-dir/none.txt"), "none.txt").err();
        assert!(matches!(err, Some(EvidenceError::Read { .. })), "{err:?}");
        let kind = err
            .as_ref()
            .and_then(|e| std::error::Error::source(e))
            .and_then(|s| s.downcast_ref::<Arc<std::io::Error>>())
            .map(|e| e.kind());
        assert_eq!(kind, Some(std::io::ErrorKind::NotFound));
        assert!(err.is_some_and(|e| e.to_string().starts_with("cannot read none.txt: ")));
    }

    #[test]
    fn cut_read_drops_the_tail_and_split_chars() {
        let raw = "é".repeat(2000);
        let bytes = &raw.as_bytes()[..3999];
        let text = decode(bytes, true, "f").unwrap_or_default();
        assert_eq!(text.len(), 3998);
        let kept = drop_tail(&text);
        assert!(kept.len() <= 3998 - TAIL_GUARD);
        assert!(kept.chars().all(|c| c == 'é'));
    }
}
