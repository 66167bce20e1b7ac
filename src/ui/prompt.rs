//! Overlays that take typed input: the note editor, typed confirmations and
//! the masked key prompt.

use super::Canvas;
use super::Theme;
use crate::app::{App, LinePurpose, Mode};
use crate::sanitize;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn render(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect) {
    let w = area.width.saturating_sub(4).min(76);
    let x = area.x + (area.width - w) / 2;
    match &app.mode {
        Mode::EditNote { guide, step, editor } => {
            let rect = centered(area, x, w, area.height.saturating_sub(4).clamp(5, 16));
            let inner_w = rect.width.saturating_sub(2) as usize;
            let inner_h = (rect.height.saturating_sub(2) as usize).max(1);
            // Long lines wrap; the view scrolls so the cursor is always in it.
            let lines: Vec<String> = editor.lines().collect();
            let (rows, (crow, ccol)) = wrap_editor(&lines, editor.cursor(), inner_w);
            let top = crow.saturating_sub(inner_h - 1);
            let shown: Vec<Line> = rows.into_iter().skip(top).take(inner_h).map(Line::from).collect();
            let room = inner_w.saturating_sub(2);
            let title = format!(" Note: {} ", sanitize::line(&app.step_title(guide, step)));
            // The save keys sit in the bottom border, shortened before they
            // are ever cut.
            let keys = [" Ctrl-S/Esc save · Ctrl-C discard ", " Ctrl-S save · Ctrl-C discard ", " ^S save ^C discard "]
                .into_iter()
                .map(|k| if theme.ascii { k.replace('·', "|") } else { k.to_string() })
                .find(|k| unicode_width::UnicodeWidthStr::width(k.as_str()) <= room)
                .unwrap_or_else(|| " ^S save ".to_string());
            let block = Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(super::fit(&title, room, theme), theme.title()))
                .title_bottom(Span::styled(keys, theme.heading()));
            let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
            frame.render_widget(Clear, rect);
            frame.render_widget(Paragraph::new(shown).block(block), rect);
            let cx = (rect.x + 1 + ccol as u16).min(rect.x + rect.width.saturating_sub(2));
            let cy = (rect.y + 1 + (crow - top) as u16).min(rect.bottom().saturating_sub(2));
            frame.set_cursor_position(Position { x: cx, y: cy });
        }
        Mode::Line(line) => {
            // A question that may take two rows gets a taller box.
            let (title, height) = match line.purpose {
                LinePurpose::Confirm { .. } => (" Confirm ", 6),
                LinePurpose::Evidence { .. } => (" Evidence ", 7),
                LinePurpose::BlockReason { .. } => (" Blocked ", 7),
                LinePurpose::Key { .. } => (" API key ", 6),
            };
            let rect = centered(area, x, w, height);
            let shown = if line.typed.is_secret() {
                // A key is never drawn: as many dots as characters (at most 40).
                let dot = if theme.ascii { "*" } else { "•" };
                dot.repeat(line.typed.as_str().chars().count().min(40))
            } else {
                sanitize::line(line.typed.as_str())
            };
            let mut lines: Vec<Line> = line.question.lines().map(|l| Line::from(l.to_string())).collect();
            lines.push(Line::default());
            lines.push(Line::from(vec![Span::styled("> ", theme.heading()), Span::raw(shown)]));
            lines.push(Line::from(Span::styled(line.keys.clone(), theme.dim())));
            input_box(theme, frame, rect, title, lines);
        }
        _ => {}
    }
}

/// A one-line input box: the question wraps, but the input line and the
/// keys under it stay in view however small the box (the question is cut
/// from its top instead).
fn input_box(theme: &Theme, frame: &mut Canvas, rect: Rect, title: &str, lines: Vec<Line<'static>>) {
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title.to_string(), theme.title()));
    let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
    frame.render_widget(Clear, rect);
    let inner_h = rect.height.saturating_sub(2) as usize;
    let lines = super::wrap::wrap_lines(lines, rect.width.saturating_sub(2));
    let skip = lines.len().saturating_sub(inner_h);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// The editor's lines soft-wrapped to `width` cells, at the last space
/// that fits (or mid-word when none does), and the cursor's place among the
/// wrapped rows: (row, column in cells). A cursor at the end of a full row
/// gets a row of its own, so it is never outside the box.
pub fn wrap_editor(lines: &[String], cursor: (usize, usize), width: usize) -> (Vec<String>, (usize, usize)) {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(1);
    let mut rows: Vec<String> = Vec::new();
    let mut at = (0, 0);
    for (r, line) in lines.iter().enumerate() {
        // One shown char per char typed, so that the cursor maps straight.
        let chars: Vec<char> = line.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
        let w = |c: &char| c.width().unwrap_or(0);
        let mut start = 0;
        loop {
            let mut used = 0;
            let mut end = start;
            while end < chars.len() && used + w(&chars[end]) <= width {
                used += w(&chars[end]);
                end += 1;
            }
            if end < chars.len() {
                // Break after the last space in the row, if there is one.
                if let Some(sp) = chars[start..end].iter().rposition(|c| *c == ' ')
                    && sp > 0
                {
                    end = start + sp + 1;
                }
                end = end.max(start + 1);
            }
            let last = end >= chars.len();
            if r == cursor.0 && cursor.1 >= start && (cursor.1 < end || last) {
                let cells: usize = chars[start..cursor.1.min(chars.len())].iter().map(w).sum();
                if cells >= width {
                    // At the end of a full row: the cursor opens the next.
                    rows.push(chars[start..end].iter().collect());
                    at = (rows.len(), 0);
                    rows.push(String::new());
                    break;
                }
                at = (rows.len(), cells);
            }
            rows.push(chars[start..end].iter().collect());
            if last {
                break;
            }
            start = end;
        }
    }
    (rows, at)
}

/// A box `w` wide at column `x`, `h` high (less if the area is lower),
/// centred vertically and always inside `area`.
fn centered(area: Rect, x: u16, w: u16, h: u16) -> Rect {
    let h = h.min(area.height);
    Rect { x, y: area.y + (area.height - h) / 2, width: w, height: h }
}
