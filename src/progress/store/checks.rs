//! The check archive `<stem>.checks.toml`: every check run in full,
//! appended (and fsynced) before the state that keeps only the slim latest
//! is renamed in; read only for the history and reports.

use super::super::model::{CheckRecord, Progress};
use super::{OpenMode, Store, StoreError, open_or_create, read_regular, shown};
use serde::{Deserialize, Serialize};
use std::io::Write;

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

impl Store {
    /// Appends full check records to the check archive and fsyncs it.
    pub(super) fn append_checks(&self, records: &[ArchivedCheck]) -> Result<(), StoreError> {
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
}
