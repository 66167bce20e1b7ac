//! Colours and glyphs. `NO_COLOR` turns colour off (emphasis stays, via bold
//! and reverse video); `--ascii` replaces every non-ASCII glyph, and so does
//! a terminal or locale that cannot show Unicode ([`unicode_untrusted`]).

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

/// Where Unicode cannot be trusted, so the screen is ASCII without
/// `--ascii`: a terminal that draws no Unicode (`TERM=linux`, `dumb`, a
/// `vt100`-style one) or a locale that is set and not UTF-8 (the one in
/// effect: `LC_ALL`, else `LC_CTYPE`, else `LANG`). An unset locale does
/// not count: ssh often drops it from a terminal that is fine.
pub fn unicode_untrusted(var: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| var(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let term = set("TERM").unwrap_or_default().to_ascii_lowercase();
    let dumb_term = matches!(term.as_str(), "linux" | "dumb" | "cons25")
        || term.strip_prefix("vt").is_some_and(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let locale = set("LC_ALL").or_else(|| set("LC_CTYPE")).or_else(|| set("LANG"));
    let not_utf8 = locale.is_some_and(|l| {
        let l = l.to_ascii_lowercase();
        !(l.contains("utf-8") || l.contains("utf8"))
    });
    dumb_term || not_utf8
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

    /// A verdict as the detail pane writes it: glyph and word ("✗ fail");
    /// in ASCII the word alone, in capitals ("FAIL"), since the ASCII glyph
    /// is already a word.
    pub fn verdict_label(&self, v: Verdict) -> String {
        if self.ascii { v.as_str().to_ascii_uppercase() } else { format!("{} {}", self.verdict_glyph(v), v.as_str()) }
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
