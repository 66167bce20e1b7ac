//! ratatui's `TestBackend` for driving the real runtime loop in process:
//! `io::Error` as its error type (`runtime::run` needs
//! `io::Error: From<B::Error>`), shared so that a test reads the screen
//! while the loop owns the terminal, and every drawn cell kept so that a
//! test can scan all the loop ever wrote, not only the last frame.
#![allow(dead_code)]

use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct SharedBackend {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    backend: TestBackend,
    /// Every symbol drawn, in order.
    drawn: String,
}

fn io<T>(r: Result<T, std::convert::Infallible>) -> std::io::Result<T> {
    r.map_err(|e| match e {})
}

impl SharedBackend {
    pub fn new(cols: u16, rows: u16) -> SharedBackend {
        SharedBackend {
            inner: Arc::new(Mutex::new(Inner { backend: TestBackend::new(cols, rows), drawn: String::new() })),
        }
    }

    /// The screen as it is now, one line per row.
    pub fn screen(&self) -> String {
        let inner = self.inner.lock().unwrap();
        let buf = inner.backend.buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// Everything drawn so far.
    pub fn drawn(&self) -> String {
        self.inner.lock().unwrap().drawn.clone()
    }
}

impl Backend for SharedBackend {
    type Error = std::io::Error;
    fn draw<'a, I>(&mut self, content: I) -> std::io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut inner = self.inner.lock().unwrap();
        let cells: Vec<(u16, u16, &Cell)> = content.collect();
        for (_, _, c) in &cells {
            inner.drawn.push_str(c.symbol());
        }
        io(inner.backend.draw(cells.into_iter()))
    }
    fn hide_cursor(&mut self) -> std::io::Result<()> {
        io(self.inner.lock().unwrap().backend.hide_cursor())
    }
    fn show_cursor(&mut self) -> std::io::Result<()> {
        io(self.inner.lock().unwrap().backend.show_cursor())
    }
    fn get_cursor_position(&mut self) -> std::io::Result<Position> {
        io(self.inner.lock().unwrap().backend.get_cursor_position())
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> std::io::Result<()> {
        io(self.inner.lock().unwrap().backend.set_cursor_position(position))
    }
    fn clear(&mut self) -> std::io::Result<()> {
        io(self.inner.lock().unwrap().backend.clear())
    }
    fn clear_region(&mut self, clear_type: ClearType) -> std::io::Result<()> {
        io(self.inner.lock().unwrap().backend.clear_region(clear_type))
    }
    fn size(&self) -> std::io::Result<Size> {
        io(self.inner.lock().unwrap().backend.size())
    }
    fn window_size(&mut self) -> std::io::Result<WindowSize> {
        io(self.inner.lock().unwrap().backend.window_size())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        io(self.inner.lock().unwrap().backend.flush())
    }
}
