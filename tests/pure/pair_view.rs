//! What one person sees of the others in a pair session: the footer's news
//! (also a repeated change), presence at 80x24, an observer's view of a
//! state it cannot show.

use crate::common;
use common::*;
use cutover::app::{Action, App, describe_new_events, update};
use cutover::progress::{Op, Progress, Status};
use cutover::ui::{Theme, render};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, &Theme { color: false, ascii: false }, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + s).unwrap()
}

fn done(step: &str) -> Op {
    Op::SetStatus { guide: "postnl".into(), step: step.into(), status: Status::Done, hash: None }
}

#[test]
fn a_repeated_change_by_someone_else_is_announced() {
    let mut old = Progress::default();
    old.apply(&done("servicedesk-access"), "bob", at(0));
    let mut new = old.clone();
    // The same change again, later: news all the same.
    new.apply(&done("servicedesk-access"), "bob", at(60));
    let said = describe_new_events(&old, &new, "alice", &|_, s| format!("step {s}")).expect("the repeat is announced");
    assert!(said.contains("bob") && said.contains("step servicedesk-access"), "{said}");
    // Nothing new: nothing said. Our own change: not news.
    assert_eq!(describe_new_events(&new, &new, "alice", &|_, s| s.to_string()), None);
    let mut mine = new.clone();
    mine.apply(&done("servicedesk-access"), "alice", at(61));
    assert_eq!(describe_new_events(&new, &mine, "alice", &|_, s| s.to_string()), None);
    // Several at once: the latest, and how many more (one change, two changes).
    let title = |_: &str, s: &str| s.to_string();
    let mut two = new.clone();
    two.apply(&done("a"), "bob", at(70));
    assert_eq!(describe_new_events(&old, &two, "alice", &title).as_deref(), Some("bob: a → done (+1 more change)"));
    two.apply(&done("b"), "bob", at(80));
    assert_eq!(describe_new_events(&old, &two, "alice", &title).as_deref(), Some("bob: b → done (+2 more changes)"));

    // Through the app: the footer says it.
    let mut app = app_with(old, "en");
    open(&mut app, "postnl");
    update(&mut app, Action::StateLoaded { progress: new, external: true });
    let text = app.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
    assert!(text.contains("bob: 1. Account details → done"), "the footer names the step by its title: {text:?}");
}

#[test]
fn presence_fits_80_columns() {
    let mut app = app();
    open(&mut app, "postnl");
    update(&mut app, Action::PresenceChanged(vec!["bob".into(), "support-jan (observer)".into()]));
    let s = screen(&app, 80, 24);
    let top = s.lines().next().unwrap_or_default().to_string();
    assert!(top.contains("+2: bob, support-jan (observer)"), "{top}");
    assert!(top.contains("SANDBOX"), "the environment banner was pushed off: {top}");
    // Too many names for the room: the compact form.
    let many: Vec<String> = (0..6).map(|i| format!("engineer-number-{i}")).collect();
    update(&mut app, Action::PresenceChanged(many));
    let top = screen(&app, 80, 24).lines().next().unwrap_or_default().to_string();
    assert!(top.contains("+6 here"), "{top}");
    assert!(top.contains("SANDBOX"), "{top}");
}

#[test]
fn an_observer_without_read_access_says_so_instead_of_a_todo_list() {
    let mut app = app();
    app.settings.observe = true;
    open(&mut app, "postnl");
    let problem = "cannot read the state: /srv/cutover/acme.toml: permission denied: cutover runs as jan (groups: jan); the file /srv/cutover/acme.toml is owned by alice, group cutover, mode 0660. Fix: add jan to group cutover";
    update(&mut app, Action::StateProblem(Some(problem.into())));
    let s = screen(&app, 80, 24);
    assert!(s.contains("cannot read the state"), "{s}");
    assert!(!s.contains("0/10 steps done"), "an unreadable state shown as progress:\n{s}");
    // No row claims a status the observer cannot know.
    assert!(
        !s.contains("Status: ○") && s.contains("Status: ? unknown") && s.contains(" 5 ? Your API account"),
        "steps shown as todo:\n{s}"
    );
    update(&mut app, Action::NotAnnounced(Some("no presence folder".into())));
    assert!(screen(&app, 80, 24).contains("not announced"));
    // Readable again: the progress is back.
    update(&mut app, Action::StateProblem(None));
    assert!(screen(&app, 80, 24).contains("0/10 steps done"));
}
