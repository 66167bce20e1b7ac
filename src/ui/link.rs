//! Hyperlinks (OSC 8) for the URLs a guide shows.
//!
//! Guide URLs are untrusted. A URL becomes a link only if its scheme is
//! http, https or mailto, it holds no control character (raw or
//! percent-encoded: the loader percent-encodes the ones it finds, see
//! `sanitize::url`), and it is not absurdly long; what the terminal is given
//! is percent-encoded, so no byte of it can end the escape sequence early.
//! Whether the terminal is given links at all is [`supported`]'s decision.
//!
//! The screen itself stays plain text: `ui` says where each link sits
//! ([`Hyperlink`]), and the runtime writes those cells with the sequence
//! around them (`runtime::terminal::Links`).

/// One row's part of a link: `width` cells from (`x`, `y`) that show
/// `text`, pointing at `target` (already checked and encoded). A URL wider
/// than its pane takes several rows; they share `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hyperlink {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub text: String,
    pub target: String,
    /// Set when the link spans several rows, so that a terminal treats
    /// them as one link (hover, click).
    pub id: Option<String>,
}

/// Longer targets are not linked: terminals cap them (VTE and kitty at
/// 2083 bytes) and no guide link needs more.
const MAX_TARGET: usize = 2083;

/// The link target for `url` as a terminal may be given it, or None if
/// `url` must stay plain text.
pub fn target(url: &str) -> Option<String> {
    if url.is_empty() || url.chars().any(|c| c.is_control() || c.is_whitespace() || is_format_control(c)) {
        return None;
    }
    let (scheme, rest) = url.split_once(':')?;
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => {
            let host = rest.strip_prefix("//")?;
            let host = host.split(['/', '?', '#']).next().unwrap_or_default();
            if host.is_empty() || host.starts_with('@') || host.starts_with(':') {
                return None;
            }
        }
        "mailto" => {
            if rest.is_empty() {
                return None;
            }
        }
        _ => return None,
    }
    if encodes_control(url) {
        return None;
    }
    let out = encode(url);
    (out.len() <= MAX_TARGET).then_some(out)
}

/// Invisible characters that change how text reads (bidi overrides, zero
/// widths): a link holding one is not what it looks like.
fn is_format_control(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{061c}')
}

/// True if `url` percent-encodes a control character: C0 (`%00`-`%1F`),
/// DEL (`%7F`) or C1 in UTF-8 (`%C2%80`-`%C2%9F`).
fn encodes_control(url: &str) -> bool {
    let b = url.as_bytes();
    let hex = |i: usize| -> Option<u8> {
        let s = std::str::from_utf8(b.get(i..i + 2)?).ok()?;
        u8::from_str_radix(s, 16).ok()
    };
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = hex(i + 1)
        {
            if v < 0x20 || v == 0x7f {
                return true;
            }
            if v == 0xc2
                && b.get(i + 3) == Some(&b'%')
                && let Some(w) = hex(i + 4)
                && (0x80..=0x9f).contains(&w)
            {
                return true;
            }
            i += 3;
            continue;
        }
        i += 1;
    }
    false
}

/// Percent-encodes every byte that is not printable ASCII or not allowed
/// in a URI; a `%` that starts no escape is encoded too. Escapes already
/// there are kept.
fn encode(url: &str) -> String {
    let b = url.as_bytes();
    let is_hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    let mut out = String::with_capacity(url.len());
    for (i, &byte) in b.iter().enumerate() {
        let keep = match byte {
            b'%' => is_hex(i + 1) && is_hex(i + 2),
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' => false,
            0x21..=0x7e => true,
            _ => false,
        };
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether this terminal is given hyperlinks. Decided from the
/// environment, never by asking the terminal (that would mean reading its
/// answer from the input): terminals known to show OSC 8 links (by
/// `TERM_PROGRAM`, `TERM`, `VTE_VERSION`, `KONSOLE_VERSION`, `WT_SESSION`),
/// and tmux from 3.4 on (the version that passes links through; tmux sets
/// `TERM_PROGRAM` and `TERM_PROGRAM_VERSION`). Inside tmux or screen the
/// outer terminal's variables say nothing, so they are not looked at.
/// `dumb`, `linux` and vt100-style terminals, and `--ascii`, get none.
/// `CUTOVER_HYPERLINKS=1` or `0` decides instead. `NO_COLOR` does not
/// matter: a link is not a colour.
pub fn supported(var: &dyn Fn(&str) -> Option<String>, ascii: bool) -> bool {
    let set = |k: &str| var(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    match set("CUTOVER_HYPERLINKS").as_deref() {
        Some("1") => return true,
        Some("0") => return false,
        _ => {}
    }
    if ascii {
        return false;
    }
    let term = set("TERM").unwrap_or_default().to_ascii_lowercase();
    let program = set("TERM_PROGRAM").unwrap_or_default();
    let version = set("TERM_PROGRAM_VERSION").unwrap_or_default();
    if term.is_empty()
        || matches!(term.as_str(), "dumb" | "linux" | "cons25")
        || term.strip_prefix("vt").is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
    {
        return false;
    }
    let multiplexed = set("TMUX").is_some() || term.starts_with("tmux") || term.starts_with("screen");
    if multiplexed {
        return program.eq_ignore_ascii_case("tmux") && at_least(&version, &[3, 4]);
    }
    match program.as_str() {
        "WezTerm" | "ghostty" | "Hyper" | "Tabby" | "rio" | "WarpTerminal" | "contour" => return true,
        "iTerm.app" => return at_least(&version, &[3, 1]),
        "vscode" => return at_least(&version, &[1, 72]),
        _ => {}
    }
    if matches!(
        term.as_str(),
        "xterm-kitty" | "xterm-ghostty" | "alacritty" | "alacritty-direct" | "foot" | "foot-direct" | "wezterm"
    ) {
        return true;
    }
    if set("VTE_VERSION").and_then(|v| v.parse::<u32>().ok()).is_some_and(|v| v >= 5000) {
        return true;
    }
    set("KONSOLE_VERSION").is_some() || set("WT_SESSION").is_some()
}

/// Compares a dotted version ("3.4", "3.3a", "next-3.5") with `min`.
fn at_least(version: &str, min: &[u32]) -> bool {
    let start = version.find(|c: char| c.is_ascii_digit());
    let Some(start) = start else { return false };
    let parts: Vec<u32> = version[start..]
        .split('.')
        .map(|p| p.chars().take_while(char::is_ascii_digit).collect::<String>())
        .map_while(|p| p.parse().ok())
        .collect();
    for (i, m) in min.iter().enumerate() {
        let v = parts.get(i).copied().unwrap_or(0);
        if v != *m {
            return v > *m;
        }
    }
    true
}

/// The sequence that starts a link (`ESC ] 8 ; params ; target ST`).
pub fn open(target: &str, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("\x1b]8;id={id};{target}\x1b\\"),
        None => format!("\x1b]8;;{target}\x1b\\"),
    }
}

/// The sequence that ends a link.
pub const CLOSE: &str = "\x1b]8;;\x1b\\";

/// Finds the URLs in a line of guide text: byte ranges of each
/// `http://`, `https://` or `mailto:` run up to the next space, without
/// the punctuation that usually follows a URL in a sentence (`.`, `,`, a
/// closing bracket without its opening one).
pub fn find_urls(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while from < text.len() {
        let next = ["https://", "http://", "mailto:"]
            .iter()
            .filter_map(|p| lower[from..].find(p).map(|i| from + i))
            .filter(|&i| i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric()))
            .min();
        let Some(start) = next else { break };
        let end = text[start..].find(char::is_whitespace).map(|i| start + i).unwrap_or(text.len());
        let mut url = &text[start..end];
        loop {
            let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"', '’', '”']);
            let trimmed = match trimmed.chars().last() {
                Some(close @ (')' | ']' | '}')) => {
                    let open = match close {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    if trimmed.matches(open).count() < trimmed.matches(close).count() {
                        &trimmed[..trimmed.len() - 1]
                    } else {
                        trimmed
                    }
                }
                _ => trimmed,
            };
            if trimmed.len() == url.len() {
                break;
            }
            url = trimmed;
        }
        // A scheme alone is no URL.
        if url.len() > "mailto:".len() && !url.ends_with("//") {
            out.push(start..start + url.len());
        }
        from = end.max(start + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_https_and_mailto_become_links() {
        assert_eq!(target("https://developer.postnl.nl/").as_deref(), Some("https://developer.postnl.nl/"));
        assert_eq!(target("HTTP://example.com/a?b=c#d").as_deref(), Some("HTTP://example.com/a?b=c#d"));
        assert_eq!(target("mailto:support@example.com").as_deref(), Some("mailto:support@example.com"));
        for bad in [
            "javascript:alert(1)",
            "JavaScript://example.com/%0aalert(1)",
            "file:///etc/passwd",
            "data:text/html,<b>x</b>",
            "ftp://example.com/",
            "https:example.com",
            "https://",
            "https:///path",
            "mailto:",
            "example.com",
            "",
        ] {
            assert_eq!(target(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn control_characters_raw_or_encoded_are_refused() {
        for bad in [
            "https://example.com/\x1b]8;;https://evil.example/\x1b\\",
            "https://example.com/\x07",
            "https://example.com/\u{9d}x",
            "https://example.com/a b",
            "https://example.com/\u{202e}gpj.exe",
            "https://example.com/%1B]8;;x",
            "https://example.com/%0a",
            "https://example.com/%7f",
            "https://example.com/%C2%9B",
        ] {
            assert_eq!(target(bad), None, "{bad:?}");
        }
        // Other escapes stay as they are.
        assert_eq!(target("https://example.com/a%20b%C3%A9").as_deref(), Some("https://example.com/a%20b%C3%A9"));
    }

    #[test]
    fn targets_are_percent_encoded() {
        assert_eq!(
            target("https://example.com/straße?q=\"x\"|{y}").as_deref(),
            Some("https://example.com/stra%C3%9Fe?q=%22x%22%7C%7By%7D")
        );
        assert_eq!(target("https://example.com/100%").as_deref(), Some("https://example.com/100%25"));
        let t = target("https://例え.jp/パス").unwrap_or_default();
        assert!(t.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{t}");
        let long = format!("https://example.com/{}", "a".repeat(MAX_TARGET));
        assert_eq!(target(&long), None);
    }

    #[test]
    fn support_follows_the_terminal() {
        let with = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        };
        let yes = |vars: &[(&str, &str)]| supported(&with(vars), false);
        assert!(yes(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "WezTerm")]));
        assert!(yes(&[("TERM", "xterm-kitty")]));
        assert!(yes(&[("TERM", "xterm-256color"), ("VTE_VERSION", "7200")]));
        assert!(yes(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "iTerm.app"), ("TERM_PROGRAM_VERSION", "3.5.0")]));
        assert!(!yes(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "iTerm.app"), ("TERM_PROGRAM_VERSION", "3.0.15")]));
        // Unknown: plain text.
        assert!(!yes(&[("TERM", "xterm-256color")]));
        assert!(!yes(&[("TERM", "xterm-256color"), ("VTE_VERSION", "3803")]));
        // tmux passes links on from 3.4; the outer terminal's variables do not count inside it.
        let tmux = |v: &str| {
            yes(&[
                ("TERM", "tmux-256color"),
                ("TMUX", "/tmp/tmux-0/default,1,0"),
                ("TERM_PROGRAM", "tmux"),
                ("TERM_PROGRAM_VERSION", v),
                ("VTE_VERSION", "7200"),
            ])
        };
        assert!(tmux("3.4") && tmux("3.5a") && tmux("next-3.6"));
        assert!(!tmux("3.3a") && !tmux("2.9"));
        assert!(!yes(&[("TERM", "screen-256color"), ("VTE_VERSION", "7200")]));
        // No links where Unicode is not trusted either, nor with --ascii.
        for term in ["dumb", "linux", "vt100", "vt220"] {
            assert!(!yes(&[("TERM", term), ("TERM_PROGRAM", "WezTerm")]), "{term}");
        }
        assert!(!supported(&with(&[("TERM", "xterm-kitty")]), true));
        // NO_COLOR does not matter; the override does.
        assert!(yes(&[("TERM", "xterm-kitty"), ("NO_COLOR", "1")]));
        assert!(yes(&[("TERM", "xterm"), ("CUTOVER_HYPERLINKS", "1")]));
        assert!(!yes(&[("TERM", "xterm-kitty"), ("CUTOVER_HYPERLINKS", "0")]));
    }

    #[test]
    fn urls_are_found_without_the_sentence_around_them() {
        let text = "the portal at https://developer.postnl.nl/. Click (see https://x.example/a_(b)), or mail mailto:a@b.example, not xhttps://no";
        let found: Vec<&str> = find_urls(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(found, ["https://developer.postnl.nl/", "https://x.example/a_(b)", "mailto:a@b.example"]);
        assert!(find_urls("just https:// and mailto: alone").is_empty());
    }
}
