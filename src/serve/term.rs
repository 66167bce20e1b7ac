//! One remote session's terminal: a ratatui backend that draws with
//! crossterm's commands into the session's outbox, with the size the
//! client said (pty request, window changes) instead of the process's own
//! terminal.
//!
//! The outbox is bounded: a frame that does not fit while the client is
//! not reading (a stalled link, a stopped `ssh`) is dropped, never waited
//! for, so no session delays another or the host. Once the client has
//! taken what was queued, the session is told to paint the whole screen
//! again.

use bytes::Bytes;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Bytes waiting for a client before frames are dropped.
pub const OUTBOX_LIMIT: usize = 256 * 1024;
/// The largest screen a client may ask for.
pub const MAX_COLS: u16 = 500;
pub const MAX_ROWS: u16 = 200;

/// Clamps a client's requested size to what a session draws.
pub fn clamp_size(cols: u32, rows: u32) -> Size {
    let c = u16::try_from(cols).unwrap_or(MAX_COLS).clamp(10, MAX_COLS);
    let r = u16::try_from(rows).unwrap_or(MAX_ROWS).clamp(4, MAX_ROWS);
    Size::new(c, r)
}

/// What is queued for one client, shared by the writer and the task that
/// sends it.
#[derive(Debug, Default)]
pub struct Outbox {
    queued: AtomicUsize,
    dropped: AtomicBool,
}

impl Outbox {
    /// Called by the sender once `n` bytes went out. True when frames were
    /// dropped and the queue is now empty: time to repaint.
    pub fn sent(&self, n: usize) -> bool {
        let left = self.queued.fetch_sub(n, Ordering::SeqCst).saturating_sub(n);
        left == 0 && self.dropped.swap(false, Ordering::SeqCst)
    }

    pub fn dropped_frames(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// Collects a frame's bytes; `flush` hands them to the sender as one
/// write, or drops them when the client is too far behind.
pub struct SessionWriter {
    buf: Vec<u8>,
    outbox: Arc<Outbox>,
    tx: mpsc::UnboundedSender<Bytes>,
}

impl SessionWriter {
    pub fn new(outbox: Arc<Outbox>, tx: mpsc::UnboundedSender<Bytes>) -> Self {
        SessionWriter { buf: Vec::with_capacity(16 * 1024), outbox, tx }
    }
}

impl Write for SessionWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let frame = std::mem::take(&mut self.buf);
        let queued = self.outbox.queued.load(Ordering::SeqCst);
        if queued + frame.len() > OUTBOX_LIMIT {
            self.outbox.dropped.store(true, Ordering::SeqCst);
            return Ok(());
        }
        self.outbox.queued.fetch_add(frame.len(), Ordering::SeqCst);
        if self.tx.send(Bytes::from(frame)).is_err() {
            // The connection is gone; the session ends on its own.
            return Ok(());
        }
        Ok(())
    }
}

/// A session's backend: crossterm's drawing, the client's size.
///
/// A frame that changes no cell writes nothing: every session redraws when
/// anyone moves, and most of those frames are the same as the last one,
/// which crossterm would still end with colour resets and ratatui with a
/// hide-cursor, one SSH packet per session per keypress.
pub struct SessionBackend {
    inner: CrosstermBackend<SessionWriter>,
    size: Arc<Mutex<Size>>,
    cursor: Position,
    /// Whether the client's cursor is hidden, as far as written; None when
    /// not known (raw bytes, a clear: the repaint after dropped frames).
    hidden: Option<bool>,
}

impl SessionBackend {
    pub fn new(writer: SessionWriter, size: Arc<Mutex<Size>>) -> Self {
        SessionBackend { inner: CrosstermBackend::new(writer), size, cursor: Position::ORIGIN, hidden: None }
    }

    /// Writes raw bytes (entering and leaving full screen, a last line).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hidden = None;
        self.inner.write_all(bytes)?;
        Write::flush(&mut self.inner)
    }
}

impl Backend for SessionBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.hidden == Some(true) {
            return Ok(());
        }
        self.inner.hide_cursor()?;
        self.hidden = Some(true);
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()?;
        self.hidden = Some(false);
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        self.cursor = p;
        self.inner.set_cursor_position(p)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.hidden = None;
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.hidden = None;
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size.lock().map(|s| *s).unwrap_or(Size::new(80, 24)))
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize { columns_rows: self.size()?, pixels: Size::default() })
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

/// Remote screens show no character of a key at all: the host's screen
/// and the state show a key as `••••1a2b`, a remote session as `••••••••`
/// (`********` in ASCII).
pub fn hide_key_tails(buf: &mut ratatui::buffer::Buffer) {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        let mut run = 0;
        let mut x = area.left();
        while x < area.right() {
            let sym = buf[(x, y)].symbol().to_string();
            if sym == "•" || sym == "*" {
                run += 1;
                x += 1;
                continue;
            }
            if run >= 4 {
                let bullet = if buf[(x - 1, y)].symbol() == "*" { "*" } else { "•" };
                let mut n = 0;
                while n < 4 && x < area.right() {
                    let s = buf[(x, y)].symbol();
                    if s.trim().is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
                        break;
                    }
                    buf[(x, y)].set_symbol(bullet);
                    x += 1;
                    n += 1;
                }
            }
            run = 0;
            x += 1;
        }
    }
}

/// Entering the session's full screen: the alternate screen, bracketed
/// paste, no cursor.
pub const ENTER: &[u8] = b"\x1b[?1049h\x1b[?2004h\x1b[?25l";
/// Leaving it, before the last line is written.
pub const LEAVE: &[u8] = b"\x1b[?2004l\x1b[?1049l\x1b[?25h";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_beyond_the_limit_are_dropped_and_a_repaint_follows() {
        let outbox = Arc::new(Outbox::default());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut w = SessionWriter::new(outbox.clone(), tx);
        let frame = vec![b'x'; OUTBOX_LIMIT / 2 + 1];
        w.write_all(&frame).unwrap();
        w.flush().unwrap();
        w.write_all(&frame).unwrap();
        w.flush().unwrap();
        assert!(outbox.dropped_frames(), "the second frame does not fit");
        let first = rx.try_recv().unwrap();
        assert!(rx.try_recv().is_err());
        assert!(outbox.sent(first.len()), "drained after a drop: repaint");
        assert!(!outbox.dropped_frames());
    }

    #[test]
    fn key_tails_are_blanked_and_other_text_is_not() {
        use ratatui::buffer::Buffer;
        use ratatui::layout::Rect;
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 2));
        buf.set_string(0, 0, "a key is set (typed in): ••••7890 ok", ratatui::style::Style::default());
        buf.set_string(0, 1, "ascii ****ab12, a list • item, 2*3", ratatui::style::Style::default());
        hide_key_tails(&mut buf);
        let row = |y: u16| (0..60).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>();
        assert_eq!(row(0).trim_end(), "a key is set (typed in): •••••••• ok");
        assert_eq!(row(1).trim_end(), "ascii ********, a list • item, 2*3");
    }

    #[test]
    fn a_frame_that_changes_nothing_writes_nothing() {
        use ratatui::widgets::Paragraph;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let size = Arc::new(Mutex::new(Size::new(20, 3)));
        let backend = SessionBackend::new(SessionWriter::new(Arc::new(Outbox::default()), tx), size);
        let mut terminal = ratatui::Terminal::new(backend).unwrap();
        let frame = |text: &'static str| move |f: &mut ratatui::Frame| f.render_widget(Paragraph::new(text), f.area());
        terminal.draw(frame("one")).unwrap();
        let first = rx.try_recv().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("one"));
        assert!(first.windows(6).any(|w| w == b"\x1b[?25l"), "the first frame hides the cursor");
        // The same frame again: not a byte.
        terminal.draw(frame("one")).unwrap();
        assert!(rx.try_recv().is_err(), "an unchanged frame was sent");
        // A change: only the change, and no second hide.
        terminal.draw(frame("two")).unwrap();
        let change = rx.try_recv().unwrap();
        assert!(String::from_utf8_lossy(&change).contains("tw"));
        assert!(!change.windows(6).any(|w| w == b"\x1b[?25l"), "the cursor was hidden already");
        // After a clear (the repaint), the whole frame and the hide again.
        terminal.clear().unwrap();
        terminal.draw(frame("two")).unwrap();
        let mut repaint = Vec::new();
        while let Ok(b) = rx.try_recv() {
            repaint.extend_from_slice(&b);
        }
        assert!(String::from_utf8_lossy(&repaint).contains("two"));
        assert!(repaint.windows(6).any(|w| w == b"\x1b[?25l"), "the repaint hides the cursor again");
    }

    #[test]
    fn sizes_are_clamped() {
        assert_eq!(clamp_size(100_000, 9_999), Size::new(MAX_COLS, MAX_ROWS));
        assert_eq!(clamp_size(0, 0), Size::new(10, 4));
        assert_eq!(clamp_size(80, 24), Size::new(80, 24));
    }
}
