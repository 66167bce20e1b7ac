//! The state file's text: what it holds on disk, its errors (file:line:col),
//! the schema checks, reading and writing it.

use super::super::model::{Event, GuideProgress, Progress, STATE_SCHEMA, STATE_SCHEMA_OLDEST};
use crate::files;
use crate::guide::parse::line_col;
use crate::sanitize;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::Path;

/// The first line of every state file.
pub const HEADER: &str =
    "# cutover progress state: written by cutover, format documented in docs/json.md and the README.\n";

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

/// Serializes progress as the state file's text, sealed.
pub fn to_toml(p: &Progress) -> Result<String, StoreError> {
    to_toml_with(p, p.events_archived, "state").map(super::splice::seal)
}

/// The text without its seal.
pub(super) fn to_toml_with(p: &Progress, events_archived: u64, file: &str) -> Result<String, StoreError> {
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
    // A large file is read a few tables at a time (the whole-file parse
    // holds about 20 times its size at once); anything unusual in it is
    // left to the whole-file parse, which accepts or locates it.
    let pieces = (body.len() > super::sections::BATCH_BYTES)
        .then(|| super::sections::read(body))
        .flatten()
        .filter(|s| (STATE_SCHEMA_OLDEST..=STATE_SCHEMA).contains(&s.schema))
        .map(|s| DiskIn { schema: s.schema, events_archived: s.events_archived, guides: s.guides, events: s.events });
    match pieces.map(Ok).unwrap_or_else(|| toml::from_str::<DiskIn>(body)) {
        Ok(d) => {
            if !(STATE_SCHEMA_OLDEST..=STATE_SCHEMA).contains(&d.schema) {
                return Err(schema_error(body, file).unwrap_or_else(|| {
                    parse_error(body, file, 0, format!("state schema {} is not supported", d.schema))
                }));
            }
            let mut p =
                Progress { schema: d.schema, guides: d.guides, events: d.events, events_archived: d.events_archived };
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
pub(super) fn decode(bytes: &[u8], file: &str) -> Result<(Progress, u64), StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Op;
    use crate::progress::model::Status;
    use jiff::Timestamp;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH)
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
