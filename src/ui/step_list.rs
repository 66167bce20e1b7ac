//! The step list: number, status glyph, title; troubleshooting items under
//! their own heading.

use super::Canvas;
use super::Theme;
use crate::app::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState};

pub fn render(app: &App, theme: &Theme, frame: &mut Canvas, area: Rect) {
    let Some(g) = app.guide() else { return };
    let gid = g.id();
    let items = app.items();
    let inner_w = area.width.saturating_sub(2) as usize;
    let mut rows: Vec<ListItem> = Vec::new();
    let mut selected_row = 0;
    let mut heading_shown = false;
    for (i, item) in items.iter().enumerate() {
        if item.troubleshooting && !heading_shown {
            heading_shown = true;
            rows.push(ListItem::new(Line::from(Span::styled("Troubleshooting", theme.heading()))));
        }
        if i == app.selected {
            selected_row = rows.len();
        }
        let s = item.step;
        let status = app.status(gid, s.id());
        let num = match s.number {
            Some(n) => format!("{n:>2}"),
            None => " ".repeat(2),
        };
        let mut spans = vec![
            Span::styled(format!("{num} "), theme.dim()),
            // A state that cannot be read (an observer without access) shows
            // no status at all, rather than every step as todo.
            if app.state_problem.is_some() {
                Span::styled("?".to_string(), theme.dim())
            } else {
                Span::styled(theme.status_glyph(status).to_string(), theme.status_style(status))
            },
            Span::raw(" "),
        ];
        // Right-hand markers: running spinner, last verdict, drift.
        let mut marker = String::new();
        let mut marker_style = theme.dim();
        if app.is_running(gid, s.id()) {
            marker = theme.spinner(app.spinner).to_string();
            marker_style = theme.warn();
        } else if let Some((v, at)) = app.last_verdict(gid, s.id()) {
            let fresh = stale_suffix(app, s, at);
            marker = format!("{}{fresh}", theme.verdict_glyph(v));
            marker_style = theme.verdict_style(v);
        }
        if app.drifted(gid, s.id()) {
            marker = format!("{marker} {}", if theme.ascii { "CHANGED" } else { "changed" });
            marker_style = theme.warn();
        }
        // A step from the carrier's older process: still a step, marked.
        if s.historical && marker.is_empty() {
            marker = if inner_w >= 36 { "historical" } else { "hist." }.to_string();
        }
        let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + marker.chars().count() + 1;
        let title = super::fit(app.text(g, &s.title), inner_w.saturating_sub(used), theme);
        let pad = inner_w.saturating_sub(used + unicode_width::UnicodeWidthStr::width(title.as_str()));
        spans.push(Span::styled(title, theme.status_style(status)));
        spans.push(Span::raw(" ".repeat(pad + 1)));
        spans.push(Span::styled(marker, marker_style));
        rows.push(ListItem::new(Line::from(spans)));
    }
    let title = format!(" Steps ({}) ", g.steps.len());
    let block =
        Block::default().borders(Borders::ALL).title(Span::styled(title, theme.dim())).border_type(if theme.ascii {
            ratatui::widgets::BorderType::Plain
        } else {
            ratatui::widgets::BorderType::Rounded
        });
    let block = if theme.ascii { block.border_set(ascii_border()) } else { block };
    let list = List::new(rows).block(block).highlight_style(theme.selected());
    // The scroll position is computed here (not left to the widget), so
    // that `ui::hit` finds the same row under the pointer.
    let offset = offset(&self::rows(app), app.selected, area.height.saturating_sub(2));
    let mut state = ListState::default().with_selected(Some(selected_row)).with_offset(offset);
    frame.render_stateful_widget(list, area, &mut state);
}

/// The list's rows: the item each shows (`None`: the troubleshooting
/// heading).
pub fn rows(app: &App) -> Vec<Option<usize>> {
    let mut out = Vec::new();
    let mut heading_shown = false;
    for (i, item) in app.items().iter().enumerate() {
        if item.troubleshooting && !heading_shown {
            heading_shown = true;
            out.push(None);
        }
        out.push(Some(i));
    }
    out
}

/// The first row shown when `height` rows fit: the top, unless the
/// selected item would be below the last row, then so that it is the last.
pub fn offset(rows: &[Option<usize>], selected: usize, height: u16) -> usize {
    let at = rows.iter().position(|r| *r == Some(selected)).unwrap_or(0);
    (at + 1).saturating_sub(height.max(1) as usize)
}

/// " re-check" when the last verdict is older than its freshness window.
fn stale_suffix(app: &App, step: &crate::guide::Step, _at: jiff::Timestamp) -> String {
    if app.is_stale(app.guide_id(), step) { " re-check".to_string() } else { String::new() }
}

pub(crate) fn ascii_border() -> ratatui::symbols::border::Set<'static> {
    ratatui::symbols::border::Set {
        top_left: "+",
        top_right: "+",
        bottom_left: "+",
        bottom_right: "+",
        vertical_left: "|",
        vertical_right: "|",
        horizontal_top: "-",
        horizontal_bottom: "-",
    }
}
