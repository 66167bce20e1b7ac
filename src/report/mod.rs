//! The hand-off report: cutover's proof of a migration, in one file, for the
//! carrier's servicedesk or a support engineer.
//!
//! Pure: [`build`] turns the guide, the progress and the attached evidence
//! into a [`Report`] (every value from outside already passed through
//! [`crate::sanitize`]); the three renderers only lay that out. The JSON
//! rendering is the [`Report`] itself, so all formats carry the same facts.
//! The file IO for attachments lives in [`evidence`].

pub mod evidence;
mod html;
mod json;
mod markdown;
mod saved;

pub use evidence::Attachment;
pub use saved::render_saved;

use crate::guide::{CheckKind, CheckSpec, Guide, Step, Text};
use crate::progress::{CheckRecord, Progress, Status, StepRecord, Verdict};
use crate::sanitize;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// The report's JSON format version (`schema` in the output).
pub const REPORT_SCHEMA: u32 = 1;

/// What the report is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Json,
}

impl Format {
    /// The usual file extension (`md`, `html`, `json`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(Format::Markdown),
            "html" | "htm" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            _ => Err(format!("unknown report format {:?}: use markdown, html or json", sanitize::line(s))),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Json => "json",
        })
    }
}

/// Everything the report is made of.
pub struct ReportInput<'a> {
    pub guide: &'a Guide,
    /// Language of the guide's texts in the report (falls back as
    /// [`Text::get`] does).
    pub lang: &'a str,
    pub progress: &'a Progress,
    /// The current content hash per step id ([`crate::guide::step_hash`]),
    /// to flag steps that changed after they were marked.
    pub hashes: &'a BTreeMap<String, String>,
    /// The guide's attachments ([`evidence::list`]).
    pub evidence: &'a [Attachment],
    pub now: Timestamp,
    /// Who made the report.
    pub generated_by: &'a str,
    /// The state file, as shown to the reader.
    pub state_path: &'a str,
}

/// Renders the report in `format`.
pub fn render(input: &ReportInput, format: Format) -> String {
    let report = build(input);
    match format {
        Format::Markdown => markdown::render(&report),
        Format::Html => html::render(&report),
        Format::Json => json::render(&report),
    }
}

// ------------------------------------------------------------------ model

/// The report's facts. Serialized as is for `--format json` (see
/// docs/json.md); every string is sanitized.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub guide: String,
    pub title: String,
    pub version: String,
    pub carrier: Option<String>,
    pub lang: String,
    pub generated_at: Timestamp,
    pub generated_by: String,
    pub state_path: String,
    pub summary: Summary,
    /// The guide's status notices (cutover's dated notes on what changed
    /// since the carrier wrote it), in the report's language.
    pub notices: Vec<String>,
    pub blockers: Vec<Blocker>,
    /// Present for guides with environments (checks against an API).
    pub validation_set: Option<ValidationSet>,
    pub steps: Vec<StepReport>,
}

/// Counts over the numbered steps.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub done: usize,
    pub in_progress: usize,
    pub blocked: usize,
    pub skipped: usize,
    pub todo: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub step: String,
    pub number: Option<u32>,
    pub title: String,
    pub by: Option<String>,
    pub at: Option<Timestamp>,
    /// The step's note on one line.
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A numbered step.
    Step,
    /// A troubleshooting item.
    Troubleshooting,
    /// A step the state file (or an attachment) knows but the guide no
    /// longer has.
    Removed,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: String,
    pub number: Option<u32>,
    pub title: String,
    pub kind: StepKind,
    pub status: Status,
    pub by: Option<String>,
    pub at: Option<Timestamp>,
    /// The step's content changed after its status was set.
    pub drift: bool,
    /// The step is from the carrier's older process (shown as historical).
    pub historical: bool,
    pub note: String,
    /// The latest run of each check (per label and environment).
    pub checks: Vec<CheckReport>,
    pub evidence: Vec<EvidenceReport>,
}

/// "2 pass, 1 fail" for a step's checks, each verdict shown by `show`;
/// "–" if there are none.
pub(crate) fn verdict_counts(checks: &[CheckReport], show: &dyn Fn(Verdict) -> String) -> String {
    let order = [Verdict::Pass, Verdict::Fail, Verdict::Indeterminate, Verdict::Error, Verdict::Skipped];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|v| {
            let n = checks.iter().filter(|c| c.verdict == *v).count();
            (n > 0).then(|| format!("{n} {}", show(*v)))
        })
        .collect();
    if parts.is_empty() { "–".to_string() } else { parts.join(", ") }
}

/// The facts of a check run as list items, in both text formats: `text`
/// escapes a short value, `prose` a longer text, `code` a request line.
pub(crate) fn check_facts(
    c: &CheckReport,
    text: &dyn Fn(&str) -> String,
    prose: &dyn Fn(&str) -> String,
    code: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let mut items = Vec::new();
    if let Some(r) = &c.request {
        items.push(format!("Request: {}", code(r)));
    }
    if let Some(h) = c.http_status {
        items.push(format!("HTTP status: {h}"));
    }
    if let Some(h) = &c.hint {
        items.push(format!("Hint: {}", text(h)));
    }
    if let Some(p) = &c.proved {
        items.push(format!("Proved: {}", prose(p)));
    }
    if let Some(p) = &c.would_prove {
        items.push(format!("Would prove: {}", prose(p)));
    }
    if let Some(p) = &c.does_not_prove {
        items.push(format!("Does not prove: {}", prose(p)));
    }
    items
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The check's label as recorded.
    pub check: String,
    pub kind: Option<CheckKind>,
    pub env: Option<String>,
    pub verdict: Verdict,
    pub message: String,
    pub hint: Option<String>,
    pub at: Timestamp,
    pub by: String,
    pub duration_ms: u64,
    pub request: Option<String>,
    pub http_status: Option<u16>,
    pub excerpt: Option<String>,
    pub details: Vec<String>,
    /// What the run proved: only for a pass.
    pub proved: Option<String>,
    /// What a pass would have proved: for every other verdict.
    pub would_prove: Option<String>,
    pub does_not_prove: Option<String>,
    /// The carrier's correlation id, to quote to its support.
    pub trace_id: Option<String>,
    /// Older than the check's `fresh_for` at the time of the report.
    pub stale: bool,
    pub fresh_for: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceReport {
    /// The attached file's original name.
    pub name: String,
    pub at: Timestamp,
    pub by: String,
    pub truncated: bool,
    pub bytes: usize,
    /// Shown in the validation set (it looks like an API call).
    pub in_validation_set: bool,
    /// The API group it was matched to, if any.
    pub group: Option<String>,
    pub content: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidationSet {
    pub groups: Vec<ValidationGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidationGroup {
    /// The API group ("Track & Trace"); null for what is not tied to one.
    pub group: Option<String>,
    /// Calls of the customer's own integration (attached files).
    pub attachments: Vec<AttachmentRef>,
    /// What cutover itself ran.
    pub checks: Vec<ValidationCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentRef {
    pub what: String,
    pub step: String,
    pub number: Option<u32>,
    pub name: String,
    pub at: Timestamp,
    pub by: String,
    pub truncated: bool,
    /// Shown by the Markdown and HTML renderers; in JSON it is in the step's
    /// `evidence`.
    #[serde(skip)]
    pub content: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidationCheck {
    /// What this is, in words ("cutover's own request, not a call made by
    /// your integration").
    pub what: String,
    /// `cutover` (cutover's own request) or `command` (the user's own
    /// command, run by cutover).
    pub source: String,
    pub step: String,
    pub number: Option<u32>,
    pub check: String,
    /// The probe's label, for one API group of a probes check.
    pub probe: Option<String>,
    pub env: Option<String>,
    pub verdict: Option<Verdict>,
    pub message: String,
    pub request: Option<String>,
    pub http_status: Option<u16>,
    /// What to do next (cutover's own requests and commands only; a probes
    /// check's hint is under its step).
    pub hint: Option<String>,
    pub at: Timestamp,
    pub by: String,
    pub duration_ms: Option<u64>,
    pub proved: Option<String>,
    pub would_prove: Option<String>,
    pub does_not_prove: Option<String>,
    pub trace_id: Option<String>,
}

const WHAT_ATTACHMENT: &str =
    "a call made by your integration (a file you attached; keys were redacted when it was attached)";
const WHAT_CUTOVER: &str = "cutover's own request, not a call made by your integration";
const WHAT_COMMAND: &str = "your own command from your config, run by cutover";

// ------------------------------------------------------------------ build

/// Gathers the report's facts.
pub fn build(input: &ReportInput) -> Report {
    let g = input.guide;
    let gid = g.id();
    let lang = input.lang;
    let txt = |t: &Text| sanitize::line(t.get(lang, &g.languages));
    let records: BTreeMap<String, StepRecord> =
        input.progress.guides.get(gid).map(|gp| gp.steps.clone()).unwrap_or_default();
    let empty = StepRecord::default();
    let groups = group_defs(g, lang);
    let with_envs = !g.environments.is_empty();

    let mut summary = Summary::default();
    for s in &g.steps {
        summary.total += 1;
        match records.get(s.id()).map(|r| r.status).unwrap_or_default() {
            Status::Done => summary.done += 1,
            Status::InProgress => summary.in_progress += 1,
            Status::Blocked => summary.blocked += 1,
            Status::Skipped => summary.skipped += 1,
            Status::Todo => summary.todo += 1,
        }
    }

    let blockers = g
        .all_items()
        .filter_map(|s| {
            let r = records.get(s.id())?;
            (r.status == Status::Blocked).then(|| Blocker {
                step: sanitize::line(s.id()),
                number: s.number,
                title: txt(&s.title),
                by: r.by.as_deref().map(sanitize::line),
                at: r.at,
                note: sanitize::line(r.note.trim()),
            })
        })
        .collect();

    // Which steps to show: every numbered step, troubleshooting items that
    // were touched, and ids the guide no longer has.
    let mut shown: Vec<(Option<&Step>, String, StepKind)> = Vec::new();
    for s in &g.steps {
        shown.push((Some(s), s.id().to_string(), StepKind::Step));
    }
    let has_attachment = |id: &str| input.evidence.iter().any(|a| a.step == id);
    for s in &g.troubleshooting {
        let r = records.get(s.id());
        if r.is_some_and(|r| r.status != Status::Todo || !r.checks.is_empty()) || has_attachment(s.id()) {
            shown.push((Some(s), s.id().to_string(), StepKind::Troubleshooting));
        }
    }
    let mut removed: BTreeSet<String> =
        records.iter().filter(|(id, r)| g.item(id).is_none() && !r.is_default()).map(|(id, _)| id.clone()).collect();
    removed.extend(input.evidence.iter().filter(|a| g.item(&a.step).is_none()).map(|a| a.step.clone()));
    for id in removed {
        shown.push((None, id, StepKind::Removed));
    }

    let mut steps = Vec::new();
    for (step, id, kind) in shown {
        let r = records.get(&id).unwrap_or(&empty);
        let drift = r.status != Status::Todo
            && matches!((&r.hash, input.hashes.get(&id)), (Some(saved), Some(now)) if saved != now);
        let checks =
            latest_checks(r, step).into_iter().map(|(rec, spec)| check_report(rec, spec, g, lang, input.now)).collect();
        let evidence = input
            .evidence
            .iter()
            .filter(|a| a.step == id)
            .map(|a| {
                let content = sanitize::multiline(&a.content);
                let group = attachment_group(&groups, &a.name, &content);
                let in_validation_set = with_envs && (group.is_some() || looks_like_call(&content));
                EvidenceReport {
                    name: sanitize::line(&a.name),
                    at: a.added_at,
                    by: sanitize::line(&a.added_by),
                    truncated: a.truncated,
                    bytes: content.len(),
                    in_validation_set,
                    group,
                    content,
                }
            })
            .collect();
        steps.push(StepReport {
            step: sanitize::line(&id),
            number: step.and_then(|s| s.number),
            title: step.map(|s| txt(&s.title)).unwrap_or_else(|| sanitize::line(&id)),
            kind,
            status: r.status,
            by: r.by.as_deref().map(sanitize::line),
            at: r.at,
            drift,
            historical: step.is_some_and(|s| s.historical),
            note: sanitize::multiline(r.note.trim_end()),
            checks,
            evidence,
        });
    }

    let validation_set = with_envs.then(|| validation_set(g, &groups, &steps));

    Report {
        schema: REPORT_SCHEMA,
        guide: sanitize::line(gid),
        title: txt(&g.title),
        version: sanitize::line(&g.version),
        carrier: g.carrier.as_deref().map(sanitize::line),
        lang: sanitize::line(lang),
        generated_at: input.now,
        generated_by: sanitize::line(input.generated_by),
        state_path: sanitize::line(input.state_path),
        summary,
        notices: g
            .notices
            .iter()
            .filter(|n| n.kind == crate::guide::NoticeKind::Status)
            .map(|n| sanitize::multiline(n.text.get(lang, &g.languages).trim()))
            .filter(|t| !t.is_empty())
            .collect(),
        blockers,
        validation_set,
        steps,
    }
}

/// The latest record of each (check, env), in the order of the step's
/// checks, each with the check it came from if the guide still has it.
fn latest_checks<'a>(
    r: &'a StepRecord,
    step: Option<&'a Step>,
) -> Vec<(&'a CheckRecord, Option<(usize, &'a CheckSpec)>)> {
    let mut latest: BTreeMap<(&str, Option<&str>), &CheckRecord> = BTreeMap::new();
    for rec in &r.checks {
        let key = (rec.check.as_str(), rec.env.as_deref());
        match latest.get(&key) {
            Some(prev) if prev.at > rec.at => {}
            _ => {
                latest.insert(key, rec);
            }
        }
    }
    let mut out: Vec<_> = latest.into_values().map(|rec| (rec, step.and_then(|s| spec_for(s, &rec.check)))).collect();
    out.sort_by(|(a, sa), (b, sb)| {
        let ia = sa.map(|(i, _)| i).unwrap_or(usize::MAX);
        let ib = sb.map(|(i, _)| i).unwrap_or(usize::MAX);
        (ia, &a.env, &a.check).cmp(&(ib, &b.env, &b.check))
    });
    out
}

/// The step's check a record came from: by label in any language, or by
/// kind for a check without a label.
fn spec_for<'a>(step: &'a Step, check: &str) -> Option<(usize, &'a CheckSpec)> {
    step.checks.iter().enumerate().find(|(_, c)| match c.label.as_ref().filter(|l| !l.is_empty()) {
        Some(l) => l.0.values().any(|v| sanitize::line(v) == check),
        None => c.kind().as_str() == check,
    })
}

fn check_report(
    rec: &CheckRecord,
    spec: Option<(usize, &CheckSpec)>,
    g: &Guide,
    lang: &str,
    now: Timestamp,
) -> CheckReport {
    let spec = spec.map(|(_, s)| s);
    let text =
        |t: Option<&Text>| t.map(|t| sanitize::multiline(t.get(lang, &g.languages).trim())).filter(|s| !s.is_empty());
    let opt = |s: Option<&String>| s.map(|s| sanitize::multiline(s.trim())).filter(|s| !s.is_empty());
    let proves = spec
        .and_then(|s| text(s.proves.as_ref()))
        .or_else(|| opt(rec.proved.as_ref()))
        .or_else(|| opt(rec.would_prove.as_ref()));
    let passed = rec.verdict == Verdict::Pass;
    let (proved, would_prove) = if passed { (proves, None) } else { (None, proves) };
    let does_not_prove = spec.and_then(|s| text(s.does_not_prove.as_ref())).or_else(|| opt(rec.not_proved.as_ref()));
    let fresh_for = spec.and_then(|s| s.fresh_for.clone());
    let stale = fresh_for
        .as_deref()
        .and_then(crate::guide::parse_duration)
        .and_then(|secs| i64::try_from(secs).ok())
        .is_some_and(|secs| now.as_second().saturating_sub(rec.at.as_second()) > secs);
    CheckReport {
        check: sanitize::line(&rec.check),
        kind: spec.map(|s| s.kind()),
        env: rec.env.as_deref().map(sanitize::line),
        verdict: rec.verdict,
        message: sanitize::line(&rec.message),
        hint: rec.hint.as_deref().map(sanitize::line).filter(|s| !s.trim().is_empty()),
        at: rec.at,
        by: sanitize::line(&rec.by),
        duration_ms: rec.duration_ms,
        request: rec.request.as_deref().map(sanitize::line),
        http_status: rec.http_status,
        excerpt: rec.excerpt.as_deref().map(|e| sanitize::multiline(e.trim_end())).filter(|s| !s.trim().is_empty()),
        details: rec.details.iter().map(|d| sanitize::line(d)).collect(),
        proved,
        would_prove,
        does_not_prove,
        trace_id: rec.trace_id.as_deref().map(sanitize::line),
        stale,
        fresh_for: fresh_for.as_deref().map(sanitize::line),
    }
}

// ------------------------------------------------------------------ groups

/// An API group as the guide's probes name it, with the API paths that
/// belong to it.
struct GroupDef {
    name: String,
    norm: String,
    paths: Vec<PathMatcher>,
    /// Probe labels, for the validation set.
    labels: Vec<String>,
}

fn group_defs(g: &Guide, lang: &str) -> Vec<GroupDef> {
    let mut out: Vec<GroupDef> = Vec::new();
    for spec in g.all_items().flat_map(|s| s.checks.iter()) {
        if spec.kind() != CheckKind::Probes {
            continue;
        }
        for p in &spec.probes {
            let name = sanitize::line(p.group.trim());
            if name.is_empty() {
                continue;
            }
            let idx = match out.iter().position(|d| d.name == name) {
                Some(i) => i,
                None => {
                    out.push(GroupDef { norm: norm(&name), name, paths: Vec::new(), labels: Vec::new() });
                    out.len() - 1
                }
            };
            let Some(def) = out.get_mut(idx) else {
                continue;
            };
            if let Some(m) = p.path.as_deref().and_then(PathMatcher::new) {
                def.paths.push(m);
            }
            if let Some(l) = &p.label {
                let l = sanitize::line(l.get(lang, &g.languages));
                if !l.is_empty() && !def.labels.contains(&l) {
                    def.labels.push(l);
                }
            }
        }
    }
    out
}

/// Lower-case letters and digits only, "&" read as "and", and "and"
/// dropped, so that "Track & Trace", "track-and-trace" and "tracktrace"
/// compare equal.
fn norm(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c == '&' {
            out.push_str("and");
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out.replace("and", "")
}

/// Matches an API path in text whatever its version:
/// `/shipment/v2/status/...` gives `/shipment/` + any version + `/status`.
#[derive(Debug, Clone, PartialEq)]
enum PathMatcher {
    Versioned { before: String, resource: String },
    Literal(String),
}

fn is_version(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next() == Some('v')
        && chars.next().is_some_and(|c| c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_digit() || c == '_' || c == '.')
}

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl PathMatcher {
    fn new(path: &str) -> Option<PathMatcher> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(|s| s.to_ascii_lowercase()).collect();
        if let Some(i) = segs.iter().position(|s| is_version(s))
            && let Some(resource) = segs.get(i + 1)
            && !resource.contains('{')
        {
            let before = if i == 0 { "/".to_string() } else { format!("/{}/", segs[..i].join("/")) };
            return Some(PathMatcher::Versioned { before, resource: resource.clone() });
        }
        let fixed: Vec<&str> = segs.iter().take_while(|s| !s.contains('{')).map(String::as_str).collect();
        if fixed.is_empty() {
            return None;
        }
        Some(PathMatcher::Literal(format!("/{}", fixed.join("/"))))
    }

    /// Where the path first occurs in `hay` (lower-case).
    fn find(&self, hay: &str) -> Option<usize> {
        match self {
            PathMatcher::Versioned { before, resource } => hay.match_indices(before.as_str()).find_map(|(pos, _)| {
                let rest = hay.get(pos + before.len()..)?;
                let vlen = rest.find(|c: char| !(word_char(c) || c == '.'))?;
                let version = rest.get(..vlen)?;
                let after = rest.get(vlen..)?.strip_prefix('/')?;
                let tail = after.strip_prefix(resource.as_str())?;
                (is_version(version) && !tail.starts_with(word_char)).then_some(pos)
            }),
            PathMatcher::Literal(lit) => hay.match_indices(lit.as_str()).find_map(|(pos, _)| {
                let tail = hay.get(pos + lit.len()..)?;
                (!tail.starts_with(word_char)).then_some(pos)
            }),
        }
    }
}

/// The group whose API path occurs first in `text`, if any.
fn group_by_path<'a>(groups: &'a [GroupDef], text: &str) -> Option<&'a GroupDef> {
    let hay = text.to_ascii_lowercase();
    groups
        .iter()
        .filter_map(|d| d.paths.iter().filter_map(|m| m.find(&hay)).min().map(|p| (p, d)))
        .min_by_key(|(p, _)| *p)
        .map(|(_, d)| d)
}

/// An attachment's group: by an API path in its content, else by the
/// group's name in its file name (the longest such name).
fn attachment_group(groups: &[GroupDef], name: &str, content: &str) -> Option<String> {
    if let Some(d) = group_by_path(groups, content) {
        return Some(d.name.clone());
    }
    let n = norm(name);
    groups
        .iter()
        .filter(|d| !d.norm.is_empty() && n.contains(&d.norm))
        .max_by_key(|d| d.norm.len())
        .map(|d| d.name.clone())
}

/// True if the text holds an HTTP request or response (a request line, a
/// status line, a curl command, a HAR file).
fn looks_like_call(text: &str) -> bool {
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let by_line = text.lines().take(5000).any(|l| {
        let t = l.trim_start();
        if t.starts_with("HTTP/") || t.to_ascii_lowercase().starts_with("curl ") {
            return true;
        }
        METHODS.iter().any(|m| {
            t.strip_prefix(m).and_then(|r| r.strip_prefix(' ')).is_some_and(|r| {
                let r = r.trim_start();
                r.starts_with('/') || r.to_ascii_lowercase().starts_with("http")
            })
        })
    });
    by_line || (text.contains("\"request\"") && text.contains("\"response\""))
}

// ------------------------------------------------------------------ validation set

fn validation_set(g: &Guide, groups: &[GroupDef], steps: &[StepReport]) -> ValidationSet {
    // (group, item) pairs, in step order.
    let mut attachments: Vec<(Option<String>, AttachmentRef)> = Vec::new();
    let mut checks: Vec<(Option<String>, ValidationCheck)> = Vec::new();
    for s in steps {
        for e in s.evidence.iter().filter(|e| e.in_validation_set) {
            attachments.push((
                e.group.clone(),
                AttachmentRef {
                    what: WHAT_ATTACHMENT.to_string(),
                    step: s.step.clone(),
                    number: s.number,
                    name: e.name.clone(),
                    at: e.at,
                    by: e.by.clone(),
                    truncated: e.truncated,
                    content: e.content.clone(),
                },
            ));
        }
        let spec_step = g.item(&s.step);
        for c in &s.checks {
            let base = |what: &str, source: &str| ValidationCheck {
                what: what.to_string(),
                source: source.to_string(),
                step: s.step.clone(),
                number: s.number,
                check: c.check.clone(),
                probe: None,
                env: c.env.clone(),
                verdict: Some(c.verdict),
                message: c.message.clone(),
                request: c.request.clone(),
                http_status: c.http_status,
                hint: c.hint.clone(),
                at: c.at,
                by: c.by.clone(),
                duration_ms: Some(c.duration_ms),
                proved: c.proved.clone(),
                would_prove: c.would_prove.clone(),
                does_not_prove: c.does_not_prove.clone(),
                trace_id: c.trace_id.clone(),
            };
            match c.kind {
                Some(CheckKind::Probes) => {
                    for row in &c.details {
                        let Some((def, result)) = groups.iter().find_map(|d| {
                            let rest = row.strip_prefix(d.name.as_str())?;
                            (rest.is_empty() || rest.starts_with("  ")).then(|| (d, rest.trim().to_string()))
                        }) else {
                            continue;
                        };
                        let mut item = base(WHAT_CUTOVER, "cutover");
                        item.probe = def.labels.first().cloned();
                        item.verdict = row_verdict(&result);
                        // What the row proves follows the row's own verdict.
                        let text = item.proved.take().or(item.would_prove.take());
                        if item.verdict == Some(Verdict::Pass) {
                            item.proved = text;
                        } else {
                            item.would_prove = text;
                        }
                        item.http_status = row_status(&result);
                        item.message = result;
                        item.request = None;
                        item.hint = None;
                        item.duration_ms = None;
                        checks.push((Some(def.name.clone()), item));
                    }
                }
                Some(CheckKind::Http) => {
                    let path = spec_step
                        .and_then(|st| spec_for(st, &c.check))
                        .and_then(|(_, sp)| sp.path.clone())
                        .or_else(|| c.request.clone())
                        .unwrap_or_default();
                    let group = group_by_path(groups, &path).map(|d| d.name.clone());
                    checks.push((group, base(WHAT_CUTOVER, "cutover")));
                }
                Some(CheckKind::Command) => checks.push((None, base(WHAT_COMMAND, "command"))),
                None if c.request.is_some() => {
                    let group = c.request.as_deref().and_then(|r| group_by_path(groups, r)).map(|d| d.name.clone());
                    checks.push((group, base(WHAT_CUTOVER, "cutover")));
                }
                _ => {}
            }
        }
    }

    let mut in_scope: BTreeSet<&str> = BTreeSet::new();
    in_scope.extend(attachments.iter().filter_map(|(g, _)| g.as_deref()));
    in_scope.extend(checks.iter().filter_map(|(g, _)| g.as_deref()));
    let named: Vec<&GroupDef> = if in_scope.is_empty() {
        groups.iter().collect()
    } else {
        groups.iter().filter(|d| in_scope.contains(d.name.as_str())).collect()
    };

    let take = |group: Option<&str>| ValidationGroup {
        group: group.map(str::to_string),
        attachments: attachments.iter().filter(|(g, _)| g.as_deref() == group).map(|(_, a)| a.clone()).collect(),
        checks: checks.iter().filter(|(g, _)| g.as_deref() == group).map(|(_, c)| c.clone()).collect(),
    };
    let mut out: Vec<ValidationGroup> = named.iter().map(|d| take(Some(&d.name))).collect();
    let rest = take(None);
    if groups.is_empty() || !rest.attachments.is_empty() || !rest.checks.is_empty() {
        out.push(rest);
    }
    ValidationSet { groups: out }
}

/// The verdict behind a probes row ("enabled (200)", "not enabled (401)",
/// "unknown (429): ...", "error: ...", "skipped ...").
fn row_verdict(result: &str) -> Option<Verdict> {
    let r = result.to_ascii_lowercase();
    if r.starts_with("enabled") {
        Some(Verdict::Pass)
    } else if r.starts_with("not enabled") {
        Some(Verdict::Fail)
    } else if r.starts_with("could not tell") || r.starts_with("unknown") {
        Some(Verdict::Indeterminate)
    } else if r.starts_with("error") {
        Some(Verdict::Error)
    } else if r.starts_with("skipped") {
        Some(Verdict::Skipped)
    } else {
        None
    }
}

/// "enabled (200)" gives 200.
fn row_status(result: &str) -> Option<u16> {
    let open = result.find('(')?;
    let rest = result.get(open + 1..)?;
    let close = rest.find(')')?;
    rest.get(..close)?.trim().parse().ok()
}

// ------------------------------------------------------------------ shared by the renderers

/// "in progress", "to do", ...
pub(crate) fn status_text(s: Status) -> &'static str {
    match s {
        Status::Todo => "to do",
        Status::InProgress => "in progress",
        Status::Done => "done",
        Status::Blocked => "blocked",
        Status::Skipped => "skipped",
    }
}

/// "2026-11-23 10:00 UTC"
pub(crate) fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// "312 ms", "4.2 s"
pub(crate) fn took(ms: u64) -> String {
    if ms < 1000 { format!("{ms} ms") } else { format!("{}.{} s", ms / 1000, (ms % 1000) / 100) }
}

/// "Step 5", "Troubleshooting", or the id of a removed step.
pub(crate) fn step_ref(number: Option<u32>, step: &str) -> String {
    match number {
        Some(n) => format!("step {n}"),
        None => format!("item {step}"),
    }
}

pub(crate) fn drift_text(status: Status) -> String {
    format!(
        "Changed since it was marked {}: the guide's text for this step changed afterwards; read it again before relying on the status.",
        status_text(status)
    )
}

pub(crate) const VALIDATION_INTRO: &str = "PostNL asks for \"a validation set containing at least one successful API call and response for each webservice and shipping product in scope\" before it issues a production key. Per API group below: first the calls your own integration made (files you attached), then cutover's own checks. cutover's checks prove that the carrier accepts the key; they do not prove that your integration works.";

pub(crate) const VALIDATION_INTRO_GENERIC: &str = "The calls your own integration made (files you attached) come first, then cutover's own checks. cutover's checks prove that the carrier accepts the key; they do not prove that your integration works.";

/// The introduction for this guide's validation set.
pub(crate) fn validation_intro(r: &Report) -> &'static str {
    let postnl = r.guide == "postnl" || r.carrier.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("postnl"));
    if postnl { VALIDATION_INTRO } else { VALIDATION_INTRO_GENERIC }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_whatever_the_version() {
        let m = PathMatcher::new("/shipment/v2/status/barcode/3SDEVC000000000");
        assert_eq!(m, Some(PathMatcher::Versioned { before: "/shipment/".into(), resource: "status".into() }));
        let Some(m) = m else { return };
        assert_eq!(m.find("get https://api-sandbox.postnl.nl/shipment/v2_2/status/barcode/x"), Some(33));
        assert_eq!(m.find("/shipment/v2/statusx"), None);
        assert_eq!(m.find("/shipment/latest/status"), None);
    }

    #[test]
    fn literal_paths_stop_at_placeholders() {
        assert_eq!(PathMatcher::new("/api/{customer}/x"), Some(PathMatcher::Literal("/api".into())));
        assert_eq!(PathMatcher::new("/{x}"), None);
    }

    #[test]
    fn group_names_compare_loosely() {
        assert_eq!(norm("Track & Trace"), norm("track-and-trace"));
        assert_eq!(norm("Track & Trace"), norm("TrackTrace"));
        assert_ne!(norm("Shipping"), norm("Delivery Options"));
    }

    #[test]
    fn calls_are_recognised() {
        assert!(looks_like_call("POST /shipment/v2_2/label HTTP/1.1\nHost: x"));
        assert!(looks_like_call("  curl -X GET https://x"));
        assert!(looks_like_call("HTTP/1.1 200 OK"));
        assert!(!looks_like_call("Dear customer, your ticket 4711 was closed."));
        assert!(!looks_like_call("GETTING started"));
    }

    #[test]
    fn probe_rows_read_back() {
        assert_eq!(row_verdict("enabled (200)"), Some(Verdict::Pass));
        assert_eq!(row_verdict("not enabled (401)"), Some(Verdict::Fail));
        assert_eq!(row_status("not enabled (401)"), Some(401));
        assert_eq!(row_status("error: timed out"), None);
    }
}
