//! The report as one self-contained HTML file: inline CSS, no script, no
//! link to anything outside (a Content-Security-Policy forbids loading any),
//! every value escaped: the page is an [`Html`], which takes values only as
//! escaped text.

use super::markup::Html;
use super::{
    AttachmentRef, CheckReport, EvidenceReport, FactValue, Report, StepKind, StepReport, ValidationCheck,
    ValidationGroup, drift_text, status_text, step_ref, took, validation_intro, verdict_tally, when,
};
use crate::progress::Verdict;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.45}\
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}h3{margin-top:1.6rem}h4{margin:1.2rem 0 .4rem}\
table{border-collapse:collapse;margin:.6rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right}\
pre{background:#f5f5f5;border:1px solid #ddd;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}\
code{background:#f2f2f2;padding:0 .2rem}\
blockquote{border-left:4px solid #ccc;margin:.4rem 0;padding:.2rem .8rem;white-space:pre-wrap}\
.v{font-weight:bold;padding:0 .3rem;border-radius:3px}\
.pass{background:#d7f5dd;color:#0b5d1e}.fail{background:#fadbd8;color:#8a1c12}.indeterminate{background:#fdf0cc;color:#6b4e00}.error{background:#f3d9f7;color:#5e1570}.skipped{background:#e8e8e8;color:#444}\
.drift{background:#fff4ce;border:1px solid #e0c060;padding:.4rem .6rem}\
.muted{color:#555}";

pub(super) fn render(r: &Report) -> String {
    let mut o = Html::new();
    o.tag("<!DOCTYPE html>\n<html lang=\"")
        .text(&r.lang)
        .tag("\">\n<head>\n<meta charset=\"utf-8\">\n")
        .tag(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
        )
        .tag("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .tag("<title>Hand-off report: ")
        .text(&r.title)
        .tag("</title>\n<style>")
        .tag(STYLE)
        .tag("</style>\n</head>\n<body>\n");
    header(&mut o, r);
    summary(&mut o, r);
    if let Some(vs) = &r.validation_set {
        o.tag("<h2>Validation set</h2>\n<p>").text(validation_intro(r)).tag("</p>\n");
        for g in &vs.groups {
            validation_group(&mut o, g, vs.groups.len());
        }
    }
    o.tag("<h2>Steps</h2>\n");
    for s in &r.steps {
        step(&mut o, s);
    }
    o.tag("</body>\n</html>\n");
    o.finish()
}

fn header(o: &mut Html, r: &Report) {
    o.tag("<h1>Hand-off report: ").text(&r.title).tag("</h1>\n<table>\n");
    o.tag("<tr><th>Guide</th><td><code>").text(&r.guide).tag("</code>, version ").text(&r.version).tag("</td></tr>\n");
    if let Some(c) = &r.carrier {
        o.tag("<tr><th>Carrier</th><td>").text(c).tag("</td></tr>\n");
    }
    o.tag("<tr><th>Generated</th><td>")
        .text(&when(r.generated_at))
        .tag(" by ")
        .text(&r.generated_by)
        .tag("</td></tr>\n");
    o.tag("<tr><th>State file</th><td><code>").text(&r.state_path).tag("</code></td></tr>\n</table>\n");
    o.tag("<p class=\"muted\">Made by cutover from its state file. It holds no API key: check records keep keys masked, and attached files were redacted when they were attached.</p>\n");
    for n in &r.notices {
        o.tag("<blockquote>\n");
        for para in n.split("\n\n") {
            o.tag("<p>").text(para).tag("</p>\n");
        }
        o.tag("</blockquote>\n");
    }
}

fn summary(o: &mut Html, r: &Report) {
    let s = &r.summary;
    o.tag("<h2>Summary</h2>\n<table>\n");
    o.tag("<tr><th class=\"n\">Done</th><th class=\"n\">In progress</th><th class=\"n\">Blocked</th><th class=\"n\">Skipped</th><th class=\"n\">To do</th><th class=\"n\">Steps</th></tr>\n");
    o.tag("<tr>");
    for n in [s.done, s.in_progress, s.blocked, s.skipped, s.todo, s.total] {
        o.tag("<td class=\"n\">").num(n).tag("</td>");
    }
    o.tag("</tr>\n</table>\n");
    o.tag("<table>\n<tr><th class=\"n\">#</th><th>Step</th><th>Status</th><th>Latest checks</th></tr>\n");
    for st in &r.steps {
        o.tag("<tr><td class=\"n\">");
        match (st.kind, st.number) {
            (_, Some(n)) => o.num(n),
            (StepKind::Troubleshooting, None) => o.tag("T"),
            _ => o.tag("–"),
        };
        o.tag("</td><td>").text(&st.title).tag("</td><td>").text(status_text(st.status));
        if st.drift {
            o.tag(", changed since");
        }
        o.tag("</td><td>").html(&verdict_counts(&st.checks)).tag("</td></tr>\n");
    }
    o.tag("</table>\n<h3>Open blockers</h3>\n");
    if r.blockers.is_empty() {
        o.tag("<p>No step is blocked.</p>\n");
        return;
    }
    o.tag("<ul>\n");
    for b in &r.blockers {
        o.tag("<li><strong>").text(&step_ref(b.number, &b.step)).tag(", ").text(&b.title).tag("</strong>");
        if let (Some(by), Some(at)) = (&b.by, b.at) {
            o.tag(" (blocked by ").text(by).tag(" since ").text(&when(at)).tag(")");
        }
        if !b.note.is_empty() {
            o.tag(": ").text(&b.note);
        }
        o.tag("</li>\n");
    }
    o.tag("</ul>\n");
}

/// A verdict as a coloured word (its class is the verdict's own name).
fn badge(v: Verdict) -> Html {
    let mut h = Html::new();
    h.tag("<span class=\"v ").text(v.as_str()).tag("\">").text(v.as_str()).tag("</span>");
    h
}

/// "2 pass, 1 fail" with badges; "–" if there are no checks.
fn verdict_counts(checks: &[CheckReport]) -> Html {
    let mut h = Html::new();
    let tally = verdict_tally(checks);
    if tally.is_empty() {
        h.tag("–");
    }
    for (i, (n, v)) in tally.into_iter().enumerate() {
        if i > 0 {
            h.tag(", ");
        }
        h.num(n).tag(" ").html(&badge(v));
    }
    h
}

fn validation_group(o: &mut Html, g: &ValidationGroup, groups: usize) {
    o.tag("<h3>");
    match &g.group {
        Some(name) => o.text(name),
        None if groups > 1 => o.tag("Not tied to one API group"),
        None => o.tag("API calls"),
    };
    o.tag("</h3>\n");
    let others = g.group.is_none() && groups > 1;
    if !(others && g.attachments.is_empty()) {
        o.tag("<p><strong>Calls made by your integration</strong> (files you attached; keys were redacted when they were attached):</p>\n");
    }
    if g.attachments.is_empty() && !others {
        o.tag("<p>None attached yet. Attach a request and its response from your own integration")
            .tag(if g.group.is_some() { " for this group" } else { "" })
            .tag(".</p>\n");
    }
    for a in &g.attachments {
        attachment_ref(o, a);
    }
    o.tag(
        "<p><strong>cutover's own checks</strong> (they prove what is listed, not that your integration works):</p>\n",
    );
    if g.checks.is_empty() {
        o.tag("<p>None run yet.</p>\n");
        return;
    }
    o.tag("<ul>\n");
    for c in &g.checks {
        validation_check(o, c);
    }
    o.tag("</ul>\n");
}

fn attachment_ref(o: &mut Html, a: &AttachmentRef) {
    o.tag("<p><code>")
        .text(&a.name)
        .tag("</code>, attached to ")
        .text(&step_ref(a.number, &a.step))
        .tag(" by ")
        .text(&a.by)
        .tag(" at ")
        .text(&when(a.at))
        .tag(if a.truncated { " (cut at 256 KB)" } else { "" })
        .tag(":</p>\n<pre>")
        .text(&a.content)
        .tag("</pre>\n");
}

fn validation_check(o: &mut Html, c: &ValidationCheck) {
    o.tag("<li>");
    match c.verdict {
        Some(v) => o.html(&badge(v)),
        None => o.tag("?"),
    };
    o.tag(" ").text(&c.check);
    if let Some(p) = &c.probe {
        o.tag(" (").text(p).tag(")");
    }
    o.tag(", ").text(&step_ref(c.number, &c.step));
    if let Some(env) = &c.env {
        o.tag(", ").text(env);
    }
    o.tag(", ").text(&when(c.at)).tag(" by ").text(&c.by).tag("\n<ul>\n");
    o.tag("<li>What this is: ").text(&c.what).tag("</li>\n");
    if !c.message.is_empty() {
        o.tag("<li>Result: ").text(&c.message).tag("</li>\n");
    }
    if let Some(req) = &c.request {
        o.tag("<li>Request: <code>").text(req).tag("</code></li>\n");
    }
    if let Some(h) = &c.hint {
        o.tag("<li>Hint: ").text(h).tag("</li>\n");
    }
    if let Some(t) = &c.trace_id {
        o.tag("<li>traceId: <code>").text(t).tag("</code></li>\n");
    }
    if let Some(p) = &c.proved {
        o.tag("<li>Proved: ").text(p).tag("</li>\n");
    }
    if let Some(p) = &c.would_prove {
        o.tag("<li>Would prove: ").text(p).tag("</li>\n");
    }
    if let Some(p) = &c.does_not_prove {
        o.tag("<li>Does not prove: ").text(p).tag("</li>\n");
    }
    o.tag("</ul></li>\n");
}

fn step(o: &mut Html, s: &StepReport) {
    let status = status_text(s.status);
    o.tag("<h3>");
    match s.kind {
        StepKind::Step => {
            if let Some(n) = s.number {
                o.num(n).tag(". ");
            }
            o.text(&s.title).tag(if s.historical { " (historical)" } else { "" });
        }
        StepKind::Troubleshooting => {
            o.tag("Troubleshooting: ").text(&s.title);
        }
        StepKind::Removed => {
            o.tag("<code>").text(&s.step).tag("</code> (no longer in this guide)");
        }
    }
    o.tag(": ").text(status).tag("</h3>\n");
    if let (Some(by), Some(at)) = (&s.by, s.at) {
        o.tag("<p>Marked ").text(status).tag(" by ").text(by).tag(" at ").text(&when(at)).tag(".</p>\n");
    }
    if s.drift {
        o.tag("<p class=\"drift\"><strong>").text(&drift_text(s.status)).tag("</strong></p>\n");
    }
    if !s.note.trim().is_empty() {
        o.tag("<p>Note:</p>\n<blockquote>").text(&s.note).tag("</blockquote>\n");
    }
    for c in &s.checks {
        check(o, c);
    }
    for e in &s.evidence {
        evidence(o, e);
    }
}

fn check(o: &mut Html, c: &CheckReport) {
    o.tag("<h4>Check: ").text(&c.check);
    if let Some(e) = &c.env {
        o.tag(", ").text(e);
    }
    o.tag(": ").html(&badge(c.verdict)).tag("</h4>\n");
    o.tag("<p>Run by ").text(&c.by).tag(" at ").text(&when(c.at)).tag(", took ").text(&took(c.duration_ms)).tag(".");
    if c.stale {
        o.tag(" <strong>Stale:</strong> older than ")
            .text(c.fresh_for.as_deref().unwrap_or("its freshness limit"))
            .tag("; run it again.");
    }
    o.tag("</p>\n");
    if !c.message.is_empty() {
        o.tag("<p>").text(&c.message).tag("</p>\n");
    }
    let facts = super::check_facts(c);
    if !facts.is_empty() {
        o.tag("<ul>\n");
        for f in facts {
            o.tag("<li>").tag(f.label).tag(": ");
            match f.value {
                FactValue::Text(t) | FactValue::Prose(t) => o.text(t),
                FactValue::Code(r) => o.tag("<code>").text(r).tag("</code>"),
                FactValue::Number(n) => o.num(n),
            };
            o.tag("</li>\n");
        }
        o.tag("</ul>\n");
    }
    if let Some(e) = &c.excerpt {
        o.tag("<p>Response excerpt:</p>\n<pre>").text(e).tag("</pre>\n");
    }
    if !c.details.is_empty() {
        o.tag("<p>Details:</p>\n<pre>").text(&c.details.join("\n")).tag("</pre>\n");
    }
}

fn evidence(o: &mut Html, e: &EvidenceReport) {
    o.tag("<h4>Evidence: <code>").text(&e.name).tag("</code></h4>\n");
    o.tag("<p>Attached by ")
        .text(&e.by)
        .tag(" at ")
        .text(&when(e.at))
        .tag(", ")
        .num(e.bytes)
        .tag(" bytes")
        .tag(if e.truncated { ", cut at 256 KB" } else { "" })
        .tag(".</p>\n");
    if e.in_validation_set {
        o.tag("<p>Shown in the validation set");
        if let Some(g) = &e.group {
            o.tag(" under ").text(g);
        }
        o.tag(".</p>\n");
    } else {
        o.tag("<pre>").text(&e.content).tag("</pre>\n");
    }
}
