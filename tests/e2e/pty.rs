//! End to end: the real binary in a pseudo-terminal.

use crate::common;
use common::pty::{Pty, Sandbox, wait_until};

#[test]
fn a_step_marked_done_is_still_done_after_a_restart() {
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, &[]);
    p.wait_for("0/10 steps done");
    p.send(b" ");
    p.wait_for("1/10 steps done");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    assert!(state.contains("[guides.postnl.steps.servicedesk-access]"), "{state}");
    assert!(state.contains("status = \"done\""), "{state}");
    assert!(state.contains("by = \"tester\""), "{state}");

    let mut p = Pty::spawn(&sb, &[], 100, 30, &[]);
    p.wait_for("1/10 done");
    p.send(b"\r");
    p.wait_for("1/10 steps done");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
}

#[test]
fn sighup_saves_the_note_being_typed_and_exits() {
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["open", "posti"], 100, 30, &[]);
    p.wait_for("0/8 steps done");
    p.send(b"e");
    p.wait_for("Note: 1. Open OmaPosti Pro");
    p.send(b"typed before the link dropped");
    p.wait_for("typed before the link dropped");
    let pid = p.pid().unwrap() as i32;
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    p.wait_exit();
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    assert!(state.contains("typed before the link dropped"), "{state}");
    // The lock is free and the presence entry is gone.
    let lock = std::fs::OpenOptions::new().write(true).open(sb.state_file().with_file_name("state.toml.lock")).unwrap();
    assert!(lock.try_lock().is_ok(), "the lock is still held");
    let dir = sb.state_file().with_file_name("state.toml.presence");
    let left: Vec<_> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "presence entries left: {left:?}");
}

#[test]
fn an_unreadable_state_file_is_reported_with_its_line_and_left_alone() {
    let sb = Sandbox::new();
    let file = sb.state_file();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let broken = "schema = 1\n[guides.postnl.steps.go-live]\nstatus = \"finished\"\n";
    std::fs::write(&file, broken).unwrap();
    let out = sb.command(&["open", "postnl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("state.toml:3:"), "no line:col in {err}");
    assert!(err.contains("--reset-state"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken, "the file was changed");

    // --reset-state moves it aside and starts fresh.
    let out = sb.command(&["--reset-state", "mark", "postnl", "go-live", "done"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let backups: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("broken"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), broken);
    wait_until("state written", || std::fs::read_to_string(&file).map(|s| s.contains("done")).unwrap_or(false));
}

/// An instance does not read back its own saves (the saver already has the
/// result), and reading the file must not count as a change, or every read
/// would start the next one and keys would wait behind an endless stream
/// of reloads. Only the one look at start-up reads the file again.
#[test]
fn own_saves_are_not_read_back_and_keys_keep_their_order() {
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, &[("CUTOVER_LOG", "debug")]);
    p.wait_for("0/10 steps done");
    // Four toggles in a row: done, todo, done, todo; then done on step 2.
    p.send(b" ");
    p.wait_for("1/10 steps done");
    p.send(b"   j ");
    p.wait_for("Status: ✓ done");
    p.wait_for("1/10 steps done");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let log_dir = sb.path().join("data/cutover/logs");
    let count = || -> usize {
        std::fs::read_dir(&log_dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .map(|t| t.matches("state file read again after a change").count())
                    .sum()
            })
            .unwrap_or(0)
    };
    let settled = count();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let later = count();
    assert_eq!(later, settled, "the state file keeps being read while nothing changes ({settled} -> {later})");
    assert!(settled <= 1, "{settled} reads of the file for 5 own saves");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
    let state = std::fs::read_to_string(sb.state_file()).unwrap();
    assert!(state.contains("[guides.postnl.steps.account-verification]\nstatus = \"done\""), "{state}");
}

/// A change made right after start-up, while the first look at the file is
/// still under way, is never undone by that look's older result.
#[test]
fn a_change_right_after_start_is_not_undone_by_the_first_read() {
    for round in 0..8 {
        let sb = Sandbox::new();
        let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, &[]);
        p.wait_for("0/10 steps done");
        p.send(b" ");
        p.wait_for("1/10 steps done");
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(p.screen().contains("1/10 steps done"), "round {round}: the change was undone:\n{}", p.screen());
        p.send(b"q");
        assert_eq!(p.wait_exit(), 0);
    }
}

/// A save that fails is never shown as saved: the screen goes back to what
/// the file holds with "not saved: <why>", a note that could not be saved
/// stays in the editor, and quitting with a change not saved exits 4. The
/// file is made read-only (0444) under the running instance; as root too,
/// the mode bits decide, not whether a replace would succeed.
#[test]
fn a_failed_save_shows_what_the_file_holds_and_quitting_exits_4() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["open", "posti"], 100, 30, &[]);
    p.wait_for("0/8 steps done");
    p.send(b" ");
    p.wait_for("1/8 steps done");
    let state = sb.state_file();
    // Let the save land (the screen shows a change before it is on disk;
    // the first save of a run also makes the folders and the lock, which
    // on a loaded machine takes more than a moment) and settle, then take
    // the write bit away.
    wait_until("the first save", || std::fs::read_to_string(&state).is_ok_and(|s| s.contains("done")));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = std::fs::read(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o444)).unwrap();

    // Step 2 done: not saved, and the gauge says what the file holds.
    p.send(b"j ");
    p.wait_for("not saved");
    p.wait_for("1/8 steps done");
    assert!(!p.screen().contains("2/8 steps done"), "{}", p.screen());
    // A note that cannot be saved stays in the editor with its text.
    p.send(b"e");
    p.wait_for("Note:");
    p.send(b"kept in the editor");
    p.send(b"\x13"); // Ctrl-S
    p.wait_for("not saved");
    let screen = p.screen();
    assert!(screen.contains("kept in the editor") && screen.contains("Note:"), "{screen}");
    // Leave the editor without saving, then quit: exit 4, and the file is
    // as it was.
    p.send(b"\x03"); // Ctrl-C discards the draft
    p.send(b"q");
    assert_eq!(p.wait_exit(), 4);
    assert_eq!(std::fs::read(&state).unwrap(), before, "a read-only state file was replaced");
}

/// A save that waits for the state lock longer than a second says so, with
/// who holds it, on the command line's stderr and in the TUI's footer; it
/// goes through once the lock is free.
#[test]
fn a_long_wait_for_the_state_lock_is_said_with_the_holder() {
    let sb = Sandbox::new();
    // A first save creates the state and its permanent lock file.
    assert_eq!(sb.command(&["mark", "posti", "login", "in_progress"]).output().unwrap().status.code(), Some(0));
    let lock_path = sb.state_file().with_file_name("state.toml.lock");
    let me = std::process::id();

    // The command line.
    let lock = std::fs::OpenOptions::new().read(true).open(&lock_path).unwrap();
    lock.lock().unwrap();
    let child = sb.command(&["mark", "posti", "login", "done"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    lock.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("waiting for the state lock, held by"), "{err}");
    assert!(err.contains(&format!("(pid {me})")), "the holder is named: {err}");

    // The TUI.
    let mut p = Pty::spawn(&sb, &["open", "posti"], 100, 30, &[]);
    p.wait_for("1/8 steps done");
    lock.lock().unwrap();
    p.send(b" ");
    p.wait_for("waiting for the state lock");
    lock.unlock().unwrap();
    // The save goes through once the lock is free.
    let saved = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::read_to_string(sb.state_file()).unwrap_or_default().matches("status = \"done\"").count() == 2
    });
    assert!(saved, "{}", std::fs::read_to_string(sb.state_file()).unwrap_or_default());
    p.wait_for("2/8 steps done");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
}

#[test]
fn ascii_without_asking_where_unicode_cannot_be_trusted() {
    let cases: [(&[(&str, &str)], bool); 6] = [
        (&[("TERM", "linux")], true),
        (&[("TERM", "vt100")], true),
        (&[("TERM", "dumb")], true),
        (&[("LC_ALL", ""), ("LC_CTYPE", ""), ("LANG", "de_DE.ISO-8859-1")], true),
        // An unset locale does not count; a UTF-8 one is trusted.
        (&[("LC_ALL", ""), ("LC_CTYPE", ""), ("LANG", "")], false),
        (&[("LC_ALL", "C.UTF-8")], false),
    ];
    for (env, ascii) in cases {
        let sb = Sandbox::new();
        let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, env);
        p.wait_for("0/10 steps done");
        let screen = p.screen();
        p.send(b"q");
        assert_eq!(p.wait_exit(), 0);
        // Guide text keeps its letters; everything else is ASCII.
        let symbols: String = screen.chars().filter(|c| !c.is_alphabetic()).collect();
        assert_eq!(symbols.is_ascii(), ascii, "{env:?}:\n{screen}");
    }
}

/// A save that cannot get the state lock in time is not shown as saved:
/// the screen goes back to what the file holds, "not saved" names the
/// wait, and quitting exits 4. (`CUTOVER_LOCK_WAIT_SECS` shortens the
/// 30 s limit for the test.)
#[test]
fn a_save_that_times_out_on_the_lock_is_not_shown_as_saved() {
    let sb = Sandbox::new();
    assert_eq!(sb.command(&["mark", "posti", "login", "in_progress"]).output().unwrap().status.code(), Some(0));
    let lock_path = sb.state_file().with_file_name("state.toml.lock");
    let before = std::fs::read(sb.state_file()).unwrap();
    let mut p = Pty::spawn(&sb, &["open", "posti"], 100, 30, &[("CUTOVER_LOCK_WAIT_SECS", "2")]);
    p.wait_for("0/8 steps done");
    let lock = std::fs::OpenOptions::new().read(true).open(&lock_path).unwrap();
    lock.lock().unwrap();
    p.send(b" ");
    p.wait_for("1/8 steps done");
    p.wait_for("not saved");
    p.wait_for("0/8 steps done");
    p.send(b"q");
    assert_eq!(p.wait_exit(), 4);
    // The footer cut the message at the screen's width; stderr has it whole.
    let raw = String::from_utf8_lossy(&p.raw.lock().unwrap()).to_string();
    assert!(raw.contains("held the lock for over 2s"), "{raw}");
    lock.unlock().unwrap();
    assert_eq!(std::fs::read(sb.state_file()).unwrap(), before);
}

/// The OSC 8 hyperlinks in what cutover wrote: (params, target, text) of
/// each, checked to be well-formed on the way: every link is closed before
/// the next opens, its target is printable ASCII, and its text holds no
/// escape.
fn hyperlinks(raw: &[u8]) -> Vec<(String, String, String)> {
    const OPEN: &[u8] = b"\x1b]8;";
    const ST: &[u8] = b"\x1b\\";
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay[from..].windows(needle.len()).position(|w| w == needle).map(|i| from + i)
    };
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = find(raw, OPEN, at) {
        let params_end = find(raw, b";", start + OPEN.len()).expect("OSC 8 without its second ';'");
        let target_end = find(raw, ST, params_end + 1).expect("OSC 8 without its string terminator");
        let params = String::from_utf8_lossy(&raw[start + OPEN.len()..params_end]).to_string();
        let target = &raw[params_end + 1..target_end];
        assert!(!target.is_empty(), "a link closed that was never opened, at byte {start}");
        assert!(target.iter().all(|b| (0x21..=0x7e).contains(b)), "target not printable ASCII: {target:?}");
        let close = find(raw, b"\x1b]8;;\x1b\\", target_end + ST.len()).expect("a link that is never closed");
        let text = &raw[target_end + ST.len()..close];
        // Between the two only the link's own text: no other sequence
        // (styles come before the link starts).
        assert!(!text.contains(&0x1b), "an escape inside a link's text: {:?}", String::from_utf8_lossy(text));
        out.push((params, String::from_utf8_lossy(target).into(), String::from_utf8_lossy(text).into()));
        at = close + 7;
    }
    out
}

#[test]
fn guide_urls_are_hyperlinks_where_the_terminal_shows_them() {
    let sb = Sandbox::new();
    let mut p = Pty::spawn(&sb, &["open", "postnl"], 120, 40, &[("TERM_PROGRAM", "WezTerm")]);
    p.wait_for("0/10 steps done");
    // Step 1's contacts and links are below the fold at first.
    p.send(b"J");
    p.wait_for("https://developer.postnl.nl/support/api-key/how-do-i-get-an-api-key");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let raw = p.raw.lock().unwrap().clone();
    let links = hyperlinks(&raw);
    let has = |target: &str, text: &str| links.iter().any(|(_, t, x)| t == target && x == text);
    assert!(has("https://mijn.postnl.nl", "https://mijn.postnl.nl"), "{links:?}");
    assert!(
        has(
            "https://developer.postnl.nl/support/api-key/how-do-i-get-an-api-key",
            "https://developer.postnl.nl/support/api-key/how-do-i-get-an-api-key"
        ),
        "{links:?}"
    );
    // An email address links as mailto:, its text the address.
    assert!(has("mailto:citservicedesk@postnl.nl", "citservicedesk@postnl.nl"), "{links:?}");
    // Never broken by wrapping: the whole URL is on one row of the screen.
    let screen = p.screen();
    assert!(screen.lines().any(|l| l.contains("https://developer.postnl.nl/support/api-key/how-do-i-get-an-api-key")));
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
}

/// A guide of the user's own whose URLs try what an untrusted guide might:
/// a `javascript:` contact, a link that hides an escape sequence (the
/// loader keeps it visible, percent-encoded), one with a control character,
/// beside a good link and a URL in the text.
const HOSTILE_GUIDE: &str = r#"schema = 1
id = "hostile"
version = "1"
title = { en = "Hostile links" }
languages = ["en"]

[[steps]]
id = "only"
number = 1
title = { en = "Links" }
body = { en = "Read https://body.example/page. Not javascript:alert(2) either." }

[[steps.contacts]]
kind = "web"
value = "javascript:alert(1)"

[[steps.links]]
url = "https://evil.example/\u001b]8;;https://other.example/\u001b\\x"
label = { en = "Hidden" }

[[steps.links]]
url = "https://bell.example/\u0007y"
label = { en = "Bell" }

[[steps.links]]
url = "https://fine.example/ok"
label = { en = "Fine" }
"#;

#[test]
fn untrusted_urls_are_not_linked_and_no_control_character_reaches_the_terminal() {
    let sb = Sandbox::new();
    let dir = sb.config_dir().join("guides");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hostile.toml"), HOSTILE_GUIDE).unwrap();
    let mut p = Pty::spawn(&sb, &["open", "hostile"], 120, 40, &[("TERM_PROGRAM", "WezTerm")]);
    p.wait_for("https://fine.example/ok");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let raw = p.raw.lock().unwrap().clone();
    let links = hyperlinks(&raw);
    let targets: Vec<&str> = links.iter().map(|(_, t, _)| t.as_str()).collect();
    assert!(targets.contains(&"https://fine.example/ok"), "{targets:?}");
    assert!(targets.contains(&"https://body.example/page"), "{targets:?}");
    for t in &targets {
        for bad in ["javascript", "evil.example", "other.example", "bell.example"] {
            assert!(!t.contains(bad), "{t} was linked");
        }
    }
    // What they were is on screen, controls shown as their escapes.
    let screen = p.screen();
    assert!(screen.contains("javascript:alert(1)"), "{screen}");
    assert!(screen.contains("https://evil.example/%1B]8;;https://other.example/%1B\\x"), "{screen}");
    assert!(screen.contains("https://bell.example/%07y"), "{screen}");
    // No BEL and no OSC but the links' own.
    assert!(!raw.contains(&0x07));
    let oscs = raw.windows(2).filter(|w| w == b"\x1b]").count();
    let expected = links.len() * 2;
    // OSC 52 is not used here; the only OSCs are the links' opens and closes.
    assert_eq!(oscs, expected, "{:?}", String::from_utf8_lossy(&raw));
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
}

#[test]
fn no_hyperlinks_where_the_terminal_is_not_known_to_show_them() {
    for env in [
        // A dumb terminal: ASCII, plain text, whatever else says otherwise.
        &[("TERM", "dumb"), ("TERM_PROGRAM", "WezTerm")][..],
        // tmux before 3.4 does not pass links on.
        &[
            ("TERM", "screen-256color"),
            ("TMUX", "/tmp/tmux-0/default,1,0"),
            ("TERM_PROGRAM", "tmux"),
            ("TERM_PROGRAM_VERSION", "3.3a"),
        ],
        // A terminal that says nothing about itself.
        &[("TERM", "xterm-256color")],
    ] {
        let sb = Sandbox::new();
        let mut p = Pty::spawn(&sb, &["open", "postnl"], 120, 40, env);
        p.wait_for("steps done");
        p.send(b"J");
        p.wait_for("https://mijn.postnl.nl");
        std::thread::sleep(std::time::Duration::from_millis(300));
        let raw = p.raw.lock().unwrap().clone();
        assert!(!raw.windows(4).any(|w| w == b"\x1b]8;"), "{env:?}: an OSC 8 was written");
        p.send(b"q");
        assert_eq!(p.wait_exit(), 0, "{env:?}");
    }
}

/// An SGR mouse report (`ESC [ < b ; x ; y M`), 0-based cell.
fn sgr(button: u8, x: u16, y: u16, press: bool) -> Vec<u8> {
    format!("\x1b[<{button};{};{}{}", x + 1, y + 1, if press { 'M' } else { 'm' }).into_bytes()
}

/// "↓ N more lines" at the detail pane's foot.
fn more_lines(screen: &str) -> Option<u32> {
    let at = screen.find("more line")?;
    screen[..at].trim_end().rsplit(' ').next()?.parse().ok()
}

#[test]
fn with_mouse_the_wheel_scrolls_the_pane_under_it_and_a_click_selects_a_step() {
    let sb = Sandbox::new();
    // 100x30: the list (40 wide) beside the detail; the list's first item
    // on row 3 (two header rows, the list's border).
    let mut p = Pty::spawn(&sb, &["--mouse", "open", "postnl"], 100, 30, &[]);
    p.wait_for("0/10 steps done");
    p.wait_for("Step 1 ");
    assert!(p.raw.lock().unwrap().windows(8).any(|w| w == b"\x1b[?1000h"), "mouse capture not enabled");
    // A click on the sixth step's row selects it.
    p.send(&sgr(0, 5, 3 + 5, true));
    p.send(&sgr(0, 5, 3 + 5, false));
    p.wait_for("Step 6 ");
    p.wait_for("Manage APIs");
    // Step 1 has more text than fits: the wheel over the detail scrolls
    // it by three rows, and back.
    p.send(&sgr(0, 5, 3, true));
    p.send(&sgr(0, 5, 3, false));
    p.wait_for("Step 1 ");
    let before = more_lines(&p.screen()).expect("step 1 fits?");
    p.send(&sgr(65, 70, 15, true));
    wait_until("the detail scrolled down by 3", || more_lines(&p.screen()) == Some(before - 3));
    p.send(&sgr(64, 70, 15, true));
    wait_until("the detail scrolled back up", || more_lines(&p.screen()) == Some(before));
    assert!(p.screen().contains("Step 1 "), "the wheel over the detail moved the selection");
    // The wheel over the list moves the selection, as the arrow keys do.
    p.send(&sgr(65, 5, 10, true));
    p.wait_for("Step 2 ");
    // A click on the border or an empty row changes nothing.
    p.send(&sgr(0, 0, 3, true));
    p.send(&sgr(0, 5, 20, true));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(p.screen().contains("Step 2 "), "{}", p.screen());
    p.send(b"q");
    assert_eq!(p.wait_exit(), 0);
}

/// Waits until nothing has been written for a while, and returns how
/// many bytes were written in all.
fn settled(p: &Pty) -> usize {
    let mut seen = usize::MAX;
    let mut quiet = 0;
    wait_until("the screen to settle", || {
        let now = p.raw.lock().unwrap().len();
        quiet = if now == seen { quiet + 1 } else { 0 };
        seen = now;
        quiet >= 15
    });
    seen
}

/// Every cell of the screen with its styles, a row per line: what a
/// person sees (a cell never written shows as a space; the hidden
/// cursor's place is left out).
fn formatted(p: &Pty) -> Vec<String> {
    let parser = p.parser.lock().unwrap();
    let screen = parser.screen();
    let (rows, cols) = screen.size();
    (0..rows.get())
        .map(|r| {
            (0..cols.get())
                .filter_map(|c| screen.cell(r, c))
                .map(|c| {
                    let text = if c.has_contents() { c.contents() } else { " " };
                    let (b, d, i, u, v) = (c.bold(), c.dim(), c.italic(), c.underline(), c.inverse());
                    format!(
                        "{text}[{:?}/{:?}{}{}{}{}{}]",
                        c.fgcolor(),
                        c.bgcolor(),
                        b as u8,
                        d as u8,
                        i as u8,
                        u as u8,
                        v as u8
                    )
                })
                .collect()
        })
        .collect()
}

/// The first frame is written by hand (no terminal, no second buffer):
/// it must be what the terminal draws, cell for cell with its styles, and
/// the terminal made after it must take it as the screen, so that the
/// next change writes only itself.
#[test]
fn the_first_frame_is_the_terminals_own_and_the_next_change_sends_only_itself() {
    for (extra, what) in
        [(vec![], "colour"), (vec![("NO_COLOR", "1")], "NO_COLOR"), (vec![("TERM", "xterm-256color")], "a known TERM")]
    {
        let sb = Sandbox::new();
        let mut p = Pty::spawn(&sb, &["open", "postnl"], 100, 30, &extra);
        p.wait_for("0/10 steps done");
        let first_bytes = settled(&p);
        let first = formatted(&p);
        assert!(first_bytes > 2000, "{what}: a whole screen is more than {first_bytes} bytes");
        // Whatever draws after the first frame (the event loop starting)
        // draws on it: the header's environment went out once.
        let raw = String::from_utf8_lossy(&p.raw.lock().unwrap()).into_owned();
        assert_eq!(raw.matches("SANDBOX").count(), 1, "{what}: the screen was drawn again whole");

        // Marking the step done changes its mark, the count and the
        // detail's status: a few cells, not the screen.
        p.send(b" ");
        p.wait_for("1/10 steps done");
        let marked = settled(&p) - first_bytes;
        assert!(
            marked * 4 < first_bytes,
            "{what}: marking a step wrote {marked} bytes, a quarter of the whole screen ({first_bytes}) or more"
        );
        let shown = formatted(&p);
        assert_ne!(shown, first);

        // A resize makes the terminal clear and draw everything itself:
        // the same screen as the first frame with the change drawn on it.
        p.resize(101, 30);
        settled(&p);
        p.resize(100, 30);
        p.wait_for("1/10 steps done");
        settled(&p);
        assert_eq!(
            formatted(&p),
            shown,
            "{what}: the terminal's own full draw differs from the first frame and its change"
        );
        p.send(b"q");
        assert_eq!(p.wait_exit(), 0);
    }
}
