//! The detail pane: the step's full instructions, contacts, links, checks
//! with their latest verdicts, and the note.

use super::Canvas;
use super::Theme;
use super::link::{self, Hyperlink};
use super::wrap::Linked;
use crate::app::App;
use crate::clock::ago;
use crate::guide::{ContactKind, Guide, NoticeKind, Step};
use crate::sanitize;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

/// Draws the pane; says where its links are (screen positions).
pub fn render(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect) -> Vec<Hyperlink> {
    let Some(g) = app.guide() else { return Vec::new() };
    let Some(step) = app.selected_step() else {
        return Vec::new();
    };
    // Text wider than this is hard to read: a wide pane keeps its text to
    // the left and leaves the rest empty.
    let inner_w = area.width.saturating_sub(2).min(MAX_TEXT_WIDTH);
    let inner_h = area.height.saturating_sub(2);
    let title = match step.number {
        Some(n) => format!(" Step {n} "),
        None => " Troubleshooting ".to_string(),
    };
    // The top stays put: the title, the verdict strip and a rule; the guide
    // text scrolls below it. A pane too low to keep three rows of text
    // below the strip scrolls everything.
    let mut top = vec![Line::from(Span::styled(app.text(g, &step.title).to_string(), theme.title()))];
    top.extend(strip(app, theme, g, step));
    top.push(Line::from(Span::styled((if theme.ascii { "-" } else { "─" }).repeat(inner_w as usize), theme.dim())));
    let top = super::wrap::wrap_lines(top, inner_w);
    let body = lines(app, theme, g, step, inner_w as usize);
    let (body, mut row_links) = super::wrap::wrap_linked(body, inner_w);
    let (pinned, body) = if top.len() as u16 + 3 <= inner_h {
        (top, body)
    } else {
        for l in &mut row_links {
            l.row += top.len();
        }
        let mut all = top;
        all.extend(body);
        (Vec::new(), all)
    };
    let pinned_h = (pinned.len() as u16).min(inner_h);
    let rows = inner_h - pinned_h;
    let view = crate::app::DetailView { rows, total: body.len() as u16 };
    app.detail_view.set(view);
    // Never past the end: a resize that makes the text shorter keeps the
    // last screenful in view.
    let scroll = app.detail_scroll.min(view.max_scroll());
    let below = view.total.saturating_sub(scroll + rows);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.dim()))
        .border_type(ratatui::widgets::BorderType::Rounded);
    if below > 0 {
        let arrow = if theme.ascii { "v" } else { "↓" };
        let more = format!(" {arrow} {below} more line{} (J/PgDn) ", if below == 1 { "" } else { "s" });
        block = block.title_bottom(Line::from(Span::styled(more, theme.heading())).right_aligned());
    } else if scroll > 0 {
        let arrow = if theme.ascii { "^" } else { "↑" };
        block = block
            .title_bottom(Line::from(Span::styled(format!(" {arrow} end (K/PgUp) "), theme.dim())).right_aligned());
    }
    let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let inner = Rect { width: inner.width.min(inner_w), ..inner };
    let pinned_area = Rect { height: pinned_h, ..inner };
    let body_area = Rect { y: inner.y + pinned_h, height: rows, ..inner };
    super::rows::paint(&pinned, 0, pinned_area, frame.buffer_mut());
    super::rows::paint(&body, usize::from(scroll), body_area, frame.buffer_mut());
    // The links in view, where they are on screen.
    let first = scroll as usize;
    row_links
        .into_iter()
        .filter(|l| l.row >= first && l.row < first + rows as usize && l.width > 0)
        .map(|l| Hyperlink {
            x: body_area.x + l.x,
            y: body_area.y + (l.row - first) as u16,
            width: l.width,
            id: (l.parts > 1).then(|| link_id(&l.target)),
            text: l.text,
            target: l.target,
        })
        .collect()
}

/// The widest text the pane writes, in cells.
pub const MAX_TEXT_WIDTH: u16 = 100;

/// The `id` the rows of one wrapped link share: short, from its target.
fn link_id(target: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    target.hash(&mut h);
    format!("{:08x}", h.finish() as u32)
}

/// The detail pane's lines as they are built, and which of their spans are
/// URLs with a link target.
#[derive(Default)]
pub struct Out {
    lines: Vec<Line<'static>>,
    links: Vec<(usize, usize, String)>,
}

impl Out {
    fn push(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }

    /// A line whose span `at` is a URL; linked only if [`link::target`]
    /// accepts it.
    fn push_link(&mut self, line: Line<'static>, at: usize, url: &str) {
        if let Some(t) = link::target(url) {
            self.links.push((self.lines.len(), at, t));
        }
        self.lines.push(line);
    }

    fn into_linked(self) -> Vec<Linked<'static>> {
        let mut links = self.links.into_iter().peekable();
        self.lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| {
                let link = links.next_if(|(row, _, _)| *row == i).map(|(_, at, t)| (at, t));
                Linked { line, link }
            })
            .collect()
    }
}

/// The verdict strip: the step's verdict and when, fresh or stale, the one
/// thing to do next, and the keys that act on it.
pub fn strip(app: &App, theme: &Theme, g: &Guide, step: &Step) -> Vec<Line<'static>> {
    let next = crate::app::next::next_for(app, g, step);
    let mut out: Vec<Line<'static>> = Vec::new();
    if step.checks.is_empty() {
        let text = if app.settings.observe {
            "No check: a person ticks this step."
        } else {
            "No check: tick it by hand (Space) when it is done."
        };
        out.push(Line::from(Span::styled(text, theme.dim())));
        return out;
    }
    // Another session of a served checklist running this step's check.
    for line in crate::app::peers::running_here(app, g.id(), step.id()) {
        out.push(Line::from(Span::styled(
            theme.ascii_text(&format!("{} {}", theme.spinner(app.spinner), crate::sanitize::line(&line))),
            theme.heading(),
        )));
    }
    if let Some(w) = next.waiting {
        // Run all waits for the call budget: why, and how much longer.
        let what = if w.per_minute.is_some() { "the rate limit" } else { "the server's pause" };
        out.push(Line::from(vec![
            Span::styled(
                theme.ascii_text(&format!("{} waiting for {what}", theme.spinner(app.spinner))),
                theme.heading(),
            ),
            Span::raw(format!(" {} {} s", theme.sep(), w.secs_left(app.now))),
        ]));
        out.push(Line::from(Span::styled(w.why(), theme.dim())));
    } else if let Some(since) = next.running_since {
        let elapsed = (app.now.as_second() - since.as_second()).max(0);
        let timeout = step.checks.iter().filter_map(|c| c.timeout_secs).max().unwrap_or(app.check_timeout_secs);
        out.push(Line::from(vec![
            Span::styled(theme.ascii_text(&format!("{} checking…", theme.spinner(app.spinner))), theme.heading()),
            Span::raw(format!(" {elapsed} s (timeout {timeout} s per request)")),
        ]));
    } else {
        match next.verdict {
            None => out.push(Line::from(vec![Span::styled(
                format!("{} not checked yet", theme.status_glyph(crate::progress::Status::Todo)),
                theme.heading(),
            )])),
            Some((v, at)) => {
                let mut spans = vec![
                    Span::styled(theme.verdict_label(v), theme.verdict_style(v).add_modifier(Modifier::BOLD)),
                    Span::raw(format!(" {} {}", theme.sep(), ago(at, app.now))),
                ];
                if next.stale {
                    let window = next
                        .window
                        .map(|w| ago(app.now - jiff::SignedDuration::from_secs(w as i64), app.now))
                        .unwrap_or_default();
                    spans.push(Span::raw(format!(" {} ", theme.sep())));
                    spans.push(Span::styled(
                        format!("stale (older than {}): check again", window.trim_end_matches(" ago")),
                        theme.warn(),
                    ));
                } else if next.window.is_some() {
                    spans.push(Span::raw(format!(" {} ", theme.sep())));
                    spans.push(Span::styled("fresh", theme.ok()));
                }
                out.push(Line::from(spans));
            }
        }
    }
    // A rate-limit wait counts down to the next call possible.
    let (message, hint) = match next.deciding {
        Some(d) => {
            let (m, h) = crate::app::next::counted_down(d, app.now);
            (Some(m), h)
        }
        None => (None, None),
    };
    if let (Some(d), Some(message)) = (next.deciding, &message)
        && next.running_since.is_none()
    {
        out.push(Line::from(vec![
            Span::styled(format!("{}: ", sanitize::line(&d.check)), theme.dim()),
            Span::raw(sanitize::line(message)),
        ]));
    }
    let todo: Option<String> = if next.running_since.is_some() {
        None
    } else if next.offer_done {
        Some("every automatic check passed: mark the step done (d).".to_string())
    } else {
        next.deciding.filter(|d| d.verdict != crate::progress::Verdict::Pass).and(hint.as_deref()).map(sanitize::line)
    };
    if let Some(t) = todo {
        out.push(Line::from(vec![Span::styled("Next: ", theme.heading()), Span::raw(t)]));
    }
    if !next.keys.is_empty() {
        let mut spans: Vec<Span<'static>> = Vec::new();
        for (i, k) in next.keys.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(format!(" {} ", theme.sep()), theme.dim()));
            }
            spans.push(Span::styled(k.key, theme.heading()));
            spans.push(Span::raw(format!(" {}", k.what)));
        }
        out.push(Line::from(spans));
    }
    out
}

fn heading(theme: &Theme, text: &str) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), theme.heading()))
}

pub fn lines(app: &App, theme: &Theme, g: &Guide, step: &Step, width: usize) -> Vec<Linked<'static>> {
    let gid = g.id();
    let sid = step.id();
    let mut out = Out::default();

    // Status, who, when.
    let rec = app.progress.step(gid, sid);
    let status = app.status(gid, sid);
    let mut st = vec![
        Span::raw("Status: "),
        if let Some(problem) = &app.state_problem {
            // An observer of a state nobody has saved yet, or cannot read.
            let why = if problem == crate::progress::store::NOTHING_SAVED_YET {
                "nothing saved yet"
            } else {
                "the state cannot be read"
            };
            Span::styled(format!("? unknown ({why})"), theme.dim())
        } else {
            Span::styled(
                format!("{} {}", theme.status_glyph(status), status.as_str().replace('_', " ")),
                theme.status_style(status),
            )
        },
    ];
    if let Some(r) = rec
        && let (Some(by), Some(at)) = (&r.by, r.at)
    {
        st.push(Span::styled(format!("  by {} {}", sanitize::line(by), ago(at, app.now)), theme.dim()));
    }
    st.push(Span::styled(format!("  [{sid}]"), theme.dim()));
    out.push(Line::from(st));
    if app.drifted(gid, sid) {
        out.push(Line::from(Span::styled(
            "This step changed since it was ticked: read it again, then press a to acknowledge.",
            theme.warn(),
        )));
    }
    if step.historical {
        out.push(Line::from(Span::styled(
            "Historical: this step is from the carrier's older process and may no longer exist as written; today's route is in the notes below.",
            theme.warn(),
        )));
    }
    // Steps named by their titles, not their ids.
    let missing: Vec<String> = app
        .missing_requirements(g, step)
        .iter()
        .map(|id| match g.item(id) {
            Some(s) => match s.number {
                Some(n) => format!("{n}. {}", app.text(g, &s.title)),
                None => app.text(g, &s.title).to_string(),
            },
            None => id.clone(),
        })
        .collect();
    if !missing.is_empty() && status != crate::progress::Status::Todo {
        out.push(Line::from(Span::styled(format!("Needs first: {}", missing.join(", ")), theme.warn())));
    } else if !missing.is_empty() {
        out.push(Line::from(Span::styled(format!("Do first: {}", missing.join(", ")), theme.dim())));
    }

    // Guide notices open the first step.
    if app.selected == 0 {
        // cutover's dated status notes first: they say what changed since
        // the carrier wrote its guide.
        let status_first = g.notices.iter().filter(|n| n.kind == NoticeKind::Status);
        for n in status_first.chain(g.notices.iter().filter(|n| n.kind != NoticeKind::Status)) {
            out.push(Line::default());
            // The notice's own text says what it is ("Current status: ...").
            let style = match n.kind {
                NoticeKind::Status => theme.warn(),
                NoticeKind::Warning => theme.bad(),
                NoticeKind::Info => ratatui::style::Style::new(),
            };
            push_text(&mut out, width, app.text(g, &n.text), theme, style);
        }
    }

    out.push(Line::default());
    push_text(&mut out, width, app.text(g, &step.body), theme, ratatui::style::Style::new());

    if !step.contacts.is_empty() {
        out.push(Line::default());
        out.push(heading(theme, "Contact"));
        for c in &step.contacts {
            let kind = match c.kind {
                ContactKind::Phone => "phone",
                ContactKind::Email => "email",
                ContactKind::Web => "web",
            };
            let label = c.label.as_ref().map(|l| format!(" ({})", app.text(g, l))).unwrap_or_default();
            let line = Line::from(vec![
                Span::raw(format!("  {kind:<6}")),
                Span::styled(c.value.clone(), theme.link()),
                Span::styled(label, theme.dim()),
            ]);
            match c.kind {
                ContactKind::Web => out.push_link(line, 1, &c.value),
                ContactKind::Email if !c.value.contains(':') => out.push_link(line, 1, &format!("mailto:{}", c.value)),
                _ => out.push(line),
            }
        }
    }
    if !step.links.is_empty() {
        out.push(Line::default());
        out.push(heading(theme, "Links"));
        for l in &step.links {
            let label = l.label.as_ref().map(|t| format!("{}: ", app.text(g, t))).unwrap_or_default();
            let line = Line::from(vec![Span::raw(format!("  {label}")), Span::styled(l.url.clone(), theme.link())]);
            out.push_link(line, 1, &l.url);
        }
    }
    for n in &step.notes {
        out.push(Line::default());
        out.push(Line::from(Span::styled("Note from cutover:", theme.warn().add_modifier(Modifier::BOLD))));
        push_text(&mut out, width, app.text(g, &n.text), theme, theme.dim());
    }
    if !step.troubleshoot.is_empty() {
        out.push(Line::default());
        out.push(heading(theme, "If something is missing (t jumps there)"));
        for t in &step.troubleshoot {
            let title =
                g.item(t.get_ref()).map(|s| app.text(g, &s.title).to_string()).unwrap_or_else(|| t.get_ref().clone());
            out.push(Line::from(format!("  {} {title}", theme.bullet())));
        }
    }

    checks(app, theme, g, step, &mut out);

    out.push(Line::default());
    out.push(heading(theme, "Note"));
    let note = rec.map(|r| r.note.as_str()).unwrap_or("");
    if note.is_empty() {
        out.push(Line::from(Span::styled("  (none: press e to write one)", theme.dim())));
    } else {
        push_text(&mut out, width, &sanitize::multiline(note), theme, ratatui::style::Style::new());
    }
    out.into_linked()
}

fn checks(app: &App, theme: &Theme, g: &Guide, step: &Step, out: &mut Out) {
    if step.checks.is_empty() {
        return;
    }
    let gid = g.id();
    let sid = step.id();
    out.push(Line::default());
    let running = app.is_running(gid, sid);
    let head = if running {
        format!("Checks {} running… (c cancels)", theme.spinner(app.spinner))
    } else {
        "Checks (c runs them)".to_string()
    };
    out.push(heading(theme, &theme.ascii_text(&head)));
    for c in &step.checks {
        let label =
            c.label.as_ref().map(|l| app.text(g, l).to_string()).unwrap_or_else(|| c.kind().as_str().to_string());
        let envs = c.env_names(g).join("/");
        let mut flags = Vec::new();
        if !envs.is_empty() {
            flags.push(envs);
        }
        if c.on_request {
            flags.push("on request".into());
        }
        if c.env_names(g).iter().any(|e| c.creates_data_in(e)) {
            flags.push("can create data: asks first".into());
        }
        out.push(Line::from(vec![
            Span::raw(format!("  {} ", theme.bullet())),
            Span::raw(label),
            Span::styled(format!("  {} ({})", c.kind().as_str(), flags.join(", ")), theme.dim()),
        ]));
    }
    // The latest run of each check.
    let Some(rec) = app.progress.step(gid, sid) else {
        return;
    };
    let mut seen: Vec<&str> = Vec::new();
    let latest: Vec<&crate::progress::CheckRecord> = rec
        .checks
        .iter()
        .rev()
        .filter(|c| {
            if seen.contains(&c.check.as_str()) {
                false
            } else {
                seen.push(c.check.as_str());
                true
            }
        })
        .collect();
    if latest.is_empty() {
        return;
    }
    out.push(Line::default());
    out.push(heading(theme, "Latest verdicts"));
    if app.is_stale(gid, step) {
        let window = app
            .fresh_window(gid, step)
            .map(|w| crate::clock::ago(app.now - jiff::SignedDuration::from_secs(w as i64), app.now))
            .unwrap_or_default();
        out.push(Line::from(Span::styled(
            format!(
                "  stale: older than the freshness window ({}); press c to re-check",
                window.trim_end_matches(" ago")
            ),
            theme.warn(),
        )));
    }
    for c in latest.into_iter().rev() {
        let env = c.env.as_deref().map(|e| format!(" [{e}]")).unwrap_or_default();
        let (message, hint) = crate::app::next::counted_down(c, app.now);
        out.push(Line::from(vec![
            Span::styled(format!("  {}", theme.verdict_label(c.verdict)), theme.verdict_style(c.verdict)),
            Span::raw(format!(" {}{env}: ", sanitize::line(&c.check))),
            Span::raw(sanitize::line(&message)),
            Span::styled(
                format!("  ({}, {} ms, by {})", ago(c.at, app.now), c.duration_ms, sanitize::line(&c.by)),
                theme.dim(),
            ),
        ]));
        for d in &c.details {
            out.push(Line::from(Span::styled(format!("      {}", sanitize::line(d)), theme.dim())));
        }
        if let Some(h) = &hint {
            out.push(Line::from(vec![Span::styled("    what to do: ", theme.warn()), Span::raw(sanitize::line(h))]));
        }
        if let Some(p) = &c.proved {
            out.push(Line::from(Span::styled(format!("    proved: {}", sanitize::line(p)), theme.dim())));
        }
        if let Some(p) = &c.would_prove {
            out.push(Line::from(Span::styled(format!("    would prove: {}", sanitize::line(p)), theme.dim())));
        }
        if let Some(t) = &c.trace_id {
            out.push(Line::from(Span::styled(format!("    traceId: {}", sanitize::line(t)), theme.dim())));
        }
        if let Some(p) = &c.not_proved {
            out.push(Line::from(Span::styled(format!("    does not prove: {}", sanitize::line(p)), theme.dim())));
        }
        if let Some(r) = &c.request {
            let status = c.http_status.map(|s| format!(" -> {s}")).unwrap_or_default();
            out.push(Line::from(Span::styled(format!("    {}{status}", sanitize::line(r)), theme.dim())));
        }
    }
}

/// Paragraphs and "- " list items, as lines for a wrapping paragraph. A
/// URL in the text gets a line of its own (the punctuation after it
/// stays with it), so that wrapping never breaks it.
fn push_text(out: &mut Out, width: usize, text: &str, theme: &Theme, style: ratatui::style::Style) {
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(item) = line.strip_prefix("- ") {
            // List items wrap with a hanging indent, under their first word.
            let bullet = format!("  {} ", theme.bullet());
            let indent = unicode_width::UnicodeWidthStr::width(bullet.as_str());
            let mut first = true;
            for piece in split_urls(item) {
                match piece {
                    Piece::Text(t) => {
                        for p in wrap(t, width.saturating_sub(indent).max(10)) {
                            let lead = if first { bullet.clone() } else { " ".repeat(indent) };
                            first = false;
                            out.push(Line::from(vec![Span::raw(lead), Span::styled(p, style)]));
                        }
                    }
                    Piece::Url(before, url, after) => {
                        let lead = if first { bullet.clone() } else { " ".repeat(indent) };
                        first = false;
                        let (line, at) = url_line(Some(lead), before, url, after, theme, style);
                        out.push_link(line, at, url);
                    }
                }
            }
        } else {
            for piece in split_urls(line) {
                match piece {
                    Piece::Text(t) => out.push(Line::from(Span::styled(t.to_string(), style))),
                    Piece::Url(before, url, after) => {
                        let (line, at) = url_line(None, before, url, after, theme, style);
                        out.push_link(line, at, url);
                    }
                }
            }
        }
    }
}

/// A line that holds one URL: the indent, what sticks to the URL before
/// and after it (brackets, quotes, a full stop), and which span the URL is.
fn url_line(
    indent: Option<String>,
    before: &str,
    url: &str,
    after: &str,
    theme: &Theme,
    style: ratatui::style::Style,
) -> (Line<'static>, usize) {
    let mut spans = Vec::new();
    spans.extend(indent.map(Span::raw));
    if !before.is_empty() {
        spans.push(Span::styled(before.to_string(), style));
    }
    let at = spans.len();
    spans.push(Span::styled(url.to_string(), style.patch(theme.link())));
    if !after.is_empty() {
        spans.push(Span::styled(after.to_string(), style));
    }
    (Line::from(spans), at)
}

enum Piece<'a> {
    Text(&'a str),
    /// What sticks to the URL before it, the URL, what sticks after it.
    Url(&'a str, &'a str, &'a str),
}

/// A line of text cut around its URLs: the text before each (if any), the
/// URL with what sticks to it, and the text after. A line without a URL is
/// one piece, as it was (an empty line too).
fn split_urls(line: &str) -> Vec<Piece<'_>> {
    let urls = link::find_urls(line);
    if urls.is_empty() {
        return vec![Piece::Text(line)];
    }
    let mut out = Vec::new();
    let mut from = 0;
    for r in urls {
        if r.start < from {
            continue;
        }
        let word = line[from..r.start].rfind(char::is_whitespace).map(|i| from + i + 1).unwrap_or(from);
        let before = line[from..word].trim();
        if !before.is_empty() {
            out.push(Piece::Text(before));
        }
        let end = line[r.end..].find(char::is_whitespace).map(|i| r.end + i).unwrap_or(line.len());
        out.push(Piece::Url(&line[word..r.start], &line[r.start..r.end], &line[r.end..end]));
        from = end;
    }
    let rest = line[from..].trim();
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// Greedy word wrap to `width` display cells; a word longer than the width
/// is left for the paragraph to break.
fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let needed = if cur.is_empty() { word.width() } else { cur.width() + 1 + word.width() };
        if needed > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    lines.push(cur);
    lines
}
