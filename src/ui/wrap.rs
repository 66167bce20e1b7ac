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

/// The graphemes of `s`, each with its width in cells. Between two ASCII
/// characters there is always a grapheme boundary but within CR LF (UAX
/// #29: every other rule that joins looks at a character beyond ASCII), so
/// a guide's text, mostly ASCII, goes one byte at a time, and only a stretch
/// from such a boundary to the next goes through the segmenter. The first
/// frame wraps a step's whole text.
pub(super) fn graphemes(s: &str) -> impl Iterator<Item = (&str, usize)> {
    let b = s.as_bytes();
    // A boundary the segmenter would find too: between two ASCII
    // characters that are not CR LF, or at either end.
    let cut =
        move |p: usize| p == 0 || p >= b.len() || (b[p - 1].is_ascii() && b[p].is_ascii() && b[p - 1..=p] != *b"\r\n");
    let mut at = 0;
    let mut pending: Option<unicode_segmentation::Graphemes<'_>> = None;
    std::iter::from_fn(move || {
        loop {
            if let Some(g) = pending.as_mut().and_then(|p| p.next()) {
                return Some(g);
            }
            pending = None;
            let first = *b.get(at)?;
            if first.is_ascii() && cut(at + 1) {
                at += 1;
                return Some(&s[at - 1..at]);
            }
            let end = (at + 1..=b.len()).find(|p| cut(*p)).unwrap_or(b.len());
            pending = Some(s[at..end].graphemes(true));
            at = end;
        }
    })
    .map(|g| (g, cells(g)))
}

/// The width of one grapheme: a printable ASCII character is one cell.
fn cells(g: &str) -> usize {
    match g.as_bytes() {
        [b] if (0x20..0x7f).contains(b) => 1,
        _ => g.width(),
    }
}

/// One grapheme of the line being wrapped, borrowed from its span: a
/// row is built without a string per character, and each run of one
/// style becomes one string when the row is finished.
struct Cell<'b> {
    text: &'b str,
    style: Style,
    width: usize,
}

fn wrap_line<'a>(line: Line<'a>, width: usize, out: &mut Vec<Line<'a>>) {
    if line.width() <= width {
        out.push(line);
        return;
    }
    let (line_style, alignment) = (line.style, line.alignment);
    // Each run of one style becomes one string, made at its length.
    let finish = |row: &mut Vec<Cell>, out: &mut Vec<Line<'a>>| {
        let mut spans: Vec<Span<'a>> = Vec::new();
        let mut rest = &row[..];
        while let Some(first) = rest.first() {
            let run = rest.iter().take_while(|c| c.style == first.style).count();
            let (this, after) = rest.split_at(run);
            let mut text = String::with_capacity(this.iter().map(|c| c.text.len()).sum());
            this.iter().for_each(|c| text.push_str(c.text));
            spans.push(Span::styled(text, first.style));
            rest = after;
        }
        row.clear();
        let mut l = Line::from(spans).style(line_style);
        l.alignment = alignment;
        out.push(l);
    };
    // A line that starts indented goes on indented a little more: its
    // rows after the first hang under it (help entries, verdict lines).
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let lead = text.len() - text.trim_start_matches(' ').len();
    let hang = if lead > 0 && lead + 2 <= width / 2 { lead + 2 } else { 0 };
    let indent = |row: &mut Vec<Cell>| row.extend((0..hang).map(|_| Cell { text: " ", style: Style::new(), width: 1 }));
    // One row's cells, and the word carried to the next: both reused
    // from row to row.
    let mut row: Vec<Cell> = Vec::with_capacity(width);
    let mut carry: Vec<Cell> = Vec::new();
    let mut row_w = 0;
    // Where the current row may break: the index just after its last space.
    let mut brk: Option<usize> = None;
    for span in &line.spans {
        for (g, gw) in graphemes(&span.content) {
            if gw > width {
                continue;
            }
            let is_space = g == " ";
            if row_w + gw > width {
                if is_space {
                    finish(&mut row, out);
                    indent(&mut row);
                    row_w = hang;
                    brk = None;
                    continue;
                }
                if let Some(b) = brk.take().filter(|b| *b < row.len()) {
                    carry.extend(row.drain(b..));
                }
                while row.last().is_some_and(|c| c.text == " ") {
                    row.pop();
                }
                finish(&mut row, out);
                indent(&mut row);
                row.append(&mut carry);
                row_w = row.iter().map(|c| c.width).sum();
                if row_w + gw > width {
                    finish(&mut row, out);
                    indent(&mut row);
                    row_w = hang;
                }
            }
            row.push(Cell { text: g, style: span.style, width: gw });
            row_w += gw;
            if is_space && row_w > hang {
                brk = Some(row.len());
            }
        }
    }
    if row.iter().any(|c| c.text != " ") {
        finish(&mut row, out);
    }
}

/// A line of the detail pane, and which of its spans, if any, is a URL
/// with its link target (see `super::link`).
pub struct Linked<'a> {
    pub line: Line<'a>,
    pub link: Option<(usize, String)>,
}

impl<'a> From<Line<'a>> for Linked<'a> {
    fn from(line: Line<'a>) -> Self {
        Linked { line, link: None }
    }
}

/// Where a URL landed after wrapping: `row` of the wrapped lines, `width`
/// cells from column `x`, showing `text`; `parts` rows in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLink {
    pub row: usize,
    pub x: u16,
    pub width: u16,
    pub text: String,
    pub target: String,
    pub parts: usize,
}

/// [`wrap_lines`] for lines that may hold a URL, which is never broken
/// where it need not be: a line too wide puts the text before the URL on
/// rows of its own, the URL on the next (under the line's indent), and what
/// follows it after it; only a URL wider than the whole row is cut, between
/// graphemes, each piece a row of its own. Says where each URL landed.
pub fn wrap_linked<'a>(lines: Vec<Linked<'a>>, width: u16) -> (Vec<Line<'a>>, Vec<RowLink>) {
    let w = width as usize;
    let mut out: Vec<Line<'a>> = Vec::with_capacity(lines.len());
    let mut links = Vec::new();
    for item in lines {
        let Some((at, target)) = item.link.filter(|(at, _)| *at < item.line.spans.len()) else {
            wrap_line(item.line, w, &mut out);
            continue;
        };
        let Linked { line, .. } = item;
        let (style, alignment) = (line.style, line.alignment);
        let mut spans = line.spans;
        let suffix: Vec<Span<'a>> = spans.split_off(at + 1);
        let url = spans.pop().unwrap_or_default();
        let prefix = spans;
        let prefix_w: usize = prefix.iter().map(Span::width).sum();
        let url_w = url.width();
        let suffix_w: usize = suffix.iter().map(Span::width).sum();
        let finish = |spans: Vec<Span<'a>>| {
            let mut l = Line::from(spans).style(style);
            l.alignment = alignment;
            l
        };
        if prefix_w + url_w <= w {
            // The URL fits after what leads it; what follows goes after it
            // or onto the next row.
            links.push(RowLink {
                row: out.len(),
                x: prefix_w as u16,
                width: url_w as u16,
                text: url.content.to_string(),
                target: target.clone(),
                parts: 1,
            });
            let mut row = prefix;
            row.push(url);
            if prefix_w + url_w + suffix_w <= w {
                row.extend(suffix);
                out.push(finish(row));
            } else {
                out.push(finish(row));
                // What follows the URL goes under it (or under the line's
                // indent if it is too wide for that).
                let lead: String = row_text(&out).chars().take_while(|c| *c == ' ').collect();
                let under = if prefix_w + suffix_w.min(w / 2) <= w { prefix_w } else { lead.len() };
                wrap_line(finish(indented(suffix, under)), w, &mut out);
            }
            continue;
        }
        let lead: String = prefix.iter().map(|s| s.content.as_ref()).collect();
        let indent = lead.len() - lead.trim_start_matches(' ').len();
        // A URL too wide for a row of its own is cut anyway: it starts
        // right after what leads it, and is cut where the rows end.
        let must_cut = indent + url_w > w;
        let (mut first_row, first_x, indent, room) = if must_cut && prefix_w < w {
            (prefix, prefix_w, 0, w)
        } else {
            if !lead.trim().is_empty() {
                let mut p = prefix;
                if let Some(last) = p.last_mut() {
                    let t = last.content.trim_end().to_string();
                    last.content = t.into();
                }
                wrap_line(finish(p), w, &mut out);
            }
            let (indent, room) = if must_cut { (0, w) } else { (indent, w - indent) };
            (vec![Span::raw(" ".repeat(indent))], indent, indent, room)
        };
        let mut pieces: Vec<(String, usize)> = vec![(String::new(), 0)];
        let mut row_room = w - first_x;
        for (g, gw) in graphemes(&url.content) {
            if gw > room {
                continue;
            }
            if pieces.last().is_some_and(|(_, pw)| pw + gw > row_room) {
                pieces.push((String::new(), 0));
                row_room = room;
            }
            if let Some((p, pw)) = pieces.last_mut() {
                p.push_str(g);
                *pw += gw;
            }
        }
        let parts = pieces.len();
        let mut last_w = 0;
        for (i, (piece, pw)) in pieces.into_iter().enumerate() {
            let (x, mut row) = if i == 0 {
                (first_x, std::mem::take(&mut first_row))
            } else {
                (indent, vec![Span::raw(" ".repeat(indent))])
            };
            links.push(RowLink {
                row: out.len(),
                x: x as u16,
                width: pw as u16,
                text: piece.clone(),
                target: target.clone(),
                parts,
            });
            last_w = x + pw;
            row.push(Span::styled(piece, url.style));
            out.push(finish(row));
        }
        if !suffix.is_empty() {
            if last_w + suffix_w <= w
                && let Some(last) = out.last_mut()
            {
                last.spans.extend(suffix);
            } else {
                wrap_line(finish(indented(suffix, indent)), w, &mut out);
            }
        }
    }
    (out, links)
}

fn row_text(rows: &[Line<'_>]) -> String {
    rows.last().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).unwrap_or_default()
}

/// `spans` without their leading spaces, after `indent` spaces.
fn indented(mut spans: Vec<Span<'_>>, indent: usize) -> Vec<Span<'_>> {
    while let Some(first) = spans.first_mut() {
        let t = first.content.trim_start().to_string();
        if t.is_empty() {
            spans.remove(0);
        } else {
            first.content = t.into();
            break;
        }
    }
    spans.insert(0, Span::raw(" ".repeat(indent)));
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    /// The short way for ASCII finds the segmenter's graphemes and widths:
    /// every pair of ASCII characters but CR LF is two graphemes (the
    /// rules of UAX #29 that can join ASCII look at pairs), CR goes to the
    /// segmenter, and so does anything beyond ASCII.
    #[test]
    fn ascii_graphemes_are_the_segmenters() {
        let slow = |s: &str| s.graphemes(true).map(|g| (g.to_string(), g.width())).collect::<Vec<_>>();
        let fast = |s: &str| graphemes(s).map(|(g, w)| (g.to_string(), w)).collect::<Vec<_>>();
        for a in 0u8..128 {
            for b in 0u8..128 {
                let s = String::from_utf8(vec![a, b, b'x']).unwrap_or_default();
                assert_eq!(fast(&s), slow(&s), "{s:?}");
            }
        }
        for s in ["a\r\nb", "line\r", "caf\u{e9} ok", "e\u{301}x", "👩\u{200d}💻 x", "配送 a", ""] {
            assert_eq!(fast(s), slow(s), "{s:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Text mixing ASCII with what joins across it (combining and
        /// prepended marks, ZWJ sequences, flags, CR LF, wide characters):
        /// the graphemes and widths are the segmenter's.
        #[test]
        fn mixed_graphemes_are_the_segmenters(parts in proptest::collection::vec(0usize..18, 0..40)) {
            const PIECES: [&str; 18] = [
                "a", " ", "e", "\r", "\n", "\u{301}", "\u{600}", "\u{200d}", "👩", "💻", "🇫", "🇮",
                "配", "é", "’", "-", "\t", "\u{fe0f}",
            ];
            let s: String = parts.iter().map(|i| PIECES[*i]).collect();
            let slow: Vec<(String, usize)> = s.graphemes(true).map(|g| (g.to_string(), g.width())).collect();
            let fast: Vec<(String, usize)> = graphemes(&s).map(|(g, w)| (g.to_string(), w)).collect();
            proptest::prop_assert_eq!(fast, slow, "{:?}", s);
        }
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

    fn linked(spans: Vec<Span<'static>>, at: usize) -> Linked<'static> {
        Linked { line: Line::from(spans), link: Some((at, "https://t.example/".into())) }
    }

    #[test]
    fn a_url_that_fits_stays_on_its_row() {
        let l = linked(vec![Span::raw("  see: "), Span::raw("https://a.example/x"), Span::raw(".")], 1);
        let (rows, links) = wrap_linked(vec![l], 40);
        assert_eq!(texts(&rows), ["  see: https://a.example/x."]);
        assert_eq!((links[0].row, links[0].x, links[0].width), (0, 7, 19));
        assert_eq!(links[0].text, "https://a.example/x");
    }

    #[test]
    fn a_url_is_never_broken_where_it_need_not_be() {
        let l = linked(
            vec![
                Span::raw("  PostNL: how do I get an API key? "),
                Span::raw("https://developer.postnl.nl/support/api-key"),
                Span::raw("."),
            ],
            1,
        );
        let (rows, links) = wrap_linked(vec![l, Line::from("next").into()], 50);
        assert_eq!(
            texts(&rows),
            ["  PostNL: how do I get an API key?", "  https://developer.postnl.nl/support/api-key.", "next"]
        );
        assert_eq!(links.len(), 1);
        assert_eq!((links[0].row, links[0].x, links[0].width, links[0].parts), (1, 2, 43, 1));
    }

    #[test]
    fn a_url_wider_than_the_row_takes_rows_of_its_own() {
        let url = format!("https://example.com/{}", "a".repeat(30));
        let l = linked(vec![Span::raw("  "), Span::raw(url.clone()), Span::raw(" after")], 1);
        let (rows, links) = wrap_linked(vec![l], 20);
        // Cut anyway, so it starts right after the indent and fills rows.
        assert_eq!(
            texts(&rows),
            [format!("  {}", &url[..18]), url[18..38].to_string(), format!("{} after", &url[38..])]
        );
        assert_eq!(
            links.iter().map(|l| (l.row, l.x, l.width, l.parts)).collect::<Vec<_>>(),
            [(0, 2, 18, 3), (1, 0, 20, 3), (2, 0, 12, 3)]
        );
        assert_eq!(links.iter().map(|l| l.text.as_str()).collect::<String>(), url);
        for r in &rows {
            assert!(r.width() <= 20);
        }
    }

    #[test]
    fn an_indented_line_hangs_under_its_indent() {
        let out = wrap_lines(vec![Line::from("  R  write the hand-off report next to it")], 20);
        assert_eq!(texts(&out), ["  R  write the", "    hand-off report", "    next to it"]);
        // Unindented lines do not.
        let out = wrap_lines(vec![Line::from("write the hand-off report")], 10);
        assert_eq!(texts(&out), ["write the", "hand-off", "report"]);
    }
}
