//! The one place where text from outside the binary is made safe for a
//! terminal: guide files, notes, names, server bodies, command output.
//!
//! Everything that is not printable is dropped: C0 and C1 control
//! characters, whole escape sequences (CSI, OSC, DCS, ...), and the bidi
//! overrides that can make text display differently from what it is.
//! Newlines and tabs survive only where the caller allows them.

/// Strips control and escape sequences from a single-line text. Newlines and
/// tabs become spaces.
pub fn line(input: &str) -> String {
    clean(input, false)
}

/// Strips control and escape sequences but keeps line breaks (`\n`); a tab
/// becomes four spaces so that cell widths stay predictable.
pub fn multiline(input: &str) -> String {
    clean(input, true)
}

/// A URL from outside: control characters (and bidi controls, and white
/// space) are percent-encoded rather than dropped, so that what the screen
/// shows is what the text was, and a URL that held one says so: such a URL
/// is never made a link (`ui::link::target` refuses encoded controls).
/// Dropping them instead could turn `https://a.example/\x1b]8;;…` into a
/// plausible link to somewhere else.
pub fn url(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.trim().chars() {
        if c.is_control() || is_bidi_control(c) || c.is_whitespace() {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// True if `input` would pass through [`multiline`] unchanged.
pub fn is_clean(input: &str) -> bool {
    multiline(input) == input
}

fn clean(input: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\r' => {
                // A lone CR or CRLF is a line break for the reader.
                if chars.peek() == Some(&'\n') {
                    continue;
                }
                out.push(if keep_newlines { '\n' } else { ' ' });
            }
            '\n' => out.push(' '),
            '\t' => out.push_str(if keep_newlines { "    " } else { " " }),
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI/OSC/DCS introducers in their 8-bit form.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if c.is_control() => {}
            c if is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_string(chars),
        // Two-character sequences with intermediates (ESC ( B, ESC # 8 ...).
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut Chars<'_>) {
    // Parameters and intermediates, then one final byte in 0x40..=0x7e.
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Malformed: stop swallowing at anything unexpected.
            break;
        }
    }
}

fn skip_string(chars: &mut Chars<'_>) {
    // Ends at BEL, ST (ESC \) or the 8-bit ST.
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_osc_and_controls() {
        let hostile =
            "ok\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{9b}31mred\u{0}\u{8}!";
        assert_eq!(line(hostile), "oklink red!");
    }

    #[test]
    fn keeps_newlines_only_in_multiline() {
        assert_eq!(multiline("a\r\nb\rc\td"), "a\nb\nc    d");
        assert_eq!(line("a\nb"), "a b");
    }

    #[test]
    fn drops_bidi_overrides() {
        assert_eq!(line("abc\u{202e}fed"), "abcfed");
    }

    #[test]
    fn unterminated_sequences_do_not_panic() {
        assert_eq!(line("x\u{1b}"), "x");
        assert_eq!(line("x\u{1b}]never ends"), "x");
        assert_eq!(line("x\u{1b}[12;"), "x");
    }

    #[test]
    fn plain_unicode_survives() {
        let s = "Spåra försändelser • 配送 ✓";
        assert!(is_clean(s));
    }

    #[test]
    fn a_url_keeps_its_control_characters_visible_as_escapes() {
        assert_eq!(url("https://a.example/x"), "https://a.example/x");
        let u = url("https://a.example/\u{1b}]8;;https://b.example/\u{7}x y\u{202e}");
        assert_eq!(u, "https://a.example/%1B]8;;https://b.example/%07x%20y%E2%80%AE");
        assert!(is_clean(&u));
    }
}
