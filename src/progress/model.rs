//! Progress: what has been done, by whom, when, and what the checks said.
//! Pure data plus the operations that change it. The store applies the same
//! operations under a lock to the freshly read file, so two people editing
//! one state file never lose each other's changes.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The state file format this build writes. Schema 2 keeps, per check and
/// environment, only the latest run's verdict, time, who, environment,
/// message and hint; every run in full (request line, excerpt, details)
/// lives in the check archive beside the state (`<stem>.checks.toml`).
/// Schema 1 files (up to 20 full runs per step) are read, and migrated on
/// their first write, the archive taking every record.
pub const STATE_SCHEMA: u32 = 2;
/// The oldest state schema this build reads (and migrates).
pub const STATE_SCHEMA_OLDEST: u32 = 1;
/// Check runs a schema-1 file kept per step.
pub const CHECK_HISTORY: usize = 20;
/// Events kept in the state file: the latest few, what a person reads
/// there and what the checklist needs to say what someone else changed.
/// Older ones move to the event archive beside it, which the history view
/// (`H`), `cutover log` and the report read.
pub const EVENTS_KEPT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Todo,
    InProgress,
    Done,
    Blocked,
    Skipped,
}

impl Status {
    pub const ALL: [Status; 5] = [Status::Todo, Status::InProgress, Status::Done, Status::Blocked, Status::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Todo => "todo",
            Status::InProgress => "in_progress",
            Status::Done => "done",
            Status::Blocked => "blocked",
            Status::Skipped => "skipped",
        }
    }

    /// Done or skipped: nothing more to do.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Done | Status::Skipped)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is none of [`Status::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}: use todo, in_progress, done, blocked or skipped")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, UnknownStatus> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "todo" => Ok(Status::Todo),
            "in_progress" => Ok(Status::InProgress),
            "done" => Ok(Status::Done),
            "blocked" => Ok(Status::Blocked),
            "skipped" => Ok(Status::Skipped),
            _ => Err(UnknownStatus(s.to_string())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Indeterminate,
    Error,
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Indeterminate => "indeterminate",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
        }
    }
}

impl Verdict {
    /// The one ranking of verdicts, worst highest: fail > error >
    /// indeterminate > pass > skipped. The list glyph, the footer, `status`,
    /// exit codes and reports all add results up with it.
    pub fn rank(self) -> u8 {
        match self {
            Verdict::Skipped => 0,
            Verdict::Pass => 1,
            Verdict::Indeterminate => 2,
            Verdict::Error => 3,
            Verdict::Fail => 4,
        }
    }

    /// The worst of `verdicts` by [`Verdict::rank`]; None for none.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
        verdicts.into_iter().max_by_key(|v| v.rank())
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run of a check, as saved with the step. Holds no secret: requests are
/// recorded with keys redacted, bodies only as allow-listed excerpts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRecord {
    pub at: Timestamp,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Which of the step's checks ran (its kind, or its label).
    pub check: String,
    pub verdict: Verdict,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default)]
    pub duration_ms: u64,
    /// "GET https://api-sandbox.postnl.nl/shipment/v2/status/barcode/..."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// At most 2 KB of allow-listed fields from the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// What this run proved: set only when the verdict is a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proved: Option<String>,
    /// What a pass would have proved: set when the verdict is not a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub would_prove: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_proved: Option<String>,
    /// The carrier's correlation id (RFC 9457 `traceId`), to quote to its
    /// support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The host (and port) the key was sent to, when the request carried
    /// one: a key only ever goes to its own environment's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_sent_to: Option<String>,
    /// Extra lines (probe table rows, timings of DNS/TCP/TLS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Who last changed the note (for a note changed meanwhile: "bob's
    /// text above"), kept with the step since the state keeps only the
    /// latest events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_by: Option<String>,
    /// When and by whom the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Hash of the step's content when its status last changed (or when its
    /// changed content was last acknowledged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The latest run of each check and environment, oldest first, slim
    /// ([`CheckRecord::slim`]); a schema-1 file held up to
    /// [`CHECK_HISTORY`] full runs here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckRecord>,
}

impl CheckRecord {
    /// What the state file keeps of a run: the verdict, its time, who, the
    /// environment, the message and the hint, the status and duration, and
    /// the detail lines a person reads on the step (probe rows). The request
    /// line, the excerpt, what it proved and the trace id are in the check
    /// archive.
    pub fn slim(&self) -> CheckRecord {
        CheckRecord {
            at: self.at,
            by: self.by.clone(),
            env: self.env.clone(),
            check: self.check.clone(),
            verdict: self.verdict,
            message: self.message.clone(),
            hint: self.hint.clone(),
            duration_ms: self.duration_ms,
            request: None,
            http_status: self.http_status,
            excerpt: None,
            proved: None,
            would_prove: None,
            not_proved: None,
            trace_id: None,
            key_sent_to: None,
            // Probe rows and timings are what a person reads on the step.
            details: self.details.clone(),
        }
    }

    /// The same run, whatever of it each copy kept (a slim record in the
    /// state, the full one in the archive).
    pub fn same_run(&self, other: &CheckRecord) -> bool {
        self.at == other.at && self.check == other.check && self.env == other.env && self.by == other.by
    }

    /// A pass claims what it proved; any other verdict only what it would
    /// have proved. Older files stored `proved` for every verdict: this moves
    /// it where it belongs.
    pub fn normalize_proof(&mut self) {
        if self.verdict == Verdict::Pass {
            if self.proved.is_none() {
                self.proved = self.would_prove.take();
            }
            self.would_prove = None;
        } else if self.proved.is_some() {
            if self.would_prove.is_none() {
                self.would_prove = self.proved.take();
            }
            self.proved = None;
        }
    }
}

impl StepRecord {
    pub fn is_default(&self) -> bool {
        *self == StepRecord::default()
    }

    /// The step's verdict: the latest run of each of its checks (by label
    /// and environment), added up by [`Verdict::rank`], with the time of the
    /// newest of them. None if no check ran.
    pub fn verdict(&self) -> Option<(Verdict, Timestamp)> {
        let mut latest: Vec<&CheckRecord> = Vec::new();
        for r in self.checks.iter().rev() {
            if !latest.iter().any(|l| l.check == r.check && l.env == r.env) {
                latest.push(r);
            }
        }
        let verdict = Verdict::worst(latest.iter().map(|r| r.verdict))?;
        let at = latest.iter().map(|r| r.at).max()?;
        Some((verdict, at))
    }

    /// The latest record of the check that gives the step its verdict.
    pub fn deciding_check(&self) -> Option<&CheckRecord> {
        let (v, _) = self.verdict()?;
        let mut seen: Vec<(&str, Option<&str>)> = Vec::new();
        for r in self.checks.iter().rev() {
            let k = (r.check.as_str(), r.env.as_deref());
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            if r.verdict == v {
                return Some(r);
            }
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideProgress {
    /// Keyed by stable step id. Steps the guide no longer has are kept.
    #[serde(default)]
    pub steps: BTreeMap<String, StepRecord>,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub at: Timestamp,
    pub by: String,
    pub guide: String,
    pub step: String,
    /// "status", "note", "check", "ack"
    pub what: String,
    /// Human summary: "done", "note edited", "pass: key accepted".
    pub detail: String,
}

/// The whole state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    pub schema: u32,
    #[serde(default)]
    pub guides: BTreeMap<String, GuideProgress>,
    /// Latest events, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// How many events came before `events`, moved to the event archive:
    /// the sequence number of `events[0]`. The store keeps it (the state
    /// file's `events_archived`).
    #[serde(skip)]
    pub events_archived: u64,
}

impl Default for Progress {
    fn default() -> Self {
        Progress { schema: STATE_SCHEMA, guides: BTreeMap::new(), events: Vec::new(), events_archived: 0 }
    }
}

/// A change to progress. The TUI, `cutover mark`, `cutover check` and other
/// instances all change state only through these.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    SetStatus {
        guide: String,
        step: String,
        status: Status,
        hash: Option<String>,
    },
    SetNote {
        guide: String,
        step: String,
        note: String,
        /// The note as the editor opened it. When the note on disk is no
        /// longer this text, someone else changed it meanwhile and both
        /// texts are kept (see [`merge_note`]). None replaces whatever is
        /// there (`cutover mark --note`).
        base: Option<String>,
    },
    RecordCheck {
        guide: String,
        step: String,
        record: Box<CheckRecord>,
    },
    /// Someone read a step whose content changed since it was ticked.
    Acknowledge {
        guide: String,
        step: String,
        hash: String,
    },
}

impl Op {
    pub fn guide(&self) -> &str {
        match self {
            Op::SetStatus { guide, .. }
            | Op::SetNote { guide, .. }
            | Op::RecordCheck { guide, .. }
            | Op::Acknowledge { guide, .. } => guide,
        }
    }

    pub fn step(&self) -> &str {
        match self {
            Op::SetStatus { step, .. }
            | Op::SetNote { step, .. }
            | Op::RecordCheck { step, .. }
            | Op::Acknowledge { step, .. } => step,
        }
    }
}

/// The history of `guide` as the history view shows it, oldest first: the
/// events read in full (`read`: the archive's and the state's as they were
/// then), then those of the guide the state (`state`, its latest events) got
/// since. The state keeps only the latest events, so without `read` this is
/// only those.
pub fn guide_history<'a>(read: &'a [Event], state: &'a [Event], guide: &str) -> Vec<&'a Event> {
    let mut out: Vec<&Event> = read.iter().filter(|e| e.guide == guide).collect();
    let fresh: Vec<&Event> = state.iter().filter(|e| e.guide == guide).collect();
    // After the newest event read that the state still has, all is new; if
    // the state no longer has it, all the state holds came after it.
    let new_from = match out.last() {
        None => 0,
        Some(last) => fresh.iter().rposition(|e| e == last).map_or(0, |i| i + 1),
    };
    out.extend(&fresh[new_from..]);
    out
}

/// How a note event's detail starts when the save found the note changed
/// since its editor opened ("note changed meanwhile by bob; both texts
/// kept").
const CHANGED_MEANWHILE: &str = "note changed meanwhile by ";
const BOTH_KEPT: &str = "; both texts kept";
const NOT_CLEARED: &str = "; not cleared, their text kept";

/// The note after `by` saves `new`, whose editor opened on `base`, over
/// `current` (what the file holds now, last changed by `earlier`), and the
/// event's detail.
///
/// - No base (`cutover mark --note`), the base is still what the file holds,
///   the file holds nothing or already `new`: `new` replaces it.
/// - Otherwise someone changed the note while `by` edited it. Both texts
///   are kept: the current text, a separator line naming both authors,
///   then the new text:
///
///   ```text
///   bob's text
///   --- alice wrote this while bob's text above was saved ---
///   alice's text
///   ```
///
///   A note cleared in the editor does not clear the other's text.
pub fn merge_note(current: &str, base: Option<&str>, new: &str, by: &str, earlier: Option<&str>) -> (String, String) {
    let replaced = || {
        let detail = if new.is_empty() { "note cleared" } else { "note edited" };
        (new.to_string(), detail.to_string())
    };
    let Some(base) = base else { return replaced() };
    if base == current || current.trim().is_empty() || current == new {
        return replaced();
    }
    let who = earlier.filter(|e| !e.is_empty()).unwrap_or("someone");
    if new.trim().is_empty() {
        return (current.to_string(), format!("{CHANGED_MEANWHILE}{who}{NOT_CLEARED}"));
    }
    let above = match earlier.filter(|e| !e.is_empty()) {
        Some(e) => format!("{e}'s text above"),
        None => "the text above".to_string(),
    };
    let text = format!("{}\n--- {by} wrote this while {above} was saved ---\n{new}", current.trim_end_matches('\n'));
    (text, format!("{CHANGED_MEANWHILE}{who}{BOTH_KEPT}"))
}

/// For a note event whose save found the note changed meanwhile: who had
/// changed it, and whether both texts were kept (false: a clearing that
/// kept the other's text).
pub fn note_changed_meanwhile(detail: &str) -> Option<(&str, bool)> {
    let rest = detail.strip_prefix(CHANGED_MEANWHILE)?;
    if let Some(who) = rest.strip_suffix(BOTH_KEPT) {
        return Some((who, true));
    }
    rest.strip_suffix(NOT_CLEARED).map(|who| (who, false))
}

impl Progress {
    pub fn step(&self, guide: &str, step: &str) -> Option<&StepRecord> {
        self.guides.get(guide)?.steps.get(step)
    }

    pub fn status(&self, guide: &str, step: &str) -> Status {
        self.step(guide, step).map(|r| r.status).unwrap_or_default()
    }

    /// Who last changed the note of `step`: as the step records it, else
    /// (a file saved before steps recorded it) as far as the events kept in
    /// the state tell.
    pub fn note_author(&self, guide: &str, step: &str) -> Option<String> {
        if let Some(by) = self.step(guide, step).and_then(|r| r.note_by.clone()) {
            return Some(by);
        }
        self.events.iter().rev().find(|e| e.what == "note" && e.guide == guide && e.step == step).map(|e| e.by.clone())
    }

    fn step_mut(&mut self, guide: &str, step: &str) -> &mut StepRecord {
        self.guides.entry(guide.to_string()).or_default().steps.entry(step.to_string()).or_default()
    }

    /// Applies `op` as done by `by` at `at`, and returns the event it makes.
    /// Applying the same op twice is harmless (the later write wins).
    pub fn apply(&mut self, op: &Op, by: &str, at: Timestamp) -> Event {
        let (what, detail) = match op {
            Op::SetStatus { guide, step, status, hash } => {
                let r = self.step_mut(guide, step);
                r.status = *status;
                r.at = Some(at);
                r.by = Some(by.to_string());
                if hash.is_some() {
                    r.hash = hash.clone();
                }
                ("status", status.as_str().to_string())
            }
            Op::SetNote { guide, step, note, base } => {
                let earlier = self.note_author(guide, step);
                let r = self.step_mut(guide, step);
                let (text, detail) = merge_note(&r.note, base.as_deref(), note, by, earlier.as_deref());
                r.note = text;
                r.note_by = Some(by.to_string());
                ("note", detail)
            }
            Op::RecordCheck { guide, step, record } => {
                let r = self.step_mut(guide, step);
                // The state keeps the latest run of each check and
                // environment, slim; the store archives the full record.
                let kept = record.slim();
                r.checks.retain(|c| !(c.check == kept.check && c.env == kept.env));
                r.checks.push(kept);
                let env = record.env.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
                ("check", format!("{}{env}: {}", record.verdict, record.message))
            }
            Op::Acknowledge { guide, step, hash } => {
                let r = self.step_mut(guide, step);
                r.hash = Some(hash.clone());
                ("ack", "changed content read".to_string())
            }
        };
        let event = Event {
            at,
            by: by.to_string(),
            guide: op.guide().to_string(),
            step: op.step().to_string(),
            what: what.to_string(),
            detail,
        };
        self.events.push(event.clone());
        event
    }

    /// From a schema-1 file to this build's schema: each step keeps the
    /// latest run of each check and environment, slim (the store archived
    /// every record first).
    pub fn migrate_to_current(&mut self) {
        for r in self.guides.values_mut().flat_map(|g| g.steps.values_mut()) {
            let mut latest: Vec<CheckRecord> = Vec::new();
            for c in r.checks.iter().rev() {
                if !latest.iter().any(|l| l.check == c.check && l.env == c.env) {
                    latest.push(c.slim());
                }
            }
            latest.reverse();
            r.checks = latest;
        }
        self.schema = STATE_SCHEMA;
    }

    /// Removes and returns the events beyond the newest [`EVENTS_KEPT`], for
    /// the archive.
    pub fn take_overflow_events(&mut self) -> Vec<Event> {
        let excess = self.events.len().saturating_sub(EVENTS_KEPT);
        self.events.drain(..excess).collect()
    }

    /// (done or skipped, total) over `step_ids`.
    pub fn counts<'a>(&self, guide: &str, step_ids: impl Iterator<Item = &'a str>) -> (usize, usize) {
        let mut done = 0;
        let mut total = 0;
        for id in step_ids {
            total += 1;
            if self.status(guide, id).is_closed() {
                done += 1;
            }
        }
        (done, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn apply_records_who_and_when() {
        let mut p = Progress::default();
        let ev = p.apply(
            &Op::SetStatus { guide: "g".into(), step: "s".into(), status: Status::Done, hash: Some("h".into()) },
            "alice",
            t(1),
        );
        let r = p.step("g", "s").cloned().unwrap_or_default();
        assert_eq!(r.status, Status::Done);
        assert_eq!(r.by.as_deref(), Some("alice"));
        assert_eq!(r.at, Some(t(1)));
        assert_eq!(r.hash.as_deref(), Some("h"));
        assert_eq!(ev.detail, "done");
        assert_eq!(p.events.len(), 1);
    }

    #[test]
    fn the_state_keeps_the_latest_run_of_each_check_slim() {
        let mut p = Progress::default();
        for i in 0..25 {
            let record = CheckRecord {
                at: t(i),
                by: "a".into(),
                env: if i % 2 == 0 { Some("sandbox".into()) } else { Some("production".into()) },
                check: "http".into(),
                verdict: Verdict::Pass,
                message: format!("run {i}"),
                hint: None,
                duration_ms: 1,
                request: Some("GET https://api.example.test/x".into()),
                http_status: None,
                excerpt: Some("/Warnings/0/Message = x".into()),
                proved: None,
                would_prove: None,
                not_proved: None,
                trace_id: None,
                key_sent_to: None,
                details: vec![],
            };
            p.apply(&Op::RecordCheck { guide: "g".into(), step: "s".into(), record: Box::new(record) }, "a", t(i));
        }
        let r = p.step("g", "s").cloned().unwrap_or_default();
        // One per check and environment: the latest, without what the
        // archive keeps.
        let msgs: Vec<&str> = r.checks.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(msgs, vec!["run 23", "run 24"]);
        assert!(r.checks.iter().all(|c| c.request.is_none() && c.excerpt.is_none()));
        assert_eq!(r.verdict().map(|(v, _)| v), Some(Verdict::Pass));
    }

    fn set_note(note: &str, base: Option<&str>) -> Op {
        Op::SetNote { guide: "g".into(), step: "s".into(), note: note.into(), base: base.map(str::to_string) }
    }

    #[test]
    fn a_note_changed_meanwhile_keeps_both_texts_with_their_authors() {
        let mut p = Progress::default();
        p.apply(&set_note("ticket 4711", Some("")), "alice", t(1));
        // Bob and Alice both open the editor on "ticket 4711"; Bob saves first.
        p.apply(&set_note("ticket 4711\nPostNL says Monday", Some("ticket 4711")), "bob", t(2));
        let ev = p.apply(&set_note("ticket 4711, escalated", Some("ticket 4711")), "alice", t(3));
        let note = p.step("g", "s").map(|r| r.note.clone()).unwrap_or_default();
        assert_eq!(
            note,
            "ticket 4711\nPostNL says Monday\n--- alice wrote this while bob's text above was saved ---\nticket 4711, escalated"
        );
        assert_eq!(ev.detail, "note changed meanwhile by bob; both texts kept");
        assert_eq!(note_changed_meanwhile(&ev.detail), Some(("bob", true)));
        // A base that is what the file holds replaces, as does no base.
        p.apply(&set_note("fresh", Some(&note)), "bob", t(4));
        assert_eq!(p.step("g", "s").map(|r| r.note.as_str()), Some("fresh"));
        let ev = p.apply(&set_note("from the command line", None), "carol", t(5));
        assert_eq!(p.step("g", "s").map(|r| r.note.as_str()), Some("from the command line"));
        assert_eq!(ev.detail, "note edited");
        assert_eq!(note_changed_meanwhile(&ev.detail), None);
    }

    #[test]
    fn merge_edges() {
        // The other cleared it, or wrote the same: nothing to keep twice.
        assert_eq!(merge_note("", Some("old"), "mine", "a", Some("b")).0, "mine");
        assert_eq!(merge_note("same", Some("old"), "same", "a", Some("b")).0, "same");
        // Clearing in the editor does not clear the other's text.
        let (text, detail) = merge_note("theirs", Some("old"), "", "a", Some("b"));
        assert_eq!(text, "theirs");
        assert_eq!(note_changed_meanwhile(&detail), Some(("b", false)));
        // An author the events no longer know.
        let (text, detail) = merge_note("theirs\n", Some("old"), "mine", "a", None);
        assert_eq!(text, "theirs\n--- a wrote this while the text above was saved ---\nmine");
        assert_eq!(note_changed_meanwhile(&detail), Some(("someone", true)));
    }

    #[test]
    fn guide_history_is_what_was_read_then_what_the_state_got_since() {
        let ev = |n: i64, guide: &str| Event {
            at: t(n),
            by: "a".into(),
            guide: guide.into(),
            step: format!("s{n}"),
            what: "status".into(),
            detail: "done".into(),
        };
        let steps = |v: Vec<&Event>| v.iter().map(|e| e.step.clone()).collect::<Vec<_>>();
        let names = |r: std::ops::Range<i64>| r.map(|n| format!("s{n}")).collect::<Vec<_>>();
        let all: Vec<Event> = (0..100).map(|n| ev(n, if n % 2 == 0 { "g" } else { "h" })).collect();
        let read: Vec<Event> = all[..60].iter().filter(|e| e.guide == "g").cloned().collect();
        // Nothing read yet: what the state keeps.
        assert_eq!(
            steps(guide_history(&[], &all[50..60], "g")),
            names(50..60).into_iter().step_by(2).collect::<Vec<_>>()
        );
        // Read, and the state moved on (overlapping, or past what was read).
        let want: Vec<String> = names(0..80).into_iter().step_by(2).collect();
        assert_eq!(steps(guide_history(&read, &all[40..80], "g")), want);
        assert_eq!(steps(guide_history(&read, &all[60..80], "g")), want);
        assert_eq!(
            steps(guide_history(&read, &all[50..60], "g")),
            names(0..60).into_iter().step_by(2).collect::<Vec<_>>()
        );
        assert!(guide_history(&read, &all, "x").is_empty());
    }

    #[test]
    fn status_parses_both_spellings() {
        assert_eq!("in-progress".parse::<Status>(), Ok(Status::InProgress));
        assert_eq!("in_progress".parse::<Status>(), Ok(Status::InProgress));
        assert!("finished".parse::<Status>().is_err());
    }

    #[test]
    fn an_unknown_status_lists_the_valid_ones() {
        let err = "finished".parse::<Status>().err();
        assert_eq!(err, Some(UnknownStatus("finished".into())));
        let said = err.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(said, "unknown status \"finished\": use todo, in_progress, done, blocked or skipped");
        for s in Status::ALL {
            assert!(said.contains(s.as_str()), "{s}");
        }
    }
}
