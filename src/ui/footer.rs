//! The bottom lines: the last message (what changed, who did it) and the
//! key hints, or the search bar while searching.

use super::Canvas;
use super::Theme;
use crate::app::keymap::footer_keys;
use crate::app::{App, LinePurpose, Mode, Tone};
use crate::sanitize;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn height(_app: &App) -> u16 {
    2
}

pub fn render(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect) {
    let width = area.width as usize;
    let msg_line = match (&app.mode, &app.message) {
        (Mode::Search { query, .. }, _) => Line::from(vec![
            Span::styled("/", theme.heading()),
            Span::raw(sanitize::line(query)),
            Span::styled("▏", theme.dim()),
        ]),
        (_, Some(m)) => {
            let style = match m.tone {
                Tone::Info => ratatui::style::Style::new(),
                Tone::Success => theme.ok(),
                Tone::Warning => theme.warn(),
                Tone::Error => theme.bad(),
            };
            Line::from(Span::styled(super::fit(&theme.ascii_text(&sanitize::line(&m.text)), width, theme), style))
        }
        _ => Line::default(),
    };
    let keys: String;
    let hints: &str = match &app.mode {
        Mode::Search { .. } => "type to search · Enter keep · Esc back",
        Mode::EditNote { .. } => "type freely · Enter new line · Ctrl-S or Esc save · Ctrl-C discard",
        Mode::Help { .. } => "↑↓ PgUp/PgDn scroll · any other key closes the help",
        Mode::Log { .. } => "↑↓ PgUp/PgDn scroll · any other key closes the history",
        Mode::Line(line) => match line.purpose {
            LinePurpose::Key { .. } => "type or paste the key (shown as dots) · Enter keep · Esc cancel",
            LinePurpose::Confirm { .. } => "type the name shown · Enter send · Esc cancel",
            LinePurpose::Evidence { .. } => "type what shows it · Enter confirm · Esc cancel",
            LinePurpose::BlockReason { .. } => "type the reason · Enter mark blocked · Esc cancel",
        },
        Mode::Normal => {
            let max = if width < 100 { 5 } else { 8 };
            let parts: Vec<String> = footer_keys(app, max).iter().map(|(k, w)| format!("{k} {w}")).collect();
            keys = parts.join(" · ");
            &keys
        }
    };
    let hint_line = Line::from(Span::styled(super::fit(&theme.ascii_text(hints), width, theme), theme.dim()));
    frame.render_widget(Paragraph::new(vec![msg_line, hint_line]), area);
}
