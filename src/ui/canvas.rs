//! What the screen's parts draw on: a buffer, its area, and where the
//! cursor goes. A ratatui `Frame` exists only inside a `Terminal`; a
//! canvas is the same surface over any buffer, so the first frame can be
//! drawn into the one buffer it needs before a terminal (and its second,
//! previous-frame buffer) exists.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::widgets::{StatefulWidget, Widget};

pub struct Canvas<'a> {
    buf: &'a mut Buffer,
    cursor: Option<Position>,
}

impl<'a> Canvas<'a> {
    /// All of `buf`, no cursor.
    pub fn new(buf: &'a mut Buffer) -> Self {
        Canvas { buf, cursor: None }
    }

    pub fn area(&self) -> Rect {
        self.buf.area
    }

    pub fn render_widget<W: Widget>(&mut self, widget: W, area: Rect) {
        widget.render(area, self.buf);
    }

    pub fn render_stateful_widget<W: StatefulWidget>(&mut self, widget: W, area: Rect, state: &mut W::State) {
        widget.render(area, self.buf, state);
    }

    /// Shows the cursor at `position` once the frame is drawn.
    pub fn set_cursor_position(&mut self, position: Position) {
        self.cursor = Some(position);
    }

    pub fn buffer_mut(&mut self) -> &mut Buffer {
        self.buf
    }

    /// Where the cursor is to be shown; None hides it.
    pub fn cursor(&self) -> Option<Position> {
        self.cursor
    }

    /// Runs `draw` on a canvas over all of `frame`'s buffer, and shows the
    /// cursor where it asked.
    pub fn on_frame<R>(frame: &mut ratatui::Frame, draw: impl FnOnce(&mut Canvas) -> R) -> R {
        let mut canvas = Canvas::new(frame.buffer_mut());
        let out = draw(&mut canvas);
        if let Some(at) = canvas.cursor() {
            frame.set_cursor_position(at);
        }
        out
    }
}
