//! Words and facts the Markdown and HTML renderings share.

use super::*;
use crate::progress::{Status, Verdict};
use jiff::Timestamp;

/// How many of a step's checks have each verdict, in the order the report
/// lists them (pass, fail, indeterminate, error, skipped); verdicts none has
/// are left out.
pub(crate) fn verdict_tally(checks: &[CheckReport]) -> Vec<(usize, Verdict)> {
    let order = [Verdict::Pass, Verdict::Fail, Verdict::Indeterminate, Verdict::Error, Verdict::Skipped];
    order.iter().map(|v| (checks.iter().filter(|c| c.verdict == *v).count(), *v)).filter(|(n, _)| *n > 0).collect()
}

/// One fact of a check run, as both text formats list it: a label and a
/// value of some kind, each format escaping it its own way.
pub(crate) struct Fact<'a> {
    pub label: &'static str,
    pub value: FactValue<'a>,
}

pub(crate) enum FactValue<'a> {
    /// A short value.
    Text(&'a str),
    /// A longer text (what a check proves).
    Prose(&'a str),
    /// A request line.
    Code(&'a str),
    /// A number.
    Number(u64),
}

/// The facts of a check run, in the order both text formats list them.
pub(crate) fn check_facts(c: &CheckReport) -> Vec<Fact<'_>> {
    let mut items = Vec::new();
    let mut push = |label, value| items.push(Fact { label, value });
    if let Some(r) = &c.request {
        push("Request", FactValue::Code(r));
    }
    if let Some(h) = c.http_status {
        push("HTTP status", FactValue::Number(u64::from(h)));
    }
    if let Some(h) = &c.hint {
        push("Hint", FactValue::Text(h));
    }
    if let Some(p) = &c.proved {
        push("Proved", FactValue::Prose(p));
    }
    if let Some(p) = &c.would_prove {
        push("Would prove", FactValue::Prose(p));
    }
    if let Some(p) = &c.does_not_prove {
        push("Does not prove", FactValue::Prose(p));
    }
    items
}

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
