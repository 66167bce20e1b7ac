//! Lines already wrapped to their pane, painted a row each: what ratatui's
//! `Paragraph` (no wrap, scrolled) draws for them, a cell per byte where a
//! span is plain ASCII (`wrap::graphemes`). The detail pane's text is most of
//! a checklist's screen, and nearly all of it is ASCII.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

/// Paints `lines` from line `scroll` on into `area`, one line per row, each
/// cut at the area's width: the cells `Paragraph::new(lines).scroll((scroll,
/// 0))` sets for left-aligned lines (the tests hold that). Lines aligned
/// otherwise go to the paragraph itself.
pub fn paint(lines: &[Line<'_>], scroll: usize, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if lines.iter().any(|l| l.alignment.is_some_and(|a| a != ratatui::layout::Alignment::Left)) {
        let p = ratatui::widgets::Paragraph::new(lines.to_vec()).scroll((scroll as u16, 0));
        ratatui::widgets::Widget::render(p, area, buf);
        return;
    }
    let max = usize::from(area.width);
    for (line, y) in lines.iter().skip(scroll).zip(area.top()..area.bottom()) {
        // As ratatui's line truncator: a grapheme wider than the row is
        // left out, one that no longer fits ends the row.
        let mut used = 0;
        'row: for span in &line.spans {
            let style = line.style.patch(span.style);
            // ASCII a byte at a time (`wrap::graphemes`).
            for (g, w) in super::wrap::graphemes(&span.content) {
                // A control character has no cell (ratatui filters it).
                if g.contains(char::is_control) || w > max {
                    continue;
                }
                if used + w > max {
                    break 'row;
                }
                if w > 0 {
                    buf[(area.x + used as u16, y)].set_symbol(g).set_style(style);
                    used += w;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::style::{Color, Modifier, Style};
    use ratatui::text::Span;
    use ratatui::widgets::{Paragraph, Widget};

    const TEXTS: &[&str] = &[
        "Stap 1",
        " ",
        "a b  c",
        "é",
        "中文字",
        "⌨️",
        "e\u{301}x",
        "→ ok",
        "tab\there",
        "x\u{7f}y",
        "—",
        "",
        "ÖÄ",
        "https://a.example/x",
    ];
    const COLORS: &[Color] = &[Color::Reset, Color::Cyan, Color::Indexed(3), Color::Rgb(9, 8, 7)];

    fn style(i: usize) -> Style {
        let mut s = Style::new();
        if i % 3 == 1 {
            s = s.fg(COLORS[i % COLORS.len()]);
        }
        if i % 5 == 2 {
            s = s.bg(COLORS[(i / 2) % COLORS.len()]).add_modifier(Modifier::BOLD);
        }
        if i % 7 == 3 {
            s = s.add_modifier(Modifier::DIM).remove_modifier(Modifier::ITALIC);
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 800, ..ProptestConfig::default() })]
        #[test]
        fn the_cells_a_paragraph_sets(
            lines in proptest::collection::vec(
                (proptest::collection::vec((0usize..14, 0usize..40), 0..5), 0usize..40), 0..12),
            scroll in 0usize..6, w in 1u16..30, h in 1u16..8, x in 0u16..4, y in 0u16..3,
        ) {
            let lines: Vec<Line> = lines
                .into_iter()
                .map(|(spans, ls)| {
                    let l = Line::from(spans.into_iter().map(|(t, s)| Span::styled(TEXTS[t], style(s))).collect::<Vec<_>>())
                        .style(style(ls));
                    // Now and then a line aligned otherwise (the paragraph's own way).
                    match ls % 17 {
                        5 => l.centered(),
                        11 => l.right_aligned(),
                        _ => l,
                    }
                })
                .collect();
            let all = Rect::new(0, 0, 36, 12);
            let area = Rect::new(x, y, w, h);
            let mut ours = Buffer::empty(all);
            let mut theirs = Buffer::empty(all);
            // A styled background, as a block's might be.
            ours.set_style(Rect::new(0, 0, 36, 2), Style::new().bg(Color::Blue));
            theirs.set_style(Rect::new(0, 0, 36, 2), Style::new().bg(Color::Blue));
            paint(&lines, scroll, area, &mut ours);
            Paragraph::new(lines.clone()).scroll((scroll as u16, 0)).render(area, &mut theirs);
            prop_assert_eq!(ours, theirs);
        }
    }
}
