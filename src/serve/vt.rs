//! Bytes a remote terminal sends, turned into the same terminal events a
//! local terminal gives: keys (with Ctrl and Alt), bracketed paste and SGR
//! mouse reports. The local checklist gets these from crossterm, which
//! reads only the process's own terminal; a session over SSH has only the
//! bytes of its channel.
//!
//! Input is bounded: a paste longer than [`MAX_PASTE`] is cut there, and a
//! sequence that never ends is dropped once it is longer than any real one.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

/// The longest paste kept; what comes after is dropped.
pub const MAX_PASTE: usize = 64 * 1024;
/// No escape sequence a terminal sends as a key is longer than this.
const MAX_SEQUENCE: usize = 64;

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// Keeps what a chunk ended in the middle of, for the next chunk.
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
    paste: Option<Vec<u8>>,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one chunk as it came off the channel. A lone Esc at the end
    /// of a chunk is the Esc key: terminals send a sequence in one write.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        self.pending.extend_from_slice(bytes);
        let buf = std::mem::take(&mut self.pending);
        let mut i = 0;
        while i < buf.len() {
            if let Some(paste) = self.paste.as_mut() {
                match find(&buf[i..], PASTE_END) {
                    Some(end) => {
                        push_bounded(paste, &buf[i..i + end]);
                        let text = String::from_utf8_lossy(paste).into_owned();
                        self.paste = None;
                        out.push(Event::Paste(text));
                        i += end + PASTE_END.len();
                    }
                    None => {
                        // Keep a tail that may be the start of the end marker.
                        let keep = partial_suffix(&buf[i..], PASTE_END);
                        let upto = buf.len() - keep;
                        push_bounded(paste, &buf[i..upto]);
                        self.pending.extend_from_slice(&buf[upto..]);
                        return out;
                    }
                }
                continue;
            }
            match parse_one(&buf[i..]) {
                Step::Event(ev, used) => {
                    out.extend(ev);
                    i += used;
                }
                Step::PasteStart(used) => {
                    self.paste = Some(Vec::new());
                    i += used;
                }
                Step::Incomplete => {
                    let rest = &buf[i..];
                    if rest == b"\x1b" {
                        out.push(key(KeyCode::Esc, KeyModifiers::NONE));
                    } else if rest.len() <= MAX_SEQUENCE {
                        self.pending.extend_from_slice(rest);
                    }
                    return out;
                }
            }
        }
        out
    }
}

enum Step {
    Event(Option<Event>, usize),
    PasteStart(usize),
    Incomplete,
}

fn push_bounded(into: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_PASTE.saturating_sub(into.len());
    into.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// How many bytes at the end of `hay` are a proper prefix of `needle`.
fn partial_suffix(hay: &[u8], needle: &[u8]) -> usize {
    (1..needle.len()).rev().find(|&n| n <= hay.len() && hay[hay.len() - n..] == needle[..n]).unwrap_or(0)
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent { code, modifiers, kind: KeyEventKind::Press, state: KeyEventState::NONE })
}

fn parse_one(buf: &[u8]) -> Step {
    let b = buf[0];
    match b {
        0x1b => parse_escape(buf),
        b'\r' | b'\n' => Step::Event(Some(key(KeyCode::Enter, KeyModifiers::NONE)), 1),
        b'\t' => Step::Event(Some(key(KeyCode::Tab, KeyModifiers::NONE)), 1),
        0x7f | 0x08 => Step::Event(Some(key(KeyCode::Backspace, KeyModifiers::NONE)), 1),
        0x00 => Step::Event(Some(key(KeyCode::Char(' '), KeyModifiers::CONTROL)), 1),
        0x01..=0x1a => {
            let c = char::from(b'a' + b - 1);
            Step::Event(Some(key(KeyCode::Char(c), KeyModifiers::CONTROL)), 1)
        }
        0x1c..=0x1f => Step::Event(None, 1),
        _ => match utf8_char(buf) {
            Some((c, used)) => Step::Event(Some(key(KeyCode::Char(c), KeyModifiers::NONE)), used),
            None if buf.len() < utf8_len(b) => Step::Incomplete,
            None => Step::Event(None, 1),
        },
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

fn utf8_char(buf: &[u8]) -> Option<(char, usize)> {
    let n = utf8_len(buf[0]);
    let s = std::str::from_utf8(buf.get(..n)?).ok()?;
    s.chars().next().map(|c| (c, n))
}

fn parse_escape(buf: &[u8]) -> Step {
    let Some(&next) = buf.get(1) else { return Step::Incomplete };
    match next {
        b'[' => parse_csi(buf),
        b'O' => {
            let Some(&c) = buf.get(2) else { return Step::Incomplete };
            let code = match c {
                b'R' => KeyCode::F(3),
                b'M' => KeyCode::Enter,
                c => match final_key(c) {
                    Some(k) => k,
                    None => return Step::Event(None, 3),
                },
            };
            Step::Event(Some(key(code, KeyModifiers::NONE)), 3)
        }
        0x1b => Step::Event(Some(key(KeyCode::Esc, KeyModifiers::NONE)), 1),
        _ => {
            // Alt held: Esc before the key.
            match parse_one(&buf[1..]) {
                Step::Event(Some(Event::Key(mut k)), used) => {
                    k.modifiers |= KeyModifiers::ALT;
                    Step::Event(Some(Event::Key(k)), used + 1)
                }
                Step::Event(other, used) => Step::Event(other, used + 1),
                Step::Incomplete => Step::Incomplete,
                Step::PasteStart(used) => Step::PasteStart(used + 1),
            }
        }
    }
}

fn parse_csi(buf: &[u8]) -> Step {
    // ESC [ params... final, where the final byte is 0x40..=0x7e.
    let Some(end) = buf.iter().skip(2).position(|b| (0x40..=0x7e).contains(b)).map(|p| p + 2) else {
        return if buf.len() > MAX_SEQUENCE { Step::Event(None, buf.len()) } else { Step::Incomplete };
    };
    let used = end + 1;
    let params = &buf[2..end];
    let fin = buf[end];
    if buf[..used] == *PASTE_START {
        return Step::PasteStart(used);
    }
    if params.first() == Some(&b'<') && (fin == b'M' || fin == b'm') {
        return Step::Event(sgr_mouse(&params[1..], fin == b'm'), used);
    }
    let text = std::str::from_utf8(params).unwrap_or("");
    let mut nums = text.split(';').map(|p| p.parse::<u16>().ok());
    let first = nums.next().flatten();
    let modifiers = nums.next().flatten().map(modifiers_of).unwrap_or(KeyModifiers::NONE);
    let code = match fin {
        b'Z' => return Step::Event(Some(key(KeyCode::BackTab, KeyModifiers::SHIFT)), used),
        b'~' => match first {
            Some(1 | 7) => KeyCode::Home,
            Some(2) => KeyCode::Insert,
            Some(3) => KeyCode::Delete,
            Some(4 | 8) => KeyCode::End,
            Some(5) => KeyCode::PageUp,
            Some(6) => KeyCode::PageDown,
            Some(n @ 11..=15) => KeyCode::F((n - 10) as u8),
            Some(n @ 17..=21) => KeyCode::F((n - 11) as u8),
            Some(n @ 23..=24) => KeyCode::F((n - 12) as u8),
            _ => return Step::Event(None, used),
        },
        // Focus reports and anything else: nothing to do.
        c => match final_key(c) {
            Some(k) => k,
            None => return Step::Event(None, used),
        },
    };
    Step::Event(Some(key(code, modifiers)), used)
}

/// The keys both `ESC O x` and `ESC [ x` name by their last byte (CSI
/// `R` is a cursor position report, not F3).
fn final_key(c: u8) -> Option<KeyCode> {
    Some(match c {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'S' => KeyCode::F(4),
        _ => return None,
    })
}

/// xterm's modifier parameter: 1 + (shift 1, alt 2, ctrl 4).
fn modifiers_of(p: u16) -> KeyModifiers {
    let bits = p.saturating_sub(1);
    let mut m = KeyModifiers::NONE;
    if bits & 1 != 0 {
        m |= KeyModifiers::SHIFT;
    }
    if bits & 2 != 0 {
        m |= KeyModifiers::ALT;
    }
    if bits & 4 != 0 {
        m |= KeyModifiers::CONTROL;
    }
    m
}

/// `ESC [ < button ; column ; row M|m`, 1-based positions.
fn sgr_mouse(params: &[u8], release: bool) -> Option<Event> {
    let text = std::str::from_utf8(params).ok()?;
    let mut it = text.split(';').map(|p| p.parse::<u16>().ok());
    let (b, x, y) = (it.next()??, it.next()??, it.next()??);
    let (column, row) = (x.saturating_sub(1), y.saturating_sub(1));
    let button = match b & 0b11 {
        0 => MouseButton::Left,
        1 => MouseButton::Middle,
        _ => MouseButton::Right,
    };
    let kind = if b & 64 != 0 {
        if b & 1 != 0 { MouseEventKind::ScrollDown } else { MouseEventKind::ScrollUp }
    } else if b & 32 != 0 {
        MouseEventKind::Drag(button)
    } else if release {
        MouseEventKind::Up(button)
    } else {
        MouseEventKind::Down(button)
    };
    Some(Event::Mouse(MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(events: &[Event]) -> Vec<(KeyCode, KeyModifiers)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Key(k) => Some((k.code, k.modifiers)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn plain_keys_control_keys_and_utf8() {
        let mut p = Parser::new();
        let ev = p.feed("jk\r\x7f\x03é".as_bytes());
        assert_eq!(
            codes(&ev),
            vec![
                (KeyCode::Char('j'), KeyModifiers::NONE),
                (KeyCode::Char('k'), KeyModifiers::NONE),
                (KeyCode::Enter, KeyModifiers::NONE),
                (KeyCode::Backspace, KeyModifiers::NONE),
                (KeyCode::Char('c'), KeyModifiers::CONTROL),
                (KeyCode::Char('é'), KeyModifiers::NONE),
            ]
        );
    }

    #[test]
    fn arrows_pages_and_modified_keys() {
        let mut p = Parser::new();
        let ev = p.feed(b"\x1b[A\x1bOB\x1b[5~\x1b[6~\x1b[1;5C\x1b[Z\x1b[3~");
        assert_eq!(
            codes(&ev),
            vec![
                (KeyCode::Up, KeyModifiers::NONE),
                (KeyCode::Down, KeyModifiers::NONE),
                (KeyCode::PageUp, KeyModifiers::NONE),
                (KeyCode::PageDown, KeyModifiers::NONE),
                (KeyCode::Right, KeyModifiers::CONTROL),
                (KeyCode::BackTab, KeyModifiers::SHIFT),
                (KeyCode::Delete, KeyModifiers::NONE),
            ]
        );
    }

    #[test]
    fn a_lone_esc_is_the_key_and_alt_is_esc_before_a_key() {
        let mut p = Parser::new();
        assert_eq!(codes(&p.feed(b"\x1b")), vec![(KeyCode::Esc, KeyModifiers::NONE)]);
        assert_eq!(codes(&p.feed(b"\x1bx")), vec![(KeyCode::Char('x'), KeyModifiers::ALT)]);
    }

    #[test]
    fn a_sequence_split_across_chunks_is_one_key() {
        let mut p = Parser::new();
        assert!(p.feed(b"\x1b[").is_empty());
        assert_eq!(codes(&p.feed(b"B")), vec![(KeyCode::Down, KeyModifiers::NONE)]);
        assert!(p.feed(&[0xc3]).is_empty());
        assert_eq!(codes(&p.feed(&[0xa9])), vec![(KeyCode::Char('é'), KeyModifiers::NONE)]);
    }

    #[test]
    fn bracketed_paste_across_chunks_and_bounded() {
        let mut p = Parser::new();
        assert!(p.feed(b"\x1b[200~hello ").is_empty());
        assert!(p.feed(b"world\x1b[20").is_empty());
        let ev = p.feed(b"1~q");
        assert!(matches!(&ev[0], Event::Paste(s) if s == "hello world"), "{ev:?}");
        assert_eq!(codes(&ev[1..]), vec![(KeyCode::Char('q'), KeyModifiers::NONE)]);

        let mut p = Parser::new();
        let mut big = PASTE_START.to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_PASTE * 2));
        big.extend_from_slice(PASTE_END);
        let ev = p.feed(&big);
        assert!(matches!(&ev[0], Event::Paste(s) if s.len() == MAX_PASTE));
    }

    #[test]
    fn sgr_mouse_wheel_and_click() {
        let mut p = Parser::new();
        let ev = p.feed(b"\x1b[<65;10;5M\x1b[<0;3;4M");
        assert!(matches!(ev[0], Event::Mouse(MouseEvent { kind: MouseEventKind::ScrollDown, column: 9, row: 4, .. })));
        assert!(matches!(
            ev[1],
            Event::Mouse(MouseEvent { kind: MouseEventKind::Down(MouseButton::Left), column: 2, row: 3, .. })
        ));
    }

    #[test]
    fn an_endless_sequence_is_dropped_not_kept() {
        let mut p = Parser::new();
        let mut junk = b"\x1b[".to_vec();
        junk.extend(std::iter::repeat_n(b'1', 10_000));
        assert!(p.feed(&junk).is_empty());
        assert!(p.pending.len() <= MAX_SEQUENCE);
        assert_eq!(codes(&p.feed(b"q")), vec![(KeyCode::Char('q'), KeyModifiers::NONE)]);
    }
}
