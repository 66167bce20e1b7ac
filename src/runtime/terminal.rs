//! Entering and leaving the terminal's full-screen mode, and the panic hook
//! that always leaves it restored.

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use crossterm::{Command, cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static MOUSE: AtomicBool = AtomicBool::new(false);
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub type Term = Terminal<CrosstermBackend<BufferedStdout>>;

/// Stdout with a buffer, flushed once per frame: one write per frame keeps
/// a slow link from seeing half-drawn screens.
pub struct BufferedStdout(io::BufWriter<Stdout>);

impl Write for BufferedStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Raw mode and the panic hook that restores the terminal; returns the
/// sequences that enter full-screen mode (the alternate screen, bracketed
/// paste, the cursor hidden, the mouse if asked), for the first frame's
/// one write to carry.
pub fn enter_raw(mouse: bool) -> io::Result<Vec<u8>> {
    install_panic_hook();
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    MOUSE.store(mouse, Ordering::SeqCst);
    let mut seq = String::new();
    let wrote = EnterAlternateScreen
        .write_ansi(&mut seq)
        .and_then(|()| EnableBracketedPaste.write_ansi(&mut seq))
        .and_then(|()| cursor::Hide.write_ansi(&mut seq))
        .and_then(|()| if mouse { EnableMouseCapture.write_ansi(&mut seq) } else { Ok(()) });
    wrote.map_err(|_| io::Error::other("cannot write the terminal's mode sequences"))?;
    Ok(seq.into_bytes())
}

/// The size of the terminal cutover runs in, as the terminal made after
/// the first frame reads it.
pub fn area() -> io::Result<ratatui::layout::Rect> {
    let (width, height) = crossterm::terminal::size()?;
    Ok(ratatui::layout::Rect::new(0, 0, width, height))
}

/// The terminal, once a first frame is on screen (`runtime::paint_first`):
/// `shown` is what the screen shows, and becomes the terminal's previous
/// frame, so its next draw writes only what changed. If the size changed
/// since, the next draw starts from a cleared screen.
pub fn attach(shown: ratatui::buffer::Buffer) -> io::Result<Term> {
    let backend = CrosstermBackend::new(BufferedStdout(io::BufWriter::with_capacity(64 * 1024, io::stdout())));
    let mut term = Terminal::new(backend)?;
    if term.current_buffer_mut().area == shown.area {
        *term.current_buffer_mut() = shown;
        term.swap_buffers();
    } else {
        // Not `Terminal::clear`: it asks the terminal where the cursor is,
        // and waits for an answer some terminals never give.
        ratatui::backend::Backend::clear(term.backend_mut())?;
        ratatui::backend::Backend::flush(term.backend_mut())?;
    }
    Ok(term)
}

/// Leaves full-screen mode. Safe to call twice.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if MOUSE.load(Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
        // A panic anywhere (a task included) ends cutover: the state file
        // holds every change already saved.
        std::process::exit(101);
    }));
}

/// Writes the frame's links as OSC 8 hyperlinks, at the cost of their own
/// cells only. ratatui's cells cannot hold an escape sequence (its diff
/// would count the bytes as width, and resend a long URL for every cell),
/// so the link cells are marked to be skipped by its diff and written
/// after the frame, each run of cells once: the sequence, the text with
/// its style, the end. A link already on screen as it is now is not
/// written again, so an idle screen stays at 0 bytes and a move writes
/// only the links that changed.
/// Cells to write, with where they go.
pub type PlacedCells = Vec<(u16, u16, ratatui::buffer::Cell)>;

#[derive(Default)]
pub struct Links {
    on: bool,
    /// What is on screen now: each link and the cells written for it.
    shown: Vec<(crate::ui::link::Hyperlink, PlacedCells)>,
    area: ratatui::layout::Rect,
}

impl Links {
    pub fn new(on: bool) -> Self {
        Links { on, ..Default::default() }
    }

    /// The screen was cleared: nothing of ours is on it any more.
    pub fn forget(&mut self) {
        self.shown.clear();
    }

    /// Called with the frame's buffer once everything is drawn: marks the
    /// link cells as skipped and returns the cells to write after ratatui's
    /// own (the first and last carry the sequence).
    pub fn prepare(
        &mut self,
        buf: &mut ratatui::buffer::Buffer,
        links: Vec<crate::ui::link::Hyperlink>,
    ) -> PlacedCells {
        use ratatui::buffer::CellDiffOption;
        if !self.on {
            return Vec::new();
        }
        if buf.area != self.area {
            // A new size: ratatui clears the screen and draws it all.
            self.shown.clear();
            self.area = buf.area;
        }
        let mut out = Vec::new();
        let mut shown = Vec::with_capacity(links.len());
        for l in links {
            let mut cells = Vec::new();
            let mut x = l.x;
            while x < l.x + l.width {
                let Some(c) = buf.cell((x, l.y)) else { break };
                let w = unicode_width::UnicodeWidthStr::width(c.symbol()).max(1) as u16;
                cells.push((x, l.y, c.clone()));
                x += w;
            }
            for cx in l.x..l.x + l.width {
                if let Some(c) = buf.cell_mut((cx, l.y)) {
                    c.set_diff_option(CellDiffOption::Skip);
                }
            }
            let already = self.shown.iter().any(|(sl, sc)| *sl == l && *sc == cells);
            if !already {
                let n = cells.len();
                let open = crate::ui::link::open(&l.target, l.id.as_deref());
                for (i, (x, y, c)) in cells.iter().enumerate() {
                    let mut c = c.clone();
                    let mut sym = String::new();
                    if i == 0 {
                        sym.push_str(&open);
                    }
                    sym.push_str(c.symbol());
                    if i + 1 == n {
                        sym.push_str(crate::ui::link::CLOSE);
                    }
                    c.set_symbol(&sym);
                    out.push((*x, *y, c));
                }
            }
            shown.push((l, cells));
        }
        self.shown = shown;
        out
    }
}

/// Draws a frame with `render` and then its hyperlinks (see [`Links`]).
pub fn draw<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
    links: &mut Links,
    render: impl FnOnce(&mut ratatui::Frame) -> Vec<crate::ui::link::Hyperlink>,
) -> Result<(), B::Error> {
    let mut cells = Vec::new();
    terminal.draw(|f| {
        let found = render(f);
        cells = links.prepare(f.buffer_mut(), found);
    })?;
    if !cells.is_empty() {
        let backend = terminal.backend_mut();
        backend.draw(cells.iter().map(|(x, y, c)| (*x, *y, c)))?;
        backend.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::link::Hyperlink;
    use ratatui::buffer::{Buffer, CellDiffOption};
    use ratatui::layout::Rect;

    fn link(x: u16, y: u16, text: &str) -> Hyperlink {
        Hyperlink { x, y, width: text.len() as u16, text: text.into(), target: format!("https://{text}/"), id: None }
    }

    fn written(cells: &[(u16, u16, ratatui::buffer::Cell)]) -> String {
        cells.iter().map(|(_, _, c)| c.symbol()).collect()
    }

    #[test]
    fn a_link_is_written_once_and_again_only_when_it_changes() {
        let area = Rect::new(0, 0, 20, 3);
        let mut buf = Buffer::empty(area);
        buf.set_string(2, 1, "a.example", ratatui::style::Style::new());
        let mut links = Links::new(true);
        let out = links.prepare(&mut buf, vec![link(2, 1, "a.example")]);
        assert_eq!(written(&out), "\x1b]8;;https://a.example/\x1b\\a.example\x1b]8;;\x1b\\");
        assert_eq!(out.first().map(|(x, y, _)| (*x, *y)), Some((2, 1)));
        // ratatui skips those cells; its own diff never writes them.
        assert!((2..11).all(|x| buf[(x, 1)].diff_option == CellDiffOption::Skip));
        assert_eq!(buf[(1, 1)].diff_option, CellDiffOption::None);
        // The same again: nothing to write.
        let mut again = Buffer::empty(area);
        again.set_string(2, 1, "a.example", ratatui::style::Style::new());
        assert!(links.prepare(&mut again, vec![link(2, 1, "a.example")]).is_empty());
        // Moved, or another target: written.
        let mut moved = Buffer::empty(area);
        moved.set_string(2, 2, "a.example", ratatui::style::Style::new());
        assert!(!links.prepare(&mut moved, vec![link(2, 2, "a.example")]).is_empty());
        let mut other = Buffer::empty(area);
        other.set_string(2, 2, "a.example", ratatui::style::Style::new());
        let mut l = link(2, 2, "a.example");
        l.target = "https://b.example/".into();
        assert!(written(&links.prepare(&mut other, vec![l])).contains("b.example"));
        // After a clear or at a new size, everything again.
        links.forget();
        let mut same = Buffer::empty(area);
        same.set_string(2, 2, "a.example", ratatui::style::Style::new());
        assert!(!links.prepare(&mut same, vec![link(2, 2, "a.example")]).is_empty());
        let mut bigger = Buffer::empty(Rect::new(0, 0, 30, 3));
        bigger.set_string(2, 2, "a.example", ratatui::style::Style::new());
        assert!(!links.prepare(&mut bigger, vec![link(2, 2, "a.example")]).is_empty());
    }

    #[test]
    fn off_means_no_link_and_no_skipped_cell() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 1));
        buf.set_string(0, 0, "a.example", ratatui::style::Style::new());
        let mut links = Links::new(false);
        assert!(links.prepare(&mut buf, vec![link(0, 0, "a.example")]).is_empty());
        assert!(buf.content.iter().all(|c| c.diff_option == CellDiffOption::None));
    }
}
