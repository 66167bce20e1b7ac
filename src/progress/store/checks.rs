//! The check archive `<stem>.checks.toml`: every check run in full,
//! appended (and fsynced) before the state that keeps only the slim latest
//! is renamed in; read only for the history and reports.

use super::super::model::{CheckRecord, Progress};
use super::events::plain_guide;
use super::{OpenMode, Store, StoreError, open_or_create, read_regular, shown};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::Write;

/// One check run in the check archive: which guide and step it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchivedCheck {
    pub guide: String,
    pub step: String,
    pub record: CheckRecord,
}

/// One archive entry as written: borrowed, so that writing the archive
/// copies no record.
#[derive(Serialize)]
struct ChecksBlock<'a> {
    check: [ArchivedCheckRef<'a>; 1],
}

#[derive(Serialize)]
struct ArchivedCheckRef<'a> {
    guide: &'a str,
    step: &'a str,
    record: &'a CheckRecord,
}

#[derive(Deserialize)]
struct ChecksBlockIn {
    check: Vec<ArchivedCheck>,
}

const CHECKS_HEADER: &str = "# cutover check archive: every check run in full, oldest first, appended by cutover.\n# The state file keeps only each check's latest verdict; this file keeps the rest.\n";

/// The most of the check archive read.
const MAX_CHECKS_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;

/// The entries of a check archive, each `[[check]]` block parsed on its
/// own so that a torn block (a writer killed mid-append) costs only itself;
/// duplicates dropped. Of two copies of one run (a save that died after
/// appending and was made again) the fuller one is kept: a block cut short
/// at the end of a line can still read as a record, missing what followed.
#[cfg(test)]
fn parse_checks(text: &str) -> Vec<ArchivedCheck> {
    parse_checks_of(text, None)
}

/// As [`parse_checks`], with `guide`: only that guide's runs. A block whose
/// `guide` line names another guide in a plain string is skipped unread
/// (`events::plain_guide`); any other block is read and judged.
fn parse_checks_of(text: &str, guide: Option<&str>) -> Vec<ArchivedCheck> {
    let mut out: Vec<ArchivedCheck> = Vec::new();
    let mut seen: HashMap<RunKey, usize> = HashMap::new();
    for b in blocks(text) {
        if let Some(g) = guide
            && plain_guide(b).is_some_and(|other| other != g)
        {
            continue;
        }
        let Ok(parsed) = toml::from_str::<ChecksBlockIn>(b) else { continue };
        for a in parsed.check.into_iter().filter(|a| guide.is_none_or(|g| a.guide == g)) {
            match seen.get(&RunKey::of(&a.guide, &a.step, &a.record)) {
                Some(&i) => {
                    if fields_set(&a.record) > fields_set(&out[i].record) {
                        out[i] = a;
                    }
                }
                None => {
                    seen.insert(RunKey::of(&a.guide, &a.step, &a.record), out.len());
                    out.push(a);
                }
            }
        }
    }
    out
}

/// The `[[check]]` blocks of an archive's text, as slices of it: each from
/// its header line to the next one.
fn blocks(text: &str) -> impl Iterator<Item = &str> {
    const HEADER: &str = "[[check]]";
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == HEADER {
            starts.push(at);
        }
        at += line.len();
    }
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain(std::iter::once(text.len())).collect();
    starts.into_iter().zip(ends).map(move |(s, e)| &text[s..e])
}

/// What tells one run from another (see [`CheckRecord::same_run`]), with
/// the guide and step it belongs to.
#[derive(PartialEq, Eq, Hash)]
struct RunKey(String, String, String, Option<String>, String, jiff::Timestamp);

impl RunKey {
    fn of(guide: &str, step: &str, r: &CheckRecord) -> RunKey {
        RunKey(guide.to_string(), step.to_string(), r.check.clone(), r.env.clone(), r.by.clone(), r.at)
    }
}

/// How many of a record's optional parts are there.
fn fields_set(r: &CheckRecord) -> usize {
    let opts = [
        &r.env,
        &r.hint,
        &r.request,
        &r.excerpt,
        &r.proved,
        &r.would_prove,
        &r.not_proved,
        &r.trace_id,
        &r.key_sent_to,
    ];
    opts.iter().filter(|o| o.is_some()).count()
        + usize::from(r.http_status.is_some())
        + usize::from(r.duration_ms != 0)
        + r.details.len()
}

impl Store {
    /// Appends full check records (guide, step, record) to the check
    /// archive, one block at a time through a buffer (never the whole text
    /// in memory), and fsyncs it.
    pub(super) fn append_checks<'a>(
        &self,
        records: impl IntoIterator<Item = (&'a str, &'a str, &'a CheckRecord)>,
    ) -> Result<(), StoreError> {
        let path = self.checks_archive_path();
        let file = open_or_create(&path, OpenMode::Append)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let io = |e: std::io::Error| StoreError::io(&path, &e);
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
        if len == 0 {
            out.write_all(CHECKS_HEADER.as_bytes()).map_err(io)?;
        }
        for (guide, step, record) in records {
            let block =
                toml::to_string(&ChecksBlock { check: [ArchivedCheckRef { guide, step, record }] }).map_err(|e| {
                    StoreError::Io { file: shown(&path), message: format!("cannot write a check record as TOML: {e}") }
                })?;
            // A block starts on a line of its own, after a torn one too.
            out.write_all(b"\n").map_err(io)?;
            out.write_all(block.as_bytes()).map_err(io)?;
        }
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// Every check run in full, oldest first: the check archive, then any
    /// record only the state holds (a schema-1 file not yet migrated).
    /// Duplicates (a save that died after appending and was made again) and
    /// a torn last entry are dropped. Read only for the history and reports.
    pub fn archived_checks(&self) -> Result<Vec<ArchivedCheck>, StoreError> {
        self.archived_checks_of(self.load().ok(), None)
    }

    /// As [`Store::archived_checks`], for `guide` alone (the others' runs
    /// skipped unread) and with the state already read (`state`; None: it
    /// could not be, and only the archive counts).
    pub fn guide_checks_of(&self, state: Option<Progress>, guide: &str) -> Result<Vec<ArchivedCheck>, StoreError> {
        self.archived_checks_of(state, Some(guide))
    }

    fn archived_checks_of(
        &self,
        state: Option<Progress>,
        guide: Option<&str>,
    ) -> Result<Vec<ArchivedCheck>, StoreError> {
        let path = self.checks_archive_path();
        let mut out: Vec<ArchivedCheck> = match read_regular(&path, MAX_CHECKS_ARCHIVE_BYTES)? {
            None => Vec::new(),
            Some((bytes, _)) => parse_checks_of(&String::from_utf8_lossy(&bytes), guide),
        };
        if let Some(p) = state {
            let known: HashSet<RunKey> = out.iter().map(|a| RunKey::of(&a.guide, &a.step, &a.record)).collect();
            for (guide, g) in p.guides.into_iter().filter(|(g, _)| guide.is_none_or(|want| g == want)) {
                for (step, r) in g.steps {
                    for rec in r.checks {
                        if !known.contains(&RunKey::of(&guide, &step, &rec)) {
                            out.push(ArchivedCheck { guide: guide.clone(), step: step.clone(), record: rec });
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// `guide`'s part of `progress` (the rest left out), each slim latest
    /// record replaced by its full copy from the archive (for a report of
    /// that guide; other guides' runs in the archive are skipped unread).
    pub fn with_full_records_of(&self, progress: &Progress, guide: &str) -> Progress {
        let mut progress = Progress {
            guides: progress.guides.get_key_value(guide).map(|(k, v)| (k.clone(), v.clone())).into_iter().collect(),
            schema: progress.schema,
            ..Progress::default()
        };
        let Ok(all) = self.guide_checks_of(None, guide) else {
            return progress;
        };
        let mut full: HashMap<RunKey, CheckRecord> =
            all.into_iter().map(|a| (RunKey::of(&a.guide, &a.step, &a.record), a.record)).collect();
        for (guide, g) in progress.guides.iter_mut() {
            for (step, r) in g.steps.iter_mut() {
                for rec in r.checks.iter_mut() {
                    if let Some(a) = full.remove(&RunKey::of(guide, step, rec)) {
                        *rec = a;
                    }
                }
            }
        }
        progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Verdict;

    fn record(n: i64) -> CheckRecord {
        CheckRecord {
            at: jiff::Timestamp::from_second(1_790_000_000 + n).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            by: "bob".into(),
            env: Some("sandbox".into()),
            check: "http".into(),
            verdict: Verdict::Pass,
            message: format!("run {n}"),
            hint: None,
            duration_ms: 12,
            request: Some("GET https://api.example.test/x".into()),
            http_status: Some(200),
            excerpt: Some("/Warnings/0/Message = x".into()),
            proved: Some("the key works".into()),
            would_prove: None,
            not_proved: None,
            trace_id: None,
            key_sent_to: Some("api.example.test".into()),
            details: vec!["dns 1 ms".into()],
        }
    }

    fn block(n: i64) -> String {
        block_of("g", n)
    }

    fn block_of(guide: &str, n: i64) -> String {
        let r = record(n);
        let text = toml::to_string(&ChecksBlock { check: [ArchivedCheckRef { guide, step: "s", record: &r }] });
        format!("\n{}", text.unwrap_or_default())
    }

    #[test]
    fn one_guides_runs_are_what_all_runs_hold_of_it() {
        let guides = ["g", "postnl", "it's \"quoted\"", "g-2"];
        let mut text = CHECKS_HEADER.to_string();
        for n in 0..80 {
            let b = block_of(guides[n as usize % guides.len()], n);
            // Now and then a torn block, made again whole.
            if n % 13 == 5 {
                text.push_str(&b[..b.len() / 2]);
            }
            text.push_str(&b);
        }
        // A record whose text holds what looks like another guide's line.
        let mut r = record(100);
        r.excerpt = Some("first\nguide = \"postnl\"\nlast".into());
        let tricky = toml::to_string(&ChecksBlock { check: [ArchivedCheckRef { guide: "g", step: "s", record: &r }] });
        text.push_str(&format!("\n{}", tricky.unwrap_or_default()));
        let all = parse_checks(&text);
        assert_eq!(all.len(), 81);
        for g in guides.iter().chain(&["none"]) {
            let want: Vec<&ArchivedCheck> = all.iter().filter(|a| a.guide == *g).collect();
            let got = parse_checks_of(&text, Some(g));
            assert_eq!(got.iter().collect::<Vec<_>>(), want, "{g}");
        }
    }

    #[test]
    fn a_block_cut_at_a_line_end_loses_to_its_full_copy() {
        let full = block(1);
        let lines: Vec<&str> = full.split_inclusive('\n').collect();
        // Every cut of the block at the end of a line, then the save made
        // again (the whole block appended once more).
        for cut in 1..lines.len() {
            let mut text = CHECKS_HEADER.to_string();
            text.push_str(&block(0));
            text.push_str(&lines[..cut].concat());
            text.push_str(&full);
            let got = parse_checks(&text);
            assert_eq!(got.len(), 2, "cut after line {cut}");
            assert_eq!(got[0].record, record(0), "cut after line {cut}");
            assert_eq!(got[1].record, record(1), "cut after line {cut}: the full copy");
        }
    }

    #[test]
    fn duplicates_are_dropped_however_far_apart() {
        let mut text = CHECKS_HEADER.to_string();
        for n in 0..300 {
            text.push_str(&block(n));
        }
        // A migration that died after appending and was made again.
        for n in 0..300 {
            text.push_str(&block(n));
        }
        let got = parse_checks(&text);
        assert_eq!(got.len(), 300);
        assert!(got.iter().enumerate().all(|(n, a)| a.record == record(n as i64)));
    }
}
