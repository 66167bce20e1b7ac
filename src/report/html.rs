//! The report as one self-contained HTML file: inline CSS, no script, no
//! link to anything outside (a Content-Security-Policy forbids loading any),
//! every value escaped.

use super::{
    AttachmentRef, CheckReport, EvidenceReport, Report, StepKind, StepReport, ValidationCheck, ValidationGroup,
    drift_text, status_text, step_ref, took, validation_intro, when,
};
use crate::progress::Verdict;
use std::fmt::Write;

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
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>Hand-off report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&r.lang),
        esc(&r.title)
    );
    header(&mut o, r);
    summary(&mut o, r);
    if let Some(vs) = &r.validation_set {
        let _ = writeln!(o, "<h2>Validation set</h2>\n<p>{}</p>", esc(validation_intro(r)));
        for g in &vs.groups {
            validation_group(&mut o, g, vs.groups.len());
        }
    }
    let _ = writeln!(o, "<h2>Steps</h2>");
    for s in &r.steps {
        step(&mut o, s);
    }
    o.push_str("</body>\n</html>\n");
    o
}

fn header(o: &mut String, r: &Report) {
    let _ = writeln!(o, "<h1>Hand-off report: {}</h1>\n<table>", esc(&r.title));
    let _ = writeln!(o, "<tr><th>Guide</th><td><code>{}</code>, version {}</td></tr>", esc(&r.guide), esc(&r.version));
    if let Some(c) = &r.carrier {
        let _ = writeln!(o, "<tr><th>Carrier</th><td>{}</td></tr>", esc(c));
    }
    let _ =
        writeln!(o, "<tr><th>Generated</th><td>{} by {}</td></tr>", esc(&when(r.generated_at)), esc(&r.generated_by));
    let _ = writeln!(o, "<tr><th>State file</th><td><code>{}</code></td></tr>\n</table>", esc(&r.state_path));
    let _ = writeln!(
        o,
        "<p class=\"muted\">Made by cutover from its state file. It holds no API key: check records keep keys masked, and attached files were redacted when they were attached.</p>"
    );
    for n in &r.notices {
        let _ = writeln!(o, "<blockquote>");
        for para in n.split("\n\n") {
            let _ = writeln!(o, "<p>{}</p>", esc(para));
        }
        let _ = writeln!(o, "</blockquote>");
    }
}

fn summary(o: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = writeln!(o, "<h2>Summary</h2>\n<table>");
    let _ = writeln!(
        o,
        "<tr><th class=\"n\">Done</th><th class=\"n\">In progress</th><th class=\"n\">Blocked</th><th class=\"n\">Skipped</th><th class=\"n\">To do</th><th class=\"n\">Steps</th></tr>"
    );
    let _ = writeln!(
        o,
        "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n</table>",
        s.done, s.in_progress, s.blocked, s.skipped, s.todo, s.total
    );
    let _ = writeln!(o, "<table>\n<tr><th class=\"n\">#</th><th>Step</th><th>Status</th><th>Latest checks</th></tr>");
    for st in &r.steps {
        let num = match (st.kind, st.number) {
            (_, Some(n)) => n.to_string(),
            (StepKind::Troubleshooting, None) => "T".to_string(),
            _ => "–".to_string(),
        };
        let mut status = status_text(st.status).to_string();
        if st.drift {
            status.push_str(", changed since");
        }
        let _ = writeln!(
            o,
            "<tr><td class=\"n\">{num}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&st.title),
            esc(&status),
            super::verdict_counts(&st.checks, &badge)
        );
    }
    let _ = writeln!(o, "</table>\n<h3>Open blockers</h3>");
    if r.blockers.is_empty() {
        let _ = writeln!(o, "<p>No step is blocked.</p>");
        return;
    }
    let _ = writeln!(o, "<ul>");
    for b in &r.blockers {
        let _ = write!(o, "<li><strong>{}, {}</strong>", esc(&step_ref(b.number, &b.step)), esc(&b.title));
        if let (Some(by), Some(at)) = (&b.by, b.at) {
            let _ = write!(o, " (blocked by {} since {})", esc(by), esc(&when(at)));
        }
        if !b.note.is_empty() {
            let _ = write!(o, ": {}", esc(&b.note));
        }
        let _ = writeln!(o, "</li>");
    }
    let _ = writeln!(o, "</ul>");
}

fn badge(v: Verdict) -> String {
    format!("<span class=\"v {0}\">{0}</span>", v.as_str())
}

fn validation_group(o: &mut String, g: &ValidationGroup, groups: usize) {
    let title = match &g.group {
        Some(name) => esc(name),
        None if groups > 1 => "Not tied to one API group".to_string(),
        None => "API calls".to_string(),
    };
    let _ = writeln!(o, "<h3>{title}</h3>");
    let others = g.group.is_none() && groups > 1;
    if !(others && g.attachments.is_empty()) {
        let _ = writeln!(
            o,
            "<p><strong>Calls made by your integration</strong> (files you attached; keys were redacted when they were attached):</p>"
        );
    }
    if g.attachments.is_empty() && !others {
        let _ = writeln!(
            o,
            "<p>None attached yet. Attach a request and its response from your own integration{}.</p>",
            if g.group.is_some() { " for this group" } else { "" }
        );
    }
    for a in &g.attachments {
        attachment_ref(o, a);
    }
    let _ = writeln!(
        o,
        "<p><strong>cutover's own checks</strong> (they prove what is listed, not that your integration works):</p>"
    );
    if g.checks.is_empty() {
        let _ = writeln!(o, "<p>None run yet.</p>");
        return;
    }
    let _ = writeln!(o, "<ul>");
    for c in &g.checks {
        validation_check(o, c);
    }
    let _ = writeln!(o, "</ul>");
}

fn attachment_ref(o: &mut String, a: &AttachmentRef) {
    let _ = writeln!(
        o,
        "<p><code>{}</code>, attached to {} by {} at {}{}:</p>\n<pre>{}</pre>",
        esc(&a.name),
        esc(&step_ref(a.number, &a.step)),
        esc(&a.by),
        esc(&when(a.at)),
        if a.truncated { " (cut at 256 KB)" } else { "" },
        esc(&a.content)
    );
}

fn validation_check(o: &mut String, c: &ValidationCheck) {
    let verdict = c.verdict.map(badge).unwrap_or_else(|| "?".to_string());
    let _ = write!(o, "<li>{verdict} {}", esc(&c.check));
    if let Some(p) = &c.probe {
        let _ = write!(o, " ({})", esc(p));
    }
    let _ = write!(o, ", {}", esc(&step_ref(c.number, &c.step)));
    if let Some(env) = &c.env {
        let _ = write!(o, ", {}", esc(env));
    }
    let _ = writeln!(o, ", {} by {}\n<ul>", esc(&when(c.at)), esc(&c.by));
    let _ = writeln!(o, "<li>What this is: {}</li>", esc(&c.what));
    if !c.message.is_empty() {
        let _ = writeln!(o, "<li>Result: {}</li>", esc(&c.message));
    }
    if let Some(req) = &c.request {
        let _ = writeln!(o, "<li>Request: <code>{}</code></li>", esc(req));
    }
    if let Some(h) = &c.hint {
        let _ = writeln!(o, "<li>Hint: {}</li>", esc(h));
    }
    if let Some(t) = &c.trace_id {
        let _ = writeln!(o, "<li>traceId: <code>{}</code></li>", esc(t));
    }
    if let Some(p) = &c.proved {
        let _ = writeln!(o, "<li>Proved: {}</li>", esc(p));
    }
    if let Some(p) = &c.would_prove {
        let _ = writeln!(o, "<li>Would prove: {}</li>", esc(p));
    }
    if let Some(p) = &c.does_not_prove {
        let _ = writeln!(o, "<li>Does not prove: {}</li>", esc(p));
    }
    let _ = writeln!(o, "</ul></li>");
}

fn step(o: &mut String, s: &StepReport) {
    let status = status_text(s.status);
    let status_html = esc(status);
    match s.kind {
        StepKind::Step => {
            let num = s.number.map(|n| format!("{n}. ")).unwrap_or_default();
            let old = if s.historical { " (historical)" } else { "" };
            let _ = writeln!(o, "<h3>{num}{}{old}: {status_html}</h3>", esc(&s.title));
        }
        StepKind::Troubleshooting => {
            let _ = writeln!(o, "<h3>Troubleshooting: {}: {status_html}</h3>", esc(&s.title));
        }
        StepKind::Removed => {
            let _ = writeln!(o, "<h3><code>{}</code> (no longer in this guide): {status_html}</h3>", esc(&s.step));
        }
    }
    if let (Some(by), Some(at)) = (&s.by, s.at) {
        let _ = writeln!(o, "<p>Marked {} by {} at {}.</p>", esc(status), esc(by), esc(&when(at)));
    }
    if s.drift {
        let _ = writeln!(o, "<p class=\"drift\"><strong>{}</strong></p>", esc(&drift_text(s.status)));
    }
    if !s.note.trim().is_empty() {
        let _ = writeln!(o, "<p>Note:</p>\n<blockquote>{}</blockquote>", esc(&s.note));
    }
    for c in &s.checks {
        check(o, c);
    }
    for e in &s.evidence {
        evidence(o, e);
    }
}

fn check(o: &mut String, c: &CheckReport) {
    let env = c.env.as_deref().map(|e| format!(", {}", esc(e))).unwrap_or_default();
    let _ = writeln!(o, "<h4>Check: {}{env}: {}</h4>", esc(&c.check), badge(c.verdict));
    let mut run = format!("Run by {} at {}, took {}.", esc(&c.by), esc(&when(c.at)), esc(&took(c.duration_ms)));
    if c.stale {
        let _ = write!(
            run,
            " <strong>Stale:</strong> older than {}; run it again.",
            esc(c.fresh_for.as_deref().unwrap_or("its freshness limit"))
        );
    }
    let _ = writeln!(o, "<p>{run}</p>");
    if !c.message.is_empty() {
        let _ = writeln!(o, "<p>{}</p>", esc(&c.message));
    }
    let items = super::check_facts(c, &esc, &esc, &|r| format!("<code>{}</code>", esc(r)));
    if !items.is_empty() {
        let _ = writeln!(o, "<ul>");
        for i in items {
            let _ = writeln!(o, "<li>{i}</li>");
        }
        let _ = writeln!(o, "</ul>");
    }
    if let Some(e) = &c.excerpt {
        let _ = writeln!(o, "<p>Response excerpt:</p>\n<pre>{}</pre>", esc(e));
    }
    if !c.details.is_empty() {
        let _ = writeln!(o, "<p>Details:</p>\n<pre>{}</pre>", esc(&c.details.join("\n")));
    }
}

fn evidence(o: &mut String, e: &EvidenceReport) {
    let _ = writeln!(o, "<h4>Evidence: <code>{}</code></h4>", esc(&e.name));
    let _ = writeln!(
        o,
        "<p>Attached by {} at {}, {} bytes{}.</p>",
        esc(&e.by),
        esc(&when(e.at)),
        e.bytes,
        if e.truncated { ", cut at 256 KB" } else { "" }
    );
    if e.in_validation_set {
        let place = e.group.as_deref().map(|g| format!(" under {}", esc(g))).unwrap_or_default();
        let _ = writeln!(o, "<p>Shown in the validation set{place}.</p>");
    } else {
        let _ = writeln!(o, "<pre>{}</pre>", esc(&e.content));
    }
}

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_covers_the_five() {
        assert_eq!(esc("<a href='x'>\"&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
    }
}
