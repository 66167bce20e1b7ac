//! The report as Markdown that reads well pasted into an email or a ticket:
//! headings, short tables, server text in code fences. Every value is
//! escaped for Markdown (or fenced), so a note cannot start a table, a
//! heading or raw HTML.

use super::FactValue;
use super::{
    AttachmentRef, CheckReport, EvidenceReport, Report, StepKind, StepReport, ValidationCheck, ValidationGroup,
    drift_text, status_text, step_ref, took, validation_intro, when,
};
use std::fmt::Write;

pub(super) fn render(r: &Report) -> String {
    let mut o = String::new();
    header(&mut o, r);
    summary(&mut o, r);
    if let Some(vs) = &r.validation_set {
        let _ = writeln!(o, "## Validation set\n");
        let _ = writeln!(o, "{}\n", text(validation_intro(r)));
        for g in &vs.groups {
            validation_group(&mut o, g, vs.groups.len());
        }
    }
    let _ = writeln!(o, "## Steps\n");
    for s in &r.steps {
        step(&mut o, s);
    }
    let trimmed = o.trim_end().len();
    o.truncate(trimmed);
    o.push('\n');
    o
}

fn header(o: &mut String, r: &Report) {
    let _ = writeln!(o, "# Hand-off report: {}\n", text(&r.title));
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| Guide | {}, version {} |", code(&r.guide), cell(&r.version));
    if let Some(c) = &r.carrier {
        let _ = writeln!(o, "| Carrier | {} |", cell(c));
    }
    let _ = writeln!(o, "| Generated | {} by {} |", when(r.generated_at), cell(&r.generated_by));
    let _ = writeln!(o, "| State file | {} |\n", code(&r.state_path));
    let _ = writeln!(
        o,
        "Made by cutover from its state file. It holds no API key: check records keep keys masked, and attached files were redacted when they were attached.\n"
    );
    for n in &r.notices {
        for para in n.split("\n\n") {
            let _ = writeln!(o, "> {}\n>", text(&one_line(para)));
        }
        let _ = writeln!(o);
    }
}

fn summary(o: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = writeln!(o, "## Summary\n");
    let _ = writeln!(o, "| Done | In progress | Blocked | Skipped | To do | Steps |\n|---:|---:|---:|---:|---:|---:|");
    let _ =
        writeln!(o, "| {} | {} | {} | {} | {} | {} |\n", s.done, s.in_progress, s.blocked, s.skipped, s.todo, s.total);
    let _ = writeln!(o, "| # | Step | Status | Latest checks |\n|---:|---|---|---|");
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
        let _ = writeln!(o, "| {num} | {} | {} | {} |", cell(&st.title), status, verdict_counts(&st.checks));
    }
    o.push('\n');
    let _ = writeln!(o, "### Open blockers\n");
    if r.blockers.is_empty() {
        let _ = writeln!(o, "No step is blocked.\n");
        return;
    }
    for b in &r.blockers {
        let mut line = format!("- **{}, {}**", capital(&step_ref(b.number, &b.step)), text(&b.title));
        if let (Some(by), Some(at)) = (&b.by, b.at) {
            let _ = write!(line, " (blocked by {} since {})", text(by), when(at));
        }
        if !b.note.is_empty() {
            let _ = write!(line, ": {}", text(&b.note));
        }
        let _ = writeln!(o, "{line}");
    }
    o.push('\n');
}

fn validation_group(o: &mut String, g: &ValidationGroup, groups: usize) {
    match &g.group {
        Some(name) => {
            let _ = writeln!(o, "### {}\n", text(name));
        }
        None if groups > 1 => {
            let _ = writeln!(o, "### Not tied to one API group\n");
        }
        None => {
            let _ = writeln!(o, "### API calls\n");
        }
    }
    let others = g.group.is_none() && groups > 1;
    if !(others && g.attachments.is_empty()) {
        let _ = writeln!(
            o,
            "**Calls made by your integration** (files you attached; keys were redacted when they were attached):\n"
        );
    }
    if g.attachments.is_empty() && !others {
        let _ = writeln!(
            o,
            "None attached yet. Attach a request and its response from your own integration{}.\n",
            if g.group.is_some() { " for this group" } else { "" }
        );
    }
    for a in &g.attachments {
        attachment_ref(o, a);
    }
    let _ = writeln!(o, "**cutover's own checks** (they prove what is listed, not that your integration works):\n");
    if g.checks.is_empty() {
        let _ = writeln!(o, "None run yet.\n");
        return;
    }
    for c in &g.checks {
        validation_check(o, c);
    }
    o.push('\n');
}

fn attachment_ref(o: &mut String, a: &AttachmentRef) {
    let _ = writeln!(
        o,
        "{}, attached to {} by {} at {}{}:\n",
        code(&a.name),
        step_ref(a.number, &a.step),
        text(&a.by),
        when(a.at),
        if a.truncated { " (cut at 256 KB)" } else { "" }
    );
    let _ = writeln!(o, "{}", fenced(&a.content));
}

fn validation_check(o: &mut String, c: &ValidationCheck) {
    let verdict =
        c.verdict.map(|v| format!("**{}**", v.as_str().to_ascii_uppercase())).unwrap_or_else(|| "**?**".to_string());
    let mut head = format!("- {verdict}: {}", text(&c.check));
    if let Some(p) = &c.probe {
        let _ = write!(head, " ({})", text(p));
    }
    let _ = write!(head, ", {}", step_ref(c.number, &c.step));
    if let Some(env) = &c.env {
        let _ = write!(head, ", {}", text(env));
    }
    let _ = write!(head, ", {} by {}", when(c.at), text(&c.by));
    let _ = writeln!(o, "{head}");
    let _ = writeln!(o, "  - What this is: {}", text(&c.what));
    if !c.message.is_empty() {
        let _ = writeln!(o, "  - Result: {}", text(&c.message));
    }
    if let Some(req) = &c.request {
        let _ = writeln!(o, "  - Request: {}", code(req));
    }
    if let Some(h) = &c.hint {
        let _ = writeln!(o, "  - Hint: {}", text(h));
    }
    if let Some(t) = &c.trace_id {
        let _ = writeln!(o, "  - traceId: {}", code(t));
    }
    if let Some(p) = &c.proved {
        let _ = writeln!(o, "  - Proved: {}", text(&one_line(p)));
    }
    if let Some(p) = &c.would_prove {
        let _ = writeln!(o, "  - Would prove: {}", text(&one_line(p)));
    }
    if let Some(p) = &c.does_not_prove {
        let _ = writeln!(o, "  - Does not prove: {}", text(&one_line(p)));
    }
}

fn step(o: &mut String, s: &StepReport) {
    let status = status_text(s.status);
    match s.kind {
        StepKind::Step => {
            let num = s.number.map(|n| format!("{n}. ")).unwrap_or_default();
            let old = if s.historical { " (historical)" } else { "" };
            let _ = writeln!(o, "### {num}{}{old}: {status}\n", text(&s.title));
        }
        StepKind::Troubleshooting => {
            let _ = writeln!(o, "### Troubleshooting: {}: {status}\n", text(&s.title));
        }
        StepKind::Removed => {
            let _ = writeln!(o, "### {} (no longer in this guide): {status}\n", code(&s.step));
        }
    }
    if let (Some(by), Some(at)) = (&s.by, s.at) {
        let _ = writeln!(o, "Marked {status} by {} at {}.\n", text(by), when(at));
    }
    if s.drift {
        let _ = writeln!(o, "**{}**\n", text(&drift_text(s.status)));
    }
    if !s.note.trim().is_empty() {
        let _ = writeln!(o, "Note:\n");
        for l in s.note.lines() {
            let l = l.trim();
            if l.is_empty() {
                let _ = writeln!(o, ">");
            } else {
                let _ = writeln!(o, "> {}", text(l));
            }
        }
        o.push('\n');
    }
    for c in &s.checks {
        check(o, c);
    }
    for e in &s.evidence {
        evidence(o, e);
    }
}

fn check(o: &mut String, c: &CheckReport) {
    let env = c.env.as_deref().map(|e| format!(", {}", text(e))).unwrap_or_default();
    let _ = writeln!(o, "#### Check: {}{env}: {}\n", text(&c.check), c.verdict.as_str().to_ascii_uppercase());
    let mut run = format!("Run by {} at {}, took {}.", text(&c.by), when(c.at), took(c.duration_ms));
    if c.stale {
        let _ = write!(
            run,
            " Stale: older than {}; run it again.",
            text(c.fresh_for.as_deref().unwrap_or("its freshness limit"))
        );
    }
    let _ = writeln!(o, "{run}\n");
    if !c.message.is_empty() {
        let _ = writeln!(o, "{}\n", text(&c.message));
    }
    let items = super::check_facts(c);
    for f in &items {
        let value = match f.value {
            FactValue::Text(t) => text(t),
            FactValue::Prose(p) => text(&one_line(p)),
            FactValue::Code(r) => code(r),
            FactValue::Number(n) => n.to_string(),
        };
        let _ = writeln!(o, "- {}: {value}", f.label);
    }
    if !items.is_empty() {
        o.push('\n');
    }
    if let Some(e) = &c.excerpt {
        let _ = writeln!(o, "Response excerpt:\n\n{}", fenced(e));
    }
    if !c.details.is_empty() {
        let _ = writeln!(o, "Details:\n\n{}", fenced(&c.details.join("\n")));
    }
}

fn evidence(o: &mut String, e: &EvidenceReport) {
    let _ = writeln!(o, "#### Evidence: {}\n", code(&e.name));
    let cut = if e.truncated { ", cut at 256 KB" } else { "" };
    let _ = writeln!(o, "Attached by {} at {}, {} bytes{cut}.\n", text(&e.by), when(e.at), e.bytes);
    if e.in_validation_set {
        let place = e.group.as_deref().map(|g| format!(" under {}", text(g))).unwrap_or_default();
        let _ = writeln!(o, "Shown in the validation set{place}.\n");
    } else {
        let _ = writeln!(o, "{}", fenced(&e.content));
    }
}

// ------------------------------------------------------------------ escaping

/// "2 pass, 1 fail"; "–" if there are no checks.
fn verdict_counts(checks: &[super::CheckReport]) -> String {
    let parts: Vec<String> = super::verdict_tally(checks).iter().map(|(n, v)| format!("{n} {v}")).collect();
    if parts.is_empty() { "–".to_string() } else { parts.join(", ") }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Escapes one line of text so that Markdown shows it as it is: no
/// emphasis, link, code span, raw HTML, table cell break, heading or list.
pub(super) fn text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' => true,
            // Only where it could start an entity (`&lt;`, `&#60;`).
            '&' => next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#'),
            // Intra-word underscores (snake_case) are not emphasis.
            '_' => !(prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric)),
            '#' | '+' | '-' | '=' | '!' => i == 0,
            '.' | ')' => chars[..i].iter().all(char::is_ascii_digit) && i > 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text for a table cell (one line, escaped).
fn cell(s: &str) -> String {
    text(&one_line(s))
}

/// An inline code span that holds any text (a fence longer than any
/// backtick run inside).
pub(super) fn code(s: &str) -> String {
    let s = one_line(s);
    if s.is_empty() {
        return "(none)".to_string();
    }
    let ticks = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// A fenced code block, the fence longer than any backtick run inside.
pub(super) fn fenced(s: &str) -> String {
    let fence = "`".repeat((longest_run(s, '`') + 1).max(3));
    let body = s.trim_end_matches('\n');
    format!("{fence}\n{body}\n{fence}\n")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_markdown_would_read() {
        assert_eq!(text("a | b"), "a \\| b");
        assert_eq!(text("<script>"), "\\<script\\>");
        assert_eq!(text("# not a heading"), "\\# not a heading");
        assert_eq!(text("1. not a list"), "1\\. not a list");
        assert_eq!(text("in_progress"), "in_progress");
        assert_eq!(text("_em_"), "\\_em\\_");
        assert_eq!(text("2026-11-23"), "2026-11-23");
        assert_eq!(text("Track & Trace &lt;"), "Track & Trace \\&lt;");
    }

    #[test]
    fn fences_outgrow_the_content() {
        assert_eq!(fenced("a ```` b"), "`````\na ```` b\n`````\n");
        assert_eq!(fenced("plain\n"), "```\nplain\n```\n");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
