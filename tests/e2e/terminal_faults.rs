//! The screen under hostile sizes and text: `ui::render` at every size from
//! 10x3 to 120x40 (in steps) and through resize sequences, with very long
//! notes and titles, wide (CJK) and combining characters and emoji; no
//! panic, and every rendered row fits its width. Then the real binary in a
//! pseudo-terminal through a resize storm while keys arrive.

use crate::common;
use common::*;
use cutover::app::input::{Code, Key};
use cutover::app::{Action, App, GuideEntry, Settings, update};
use cutover::guide::parse_guide;
use cutover::progress::{CheckRecord, Op, Progress, Status, Verdict};
use cutover::ui::{Theme, render};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthStr;

const CJK: &str = "配送状況の確認とAPIキーの発行手続き";
const COMBINING: &str = "e\u{301}a\u{308}o\u{302}\u{323}n\u{303}";
const EMOJI: &str = "📦🚚✅ 👩\u{200d}💻 🇳🇱🇫🇮 ❤\u{fe0f}";

fn long_text(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("{CJK} {COMBINING} {EMOJI} word{i} "));
        if i % 7 == 0 {
            s.push_str("averyveryverylongwordwithoutanyspacethatcannotbewrappedanywhereatallnotevenonawidescreen ");
        }
        if i % 11 == 0 {
            s.push('\n');
        }
    }
    s
}

/// A guide with long, wide titles and bodies.
fn wide_guide() -> GuideEntry {
    let title = format!("{CJK}{CJK}{CJK} {EMOJI} {COMBINING}");
    let mut src = format!(
        "schema = 1\nid = \"wide\"\nversion = \"1\"\ntitle = {{ en = \"{title}\" }}\nlanguages = [\"en\"]\n\
         [[notices]]\ntext = {{ en = \"{}\" }}\n",
        long_text(5).replace('\n', "\\n")
    );
    for i in 1..=12 {
        src.push_str(&format!(
            "\n[[steps]]\nid = \"s{i}\"\nnumber = {i}\ntitle = {{ en = \"{i} {title}\" }}\nbody = {{ en = \"{}\" }}\n",
            long_text(20).replace('\n', "\\n")
        ));
    }
    let guide = match parse_guide(&src, "wide.toml") {
        Ok(g) => g,
        Err(e) => panic!("the test guide must parse: {e:?}"),
    };
    GuideEntry::new(guide, "test".into())
}

fn progress_with_long_notes(app_guides: &[GuideEntry]) -> Progress {
    let mut p = Progress::default();
    let at = fixed_now() - jiff::SignedDuration::from_mins(3);
    for e in app_guides {
        for (k, s) in e.guide.all_items().enumerate() {
            let (guide, step) = (e.guide.id().to_string(), s.id().to_string());
            let status = Status::ALL[k % Status::ALL.len()];
            p.apply(
                &Op::SetStatus { guide: guide.clone(), step: step.clone(), status, hash: None },
                "ünïcødé 名前",
                at,
            );
            p.apply(
                &Op::SetNote { guide: guide.clone(), step: step.clone(), note: long_text(30), base: None },
                "bob",
                at,
            );
            let record = CheckRecord {
                at,
                by: format!("{CJK}{EMOJI}"),
                env: Some("sandbox".into()),
                check: format!("{CJK} {COMBINING}"),
                verdict: [Verdict::Pass, Verdict::Fail, Verdict::Indeterminate][k % 3],
                message: long_text(3),
                hint: Some(long_text(2)),
                duration_ms: 123,
                request: Some(format!("GET https://example.test/{}", "x".repeat(300))),
                http_status: Some(401),
                excerpt: Some(long_text(4)),
                proved: Some(long_text(1)),
                not_proved: Some(long_text(1)),
                would_prove: None,
                trace_id: None,
                key_sent_to: None,
                details: vec![long_text(1), EMOJI.repeat(20)],
            };
            p.apply(&Op::RecordCheck { guide, step, record: Box::new(record) }, "bob", at);
        }
    }
    p
}

fn hostile_app() -> App {
    let mut guides = cutover::app::entries(&cutover::guide::Catalog::built_in());
    guides.push(wide_guide());
    let progress = progress_with_long_notes(&guides);
    let settings = Settings {
        lang_pref: vec!["en".into()],
        user: format!("{CJK}{EMOJI}"),
        observe: false,
        state_path: format!("/tmp/{CJK}/{EMOJI}/state.toml"),
        demo: false,
        rights: Default::default(),
    };
    let mut app = App::new(guides, progress, settings, fixed_now());
    app.guide_errors = vec![long_text(2), format!("{CJK}.toml:1:1: {EMOJI}")];
    app
}

fn k(app: &mut App, code: Code) {
    update(app, Action::Key(Key::plain(code)));
}

fn ch(app: &mut App, c: char) {
    update(app, Action::Key(Key::ch(c)));
}

/// The app in each of the states worth drawing.
fn states() -> Vec<(&'static str, App)> {
    let mut out = Vec::new();
    let picker = hostile_app();
    out.push(("picker", picker.clone()));
    let mut wide = picker.clone();
    while wide.picker + 1 < wide.guides.len() {
        ch(&mut wide, 'j');
    }
    out.push(("picker, wide guide selected", wide.clone()));
    k(&mut wide, Code::Enter);
    out.push(("wide guide", wide.clone()));
    ch(&mut wide, 'G');
    out.push(("wide guide, last step", wide.clone()));
    let mut postnl = picker.clone();
    k(&mut postnl, Code::Enter);
    ch(&mut postnl, 'j');
    out.push(("postnl, step 2", postnl.clone()));
    let mut help = postnl.clone();
    ch(&mut help, '?');
    out.push(("help", help));
    let mut log = postnl.clone();
    ch(&mut log, 'H');
    out.push(("history", log));
    let mut edit = wide.clone();
    ch(&mut edit, 'e');
    update(&mut edit, Action::Paste(long_text(4)));
    out.push(("editing a note", edit));
    let mut search = wide.clone();
    ch(&mut search, '/');
    update(&mut search, Action::Paste(format!("{CJK}{EMOJI}")));
    out.push(("search", search));
    let mut key = postnl;
    ch(&mut key, 'p');
    update(&mut key, Action::Paste("x".repeat(500)));
    out.push(("key prompt", key));
    out
}

/// No control characters in any cell, and every row fits its width: a
/// wide character never starts in the last column, and the widths of the
/// cells' symbols add up to at most the width.
fn assert_fits(buf: &Buffer, what: &str) {
    let area = buf.area;
    for y in 0..area.height {
        let mut x = 0;
        let mut used = 0;
        while x < area.width {
            let sym = buf[(x, y)].symbol();
            assert!(!sym.chars().any(char::is_control), "{what}: control character {sym:?} at {x},{y}");
            let w = sym.width();
            assert!(w >= 1 || sym.is_empty(), "{what}: zero-width symbol {sym:?} at {x},{y}");
            assert!(
                x as usize + w <= area.width as usize,
                "{what}: {sym:?} ({w} wide) at {x},{y} overflows width {}",
                area.width
            );
            used += w;
            x += w.max(1) as u16;
        }
        assert!(used <= area.width as usize, "{what}: row {y} is {used} cells wide in {}", area.width);
    }
}

fn sizes() -> Vec<(u16, u16)> {
    let mut widths: Vec<u16> = (10..=120).step_by(5).collect();
    widths.extend([11, 19, 21, 31, 32, 33, 79, 81, 119]);
    let mut heights: Vec<u16> = (3..=40).step_by(3).collect();
    heights.extend([4, 5, 7, 24, 25]);
    widths.iter().flat_map(|w| heights.iter().map(move |h| (*w, *h))).collect()
}

#[test]
fn every_size_renders_within_its_width() {
    let themes = [Theme::default(), Theme { color: false, ascii: true }];
    let mut draws = 0;
    for (what, app) in states() {
        for (w, h) in sizes() {
            let theme = &themes[(w as usize + h as usize) % 2];
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| render(&app, theme, f)).unwrap();
            let buf = t.backend().buffer();
            assert_eq!((buf.area.width, buf.area.height), (w, h));
            assert_fits(buf, &format!("{what} at {w}x{h}"));
            draws += 1;
        }
    }
    assert!(draws > 1000, "only {draws} draws");
}

#[test]
fn resize_sequences_keep_every_frame_within_its_width() {
    let mut app = hostile_app();
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let theme = Theme::default();
    let mut rng = fastrand::Rng::with_seed(7);
    let keys = ['j', 'k', 'G', 'g', 'J', 'K', 'L', 't'];
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    // Shrinking, growing, jittering by one, and random jumps.
    sizes.extend((3..=40).rev().map(|h| (h * 3, h)));
    sizes.extend((3..=40).map(|h| (h * 3, h)));
    sizes.extend((0..40).map(|i| (80 + (i % 2), 24 - (i % 2))));
    sizes.extend((0..200).map(|_| (rng.u16(1..=160), rng.u16(1..=60))));
    for (i, (w, h)) in sizes.into_iter().enumerate() {
        if i == 60 {
            k(&mut app, Code::Enter);
        }
        if i == 150 {
            k(&mut app, Code::Esc);
            while app.picker + 1 < app.guides.len() {
                ch(&mut app, 'j');
            }
            k(&mut app, Code::Enter);
        }
        ch(&mut app, keys[i % keys.len()]);
        t.backend_mut().resize(w, h);
        t.draw(|f| render(&app, &theme, f)).unwrap();
        let buf = t.backend().buffer();
        assert_eq!((buf.area.width, buf.area.height), (w, h), "frame {i}");
        assert_fits(buf, &format!("frame {i} at {w}x{h}"));
    }
}

/// The real binary, resized many times a second while keys arrive: it stays
/// up, its last frame is whole, and the first `q` after it exits 0.
#[test]
fn resize_storm_in_a_pseudo_terminal() {
    let sb = pty::Sandbox::new();
    let (cols, rows) = (100u16, 30u16);
    let pair = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_cutover"));
    cmd.args(["open", "postnl"]);
    cmd.env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    for (key, v) in sb.env() {
        cmd.env(key, v);
    }
    cmd.cwd(sb.path());
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZeroU16::new(rows).unwrap(),
        std::num::NonZeroU16::new(cols).unwrap(),
        0,
    )));
    let p2 = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            p2.lock().unwrap().process(&buf[..n]);
        }
    });
    let screen = || parser.lock().unwrap().screen().contents();
    let wait = |what: &str, cond: &dyn Fn(&str) -> bool| {
        let start = Instant::now();
        while start.elapsed() < pty::DEADLINE {
            if cond(&screen()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("never saw {what}; screen:\n{}", screen());
    };
    wait("the checklist", &|s| s.contains("0/10 steps done"));

    // Resize the parser and the terminal together, under the parser's lock,
    // so no byte drawn for the new size is read at the old one.
    let resize = |c: u16, r: u16| {
        let mut p = parser.lock().unwrap();
        p.screen_mut().set_size(std::num::NonZeroU16::new(r).unwrap(), std::num::NonZeroU16::new(c).unwrap());
        pair.master.resize(PtySize { rows: r, cols: c, pixel_width: 0, pixel_height: 0 }).unwrap();
    };
    let mut rng = fastrand::Rng::with_seed(11);
    let keys: &[&[u8]] = &[b"j", b"k", b"G", b"g", b"jjj", b"\x1b[B", b"\x1b[A"];
    for i in 0..300 {
        let (c, r) = match i % 10 {
            0 => (1, 1),
            1 => (10, 3),
            2 => (19, 4),
            _ => (rng.u16(2..=220), rng.u16(2..=70)),
        };
        resize(c, r);
        writer.write_all(keys[i % keys.len()]).unwrap();
        writer.flush().unwrap();
        if i % 50 == 0 {
            assert!(child.try_wait().unwrap().is_none(), "cutover died during the storm; screen:\n{}", screen());
        }
    }
    resize(cols, rows);
    // The last frame: the header on the first row, the footer on the last.
    let sane = |_: &str| {
        let p = parser.lock().unwrap();
        let rows: Vec<String> = p.screen().rows(0, cols).collect();
        rows.first().is_some_and(|r| r.starts_with("cutover ·"))
            && rows.last().is_some_and(|r| r.contains("q quit"))
            && rows.iter().any(|r| r.starts_with("╭ Steps"))
            && rows.iter().any(|r| r.contains("steps done"))
    };
    wait("a whole frame after the storm", &sane);
    assert!(child.try_wait().unwrap().is_none(), "cutover died after the storm");
    // One `q` quits. (It used to be swallowed in about half the runs: the
    // keys after a storm arrive together with its last SIGWINCH, and
    // crossterm's default event source took one of the two readinesses
    // epoll reported at once and dropped the other; edge-triggered, the
    // key then waited for the next byte. cutover builds crossterm with its
    // poll(2)-based source, `use-dev-tty`, where nothing reported is lost.)
    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.exit_code();
        }
        assert!(start.elapsed() < pty::DEADLINE, "cutover did not exit after one q; screen:\n{}", screen());
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, 0, "screen:\n{}", screen());
}
