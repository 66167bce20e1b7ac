//! Help, generated from the keymap.

use super::Theme;
use crate::app::App;
use crate::app::keymap::BINDINGS;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, scroll: u16) {
    let w = area.width.saturating_sub(4).min(72);
    let h = area.height.saturating_sub(2);
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    };
    let mut lines: Vec<Line> = Vec::new();
    for b in BINDINGS {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<10}", theme.ascii_text(b.label)),
                theme.heading(),
            ),
            Span::raw(b.help),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "  Editing a note: type freely; Enter new line; Ctrl-S or Esc save; Ctrl-C discard.",
        theme.dim(),
    )));
    lines.push(Line::from(Span::styled(
        "  While typing, no single-letter command fires.",
        theme.dim(),
    )));
    lines.push(Line::from(Span::styled(
        format!("  State file: {}", app.settings.state_path),
        theme.dim(),
    )));
    lines.push(Line::from(Span::styled(
        "  Any key closes this help.",
        theme.dim(),
    )));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" Keys ", theme.title()));
    let block = if theme.ascii {
        block.border_set(super::step_list::ascii_border())
    } else {
        block
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}
