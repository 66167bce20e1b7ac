//! The report of a saved state: the state file's progress, each check in
//! full from the check archive, and the attachments beside it. Used by
//! `cutover report` and the checklist's `R`.

use crate::files::FileError;
use crate::guide::Guide;
use crate::progress::Progress;
use crate::progress::evidence::EvidenceError;
use crate::progress::store::Store;
use std::collections::BTreeMap;
use std::path::Path;

/// Why the hand-off report was not made or not written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// The attachments beside the state cannot be read.
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// No folder took the file: why, for each one tried.
    #[error("{}", joined(.0))]
    NotWritten(Vec<FileError>),
    /// There was no folder to write it to (an observer without a data dir).
    #[error("no folder to write it to")]
    NoFolder,
    /// Too long to hand to a terminal's clipboard over SSH.
    #[error(
        "the report is {} KiB, more than a clipboard takes over SSH ({} KiB): ask the host to write it (R), or run `cutover report` where the state is",
        .bytes / 1024,
        .limit / 1024
    )]
    TooLongToCopy { bytes: usize, limit: usize },
}

/// Where a hand-off report went.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportPlace {
    /// A new file.
    File(std::path::PathBuf),
    /// The Markdown on the session's clipboard (OSC 52), this many bytes:
    /// a served observer has no folder of its own on the host.
    Clipboard { bytes: usize },
}

/// The longest report put on a clipboard: terminals cap OSC 52 (xterm and
/// tmux keep far more, some take 100,000 bytes of base64).
pub const CLIPBOARD_MAX: usize = 72 * 1024;

fn joined(problems: &[FileError]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Renders the hand-off report of `guide` from the state saved at
/// `state_path` (`progress` is what was read from it).
pub fn render_saved(
    guide: &Guide,
    lang: &str,
    progress: &Progress,
    state_path: &Path,
    by: &str,
    now: jiff::Timestamp,
    format: super::Format,
) -> Result<String, ReportError> {
    let hashes: BTreeMap<String, String> =
        guide.all_items().map(|s| (s.id().to_string(), crate::guide::step_hash(s))).collect();
    let evidence = crate::progress::evidence::list(state_path, guide.id())?;
    let shown = state_path.display().to_string();
    // The state keeps each check's latest verdict; the report shows it in
    // full (request, excerpt, what it proved) from the check archive.
    let progress = &Store::new(state_path).with_full_records_of(progress, guide.id());
    let input = super::ReportInput {
        guide,
        lang,
        progress,
        hashes: &hashes,
        evidence: &evidence,
        now,
        generated_by: by,
        state_path: &shown,
    };
    Ok(super::render(&input, format))
}
