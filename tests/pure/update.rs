//! The app's state machine: actions in, state and effects out. No terminal.

use crate::common;
use common::*;
use cutover::app::input::{Code, Key};
use cutover::app::{Action, Effect, Mode, Screen, update};
use cutover::progress::{Op, Progress, Status};

#[test]
fn opening_a_guide_lands_on_its_first_open_step() {
    let mut p = Progress::default();
    p.apply(
        &Op::SetStatus { guide: "postnl".into(), step: "servicedesk-access".into(), status: Status::Done, hash: None },
        "bob",
        fixed_now(),
    );
    let mut a = app_with(p, "en");
    assert_eq!(a.screen, Screen::Picker);
    open(&mut a, "postnl");
    assert_eq!(a.screen, Screen::Checklist);
    assert_eq!(a.guide_id(), "postnl");
    assert_eq!(a.selected_step().map(|s| s.id()), Some("account-verification"));
}

#[test]
fn space_marks_done_and_asks_to_save_that_op() {
    let mut a = app();
    open(&mut a, "postnl");
    let effects = press(&mut a, ' ');
    let [Effect::Save(ops)] = effects.as_slice() else { panic!("expected one Apply, got {effects:?}") };
    match ops.as_slice() {
        [Op::SetStatus { guide, step, status, hash }] => {
            assert_eq!((guide.as_str(), step.as_str(), *status), ("postnl", "servicedesk-access", Status::Done));
            assert!(hash.is_some(), "the step's content hash is recorded when ticked");
        }
        other => panic!("unexpected ops {other:?}"),
    }
    // Shown at once, before the store answers.
    assert_eq!(a.status("postnl", "servicedesk-access"), Status::Done);
    press(&mut a, ' ');
    assert_eq!(a.status("postnl", "servicedesk-access"), Status::Todo);
}

#[test]
fn status_keys_set_each_status() {
    let mut a = app();
    open(&mut a, "posti");
    for (c, st) in [
        ('i', Status::InProgress),
        ('b', Status::Blocked),
        ('s', Status::Skipped),
        ('d', Status::Done),
        ('u', Status::Todo),
    ] {
        press(&mut a, c);
        if c == 'b' {
            enter(&mut a); // the reason may be left empty
        }
        assert_eq!(a.status("posti", "open-omaposti-pro"), st, "key {c}");
    }
}

#[test]
fn movement_is_bounded_and_vim_keys_work() {
    let mut a = app();
    open(&mut a, "postnl");
    press(&mut a, 'k');
    assert_eq!(a.selected, 0);
    press(&mut a, 'j');
    key(&mut a, Key::plain(Code::Down));
    assert_eq!(a.selected, 2);
    press(&mut a, 'G');
    assert_eq!(a.selected, a.items().len() - 1);
    press(&mut a, 'g');
    assert_eq!(a.selected, 0);
}

#[test]
fn typing_a_note_fires_no_commands_and_saves_on_ctrl_s() {
    let mut a = app();
    open(&mut a, "postnl");
    press(&mut a, 'e');
    assert!(matches!(a.mode, Mode::EditNote { .. }));
    // Every letter here is also a command in normal mode.
    for c in "quit dbs jk ticket 4711".chars() {
        assert!(press(&mut a, c).is_empty(), "{c} fired an effect while typing");
    }
    key(&mut a, Key::plain(Code::Enter));
    press(&mut a, 'x');
    assert!(!a.quit);
    assert_eq!(a.status("postnl", "servicedesk-access"), Status::Todo);
    let effects = key(&mut a, Key::ctrl('s'));
    assert!(matches!(a.mode, Mode::Normal));
    let [Effect::Save(ops)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(
        ops,
        &vec![Op::SetNote {
            guide: "postnl".into(),
            step: "servicedesk-access".into(),
            note: "quit dbs jk ticket 4711\nx".into(),
            base: Some(String::new()),
        }]
    );
}

#[test]
fn ctrl_c_discards_a_note_draft() {
    let mut a = app();
    open(&mut a, "postnl");
    press(&mut a, 'e');
    press(&mut a, 'z');
    let effects = key(&mut a, Key::ctrl('c'));
    assert!(effects.is_empty());
    assert!(!a.quit, "Ctrl-C in the editor discards the draft, it does not quit");
    assert_eq!(a.progress.step("postnl", "servicedesk-access").map(|r| r.note.clone()).unwrap_or_default(), "");
}

#[test]
fn shutdown_saves_an_open_note_draft() {
    let mut a = app();
    open(&mut a, "postnl");
    press(&mut a, 'e');
    for c in "half-written".chars() {
        press(&mut a, c);
    }
    let effects = update(&mut a, Action::Shutdown);
    assert!(a.quit);
    assert!(effects.iter().any(|e| matches!(e, Effect::Save(ops) if ops.iter().any(|o| matches!(o, Op::SetNote { note, .. } if note == "half-written")))));
    assert!(!effects.iter().any(|e| matches!(e, Effect::StartCheck(_))), "{effects:?}");
}

#[test]
fn search_jumps_to_a_matching_step_and_esc_returns() {
    let mut a = app();
    open(&mut a, "postnl");
    press(&mut a, '/');
    for c in "production".chars() {
        press(&mut a, c);
    }
    let found = a.selected_step().map(|s| s.id().to_string()).unwrap_or_default();
    assert!(found.starts_with("production") || found == "go-live", "search landed on {found}");
    key(&mut a, Key::plain(Code::Esc));
    assert_eq!(a.selected, 0);
    press(&mut a, '/');
    for c in "sandbox".chars() {
        press(&mut a, c);
    }
    enter(&mut a);
    let first = a.selected;
    press(&mut a, 'n');
    assert_ne!(a.selected, first, "n finds the next match");
}

#[test]
fn language_switches_between_the_guide_languages() {
    let mut a = app_with(Progress::default(), "nl");
    open(&mut a, "postnl");
    assert_eq!(a.lang.get("postnl").map(String::as_str), Some("nl"));
    press(&mut a, 'L');
    assert_eq!(a.lang.get("postnl").map(String::as_str), Some("en"));
    press(&mut a, 'L');
    assert_eq!(a.lang.get("postnl").map(String::as_str), Some("nl"));
}

#[test]
fn default_language_is_the_guides_first_when_the_locale_has_none() {
    let a = app_with(Progress::default(), "de");
    assert_eq!(a.lang.get("postnl").map(String::as_str), Some("nl"));
    assert_eq!(a.lang.get("posti").map(String::as_str), Some("en"));
}

#[test]
fn observer_cannot_change_anything() {
    let mut a = app();
    a.settings.observe = true;
    open(&mut a, "postnl");
    for c in [' ', 'd', 'i', 'b', 's', 'u', 'e', 'c', 'C', 'p', 'a'] {
        let effects = press(&mut a, c);
        assert!(effects.is_empty(), "{c} produced {effects:?} for an observer");
        assert!(matches!(a.mode, Mode::Normal), "{c} opened a prompt for an observer");
    }
    assert!(a.message.as_ref().is_some_and(|m| m.text.contains("read-only")));
    assert_eq!(a.status("postnl", "servicedesk-access"), Status::Todo);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut a = app();
    press(&mut a, '?');
    assert!(matches!(a.mode, Mode::Help { .. }));
    press(&mut a, 'x');
    assert!(matches!(a.mode, Mode::Normal));
}

#[test]
fn q_quits_from_picker_and_checklist() {
    let mut a = app();
    assert_eq!(press(&mut a, 'q'), vec![]);
    assert!(a.quit);
    let mut b = app();
    open(&mut b, "posti");
    assert!(press(&mut b, 'q').is_empty());
    assert!(b.quit);
}

#[test]
fn a_state_from_another_instance_replaces_ours_and_says_who() {
    let mut a = app();
    open(&mut a, "postnl");
    let mut p = Progress::default();
    p.apply(
        &Op::SetStatus { guide: "postnl".into(), step: "versioning".into(), status: Status::Blocked, hash: None },
        "bob",
        fixed_now(),
    );
    update(&mut a, Action::StateLoaded { progress: p, external: true });
    assert_eq!(a.status("postnl", "versioning"), Status::Blocked);
    assert_eq!(a.selected, 0, "the cursor stays where it was");
    let msg = a.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
    assert_eq!(msg, "bob: 7. Versioning → blocked", "the footer names the step by its title");
}

#[test]
fn troubleshooting_items_do_not_count_in_progress() {
    let mut a = app();
    open(&mut a, "posti");
    let g = a.guide().unwrap().clone();
    let (_, total) = a.counts(&g);
    assert_eq!(total, 8);
    assert!(a.items().len() > 8, "troubleshooting items are listed too");
}

#[test]
fn y_copies_the_steps_items_in_turn_through_osc52() {
    let mut a = app();
    open(&mut a, "postnl");
    let first = press(&mut a, 'y');
    let [Effect::Clipboard(text)] = first.as_slice() else { panic!("{first:?}") };
    assert!(!text.is_empty());
    let seq = cutover::runtime::osc52(text);
    assert!(seq.starts_with("\x1b]52;c;") && seq.ends_with('\x07'));
    let payload = &seq[7..seq.len() - 1];
    assert!(
        payload.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='),
        "payload cannot end the sequence early"
    );
    assert_eq!(cutover::runtime::osc52("hi\x07\x1b"), "\x1b]52;c;aGkHGw==\x07");
}

#[test]
fn a_note_holding_a_configured_key_is_refused_and_the_draft_kept() {
    let mut a = app();
    a.secret_guard = cutover::app::SecretGuard::new(std::sync::Arc::new(|t: &str| t.contains("sk-live-123456")));
    open(&mut a, "postnl");
    press(&mut a, 'e');
    for c in "key is sk-live-123456".chars() {
        press(&mut a, c);
    }
    let effects = key(&mut a, Key::ctrl('s'));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(a.mode, Mode::EditNote { .. }), "the editor stays open");
    assert!(a.message.as_ref().is_some_and(|m| m.text.contains("API key") && !m.text.contains("sk-live")));
    assert_eq!(a.progress.step("postnl", "servicedesk-access").map(|r| r.note.clone()).unwrap_or_default(), "");
}

#[test]
fn b_asks_for_the_reason_and_keeps_it_as_the_note() {
    let mut a = app();
    open(&mut a, "postnl");
    assert!(press(&mut a, 'b').is_empty(), "nothing is saved before the reason");
    assert!(matches!(&a.mode, Mode::Line(l) if matches!(l.purpose, cutover::app::LinePurpose::BlockReason { .. })));
    for c in "waiting for the servicedesk".chars() {
        assert!(press(&mut a, c).is_empty());
    }
    let effects = enter(&mut a);
    let [Effect::Save(ops)] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(a.status("postnl", "servicedesk-access"), Status::Blocked);
    let note = a.progress.step("postnl", "servicedesk-access").map(|r| r.note.clone()).unwrap_or_default();
    assert_eq!(note, "Blocked: waiting for the servicedesk");
    let msg = a.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
    assert!(msg.starts_with("1. "), "messages name the step by number and title: {msg}");
    // Esc: not blocked.
    press(&mut a, 'j');
    press(&mut a, 'b');
    key(&mut a, Key::plain(Code::Esc));
    assert_eq!(a.status("postnl", "account-verification"), Status::Todo);
}

#[test]
fn a_cancelled_check_counts_in_the_run_all_summary() {
    let mut a = app();
    open(&mut a, "postnl");
    let effects = press(&mut a, 'C');
    let n = effects.iter().filter(|e| matches!(e, Effect::StartCheck(_))).count();
    let ra = a.run_all.clone().unwrap();
    assert_eq!(ra.steps.len(), n);
    let idx = a.items().iter().position(|i| i.step.id() == ra.steps[0]).unwrap();
    while a.selected < idx {
        press(&mut a, 'j');
    }
    press(&mut a, 'c');
    let summary = a.run_all.as_ref().unwrap().summary();
    assert!(summary.contains("1 cancelled") && summary.starts_with(&format!("1/{n} checks")), "{summary}");
}

#[test]
fn t_cycles_every_troubleshooting_item_and_backspace_or_ctrl_o_goes_back() {
    let mut a = app();
    open(&mut a, "posti");
    let step3 = a.items().iter().position(|i| i.step.id() == "integrations-page").unwrap();
    while a.selected < step3 {
        press(&mut a, 'j');
    }
    let selected_id = |a: &cutover::app::App| a.selected_step().unwrap().id().to_string();
    let mut seen = Vec::new();
    for _ in 0..5 {
        press(&mut a, 't');
        seen.push(selected_id(&a));
    }
    assert_eq!(
        seen,
        [
            "check-user-rights",
            "check-contract-numbers",
            "grant-manage-integrations",
            "assign-contract-numbers",
            "check-user-rights"
        ]
    );
    let msg = a.message.as_ref().map(|m| m.text.clone()).unwrap_or_default();
    assert!(msg.contains("troubleshooting 1 of 4") && msg.contains("Backspace back"), "{msg}");
    key(&mut a, Key::plain(Code::Backspace));
    assert_eq!(a.selected, step3, "Backspace goes back to the step t came from");
    // Ctrl-O does the same; with nowhere to go back to it says so.
    press(&mut a, 't');
    press(&mut a, 't');
    key(&mut a, Key::ctrl('o'));
    assert_eq!(a.selected, step3);
    key(&mut a, Key::ctrl('o'));
    assert_eq!(a.selected, step3);
    assert!(a.message.as_ref().unwrap().text.contains("nothing to go back to"));
    // Moved away from the items, t starts from the step under the cursor.
    let current_keys = a.items().iter().position(|i| i.step.id() == "current-api-keys").unwrap();
    press(&mut a, 't');
    while a.selected > current_keys {
        press(&mut a, 'k');
    }
    press(&mut a, 't');
    assert_eq!(selected_id(&a), "grant-manage-integrations");
    assert_eq!(a.came_from.as_ref().map(|(_, o)| *o), Some(current_keys));
}

// ---- cutover serve: peers, following, what a remote editor may not do ----

mod peers {
    use super::common::*;
    use cutover::app::peers::{PeerRun, View};
    use cutover::app::{Action, Effect, Peer, Rights, update};

    fn run(guide: &str, step: &str, title: &str, waiting_until: Option<jiff::Timestamp>) -> PeerRun {
        let waiting = waiting_until.map(|until| cutover::guide::BudgetWait {
            until,
            env: "sandbox".into(),
            per_minute: Some(15),
        });
        PeerRun { guide: guide.into(), step: step.into(), title: title.into(), since: fixed_now(), waiting }
    }

    fn peer(id: u64, name: &str, role: &str, step: Option<(&str, usize)>) -> Peer {
        Peer {
            id,
            name: name.into(),
            role: role.into(),
            view: View {
                guide: step.map(|_| "postnl".to_string()),
                step: step.map(|(s, n)| (s.to_string(), n)),
                running: vec![],
            },
        }
    }

    #[test]
    fn another_sessions_change_counts_for_a_redraw_only_where_it_shows() {
        let mut app = app();
        open(&mut app, "postnl");
        let sig = |app: &cutover::app::App, width| cutover::ui::others_signature(app, width);
        update(
            &mut app,
            Action::Peers(vec![peer(2, "jan", "editor", Some(("versioning", 7))), peer(3, "piet", "observer", None)]),
        );
        let (narrow, wide) = (sig(&app, 100), sig(&app, 200));
        // jan moves: at 100 columns the header says only "+2 here".
        update(
            &mut app,
            Action::Peers(vec![peer(2, "jan", "editor", Some(("production", 10))), peer(3, "piet", "observer", None)]),
        );
        assert_eq!(cutover::ui::others_shown(&app, 100).0.as_deref(), Some("+2 here "));
        assert_eq!(sig(&app, 100), narrow, "nothing on a 100-column screen changed");
        // At 200 columns the header names where each one is.
        assert!(cutover::ui::others_shown(&app, 200).0.unwrap_or_default().contains("jan (editor) · step 10"));
        assert_ne!(sig(&app, 200), wide, "a 200-column header shows jan's move");
        // Someone leaves: the count changes at any width.
        let before = sig(&app, 100);
        update(&mut app, Action::Peers(vec![peer(2, "jan", "editor", Some(("production", 10)))]));
        assert_ne!(sig(&app, 100), before);
        // jan runs a check: shown (with a spinner) on that step only.
        let shown = app.selected_step().map(|s| s.id().to_string()).unwrap_or_default();
        let running = |step: &str| {
            let mut p = peer(2, "jan", "editor", Some(("production", 10)));
            p.view.running = vec![run("postnl", step, "Sandbox key works", None)];
            p
        };
        let before = sig(&app, 100);
        update(&mut app, Action::Peers(vec![running("production")]));
        assert_ne!(shown, "production");
        assert_eq!(sig(&app, 100), before, "a check on another step does not show here");
        update(&mut app, Action::Peers(vec![running(&shown)]));
        assert_ne!(sig(&app, 100), before, "a check on the step shown does");
        // Following jan, every move of his moves this screen.
        update(&mut app, Action::Peers(vec![peer(2, "jan", "editor", Some(("production", 10)))]));
        press(&mut app, 'f');
        let before = sig(&app, 100);
        update(&mut app, Action::Peers(vec![peer(2, "jan", "editor", Some(("versioning", 7)))]));
        assert_ne!(sig(&app, 100), before);
    }

    #[test]
    fn f_follows_the_host_first_then_the_next_then_nobody() {
        let mut app = app();
        open(&mut app, "postnl");
        update(
            &mut app,
            Action::Peers(vec![
                peer(2, "jan", "editor", Some(("versioning", 7))),
                peer(1, "alice", "host", Some(("sandbox-api-key", 5))),
            ]),
        );
        press(&mut app, 'f');
        assert_eq!(app.following, Some(1));
        assert_eq!(app.selected, 4, "the cursor went to the host's step 5");
        press(&mut app, 'f');
        assert_eq!(app.following, Some(2));
        assert_eq!(app.selected, 6);
        press(&mut app, 'f');
        assert_eq!(app.following, None);
    }

    #[test]
    fn a_follower_goes_along_until_it_moves_or_the_leader_leaves() {
        let mut app = app();
        open(&mut app, "postnl");
        update(&mut app, Action::Peers(vec![peer(1, "alice", "host", Some(("sandbox-api-key", 5)))]));
        press(&mut app, 'f');
        update(&mut app, Action::Peers(vec![peer(1, "alice", "host", Some(("go-live", 10)))]));
        assert_eq!(app.selected, 9);
        press(&mut app, 'k');
        assert_eq!(app.following, None);
        assert!(app.message.as_ref().is_some_and(|m| m.text.contains("stopped following alice")));
        update(&mut app, Action::Peers(vec![peer(1, "alice", "host", Some(("servicedesk-access", 1)))]));
        assert_eq!(app.selected, 8, "no longer following");

        press(&mut app, 'f');
        update(&mut app, Action::Peers(vec![]));
        assert_eq!(app.following, None);
        assert!(app.message.as_ref().is_some_and(|m| m.text.contains("has left")));
    }

    #[test]
    fn a_remote_editor_asks_the_host_for_production_and_types_no_key() {
        let mut app = app();
        app.settings.rights = Rights { type_keys: false, production: false, commands: false, writes: false };
        open(&mut app, "postnl");
        press(&mut app, 'p');
        assert!(!matches!(app.mode, cutover::app::Mode::Line(_)));
        assert!(app.message.as_ref().is_some_and(|m| m.text.contains("only the host can type a key")));
        press(&mut app, 'G');
        let effects = press(&mut app, 'c');
        assert!(
            matches!(effects.as_slice(), [Effect::AskHost(t)] if t.contains("alice asks the host to run") && t.contains("production")),
            "{effects:?}"
        );
        assert!(app.running.is_empty());
        // Run all leaves the production steps out, and runs the rest.
        let effects = press(&mut app, 'C');
        assert!(!effects.is_empty());
        for e in &effects {
            if let Effect::StartCheck(req) = e {
                assert_ne!(req.env, "production", "{req:?}");
            }
        }
    }

    #[test]
    fn peers_show_where_they_are_and_what_they_run() {
        let mut app = app();
        open(&mut app, "postnl");
        let mut jan = peer(2, "jan", "observer", Some(("sandbox-api-key", 5)));
        assert_eq!(jan.summary(), "jan (observer) · step 5");
        jan.view.running = vec![run("postnl", "sandbox-api-key", "Your API account", None)];
        update(&mut app, Action::Peers(vec![jan.clone()]));
        app.now = fixed_now() + jiff::SignedDuration::from_secs(3);
        let lines = cutover::app::peers::running_here(&app, "postnl", "sandbox-api-key");
        assert_eq!(lines, vec!["jan is running Your API account… 3 s".to_string()]);
        assert!(cutover::app::peers::running_here(&app, "postnl", "versioning").is_empty());
        // Its run all waits for the call budget: said, counting down, then
        // back to the time it has run.
        let until = fixed_now() + jiff::SignedDuration::from_secs(26);
        jan.view.running = vec![run("postnl", "sandbox-api-key", "Your API account", Some(until))];
        update(&mut app, Action::Peers(vec![jan]));
        let lines = cutover::app::peers::running_here(&app, "postnl", "sandbox-api-key");
        assert_eq!(lines, vec!["jan is running Your API account… waiting for the rate limit · 23 s".to_string()]);
        app.now = until;
        let lines = cutover::app::peers::running_here(&app, "postnl", "sandbox-api-key");
        assert_eq!(lines, vec!["jan is running Your API account… 26 s".to_string()]);
    }
}
