//! What the screen shows, recorded: the picker, the checklist and the help at
//! 80x24 and 120x40, with a fixed clock, a fixed user and a pinned language.

use crate::common;
use common::*;
use cutover::app::App;
use cutover::progress::{Op, Progress, Status};
use cutover::ui::{Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(app: &App, theme: Theme, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, &theme, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn progressed() -> Progress {
    let mut p = Progress::default();
    let t = fixed_now() - jiff::SignedDuration::from_mins(5);
    p.apply(
        &Op::SetStatus { guide: "postnl".into(), step: "servicedesk-access".into(), status: Status::Done, hash: None },
        "alice",
        t,
    );
    p.apply(
        &Op::SetStatus {
            guide: "postnl".into(),
            step: "account-verification".into(),
            status: Status::InProgress,
            hash: None,
        },
        "bob",
        t,
    );
    p.apply(
        &Op::SetNote {
            guide: "postnl".into(),
            step: "account-verification".into(),
            note: "Waiting for the activation mail.\nTicket 4711.".into(),
            base: None,
        },
        "bob",
        t,
    );
    p
}

#[test]
fn picker() {
    let a = app_with(progressed(), "en");
    insta::assert_snapshot!("picker_80x24", screen(&a, Theme::default(), 80, 24));
    insta::assert_snapshot!("picker_120x40", screen(&a, Theme::default(), 120, 40));
}

#[test]
fn checklist() {
    let mut a = app_with(progressed(), "en");
    open(&mut a, "postnl");
    insta::assert_snapshot!("postnl_80x24", screen(&a, Theme::default(), 80, 24));
    insta::assert_snapshot!("postnl_120x40", screen(&a, Theme::default(), 120, 40));
    let mut b = app_with(Progress::default(), "sv");
    open(&mut b, "posti");
    insta::assert_snapshot!("posti_sv_120x40", screen(&b, Theme::default(), 120, 40));
}

#[test]
fn help() {
    let mut a = app();
    open(&mut a, "postnl");
    press(&mut a, '?');
    insta::assert_snapshot!("help_80x24", screen(&a, Theme::default(), 80, 24));
    insta::assert_snapshot!("help_120x40", screen(&a, Theme::default(), 120, 40));
}

#[test]
fn ascii_mode_uses_only_ascii() {
    let mut a = app_with(progressed(), "en");
    open(&mut a, "postnl");
    let s = screen(&a, Theme { color: false, ascii: true }, 100, 30);
    // Guide text may hold non-ASCII letters; the interface itself may not.
    let ui_only: String = s.lines().map(|l| l.chars().filter(|c| !c.is_alphabetic()).collect::<String>()).collect();
    assert!(ui_only.is_ascii(), "non-ASCII interface characters:\n{s}");
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let mut a = app_with(progressed(), "en");
    open(&mut a, "posti");
    for (w, h) in [(10, 3), (20, 5), (40, 10), (79, 24), (80, 7), (300, 80), (1, 1)] {
        let s = screen(&a, Theme::default(), w, h);
        assert_eq!(s.lines().count(), h as usize);
    }
}

/// The dated status notices and the historical marks, where a new user
/// meets them: the first step of each guide at 80x24.
#[test]
fn notices_and_historical_steps_at_80x24() {
    let mut a = app_with(Progress::default(), "en");
    open(&mut a, "postnl");
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(s.contains("historical") || s.contains("hist."), "{s}");
    assert!(s.contains("Historical: this step is from"), "{s}");
    assert!(s.contains("cutover's note, as of late"), "{s}");
    insta::assert_snapshot!("postnl_first_step_80x24", s);
    let mut b = app_with(Progress::default(), "en");
    open(&mut b, "posti");
    insta::assert_snapshot!("posti_first_step_80x24", screen(&b, Theme::default(), 80, 24));
}

fn record(
    check: &str,
    verdict: cutover::progress::Verdict,
    message: &str,
    hint: Option<&str>,
    status: Option<u16>,
    mins_ago: i64,
) -> cutover::progress::CheckRecord {
    // From JSON, so that fields added later take their defaults.
    let at = fixed_now() - jiff::SignedDuration::from_mins(mins_ago);
    serde_json::from_value(serde_json::json!({
        "at": at.to_string(),
        "by": "alice",
        "env": "sandbox",
        "check": check,
        "verdict": verdict.as_str(),
        "message": message,
        "hint": hint,
        "duration_ms": 120,
        "request": "GET https://api-sandbox.postnl.nl/shipment/v2/status/barcode/3SDEVC000000000",
        "http_status": status,
    }))
    .unwrap()
}

/// Step 5 of PostNL (the sandbox key) with the given runs recorded.
fn step5(records: Vec<cutover::progress::CheckRecord>) -> App {
    let mut p = Progress::default();
    for r in records {
        p.apply(
            &Op::RecordCheck { guide: "postnl".into(), step: "sandbox-api-key".into(), record: Box::new(r) },
            "alice",
            fixed_now(),
        );
    }
    let mut a = app_with(p, "en");
    open(&mut a, "postnl");
    for _ in 0..4 {
        press(&mut a, 'j');
    }
    assert_eq!(a.selected_step().map(|s| s.id()), Some("sandbox-api-key"));
    a
}

fn refused() -> App {
    use cutover::progress::Verdict::*;
    step5(vec![
        record("Sandbox key configured", Pass, "a key for postnl sandbox is set (typed in): ••••7890", None, None, 2),
        record(
            "Sandbox key works (status lookup)",
            Fail,
            "PostNL refused the key (401 Invalid ApiKey).",
            Some("The key was refused: copy it again from MijnPostNL → API management."),
            Some(401),
            2,
        ),
    ])
}

/// The verdict strip of a failed, an indeterminate and a passed step, at
/// both sizes: the verdict, the hint and the keys are in view at the top.
#[test]
fn verdict_strip_of_failed_indeterminate_and_passed_steps() {
    use cutover::progress::Verdict::*;
    let failed = refused();
    let s = screen(&failed, Theme::default(), 80, 24);
    // In view without scrolling, above the guide text.
    for want in ["✗ fail", "refused the key", "Next: The key was refused", "c check again", "p type a key"] {
        assert!(s.contains(want), "{want:?} not in view:\n{s}");
    }
    assert!(s.find("Next:").unwrap() < s.find("On your Company overview").unwrap(), "{s}");
    insta::assert_snapshot!("strip_failed_80x24", s);
    insta::assert_snapshot!("strip_failed_120x40", screen(&failed, Theme::default(), 120, 40));

    let unsure = step5(vec![
        record("Sandbox key configured", Pass, "a key is set", None, None, 60 * 24 * 9),
        record(
            "Sandbox key works (status lookup)",
            Indeterminate,
            "PostNL answered 503: nothing was proven either way.",
            Some("PostNL's sandbox is down or busy: check again in a few minutes."),
            Some(503),
            60 * 24 * 9,
        ),
    ]);
    let s = screen(&unsure, Theme::default(), 80, 24);
    assert!(s.contains("? indeterminate") && s.contains("stale"), "{s}");
    assert!(!s.contains("p type a key"), "a 503 is not the key's fault:\n{s}");
    insta::assert_snapshot!("strip_indeterminate_80x24", s);
    insta::assert_snapshot!("strip_indeterminate_120x40", screen(&unsure, Theme::default(), 120, 40));

    let passed = step5(vec![
        record("Sandbox key configured", Pass, "a key is set", None, None, 1),
        record("Sandbox key works (status lookup)", Pass, "PostNL accepted the key (200).", None, Some(200), 1),
    ]);
    let s = screen(&passed, Theme::default(), 80, 24);
    assert!(s.contains("✓ pass") && s.contains("fresh") && s.contains("d mark done"), "{s}");
    insta::assert_snapshot!("strip_passed_80x24", s);
    insta::assert_snapshot!("strip_passed_120x40", screen(&passed, Theme::default(), 120, 40));
}

/// The footer follows the moment: a refused key suggests p, an observer
/// sees no editing keys, the note editor shows its own keys.
#[test]
fn footer_follows_mode_and_moment() {
    let failed = refused();
    let s = screen(&failed, Theme::default(), 80, 24);
    let footer = s.lines().last().unwrap_or("").to_string();
    assert!(footer.contains("p type a key"), "{footer}");
    assert_eq!(footer.matches(" · ").count(), 4, "five keys at 80 columns: {footer}");

    let mut obs = refused();
    obs.settings.observe = true;
    let s = screen(&obs, Theme::default(), 120, 40);
    let footer = s.lines().last().unwrap_or("").to_string();
    for editing in ["Space", " e ", "p type", "c check", "b blocked"] {
        assert!(!footer.contains(editing), "{editing:?} offered to an observer: {footer}");
    }

    let mut ed = app();
    open(&mut ed, "postnl");
    press(&mut ed, 'e');
    let s = screen(&ed, Theme::default(), 80, 24);
    assert!(s.lines().last().unwrap_or("").contains("Ctrl-S or Esc save"), "{s}");
}

/// Run all: progress while it runs, a summary line when it ends.
#[test]
fn run_all_in_progress_and_finished() {
    use cutover::app::{Action, Effect, update};
    let mut a = app();
    open(&mut a, "postnl");
    let effects = press(&mut a, 'C');
    let reqs: Vec<_> =
        effects.iter().filter_map(|e| if let Effect::StartCheck(r) = e { Some(r.clone()) } else { None }).collect();
    assert!(reqs.len() >= 2, "{effects:?}");
    let first = &reqs[0];
    update(
        &mut a,
        Action::CheckFinished {
            run_id: first.run_id,
            guide: first.guide.id().to_string(),
            step: first.step.clone(),
            records: vec![record("reachability", cutover::progress::Verdict::Pass, "reached", None, None, 0)],
        },
    );
    let s = screen(&a, Theme::default(), 80, 24);
    let want = format!("run all: 1/{} checks · 1 pass · {} running", reqs.len(), reqs.len() - 1);
    assert!(s.contains(&want), "{want:?} not in\n{s}");
    insta::assert_snapshot!("run_all_running_80x24", s);
    insta::assert_snapshot!("run_all_running_120x40", screen(&a, Theme::default(), 120, 40));
    for r in &reqs[1..] {
        update(
            &mut a,
            Action::CheckFinished {
                run_id: r.run_id,
                guide: r.guide.id().to_string(),
                step: r.step.clone(),
                records: vec![record(
                    "x",
                    cutover::progress::Verdict::Indeterminate,
                    "timeout",
                    Some("try again"),
                    None,
                    0,
                )],
            },
        );
    }
    let s = screen(&a, Theme::default(), 80, 24);
    let want = format!("run all finished: {n}/{n} checks · 1 pass · {} indeterminate", reqs.len() - 1, n = reqs.len());
    assert!(s.contains(&want), "{want:?} not in\n{s}");
    insta::assert_snapshot!("run_all_finished_80x24", s);
    insta::assert_snapshot!("run_all_finished_120x40", screen(&a, Theme::default(), 120, 40));
}

/// The help lists the keys that work where you are, grouped.
#[test]
fn help_in_each_mode() {
    let a = app();
    let mut picker = a.clone();
    press(&mut picker, '?');
    let s = screen(&picker, Theme::default(), 80, 24);
    assert!(s.contains("open the guide") && !s.contains("mark done"), "{s}");
    insta::assert_snapshot!("help_picker_80x24", s);
    insta::assert_snapshot!("help_picker_120x40", screen(&picker, Theme::default(), 120, 40));

    let mut obs = app();
    obs.settings.observe = true;
    open(&mut obs, "postnl");
    press(&mut obs, '?');
    let s = screen(&obs, Theme::default(), 120, 40);
    assert!(s.contains("observing") && !s.contains("mark done") && !s.contains("edit the step's note"), "{s}");
    insta::assert_snapshot!("help_observer_80x24", screen(&obs, Theme::default(), 80, 24));
    insta::assert_snapshot!("help_observer_120x40", s);

    let mut ck = app();
    open(&mut ck, "postnl");
    press(&mut ck, '?');
    let s = screen(&ck, Theme::default(), 120, 40);
    for group in ["Move", "Mark the step", "Check"] {
        assert!(s.contains(group), "{group} missing:\n{s}");
    }
    assert!(!s.contains("open the guide"), "Enter does nothing in the checklist, so the help does not offer it:\n{s}");
}

/// Scrolling stops at the end, pages by the pane, says what is left.
#[test]
fn detail_scrolling_is_bounded_and_says_what_is_left() {
    let mut a = refused();
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(s.contains("more lines (J/PgDn)"), "{s}");
    let view = a.detail_view.get();
    assert!(view.rows > 5 && view.total > view.rows, "{view:?}");
    press(&mut a, 'J');
    assert_eq!(a.detail_scroll, view.rows - 1, "one page less one row of context");
    for _ in 0..50 {
        press(&mut a, 'J');
    }
    assert_eq!(a.detail_scroll, view.max_scroll(), "stops at the end");
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(s.contains("end (K/PgUp)") && s.contains("Note"), "{s}");
    // Larger: the same scroll is clamped, the end stays in view.
    let s = screen(&a, Theme::default(), 120, 40);
    assert!(s.contains("(none: press e to write one)"), "{s}");
    press(&mut a, 'K');
    assert!(a.detail_scroll < a.detail_view.get().max_scroll().max(1));
}

/// The screen and where the cursor is.
fn screen_and_cursor(app: &App, w: u16, h: u16) -> (String, Vec<String>, (u16, u16)) {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, &Theme::default(), f)).unwrap();
    let pos = t.get_cursor_position().unwrap();
    let buf = t.backend().buffer().clone();
    let rows: Vec<String> = (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect()).collect();
    (rows.join("\n"), rows, (pos.x, pos.y))
}

#[test]
fn the_note_editor_wraps_long_lines_scrolls_and_keeps_cursor_title_and_keys_in_view() {
    let mut a = app_with(progressed(), "en");
    open(&mut a, "postnl");
    let words: Vec<String> = (0..60).map(|i| format!("word{i}")).collect();
    let text = format!("first line\n{} END", words.join(" "));
    a.mode = cutover::app::Mode::EditNote {
        guide: "postnl".into(),
        step: "sandbox-api-key".into(),
        editor: cutover::app::editor::Editor::new(&text),
    };
    for (w, h) in [(80, 24), (40, 10), (30, 7), (24, 5)] {
        let (s, rows, (cx, cy)) = screen_and_cursor(&a, w, h);
        // The end of the long line is on screen, not cut at the box's edge.
        assert!(s.contains("END"), "{w}x{h}:\n{s}");
        // The cursor sits right after it, inside the box.
        let row: Vec<char> = rows[cy as usize].chars().collect();
        assert_eq!(row.get(cx.saturating_sub(1) as usize), Some(&'D'), "{w}x{h} cursor at {cx},{cy}:\n{s}");
        // The save keys are always there.
        assert!(s.contains("save") && s.contains("^S") || s.contains("Ctrl-S"), "{w}x{h}:\n{s}");
        // Words are not split where a space allows the break: every
        // word on screen is whole.
        for r in &rows {
            for tok in r.split(|c: char| !c.is_alphanumeric()).filter(|t| t.starts_with("wor")) {
                assert!(tok.len() > 4 && tok[4..].chars().all(|c| c.is_ascii_digit()), "{tok:?} in:\n{s}");
            }
        }
    }
    let (s, _, _) = screen_and_cursor(&a, 80, 24);
    assert!(s.contains("Note: 5. Your API account"), "the title names the step's title:\n{s}");
    assert!(s.contains("Ctrl-S/Esc save · Ctrl-C discard"), "{s}");
    assert!(!s.contains("sandbox-api-key"), "{s}");
}

#[test]
fn wrap_editor_breaks_at_spaces_and_gives_a_full_rows_cursor_a_row_of_its_own() {
    let lines = vec!["aaaa bbbb cccc".to_string()];
    let (rows, cur) = cutover::ui::wrap_editor(&lines, (0, 14), 10);
    assert_eq!(rows, ["aaaa bbbb ", "cccc"]);
    assert_eq!(cur, (1, 4));
    let (rows, cur) = cutover::ui::wrap_editor(&["abcdefghij".to_string()], (0, 10), 10);
    assert_eq!(rows, ["abcdefghij", ""]);
    assert_eq!(cur, (1, 0));
    let (rows, cur) = cutover::ui::wrap_editor(&["x".into(), "abcdefghijkl".into()], (1, 3), 5);
    assert_eq!(rows, ["x", "abcde", "fghij", "kl"]);
    assert_eq!(cur, (1, 3));
}

#[test]
fn every_prompt_keeps_its_input_line_and_keys_at_small_sizes() {
    let mut a = app_with(progressed(), "en");
    open(&mut a, "postnl");
    use cutover::app::{CheckRequest, LineInput, Mode, Typed};
    let guide = a.guides.iter().find(|e| e.guide.id() == "postnl").map(|e| e.guide.full().clone()).expect("in");
    let req = |env: &str| CheckRequest {
        run_id: 1,
        guide: guide.clone(),
        step: "servicedesk-access".into(),
        env: env.into(),
        opts: Default::default(),
    };
    let waiting = |mut l: LineInput| {
        l.typed = Typed::plain("waiting");
        Mode::Line(l)
    };
    let modes = [
        (Mode::Line(LineInput::key("postnl".into(), "sandbox".into())), "Esc cancel"),
        (
            waiting(LineInput::block_reason(
                "postnl".into(),
                "sandbox-api-key".into(),
                &a.step_title("postnl", "sandbox-api-key"),
            )),
            "Esc cancel",
        ),
        (waiting(LineInput::confirm(req("production"))), "Esc cancel"),
        (
            waiting(LineInput::evidence(
                "Confirm this step by hand: what shows it is done?".into(),
                "Enter confirm · Esc cancel",
                req("sandbox"),
                false,
            )),
            "Esc cancel",
        ),
    ];
    for (mode, keys) in modes {
        a.mode = mode;
        for (w, h) in [(80, 24), (50, 8), (40, 6), (34, 5)] {
            let s = screen(&a, Theme::default(), w, h);
            assert!(s.contains("> "), "{w}x{h} input line:\n{s}");
            assert!(s.contains(keys), "{w}x{h} keys:\n{s}");
        }
    }
}

#[test]
fn a_rate_limit_wait_counts_down_in_the_verdict_strip() {
    use cutover::progress::Verdict::*;
    let mut a = step5(vec![
        record("Sandbox key configured", Pass, "a key for postnl sandbox is set (typed in): ••••7890", None, None, 1),
        record(
            "Sandbox key works (status lookup)",
            Indeterminate,
            "rate limit: next call possible in 70 s",
            Some("Wait 70 s: sandbox allows 10 calls a minute per key."),
            None,
            1,
        ),
    ]);
    // Ran a minute ago: 10 s of the 70 are left.
    assert_eq!(a.countdown(), Some(10));
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(s.contains("next call possible in 10 s"), "{s}");
    assert!(s.contains("Wait 10 s: sandbox allows"), "{s}");
    a.now += jiff::SignedDuration::from_secs(4);
    assert_eq!(a.countdown(), Some(6));
    assert!(screen(&a, Theme::default(), 80, 24).contains("next call possible in 6 s"));
    // Over: no countdown (the runtime goes back to its slow tick).
    a.now += jiff::SignedDuration::from_secs(30);
    assert_eq!(a.countdown(), None);
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(s.contains("the wait is over: c checks again"), "{s}");
    assert!(!s.contains("Wait 70 s") && !s.contains("possible in"), "{s}");
}

/// In ASCII the verdict is one word, not the ASCII glyph and the word
/// again ("FAIL fail").
#[test]
fn ascii_verdicts_read_as_one_word() {
    let failed = refused();
    let s = screen(&failed, Theme { color: false, ascii: true }, 80, 24);
    assert!(s.contains("FAIL | 2 min ago"), "{s}");
    assert!(!s.to_lowercase().contains("fail fail"), "{s}");
    let s = screen(&failed, Theme { color: false, ascii: true }, 120, 40);
    assert!(s.contains("  PASS Sandbox key configured [sandbox]: "), "{s}");
    assert!(s.contains("  FAIL Sandbox key works (status lookup) [sandbox]: "), "{s}");
    assert!(!s.to_lowercase().contains("fail fail") && !s.contains("ok pass"), "{s}");
}

/// The mouse finds what the screen shows under it: the same layout,
/// side by side and stacked, with the list scrolled to keep the selected
/// step in view.
#[test]
fn the_pointer_finds_the_step_drawn_under_it() {
    use cutover::ui::{Hit, hit};
    use ratatui::layout::Rect;
    let mut a = app();
    open(&mut a, "postnl");
    for _ in 0..7 {
        press(&mut a, 'j');
    }
    for (w, h) in [(100u16, 30u16), (60, 30), (60, 16)] {
        let s = screen(&a, Theme::default(), w, h);
        let area = Rect::new(0, 0, w, h);
        for (n, title) in [(8usize, "Sandbox integration"), (7, "Versioning")] {
            let Some((y, line)) = s.lines().enumerate().find(|(_, l)| l.contains(&format!("{n} ○ {title}"))) else {
                panic!("step {n} not in the list at {w}x{h}:\n{s}");
            };
            let x = line[..line.find(title).unwrap()].chars().count() as u16;
            assert_eq!(hit(&a, area, x, y as u16), Hit::List(Some(n - 1)), "step {n} at {w}x{h}:\n{s}");
        }
        // The detail pane: its title row.
        let (y, line) = s.lines().enumerate().find(|(_, l)| l.contains("Step 8 ")).unwrap();
        let x = line[..line.find("Step 8 ").unwrap()].chars().count() as u16;
        assert_eq!(hit(&a, area, x, y as u16), Hit::Detail, "{w}x{h}");
        // The header is neither.
        assert_eq!(hit(&a, area, 1, 0), Hit::Elsewhere);
    }
}

/// Run all, its steps started: the app and their requests.
fn running_all() -> (App, Vec<cutover::app::CheckRequest>) {
    let mut a = app();
    open(&mut a, "postnl");
    let reqs = press(&mut a, 'C')
        .into_iter()
        .filter_map(|e| if let cutover::app::Effect::StartCheck(r) = e { Some(r) } else { None })
        .collect();
    (a, reqs)
}

fn waiting(req: &cutover::app::CheckRequest, secs: i64) -> cutover::app::Action {
    let until = fixed_now() + jiff::SignedDuration::from_secs(secs);
    let wait = cutover::guide::BudgetWait { until, env: "sandbox".into(), per_minute: Some(15) };
    cutover::app::Action::CheckWaiting {
        run_id: req.run_id,
        guide: "postnl".into(),
        step: req.step.clone(),
        wait: Some(wait),
    }
}

fn select_step(a: &mut App, step: &str) {
    let idx = a.items().iter().position(|i| i.step.id() == step).unwrap();
    cutover::app::update(a, cutover::app::Action::Select(idx));
}

/// A check of run all that waits for the call budget: the footer's
/// progress line (the wait first, so that a narrow footer cuts the counts)
/// and the step's strip count it down with the clock, and drop it when the
/// runner says the wait is over.
#[test]
fn run_all_counts_down_a_wait_for_the_call_budget() {
    use cutover::app::input::{Code, Key};
    use cutover::app::{Action, update};
    let (mut a, reqs) = running_all();
    assert!(reqs.len() >= 2, "{reqs:?}");
    let (req, n) = (&reqs[1], reqs.len());
    select_step(&mut a, &req.step);
    let footer = |s: &str| s.lines().nth(22).unwrap_or_default().to_string();
    assert!(!screen(&a, Theme::default(), 80, 24).contains("waiting for"));

    update(&mut a, waiting(req, 23));
    let s = screen(&a, Theme::default(), 80, 24);
    assert_eq!(footer(&s), format!("run all: waiting for the rate limit · 23 s · 0/{n} checks · {n} running"));
    assert!(s.contains("│⠋ waiting for the rate limit · 23 s "), "{s}");
    assert!(s.contains("│sandbox allows 15 calls a minute "), "{s}");

    // The clock moves: both count down.
    update(&mut a, Action::Tick(fixed_now() + jiff::SignedDuration::from_secs(5)));
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(footer(&s).starts_with("run all: waiting for the rate limit · 18 s · "), "{s}");
    assert!(s.contains(" waiting for the rate limit · 18 s     "), "the strip:\n{s}");

    // A key clears the footer; the next tick says the line again.
    key(&mut a, Key::plain(Code::Down));
    key(&mut a, Key::plain(Code::Up));
    assert!(a.message.is_none(), "{:?}", a.message);
    update(&mut a, Action::Tick(fixed_now() + jiff::SignedDuration::from_secs(6)));
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(footer(&s).starts_with("run all: waiting for the rate limit · 17 s · "), "{s}");

    // A stale run's word changes nothing.
    let stale = cutover::app::CheckRequest { run_id: req.run_id + 1000, ..req.clone() };
    update(&mut a, waiting(&stale, 50));
    assert!(screen(&a, Theme::default(), 80, 24).contains("rate limit · 17 s "), "a stale run's wait was shown");

    // The wait is over: the check runs on, and the line says so.
    update(
        &mut a,
        Action::CheckWaiting { run_id: req.run_id, guide: "postnl".into(), step: req.step.clone(), wait: None },
    );
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(!s.contains("waiting for"), "{s}");
    assert_eq!(footer(&s), format!("run all: 0/{n} checks · {n} running"));
    assert!(s.contains("checking…"), "{s}");
}

/// Esc on a step whose check waits for the call budget cancels its run,
/// and the countdown goes with it.
#[test]
fn esc_cancels_a_check_that_waits_for_the_call_budget() {
    use cutover::app::input::{Code, Key};
    use cutover::app::{Action, Effect, update};
    let (mut a, reqs) = running_all();
    let req = &reqs[0];
    select_step(&mut a, &req.step);
    update(&mut a, waiting(req, 40));
    assert!(screen(&a, Theme::default(), 80, 24).contains("waiting for the rate limit · 40 s"));
    assert_eq!(key(&mut a, Key::plain(Code::Esc)), vec![Effect::CancelCheck { run_id: req.run_id }]);
    update(&mut a, Action::Tick(fixed_now() + jiff::SignedDuration::from_secs(1)));
    let s = screen(&a, Theme::default(), 80, 24);
    assert!(!s.contains("waiting for"), "{s}");
}

#[test]
fn an_observer_of_a_state_nobody_saved_yet_is_told_so_not_that_it_cannot_be_read() {
    let mut a = app();
    a.settings.observe = true;
    open(&mut a, "postnl");
    a.state_problem = Some(cutover::progress::store::NOTHING_SAVED_YET.to_string());
    let s = screen(&a, Theme::default(), 100, 30);
    assert!(s.contains("? unknown (nothing saved yet)"), "{s}");
    assert!(!s.contains("cannot be read"), "{s}");
    a.state_problem = Some("permission denied: state.toml".to_string());
    let s = screen(&a, Theme::default(), 100, 30);
    assert!(s.contains("? unknown (the state cannot be read)"), "{s}");
}
