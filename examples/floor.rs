//! The floor for start-up benchmarks: the least a ratatui program does
//! before its first frame. It enters the alternate screen in raw mode, draws
//! one line, and waits for `q`. `benches/startup.rs` compares cutover's time
//! to its first complete frame against this program's, built with the same
//! profile (`cargo build --release --example floor`).

use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::widgets::Paragraph;
use std::io;

fn main() -> io::Result<()> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, cursor::Hide)?;
    let result = draw_and_wait();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
    result
}

fn draw_and_wait() -> io::Result<()> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.draw(|f| f.render_widget(Paragraph::new("floor: one line, q quits"), f.area()))?;
    loop {
        if let Event::Key(k) = event::read()?
            && k.kind != KeyEventKind::Release
            && k.code == KeyCode::Char('q')
        {
            return Ok(());
        }
    }
}
