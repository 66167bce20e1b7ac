//! Rendering: `render(&App, &Theme, &mut Frame)`, or `paint` on any
//! buffer through a [`Canvas`] (which also gives the URLs to link). Reads
//! the app, never changes it. One file per area of the screen.

mod canvas;
pub use canvas::Canvas;
mod detail;
mod footer;
mod header;
pub use header::{others_shown, others_signature};
mod help;
pub mod link;
mod picker;
mod prompt;
mod rows;
pub use prompt::wrap_editor;
mod split;
mod step_list;
pub mod theme;
mod wrap;

use crate::app::{App, Mode, Screen};
use ratatui::Frame;
use ratatui::layout::Rect;
pub use theme::Theme;

/// Below this width the list and the detail are stacked, not side by side.
pub const COMPACT_WIDTH: u16 = 80;

pub fn render(app: &App, theme: &Theme, frame: &mut Frame) {
    Canvas::on_frame(frame, |canvas| paint(app, theme, canvas));
}

/// [`render`] on a canvas (the whole of its buffer), and where it shows a
/// guide's URLs, for the runtime to write as hyperlinks: only links whose
/// cells still show their text (no popup covers them), none in ASCII, none
/// while a prompt has the cursor (writing them moves it).
pub fn paint(app: &App, theme: &Theme, frame: &mut Canvas) -> Vec<link::Hyperlink> {
    let area = frame.area();
    if area.width < 20 || area.height < 5 {
        let msg = ratatui::widgets::Paragraph::new(theme.ascii_text("cutover: window too small"));
        frame.render_widget(msg, area);
        return Vec::new();
    }
    let [head, body, foot] = frame_areas(app, area);
    header::render(app, theme, frame, head);
    let mut links = match app.screen {
        Screen::Picker => {
            picker::render(app, theme, frame, body);
            Vec::new()
        }
        Screen::Checklist => checklist(app, theme, frame, body),
    };
    footer::render(app, theme, frame, foot);
    match &app.mode {
        Mode::Help { scroll } => help::render(app, theme, frame, area, *scroll),
        Mode::Log { scroll } => help::render_log(app, theme, frame, area, *scroll),
        Mode::EditNote { .. } | Mode::Line(_) => {
            prompt::render(app, theme, frame, area);
            links.clear();
        }
        _ => {}
    }
    if theme.ascii {
        ascii_only(frame.buffer_mut());
        links.clear();
    }
    let buf = frame.buffer_mut();
    links.retain(|l| {
        let mut shown = String::new();
        let mut x = l.x;
        while x < l.x + l.width {
            match buf.cell((x, l.y)) {
                Some(c) => {
                    shown.push_str(c.symbol());
                    x += unicode_width::UnicodeWidthStr::width(c.symbol()).max(1) as u16;
                }
                None => return false,
            }
        }
        shown == l.text
    });
    links
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

fn checklist(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect) -> Vec<link::Hyperlink> {
    let [list, detail] = checklist_areas(app, area);
    step_list::render(app, theme, frame, list);
    detail::render(app, theme, frame, detail)
}

/// The header, the body and the footer of a screen of `area`.
fn frame_areas(app: &App, area: Rect) -> [Rect; 3] {
    split::header_body_footer(area, header::height(app, area.width), footer::height(app))
}

/// The step list and the detail pane in the checklist's body: stacked
/// (a short list on top) below [`COMPACT_WIDTH`], else side by side.
fn checklist_areas(app: &App, area: Rect) -> [Rect; 2] {
    if area.width < COMPACT_WIDTH {
        let list_h = (app.items().len() as u16 + 2).min(area.height / 2).max(3);
        split::top_rest(area, list_h, 1)
    } else {
        let list_w = (area.width * 2 / 5).clamp(32, 52);
        split::left_rest(area, list_w)
    }
}

/// What is under the pointer at (`x`, `y`) on a screen of `area`, as
/// [`render`] lays it out: the same pure layout, so a click lands where
/// the eye sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// The step list; the item (index into `App::items`) on that row, if
    /// any (not a border, the heading or an empty row).
    List(Option<usize>),
    Detail,
    Elsewhere,
}

pub fn hit(app: &App, area: Rect, x: u16, y: u16) -> Hit {
    let inside = |r: Rect| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
    if area.width < 20 || area.height < 5 || app.screen != Screen::Checklist || app.guide().is_none() {
        return Hit::Elsewhere;
    }
    let [_, body, _] = frame_areas(app, area);
    let [list, detail] = checklist_areas(app, body);
    if inside(detail) {
        return Hit::Detail;
    }
    if !inside(list) {
        return Hit::Elsewhere;
    }
    let inner = Rect {
        x: list.x + 1,
        y: list.y + 1,
        width: list.width.saturating_sub(2),
        height: list.height.saturating_sub(2),
    };
    if !inside(inner) {
        return Hit::List(None);
    }
    let rows = step_list::rows(app);
    let offset = step_list::offset(&rows, app.selected, inner.height);
    Hit::List(rows.get(offset + (y - inner.y) as usize).copied().flatten())
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
