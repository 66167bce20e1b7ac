//! Colours and glyphs. `NO_COLOR` turns colour off (emphasis stays, via bold
//! and reverse video); `--ascii` replaces every non-ASCII glyph.

use crate::progress::{Status, Verdict};
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme { color: true, ascii: false }
    }
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color { Style::new().fg(c) } else { Style::new() }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Secondary text. Faint, not palette colour 8 (dark grey), which is
    /// unreadable on some dark themes and on some light ones: it is still
    /// text people must read.
    pub fn dim(&self) -> Style {
        if self.color { Style::new().add_modifier(Modifier::DIM) } else { Style::new() }
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn heading(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn link(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::UNDERLINED)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn banner(&self, production: bool) -> Style {
        match (self.color, production) {
            (true, true) => Style::new().bg(Color::Red).fg(Color::White).add_modifier(Modifier::BOLD),
            (true, false) => Style::new().bg(Color::Green).fg(Color::Black).add_modifier(Modifier::BOLD),
            (false, _) => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    pub fn status_glyph(&self, s: Status) -> &'static str {
        match (s, self.ascii) {
            (Status::Todo, false) => "○",
            (Status::InProgress, false) => "◐",
            (Status::Done, false) => "✓",
            (Status::Blocked, false) => "⊘",
            (Status::Skipped, false) => "»",
            (Status::Todo, true) => "[ ]",
            (Status::InProgress, true) => "[~]",
            (Status::Done, true) => "[x]",
            (Status::Blocked, true) => "[!]",
            (Status::Skipped, true) => "[-]",
        }
    }

    pub fn status_style(&self, s: Status) -> Style {
        match s {
            Status::Todo => Style::new(),
            Status::InProgress => self.warn(),
            Status::Done => self.ok(),
            Status::Blocked => self.bad(),
            Status::Skipped => self.dim(),
        }
    }

    pub fn verdict_glyph(&self, v: Verdict) -> &'static str {
        match (v, self.ascii) {
            (Verdict::Pass, false) => "✓",
            (Verdict::Fail, false) => "✗",
            (Verdict::Indeterminate, false) => "?",
            (Verdict::Error, false) => "!",
            (Verdict::Skipped, false) => "–",
            (Verdict::Pass, true) => "ok",
            (Verdict::Fail, true) => "FAIL",
            (Verdict::Indeterminate, true) => "??",
            (Verdict::Error, true) => "ERR",
            (Verdict::Skipped, true) => "--",
        }
    }

    pub fn verdict_style(&self, v: Verdict) -> Style {
        match v {
            Verdict::Pass => self.ok(),
            Verdict::Fail | Verdict::Error => self.bad(),
            Verdict::Indeterminate => self.warn(),
            Verdict::Skipped => self.dim(),
        }
    }

    pub fn bullet(&self) -> &'static str {
        if self.ascii { "-" } else { "•" }
    }

    pub fn sep(&self) -> &'static str {
        if self.ascii { "|" } else { "·" }
    }

    pub fn spinner(&self, n: usize) -> &'static str {
        const U: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];
        const A: [&str; 4] = ["|", "/", "-", "\\"];
        if self.ascii { A[n % A.len()] } else { U[n % U.len()] }
    }

    /// Replaces the few non-ASCII characters the UI itself uses.
    pub fn ascii_text(&self, s: &str) -> String {
        if !self.ascii {
            return s.to_string();
        }
        s.replace('·', "|")
            .replace('↑', "Up")
            .replace('↓', "Dn")
            .replace('•', "*")
            .replace('…', "...")
            .replace(['—', '–'], "-")
    }
}
