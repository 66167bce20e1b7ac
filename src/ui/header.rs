//! The top lines: where you are, how far along, which environment, who
//! else is here.

use super::Canvas;
use super::Theme;
use crate::app::{App, Screen};
use crate::sanitize;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

pub fn height(app: &App, _width: u16) -> u16 {
    match app.screen {
        Screen::Picker => 1,
        Screen::Checklist => 2,
    }
}

pub fn render(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect) {
    let mut spans = vec![Span::styled("cutover", theme.title())];
    let sep = format!(" {} ", theme.sep());
    let right = right_side(app, theme, area.width as usize);
    match (app.screen == Screen::Checklist).then(|| app.guide()).flatten() {
        Some(g) => {
            spans.push(Span::raw(sep.clone()));
            spans.push(Span::styled(super::guide_name(app, g, theme), theme.heading()));
            let (lang, _) = app.lang_of(g);
            spans.push(Span::styled(format!(" [{lang}]"), theme.dim()));
        }
        _ => {
            spans.push(Span::raw(sep.clone()));
            spans.push(Span::raw("choose a guide"));
        }
    }
    let right_w: usize = right.iter().map(|s| s.width()).sum();
    let left_w: usize = spans.iter().map(|s| s.width()).sum();
    let width = area.width as usize;
    if left_w + right_w + 1 > width {
        // Too narrow for both: shorten the title.
        let others: usize = spans.iter().enumerate().filter(|(i, _)| *i != 2).map(|(_, s)| s.width()).sum();
        if let Some(last) = spans.get_mut(2) {
            let keep = width.saturating_sub(right_w + others + 1);
            *last = Span::styled(super::fit(&last.content, keep, theme), last.style);
        }
    }
    let left_w: usize = spans.iter().map(|s| s.width()).sum();
    spans.push(Span::raw(" ".repeat(width.saturating_sub(left_w + right_w))));
    spans.extend(right);
    let top = Rect { height: 1, ..area };
    frame.render_widget(Paragraph::new(Line::from(spans)), top);

    if app.screen == Screen::Checklist
        && area.height >= 2
        && let Some(problem) = &app.state_problem
    {
        // Said instead of a gauge of steps that only look untouched.
        let row = Rect { y: area.y + 1, height: 1, ..area };
        let text = super::fit(&sanitize::line(problem), area.width as usize, theme);
        frame.render_widget(Paragraph::new(Span::styled(text, theme.warn())), row);
    } else if app.screen == Screen::Checklist
        && area.height >= 2
        && let Some(g) = app.guide()
    {
        let (done, total) = app.counts(g);
        let ratio = if total == 0 { 0.0 } else { done as f64 / total as f64 };
        let label = format!("{done}/{total} steps done");
        let gauge_area = Rect { y: area.y + 1, height: 1, ..area };
        if theme.ascii {
            // Gauge draws block characters; in ASCII mode draw a bar of '#'.
            let w = (area.width as usize).saturating_sub(label.len() + 3).min(60);
            let filled = ((w as f64) * ratio).round() as usize;
            let bar = format!("[{}{}] {label}", "#".repeat(filled), "-".repeat(w - filled));
            frame.render_widget(Paragraph::new(bar), gauge_area);
        } else {
            let gauge = Gauge::default().ratio(ratio).label(label).use_unicode(true).gauge_style(if theme.color {
                theme.ok()
            } else {
                ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED)
            });
            frame.render_widget(gauge, gauge_area);
        }
    }
}

/// Who else is here, in at most `room` columns: "+2: bob, support-jan
/// (observer)", else "+2 here".
pub fn presence_text(others: &[String], room: usize) -> Option<String> {
    if others.is_empty() {
        return None;
    }
    let names: Vec<String> = others.iter().map(|o| sanitize::line(o)).collect();
    let full = format!("+{}: {} ", names.len(), names.join(", "));
    if unicode_width::UnicodeWidthStr::width(full.as_str()) <= room {
        Some(full)
    } else {
        Some(format!("+{} here ", names.len()))
    }
}

/// What the header says of the others here at `width` columns: the
/// presence text and whom this session follows. The runtime compares it
/// before and after a change of the served sessions, to draw only when
/// what shows changed.
pub fn others_shown(app: &App, width: usize) -> (Option<String>, Option<String>) {
    let mut here = app.others.clone();
    here.extend(app.peers.iter().map(|p| p.summary()));
    let following = app.following.and_then(|id| app.peers.iter().find(|p| p.id == id)).map(|p| p.name.clone());
    (presence_text(&here, width * 2 / 5), following)
}

/// What the other served sessions put on a screen `width` columns wide:
/// the header's presence and follow, and their checks on the step shown.
/// Following a session moves this one with it, so while following every
/// change of theirs counts. The runtime draws after a change of the
/// sessions only when this changed.
pub fn others_signature(app: &App, width: u16) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    others_shown(app, usize::from(width)).hash(&mut h);
    crate::app::peers::running_on_screen(app).hash(&mut h);
    if app.following.is_some() {
        for p in &app.peers {
            (p.id, &p.view).hash(&mut h);
        }
    }
    h.finish()
}

fn right_side(app: &App, theme: &Theme, width: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let (presence, following) = others_shown(app, width);
    if let Some(text) = presence {
        out.push(Span::styled(text, theme.dim()));
    }
    if let Some(name) = following {
        out.push(Span::styled(format!(" FOLLOWING {} ", sanitize::line(&name)), theme.banner(false)));
        out.push(Span::raw(" "));
    }
    if app.settings.observe {
        out.push(Span::styled(" OBSERVING ", theme.banner(false)));
        out.push(Span::raw(" "));
    }
    if app.not_announced.is_some() {
        let who = if app.settings.observe { "observer" } else { "you" };
        out.push(Span::styled(format!("{who}: not announced "), theme.warn()));
    }
    if app.settings.demo {
        out.push(Span::styled(" DEMO ", theme.banner(false)));
        out.push(Span::raw(" "));
    }
    if app.screen == Screen::Checklist
        && let Some(g) = app.guide()
        && let Some(env) = app.env_of(g.id())
    {
        let production = g.environments.get(env).map(|e| !e.sandbox).unwrap_or(true);
        let mut label = format!(" {} ", env.to_uppercase());
        let key = (g.id().to_string(), env.to_string());
        let origin = app.url_origins.get(&key).map(|o| sanitize::line(o));
        if let Some(url) = app.overridden_urls.get(&key) {
            label = match &origin {
                Some(o) => format!(" {} → {} (from {o}) ", env.to_uppercase(), sanitize::line(url)),
                None => format!(" {} → {} ", env.to_uppercase(), sanitize::line(url)),
            };
        } else if let Some(o) = &origin {
            // A guide of the user's own: its base URL is the file's.
            label = format!(" {} (URL from {o}) ", env.to_uppercase());
        }
        out.push(Span::styled(
            theme.ascii_text(&label.replace('→', "->")),
            theme.banner(production && !app.settings.demo),
        ));
    }
    out
}
