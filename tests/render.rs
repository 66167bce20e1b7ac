//! What the screen shows, recorded: the picker, the checklist and the help at
//! 80x24 and 120x40, with a fixed clock, a fixed user and a pinned language.

mod common;
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
