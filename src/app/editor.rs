//! A small multi-line text editor for notes. Pure: keys in, text out.

use super::input::{Code, Key};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    lines: Vec<Vec<char>>,
    row: usize,
    col: usize,
    /// The text when editing started, to tell whether anything changed.
    original: String,
}

impl Editor {
    pub fn new(text: &str) -> Self {
        let mut lines: Vec<Vec<char>> = text.split('\n').map(|l| l.chars().collect()).collect();
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let row = lines.len() - 1;
        let col = lines[row].len();
        Editor { lines, row, col, original: text.to_string() }
    }

    /// An editor on `text` whose note was `base` when editing started (a
    /// draft that could not be saved, put back): it counts as changed, and
    /// a save compares the file with `base`.
    pub fn with_base(text: &str, base: &str) -> Self {
        Editor { original: base.to_string(), ..Editor::new(text) }
    }

    /// The note as it was when editing started: what a save expects the
    /// file to hold still.
    pub fn base(&self) -> &str {
        &self.original
    }

    pub fn text(&self) -> String {
        self.lines.iter().map(|l| l.iter().collect::<String>()).collect::<Vec<_>>().join("\n")
    }

    pub fn changed(&self) -> bool {
        self.text() != self.original
    }

    /// (row, column in characters) of the cursor.
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.lines.iter().map(|l| l.iter().collect())
    }

    /// Inserts text (typed or pasted); control characters other than newline
    /// are dropped, tabs become spaces.
    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '\n' => self.newline(),
                '\r' => {}
                '\t' => self.insert_char(' '),
                c if c.is_control() => {}
                c => self.insert_char(c),
            }
        }
    }

    fn insert_char(&mut self, c: char) {
        self.lines[self.row].insert(self.col, c);
        self.col += 1;
    }

    fn newline(&mut self) {
        let rest = self.lines[self.row].split_off(self.col);
        self.lines.insert(self.row + 1, rest);
        self.row += 1;
        self.col = 0;
    }

    /// Applies an editing key; returns false if the key is not an editing key.
    pub fn key(&mut self, key: &Key) -> bool {
        if key.ctrl {
            match key.code {
                Code::Char('a') => self.col = 0,
                Code::Char('e') => self.col = self.lines[self.row].len(),
                Code::Char('u') => {
                    self.lines[self.row].drain(..self.col);
                    self.col = 0;
                }
                Code::Char('k') => {
                    self.lines[self.row].truncate(self.col);
                }
                Code::Char('w') | Code::Backspace => self.delete_word_back(),
                _ => return false,
            }
            return true;
        }
        match key.code {
            Code::Char(c) => self.insert_char(c),
            Code::Enter => self.newline(),
            Code::Tab => self.insert_str("    "),
            Code::Backspace => {
                if self.col > 0 {
                    self.col -= 1;
                    self.lines[self.row].remove(self.col);
                } else if self.row > 0 {
                    let line = self.lines.remove(self.row);
                    self.row -= 1;
                    self.col = self.lines[self.row].len();
                    self.lines[self.row].extend(line);
                }
            }
            Code::Delete => {
                if self.col < self.lines[self.row].len() {
                    self.lines[self.row].remove(self.col);
                } else if self.row + 1 < self.lines.len() {
                    let next = self.lines.remove(self.row + 1);
                    self.lines[self.row].extend(next);
                }
            }
            Code::Left => {
                if self.col > 0 {
                    self.col -= 1;
                } else if self.row > 0 {
                    self.row -= 1;
                    self.col = self.lines[self.row].len();
                }
            }
            Code::Right => {
                if self.col < self.lines[self.row].len() {
                    self.col += 1;
                } else if self.row + 1 < self.lines.len() {
                    self.row += 1;
                    self.col = 0;
                }
            }
            Code::Up => {
                if self.row > 0 {
                    self.row -= 1;
                    self.col = self.col.min(self.lines[self.row].len());
                }
            }
            Code::Down => {
                if self.row + 1 < self.lines.len() {
                    self.row += 1;
                    self.col = self.col.min(self.lines[self.row].len());
                }
            }
            Code::Home => self.col = 0,
            Code::End => self.col = self.lines[self.row].len(),
            _ => return false,
        }
        true
    }

    fn delete_word_back(&mut self) {
        let line = &mut self.lines[self.row];
        let mut start = self.col;
        while start > 0 && line[start - 1] == ' ' {
            start -= 1;
        }
        while start > 0 && line[start - 1] != ' ' {
            start -= 1;
        }
        line.drain(start..self.col);
        self.col = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(e: &mut Editor, s: &str) {
        for c in s.chars() {
            let k = if c == '\n' { Key::plain(Code::Enter) } else { Key::ch(c) };
            e.key(&k);
        }
    }

    #[test]
    fn types_lines_and_joins_on_backspace() {
        let mut e = Editor::new("");
        typed(&mut e, "ticket\n4711");
        assert_eq!(e.text(), "ticket\n4711");
        for _ in 0..5 {
            e.key(&Key::plain(Code::Backspace));
        }
        assert_eq!(e.text(), "ticket");
        assert_eq!(e.cursor(), (0, 6));
    }

    #[test]
    fn cursor_moves_and_inserts_in_the_middle() {
        let mut e = Editor::new("ac");
        e.key(&Key::plain(Code::Left));
        typed(&mut e, "b");
        assert_eq!(e.text(), "abc");
        e.key(&Key::ctrl('w'));
        assert_eq!(e.text(), "c");
        assert!(e.changed());
    }

    #[test]
    fn paste_drops_control_characters() {
        let mut e = Editor::new("");
        e.insert_str("a\u{1b}[2Jb\tc\r\nd");
        assert_eq!(e.text(), "a[2Jb c\nd");
    }
}
