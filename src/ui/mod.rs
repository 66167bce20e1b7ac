//! Rendering: `render(&App, &Theme, &mut Frame)`. Reads the app, never
//! changes it. One file per area of the screen.

mod detail;
mod footer;
mod header;
mod help;
mod picker;
mod prompt;
pub use prompt::wrap_editor;
mod step_list;
pub mod theme;
mod wrap;

use crate::app::{App, Mode, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
pub use theme::Theme;

/// Below this width the list and the detail are stacked, not side by side.
pub const COMPACT_WIDTH: u16 = 80;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.width < 20 || area.height < 5 {
        let msg = ratatui::widgets::Paragraph::new(theme.ascii_text("cutover: window too small"));
        frame.render_widget(msg, area);
        return;
    }
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(header::height(app, area.width)),
        Constraint::Min(1),
        Constraint::Length(footer::height(app)),
    ])
    .areas(area);
    header::render(app, theme, frame, head);
    match app.screen {
        Screen::Picker => picker::render(app, theme, frame, body),
        Screen::Checklist => checklist(app, theme, frame, body),
    }
    footer::render(app, theme, frame, foot);
    match &app.mode {
        Mode::Help { scroll } => help::render(app, theme, frame, area, *scroll),
        Mode::Log { scroll } => help::render_log(app, theme, frame, area, *scroll),
        Mode::EditNote { .. }
        | Mode::Confirm { .. }
        | Mode::Evidence { .. }
        | Mode::BlockReason { .. }
        | Mode::KeyPrompt { .. } => prompt::render(app, theme, frame, area),
        _ => {}
    }
    if theme.ascii {
        ascii_only(frame.buffer_mut());
    }
}

/// The last word on `--ascii` (and on a terminal that cannot be trusted
/// with Unicode): every symbol on screen that is not ASCII, guide text
/// included, becomes its nearest ASCII one. Letters stay (the guide's
/// language needs them).
fn ascii_only(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let sym = cell.symbol();
        if sym.is_ascii() {
            continue;
        }
        let mut chars = sym.chars();
        let first = chars.next().unwrap_or(' ');
        if first.is_alphabetic() {
            continue;
        }
        let plain = match first {
            '→' | '⇒' | '›' | '»' | '▶' | '▸' => ">",
            '←' | '⇐' | '‹' | '«' | '◀' => "<",
            '↑' | '▲' => "^",
            '↓' | '▼' => "v",
            '‘' | '’' | '‚' | '′' => "'",
            '“' | '”' | '„' | '″' => "\"",
            '–' | '—' | '−' | '─' | '━' => "-",
            '│' | '┃' | '·' => "|",
            '•' | '●' | '○' | '◐' | '✓' | '✗' | '×' => "*",
            '…' => ".",
            '\u{a0}' | '\u{2009}' | '\u{202f}' => " ",
            '€' => "E",
            _ => "?",
        };
        cell.set_symbol(plain);
    }
}

fn checklist(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.width < COMPACT_WIDTH {
        // Stacked: a short list on top, the detail below.
        let list_h = (app.items().len() as u16 + 2).min(area.height / 2).max(3);
        let [list, detail] = Layout::vertical([Constraint::Length(list_h), Constraint::Min(1)]).areas(area);
        step_list::render(app, theme, frame, list);
        detail::render(app, theme, frame, detail);
    } else {
        let list_w = (area.width * 2 / 5).clamp(32, 52);
        let [list, detail] = Layout::horizontal([Constraint::Length(list_w), Constraint::Min(1)]).areas(area);
        step_list::render(app, theme, frame, list);
        detail::render(app, theme, frame, detail);
    }
}

/// Truncates `s` to `width` display cells, with an ellipsis if cut.
/// Widths are measured per grapheme, as ratatui measures them when it
/// draws, so an emoji with a variation selector or a flag counts as the
/// two cells it takes.
pub(crate) fn fit(s: &str, width: usize, theme: &Theme) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::UnicodeWidthStr;
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    let ell = if theme.ascii { "." } else { "…" };
    for g in s.graphemes(true) {
        let gw = g.width();
        if w + gw + 1 > width {
            break;
        }
        out.push_str(g);
        w += gw;
    }
    out.push_str(ell);
    out
}

/// A guide as the header and the picker name it: the carrier, then the
/// title ("PostNL · Step-by-step guide: ..."); the title alone when the
/// guide names no carrier or the title already starts with it.
pub(crate) fn guide_name(app: &App, g: &crate::guide::Guide, theme: &Theme) -> String {
    let title = app.text(g, &g.title).to_string();
    match g.carrier.as_deref().map(crate::sanitize::line) {
        Some(c) if !c.trim().is_empty() && !title.to_lowercase().starts_with(&c.trim().to_lowercase()) => {
            format!("{} {} {title}", c.trim(), theme.sep())
        }
        _ => title,
    }
}
