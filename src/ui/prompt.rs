//! Overlays that take typed input: the note editor, typed confirmations and
//! the masked key prompt.

use super::Theme;
use crate::app::{App, Mode};
use crate::sanitize;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let w = area.width.saturating_sub(4).min(76);
    let x = area.x + (area.width - w) / 2;
    match &app.mode {
        Mode::EditNote { step, editor, .. } => {
            let rect = centered(area, x, w, area.height.saturating_sub(4).clamp(5, 16));
            let h = rect.height;
            let inner_h = h.saturating_sub(2) as usize;
            let (row, col) = editor.cursor();
            let top = row.saturating_sub(inner_h.saturating_sub(1));
            let lines: Vec<Line> =
                editor.lines().skip(top).take(inner_h).map(|l| Line::from(sanitize::line(&l))).collect();
            let title = format!(" Note: {step} (Ctrl-S/Esc save, Ctrl-C discard) ");
            let block = Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(super::fit(&title, (w as usize).saturating_sub(2), theme), theme.title()));
            let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
            frame.render_widget(Clear, rect);
            frame.render_widget(Paragraph::new(lines).block(block), rect);
            // The cursor, clamped to the box (long lines scroll off).
            let line_text: String = editor.lines().nth(row).unwrap_or_default();
            let before: String = line_text.chars().take(col).collect();
            let cx = unicode_width::UnicodeWidthStr::width(before.as_str()) as u16;
            let cx = (rect.x + 1 + cx).min(rect.x + rect.width.saturating_sub(2));
            let cy = (rect.y + 1 + (row - top) as u16).min(rect.bottom().saturating_sub(1));
            frame.set_cursor_position(Position { x: cx, y: cy });
        }
        Mode::Confirm { prompt, typed, .. } => {
            let rect = centered(area, x, w, 6);
            let lines = vec![
                Line::from(prompt.clone()),
                Line::default(),
                Line::from(vec![Span::styled("> ", theme.heading()), Span::raw(sanitize::line(typed))]),
                Line::from(Span::styled("Enter confirm · Esc cancel", theme.dim())),
            ];
            let block = Block::default().borders(Borders::ALL).title(Span::styled(" Confirm ", theme.bad()));
            let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
            frame.render_widget(Clear, rect);
            let lines = super::wrap::wrap_lines(lines, rect.width.saturating_sub(2));
            frame.render_widget(Paragraph::new(lines).block(block), rect);
        }
        Mode::Evidence { prompt, typed, .. } => {
            let rect = centered(area, x, w, 7);
            let mut lines: Vec<Line> = prompt.lines().map(|l| Line::from(l.to_string())).collect();
            lines.push(Line::default());
            lines.push(Line::from(vec![Span::styled("> ", theme.heading()), Span::raw(sanitize::line(typed))]));
            let block = Block::default().borders(Borders::ALL).title(Span::styled(" Evidence ", theme.title()));
            let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
            frame.render_widget(Clear, rect);
            let lines = super::wrap::wrap_lines(lines, rect.width.saturating_sub(2));
            frame.render_widget(Paragraph::new(lines).block(block), rect);
        }
        Mode::BlockReason { guide, step, typed } => {
            // Room for a question of two rows; a lower box cuts it from the top.
            let rect = centered(area, x, w, 7);
            let lines = vec![
                Line::from(format!(
                    "Why is {} blocked? Kept as the step's note, listed in the report.",
                    app.step_title(guide, step)
                )),
                Line::default(),
                Line::from(vec![Span::styled("> ", theme.heading()), Span::raw(sanitize::line(typed))]),
                Line::from(Span::styled("Enter mark blocked (empty: no reason) · Esc cancel", theme.dim())),
            ];
            input_box(theme, frame, rect, " Blocked ", lines);
        }
        Mode::KeyPrompt { guide, env, typed } => {
            let rect = centered(area, x, w, 6);
            let dots = if theme.ascii {
                "*".repeat(typed.0.chars().count().min(40))
            } else {
                "•".repeat(typed.0.chars().count().min(40))
            };
            let lines = vec![
                Line::from(format!("API key for {guide} {env}: kept in memory only, never saved or shown.")),
                Line::default(),
                Line::from(vec![Span::styled("> ", theme.heading()), Span::raw(dots)]),
                Line::from(Span::styled("Enter keep · Esc cancel", theme.dim())),
            ];
            let block = Block::default().borders(Borders::ALL).title(Span::styled(" API key ", theme.title()));
            let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
            frame.render_widget(Clear, rect);
            let lines = super::wrap::wrap_lines(lines, rect.width.saturating_sub(2));
            frame.render_widget(Paragraph::new(lines).block(block), rect);
        }
        _ => {}
    }
}

/// A one-line input box: the question wraps, but the input line and the
/// keys under it stay in view however small the box (the question is cut
/// from its top instead).
fn input_box(theme: &Theme, frame: &mut Frame, rect: Rect, title: &str, lines: Vec<Line<'static>>) {
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title.to_string(), theme.title()));
    let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
    frame.render_widget(Clear, rect);
    let inner_h = rect.height.saturating_sub(2) as usize;
    let lines = super::wrap::wrap_lines(lines, rect.width.saturating_sub(2));
    let skip = lines.len().saturating_sub(inner_h);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// A box `w` wide at column `x`, `h` high (less if the area is lower),
/// centred vertically and always inside `area`.
fn centered(area: Rect, x: u16, w: u16, h: u16) -> Rect {
    let h = h.min(area.height);
    Rect { x, y: area.y + (area.height - h) / 2, width: w, height: h }
}
