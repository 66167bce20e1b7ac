//! The report's model: every fact it shows, already sanitized; the JSON
//! rendering is this model itself (docs/json.md).

use crate::guide::CheckKind;
use crate::progress::{Status, Verdict};
use jiff::Timestamp;
use serde::Serialize;

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
