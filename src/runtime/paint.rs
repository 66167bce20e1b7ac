//! The first frame's bytes, without a terminal: a buffer drawn on a blank
//! screen, written as ratatui's crossterm backend writes a frame.
//!
//! ratatui draws a frame by diffing it against the previous one, which at
//! the start is a whole screen of blank cells: a second buffer, filled
//! cell by cell (a page fault every 85 cells), to find that every cell
//! that is not blank differs. Here the frame is compared with a blank cell
//! instead, and its cells are written with the same escape sequences
//! crossterm would send (the same bytes: `tests` hold that over random
//! buffers). The terminal made after the frame takes this buffer as its
//! previous frame, so the next draw sends only what changed.

use ratatui::backend::IntoCrossterm;
use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::crossterm::Command;
use ratatui::crossterm::style::{Attribute, Color as CColor, Colors, SetAttribute, SetColors, SetUnderlineColor};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

/// Appends the bytes that draw `buf` on a blank screen: exactly what
/// ratatui's crossterm backend writes for `buf` diffed against an empty
/// buffer of its size.
pub fn on_blank(buf: &Buffer, out: &mut Vec<u8>) {
    let mut pen = Pen::new(out);
    blank_diff(buf, |x, y, cell| pen.cell(x, y, cell));
    pen.finish();
}

/// A blank buffer over `area`, equal to `Buffer::empty(area)`, made by
/// writing the one blank cell into each place instead of cloning it into
/// each (a clone of the cell's string asks, cell by cell, where its text
/// lives): the first frame's buffer is the start's largest allocation.
pub fn blank(area: ratatui::layout::Rect) -> Buffer {
    let cells = usize::from(area.width) * usize::from(area.height);
    Buffer { area, content: (0..cells).map(|_| Cell::EMPTY).collect() }
}

/// Appends the bytes that write `cells` as the crossterm backend's `draw`
/// writes them (the frame's hyperlinks, after it).
pub fn cells<'a>(cells: impl Iterator<Item = (u16, u16, &'a Cell)>, out: &mut Vec<u8>) {
    let mut pen = Pen::new(out);
    for (x, y, cell) in cells {
        pen.cell(x, y, cell);
    }
    pen.finish();
}

/// Appends what shows the cursor at `at`, as ratatui does after a frame
/// that places it.
pub fn show_cursor(at: ratatui::layout::Position, out: &mut Vec<u8>) {
    let mut b = Bytes(out);
    let _ = ratatui::crossterm::cursor::Show.write_ansi(&mut b);
    let _ = ratatui::crossterm::cursor::MoveTo(at.x, at.y).write_ansi(&mut b);
}

/// The cells of `buf` that ratatui's diff against a blank buffer yields,
/// in its order (`Buffer::empty(area).diff(buf)`, with every previous
/// cell blank: one space, no style, one column wide).
fn blank_diff(buf: &Buffer, mut emit: impl FnMut(u16, u16, &Cell)) {
    let cells = &buf.content;
    let width = usize::from(buf.area.width.max(1));
    let at = |i: usize| ((i % width) as u16 + buf.area.x, (i / width) as u16 + buf.area.y);
    let len = cells.len();
    let mut i = 0;
    while i < len {
        let cell = &cells[i];
        let here = i;
        i += 1;
        match cell.diff_option {
            CellDiffOption::Skip => {}
            _ if skipped(cell) => {}
            CellDiffOption::ForcedWidth(w) => {
                i = i.saturating_add(usize::from(w.get().saturating_sub(1)));
                if *cell != Cell::EMPTY {
                    let (x, y) = at(here);
                    emit(x, y, cell);
                }
            }
            CellDiffOption::None | CellDiffOption::AlwaysUpdate => {
                let w = width_of(cell);
                if matches!(cell.diff_option, CellDiffOption::None) && *cell == Cell::EMPTY {
                    i += w.saturating_sub(1);
                    continue;
                }
                let (x, y) = at(here);
                emit(x, y, cell);
                if w > 1 && cell.symbol().contains('\u{FE0F}') {
                    // ratatui writes the trailing cells of an emoji with
                    // VS16 again where they do not show a space.
                    let mut j = here + 1;
                    let mut end = (here + w).min(len);
                    while j < end {
                        let (k, trailing) = (j, &cells[j]);
                        j += width_of(trailing).max(1);
                        end = end.max(j).min(len);
                        if !skipped(trailing) && trailing.symbol() != " " {
                            let (tx, ty) = at(k);
                            emit(tx, ty, trailing);
                        }
                    }
                    i = end;
                } else if w > 1 {
                    i += w - 1;
                }
            }
        }
    }
}

/// ratatui's test for a cell its diff never writes.
#[allow(deprecated)]
fn skipped(cell: &Cell) -> bool {
    matches!(cell.diff_option, CellDiffOption::Skip) || (cell.skip && matches!(cell.diff_option, CellDiffOption::None))
}

/// A cell's width as ratatui's diff counts it.
fn width_of(cell: &Cell) -> usize {
    match cell.diff_option {
        CellDiffOption::ForcedWidth(w) => usize::from(w.get()),
        _ => match cell.symbol() {
            s if s.len() == 1 => 1,
            s => s.width(),
        },
    }
}

/// The crossterm backend's `draw`, into bytes: a move where a cell does
/// not follow the last, the modifiers and colours that changed, the
/// symbol; everything reset at the end.
struct Pen<'o> {
    out: &'o mut Vec<u8>,
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
    last: Option<(u16, u16)>,
}

impl<'o> Pen<'o> {
    fn new(out: &'o mut Vec<u8>) -> Self {
        Pen {
            out,
            fg: Color::Reset,
            bg: Color::Reset,
            underline: Color::Reset,
            modifier: Modifier::empty(),
            last: None,
        }
    }

    fn cell(&mut self, x: u16, y: u16, cell: &Cell) {
        if !matches!(self.last, Some((lx, ly)) if x == lx.wrapping_add(1) && y == ly) {
            self.out.extend_from_slice(b"\x1b[");
            number(self.out, u32::from(y) + 1);
            self.out.push(b';');
            number(self.out, u32::from(x) + 1);
            self.out.push(b'H');
        }
        self.last = Some((x, y));
        if cell.modifier != self.modifier {
            self.modifiers(self.modifier, cell.modifier);
            self.modifier = cell.modifier;
        }
        if cell.fg != self.fg || cell.bg != self.bg {
            self.command(SetColors(Colors::new(cell.fg.into_crossterm(), cell.bg.into_crossterm())));
            self.fg = cell.fg;
            self.bg = cell.bg;
        }
        if cell.underline_color != self.underline {
            self.command(SetUnderlineColor(cell.underline_color.into_crossterm()));
            self.underline = cell.underline_color;
        }
        self.out.extend_from_slice(cell.symbol().as_bytes());
    }

    fn finish(mut self) {
        self.command(ratatui::crossterm::style::SetForegroundColor(CColor::Reset));
        self.command(ratatui::crossterm::style::SetBackgroundColor(CColor::Reset));
        self.command(SetUnderlineColor(CColor::Reset));
        self.attribute(Attribute::Reset);
    }

    /// ratatui's `ModifierDiff`, in its order.
    fn modifiers(&mut self, from: Modifier, to: Modifier) {
        let removed = from - to;
        if removed.contains(Modifier::REVERSED) {
            self.attribute(Attribute::NoReverse);
        }
        let reset_intensity = removed.intersects(Modifier::BOLD | Modifier::DIM);
        if reset_intensity {
            self.attribute(Attribute::NormalIntensity);
            if to.contains(Modifier::DIM) {
                self.attribute(Attribute::Dim);
            }
            if to.contains(Modifier::BOLD) {
                self.attribute(Attribute::Bold);
            }
        }
        for (m, a) in [
            (Modifier::ITALIC, Attribute::NoItalic),
            (Modifier::UNDERLINED, Attribute::NoUnderline),
            (Modifier::CROSSED_OUT, Attribute::NotCrossedOut),
            (Modifier::HIDDEN, Attribute::NoHidden),
        ] {
            if removed.contains(m) {
                self.attribute(a);
            }
        }
        if removed.intersects(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK) {
            self.attribute(Attribute::NoBlink);
        }
        let added = to - from;
        for (m, a, unless_reset) in [
            (Modifier::REVERSED, Attribute::Reverse, false),
            (Modifier::BOLD, Attribute::Bold, true),
            (Modifier::ITALIC, Attribute::Italic, false),
            (Modifier::UNDERLINED, Attribute::Underlined, false),
            (Modifier::DIM, Attribute::Dim, true),
            (Modifier::CROSSED_OUT, Attribute::CrossedOut, false),
            (Modifier::HIDDEN, Attribute::Hidden, false),
            (Modifier::SLOW_BLINK, Attribute::SlowBlink, false),
            (Modifier::RAPID_BLINK, Attribute::RapidBlink, false),
        ] {
            if added.contains(m) && !(unless_reset && reset_intensity) {
                self.attribute(a);
            }
        }
    }

    fn attribute(&mut self, a: Attribute) {
        self.command(SetAttribute(a));
    }

    /// An escape sequence as crossterm writes it.
    fn command(&mut self, c: impl Command) {
        // Writing into a Vec cannot fail.
        let _ = c.write_ansi(&mut Bytes(self.out));
    }
}

struct Bytes<'o>(&'o mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// `n` in decimal.
fn number(out: &mut Vec<u8>, n: u32) {
    let mut digits = [0u8; 10];
    let mut k = digits.len();
    let mut n = n;
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[k..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::backend::{Backend, CrosstermBackend};
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    /// A writer whose bytes can be read after the backend has them.
    #[derive(Clone, Default)]
    struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What crossterm's backend writes for `cells`.
    fn drawn<'a>(cells: impl Iterator<Item = (u16, u16, &'a Cell)>) -> Vec<u8> {
        let out = Shared::default();
        let mut backend = CrosstermBackend::new(out.clone());
        backend.draw(cells).ok();
        out.0.borrow().clone()
    }

    /// What ratatui and crossterm write for `buf` on a blank screen.
    fn theirs(buf: &Buffer) -> Vec<u8> {
        let blank = Buffer::empty(buf.area);
        drawn(blank.diff(buf).into_iter())
    }

    fn ours(buf: &Buffer) -> Vec<u8> {
        let mut out = Vec::new();
        on_blank(buf, &mut out);
        out
    }

    const COLORS: &[Color] = &[
        Color::Reset,
        Color::Black,
        Color::Red,
        Color::LightCyan,
        Color::DarkGray,
        Color::White,
        Color::Indexed(208),
        Color::Rgb(1, 200, 30),
    ];
    const TEXTS: &[&str] =
        &["a", "Stap 1", " ", "  ", "é", "中文", "⌨️", "👍🏽", "e\u{301}", "╭─", "│", "→", "ß x", "\u{200b}", "Ö"];

    fn style(fg: usize, bg: usize, ul: usize, m: u16) -> Style {
        Style::new()
            .fg(COLORS[fg % COLORS.len()])
            .bg(COLORS[bg % COLORS.len()])
            .underline_color(COLORS[ul % COLORS.len()])
            .add_modifier(Modifier::from_bits_truncate(m))
    }

    #[test]
    fn a_blank_buffer_is_ratatuis_empty_buffer() {
        for (x, y, w, h) in [(0, 0, 100, 30), (3, 2, 12, 4), (0, 0, 0, 0), (5, 5, 0, 7), (0, 0, 1, 1), (1, 0, 255, 255)]
        {
            let area = Rect::new(x, y, w, h);
            assert_eq!(blank(area), Buffer::empty(area), "{area:?}");
        }
    }

    #[test]
    fn a_blank_buffer_writes_only_the_reset() {
        let buf = Buffer::empty(Rect::new(0, 0, 10, 3));
        assert_eq!(ours(&buf), theirs(&buf));
        assert!(!ours(&buf).windows(1).any(|w| w == b"H"));
    }

    #[test]
    fn a_frame_away_from_the_origin_moves_to_its_cells() {
        let mut buf = Buffer::empty(Rect::new(3, 2, 12, 4));
        buf.set_string(5, 3, "hoi", Style::new().fg(Color::Yellow));
        buf.set_string(3, 5, "x", Style::new().add_modifier(Modifier::BOLD));
        assert_eq!(ours(&buf), theirs(&buf));
        assert!(String::from_utf8_lossy(&ours(&buf)).contains("\x1b[4;6H"));
    }

    #[test]
    fn skipped_cells_are_left_to_whoever_writes_them() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 1));
        buf.set_string(0, 0, "abcdefgh", Style::new());
        for x in 2..5 {
            buf[(x, 0)].diff_option = CellDiffOption::Skip;
        }
        assert_eq!(ours(&buf), theirs(&buf));
        assert!(!String::from_utf8_lossy(&ours(&buf)).contains('c'));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]
        /// Random frames as the screen's parts make them (strings set
        /// with styles, wide and combined graphemes, skipped and forced
        /// cells): the same bytes as ratatui's diff and crossterm.
        #[test]
        fn the_same_bytes_as_ratatui_and_crossterm(
            w in 1u16..24, h in 1u16..6, ox in 0u16..3, oy in 0u16..3,
            writes in proptest::collection::vec(
                (0u16..24, 0u16..6, 0usize..15, 0usize..8, 0usize..8, 0usize..8, 0u16..512), 0..30),
            marks in proptest::collection::vec((0u16..24, 0u16..6, 0u8..4), 0..6),
        ) {
            let mut buf = Buffer::empty(Rect::new(ox, oy, w, h));
            for (x, y, t, fg, bg, ul, m) in writes {
                let (x, y) = (ox + x % w, oy + y % h);
                buf.set_string(x, y, TEXTS[t], style(fg, bg, ul, m));
            }
            for (x, y, kind) in marks {
                let c = &mut buf[(ox + x % w, oy + y % h)];
                match kind {
                    0 => c.diff_option = CellDiffOption::Skip,
                    1 => c.diff_option = CellDiffOption::AlwaysUpdate,
                    2 => c.diff_option = CellDiffOption::ForcedWidth(std::num::NonZeroU16::MIN.saturating_add(1)),
                    _ => c.reset(),
                }
            }
            let (ours, theirs) = (ours(&buf), theirs(&buf));
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }
    }

    #[test]
    fn cells_are_written_as_the_backend_draws_them() {
        let mut a = Cell::new("x");
        a.set_style(Style::new().fg(Color::Green).add_modifier(Modifier::UNDERLINED));
        let b = Cell::new("\x1b]8;;https://a.example/\x1b\\a\x1b]8;;\x1b\\");
        let placed = [(4u16, 1u16, a), (5, 1, b.clone()), (0, 2, b)];
        let mut out = Vec::new();
        cells(placed.iter().map(|(x, y, c)| (*x, *y, c)), &mut out);
        assert_eq!(out, drawn(placed.iter().map(|(x, y, c)| (*x, *y, c))));
    }

    #[test]
    fn numbers_in_decimal() {
        for n in [0u32, 1, 9, 10, 99, 100, 65535, 65536] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
