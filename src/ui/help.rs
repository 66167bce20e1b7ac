//! Help, generated from the keymap.

use super::Canvas;
use super::Theme;
use crate::app::App;
use crate::app::keymap::{grouped, help_text};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn render(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect, scroll: u16) {
    let w = area.width.saturating_sub(4).min(72);
    let h = area.height.saturating_sub(2);
    let rect = Rect { x: area.x + (area.width - w) / 2, y: area.y + 1, width: w, height: h };
    let picker = app.screen == crate::app::Screen::Picker;
    let observe = app.settings.observe;
    let mut lines: Vec<Line> = Vec::new();
    let where_ = match (picker, observe) {
        (true, _) => "Keys of the guide list",
        (false, true) => "Keys of the checklist, observing (read-only: nothing can be changed from here)",
        (false, false) => "Keys of the checklist",
    };
    lines.push(Line::from(Span::styled(format!("  {where_}"), theme.dim())));
    for (group, bindings) in grouped(picker, observe) {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(format!("  {}", group.title()), theme.title())));
        for b in bindings {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<10}", theme.ascii_text(b.label)), theme.heading()),
                Span::raw(help_text(b, picker)),
            ]));
        }
    }
    lines.push(Line::default());
    if !picker && !observe {
        lines.push(Line::from(Span::styled(
            "  Editing a note: type freely; Enter new line; Ctrl-S or Esc save; Ctrl-C discard.",
            theme.dim(),
        )));
        lines.push(Line::from(Span::styled("  While typing, no single-letter command fires.", theme.dim())));
    }
    lines.push(Line::from(Span::styled(format!("  State file: {}", app.settings.state_path), theme.dim())));
    if let Some(serving) = &app.serving {
        lines.push(Line::from(Span::styled(format!("  {serving}"), theme.dim())));
    }
    lines.push(Line::from(Span::styled("  Any key closes this help.", theme.dim())));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(theme.ascii_text(" Keys (↑↓ scroll · any other key closes) "), theme.title()));
    let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
    frame.render_widget(Clear, rect);
    let lines = super::wrap::wrap_lines(lines, rect.width.saturating_sub(2));
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}

/// The event log of the current guide, newest first.
pub fn render_log(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect, scroll: u16) {
    let w = area.width.saturating_sub(4).min(110);
    let h = area.height.saturating_sub(2);
    let rect = Rect { x: area.x + (area.width - w) / 2, y: area.y + 1, width: w, height: h };
    let gid = app.guide_id();
    let mut lines: Vec<Line> = Vec::new();
    let (events, complete) = app.guide_history();
    // The server log's lines go in among the events, by time.
    let mut served = app.serve_log.iter().rev().peekable();
    for e in events.into_iter().rev() {
        while let Some((at, line)) = served.next_if(|(at, _)| *at >= e.at) {
            let at = at.strftime("%Y-%m-%d %H:%M").to_string();
            lines.push(Line::from(vec![Span::styled(format!("{at}  "), theme.dim()), Span::raw(line.clone())]));
        }
        let at = e.at.strftime("%Y-%m-%d %H:%M").to_string();
        lines.push(Line::from(vec![
            Span::styled(format!("{at}  "), theme.dim()),
            Span::styled(format!("{:<12} ", crate::sanitize::line(&e.by)), theme.heading()),
            Span::raw(format!("{:<22} ", crate::sanitize::line(&e.step))),
            Span::raw(crate::sanitize::line(&e.detail)),
        ]));
    }
    for (at, line) in served {
        let at = at.strftime("%Y-%m-%d %H:%M").to_string();
        lines.push(Line::from(vec![Span::styled(format!("{at}  "), theme.dim()), Span::raw(line.clone())]));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("  nothing has happened in this guide yet", theme.dim())));
    }
    let title = if complete {
        format!(" History of {gid} (newest first) ")
    } else {
        format!(" History of {gid} (newest first; reading older events…) ")
    };
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, theme.title()));
    let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
    frame.render_widget(Clear, rect);
    let lines = super::wrap::wrap_lines(lines, rect.width.saturating_sub(2));
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}
