//! The guide picker: every guide with its progress, and any guide files
//! that could not be read.

use super::Canvas;
use super::Theme;
use crate::app::App;
use crate::sanitize;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};

pub fn render(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect) {
    let list_h = (app.guides.len() as u16 * 2 + 2).min(area.height.saturating_sub(3).max(3));
    let [list_area, info_area] = super::split::top_rest(area, list_h, 0);
    let inner_w = list_area.width.saturating_sub(4) as usize;
    let rows: Vec<ListItem> = app
        .guides
        .iter()
        .map(|e| {
            // The list shows what every guide's head holds: no guide is
            // decoded for it.
            let g = e.guide.head();
            let (done, total) = app.counts(g);
            let title = super::guide_name(app, g, theme);
            let right = format!("{done}/{total} done");
            let room = inner_w.saturating_sub(right.len() + 2);
            let title = super::fit(&title, room, theme);
            let pad = inner_w.saturating_sub(unicode_width::UnicodeWidthStr::width(title.as_str()) + right.len() + 1);
            let langs = g.languages.join(", ");
            let source = if e.source == "built-in" {
                "built-in".to_string()
            } else {
                format!("from {}", sanitize::line(&e.source))
            };
            ListItem::new(vec![
                Line::from(vec![
                    Span::raw(" "),
                    Span::styled(title, theme.heading()),
                    Span::raw(" ".repeat(pad + 1)),
                    Span::styled(right, if done == total && total > 0 { theme.ok() } else { theme.dim() }),
                ]),
                Line::from(Span::styled(
                    format!(
                        "  {} {sep} {} steps {sep} {langs} {sep} {source}",
                        g.id(),
                        g.steps.len(),
                        sep = theme.sep()
                    ),
                    theme.dim(),
                )),
            ])
        })
        .collect();
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" Guides ", theme.dim()));
    let block = if theme.ascii { block.border_set(super::step_list::ascii_border()) } else { block };
    let list = List::new(rows).block(block).highlight_style(theme.selected());
    let mut state = ListState::default().with_selected(Some(app.picker));
    frame.render_stateful_widget(list, list_area, &mut state);

    let mut info: Vec<Line> = Vec::new();
    if let Some(e) = app.guides.get(app.picker) {
        let g = e.guide.head();
        for n in &g.notices {
            info.push(Line::from(Span::styled(
                app.text(g, &n.text).lines().next().unwrap_or("").to_string(),
                theme.warn(),
            )));
        }
        if let Some(src) = &g.source {
            info.push(Line::from(Span::styled(format!("Source: {}", app.text(g, src)), theme.dim())));
        }
    }
    if !app.guide_errors.is_empty() {
        info.push(Line::default());
        info.push(Line::from(Span::styled(
            format!("{} guide file(s) could not be read and were skipped:", app.guide_errors.len()),
            theme.bad(),
        )));
        for e in &app.guide_errors {
            info.push(Line::from(Span::raw(format!("  {}", sanitize::line(e)))));
        }
    }
    info.push(Line::from(Span::styled(format!("State: {}", app.settings.state_path), theme.dim())));
    frame.render_widget(Paragraph::new(super::wrap::wrap_lines(info, info_area.width)), info_area);
}
