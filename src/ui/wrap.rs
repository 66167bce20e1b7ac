//! Word wrapping measured in display cells per grapheme.
//!
//! ratatui's own `Paragraph` wrap can put a two-cell grapheme (CJK, most
//! emoji, flags) into a row's last cell when it breaks a word, and a
//! terminal then pushes it onto the next row, shifting everything after it.
//! Every wrapped text in cutover goes through here instead, so no row is
//! ever wider than its area: words break at spaces, a word longer than the
//! row breaks between graphemes, and a grapheme wider than the whole row is
//! left out rather than drawn across the border.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Wraps every line to `width` cells; styles and alignment are kept.
pub fn wrap_lines<'a>(lines: Vec<Line<'a>>, width: u16) -> Vec<Line<'a>> {
    let width = width as usize;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        wrap_line(line, width, &mut out);
    }
    out
}

struct Cell {
    text: String,
    style: Style,
    width: usize,
}

fn wrap_line<'a>(line: Line<'a>, width: usize, out: &mut Vec<Line<'a>>) {
    if line.width() <= width {
        out.push(line);
        return;
    }
    let (line_style, alignment) = (line.style, line.alignment);
    let finish = |row: Vec<Cell>, out: &mut Vec<Line<'a>>| {
        let mut spans: Vec<Span<'a>> = Vec::new();
        for c in row {
            match spans.last_mut() {
                Some(last) if last.style == c.style => last.content.to_mut().push_str(&c.text),
                _ => spans.push(Span::styled(c.text, c.style)),
            }
        }
        let mut l = Line::from(spans).style(line_style);
        l.alignment = alignment;
        out.push(l);
    };
    let mut row: Vec<Cell> = Vec::new();
    let mut row_w = 0;
    // Where the current row may break: the index just after its last space.
    let mut brk: Option<usize> = None;
    for span in &line.spans {
        for g in span.content.graphemes(true) {
            let gw = g.width();
            if gw > width {
                continue;
            }
            let is_space = g == " ";
            if row_w + gw > width {
                if is_space {
                    finish(std::mem::take(&mut row), out);
                    row_w = 0;
                    brk = None;
                    continue;
                }
                let carry = match brk.take() {
                    Some(b) if b < row.len() => row.split_off(b),
                    _ => Vec::new(),
                };
                while row.last().is_some_and(|c| c.text == " ") {
                    row.pop();
                }
                finish(std::mem::take(&mut row), out);
                row = carry;
                row_w = row.iter().map(|c| c.width).sum();
                if row_w + gw > width {
                    finish(std::mem::take(&mut row), out);
                    row_w = 0;
                }
            }
            row.push(Cell { text: g.to_string(), style: span.style, width: gw });
            row_w += gw;
            if is_space {
                brk = Some(row.len());
            }
        }
    }
    if !row.is_empty() {
        finish(row, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn breaks_at_spaces() {
        let out = wrap_lines(vec![Line::from("the quick brown fox")], 10);
        assert_eq!(texts(&out), ["the quick", "brown fox"]);
    }

    #[test]
    fn breaks_a_long_word_between_graphemes() {
        let out = wrap_lines(vec![Line::from("abcdefghij")], 4);
        assert_eq!(texts(&out), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn never_puts_a_wide_grapheme_in_the_last_cell() {
        for width in 1..12u16 {
            for pre in 0..6 {
                let s = format!("{}配送📦🇫🇮❤\u{fe0f} 👩\u{200d}💻x", "a".repeat(pre));
                for l in wrap_lines(vec![Line::from(s.clone())], width) {
                    assert!(l.width() <= width as usize, "{s:?} at {width}: {l:?}");
                }
            }
        }
    }

    #[test]
    fn keeps_styles_and_short_lines() {
        let bold = Style::new().bold();
        let line = Line::from(vec![Span::raw("plain "), Span::styled("bold words here", bold)]);
        let out = wrap_lines(vec![line.clone()], 40);
        assert_eq!(out, vec![line.clone()]);
        let out = wrap_lines(vec![line], 11);
        assert_eq!(texts(&out), ["plain bold", "words here"]);
        assert_eq!(out[1].spans[0].style, bold);
    }

    #[test]
    fn a_grapheme_wider_than_the_row_is_left_out() {
        let out = wrap_lines(vec![Line::from("a配b")], 1);
        assert_eq!(texts(&out), ["a", "b"]);
    }
}
