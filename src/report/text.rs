//! Words and facts the Markdown and HTML renderings share.

use super::*;
use crate::progress::{Status, Verdict};
use jiff::Timestamp;

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
