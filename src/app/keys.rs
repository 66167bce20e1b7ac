//! Keys: in the normal mode a key is an intent (the keymap), in the other
//! modes it edits what is open (search, the note, a one-line prompt).

use super::copy::copyable;
use super::editor::Editor;
use super::effect::{Effect, ReportJob};
use super::input::{Code, Key};
use super::intent::Intent;
use super::keymap::intent_for;
use super::line::{LineInput, LinePurpose};
use super::run::{confirm_or_start, run_all, run_all_ended, run_check, start_check};
use super::search::{find_match, jump_to_match};
use super::state::{App, Mode, Screen, Tone};
use super::steps::{
    apply_local, block_with_reason, open_guide, refuse_observer, scroll_detail, select, set_status, troubleshoot,
};
use crate::check::secret::ApiKey;
use crate::progress::{Op, Status};

pub(super) fn on_key(app: &mut App, key: Key) -> Vec<Effect> {
    match app.mode.clone() {
        Mode::Normal => on_normal_key(app, key),
        Mode::Help { scroll } => {
            match key.code {
                Code::Down | Code::Char('j') | Code::PageDown => {
                    app.mode =
                        Mode::Help { scroll: scroll.saturating_add(if key.code == Code::PageDown { 10 } else { 1 }) }
                }
                Code::Up | Code::Char('k') | Code::PageUp => {
                    app.mode =
                        Mode::Help { scroll: scroll.saturating_sub(if key.code == Code::PageUp { 10 } else { 1 }) }
                }
                Code::Char('q') if !key.ctrl => app.mode = Mode::Normal,
                _ if key == Key::ctrl('c') => return quit(app),
                _ => app.mode = Mode::Normal,
            }
            vec![]
        }
        Mode::Log { scroll } => {
            match key.code {
                Code::Down | Code::Char('j') => app.mode = Mode::Log { scroll: scroll.saturating_add(1) },
                Code::PageDown => app.mode = Mode::Log { scroll: scroll.saturating_add(10) },
                Code::Up | Code::Char('k') => app.mode = Mode::Log { scroll: scroll.saturating_sub(1) },
                Code::PageUp => app.mode = Mode::Log { scroll: scroll.saturating_sub(10) },
                _ if key == Key::ctrl('c') => return quit(app),
                _ => app.mode = Mode::Normal,
            }
            vec![]
        }
        Mode::Search { mut query, from } => {
            match key.code {
                Code::Esc => {
                    app.selected = from;
                    app.mode = Mode::Normal;
                }
                Code::Enter => {
                    app.mode = Mode::Normal;
                    if !query.is_empty() && find_match(app, &query, from, true).is_none() {
                        app.say(Tone::Warning, format!("no step matches {query:?}"));
                    }
                    app.last_search = query;
                }
                Code::Backspace => {
                    query.pop();
                    jump_to_match(app, &query, from);
                    app.mode = Mode::Search { query, from };
                }
                Code::Char(c) if !key.ctrl && !key.alt => {
                    query.push(c);
                    jump_to_match(app, &query, from);
                    app.mode = Mode::Search { query, from };
                }
                _ if key == Key::ctrl('c') => return quit(app),
                _ => {}
            }
            vec![]
        }
        Mode::EditNote { guide, step, mut editor } => {
            if key == Key::ctrl('s') || key.code == Code::Esc {
                app.mode = Mode::Normal;
                if !editor.changed() {
                    return vec![];
                }
                let note = editor.text();
                if let Some(why) = app.secret_guard.refusal().map(str::to_string) {
                    // Fail closed: a note that may hold a key is not written.
                    app.mode = Mode::EditNote { guide, step, editor };
                    app.say(
                        Tone::Error,
                        format!("not saved: cutover cannot tell whether the note holds a key ({why})"),
                    );
                    return vec![];
                }
                if app.secret_guard.holds_key(&note) {
                    // Keep the editor open so nothing typed is lost.
                    app.mode = Mode::EditNote { guide, step, editor };
                    app.say(Tone::Error, "not saved: the note contains an API key; remove it first");
                    return vec![];
                }
                let base = Some(editor.base().to_string());
                let ops = vec![Op::SetNote { guide, step, note, base }];
                // Another's change to this note may already be on screen (a
                // reload landed while the editor was open): then the local
                // apply keeps both texts now, and says so now; the saved
                // state that comes back holds nothing new to say it with.
                let before = app.progress.clone();
                apply_local(app, &ops);
                match super::news::own_note_conflict(&before, &app.progress, &app.settings.user) {
                    Some(conflict) => app.say(Tone::Warning, conflict),
                    None => app.say(Tone::Success, "note saved"),
                }
                return vec![Effect::Save(ops)];
            }
            if key == Key::ctrl('c') {
                app.mode = Mode::Normal;
                app.say(Tone::Info, "note edit discarded");
                return vec![];
            }
            editor.key(&key);
            app.mode = Mode::EditNote { guide, step, editor };
            vec![]
        }
        Mode::Line(line) => on_line(app, line, key),
    }
}

/// A key in a one-line prompt: Esc (or Ctrl-C) cancels, Backspace and
/// typing edit, Enter does what the prompt is for.
fn on_line(app: &mut App, mut line: LineInput, key: Key) -> Vec<Effect> {
    match key.code {
        Code::Esc => cancel_line(app, &line, false),
        Code::Enter => {
            app.mode = Mode::Normal;
            return submit_line(app, line);
        }
        Code::Backspace => {
            line.typed.pop();
            app.mode = Mode::Line(line);
        }
        // Alt with a letter types nothing in the blocked reason (as in search).
        Code::Char(c) if !(key.ctrl || key.alt && matches!(line.purpose, LinePurpose::BlockReason { .. })) => {
            line.typed.push(c);
            app.mode = Mode::Line(line);
        }
        _ if key == Key::ctrl('c') => cancel_line(app, &line, true),
        _ => {}
    }
    vec![]
}

/// Leaves the prompt, saying what did not happen (Ctrl-C in the evidence
/// prompt and the key prompt leave quietly).
fn cancel_line(app: &mut App, line: &LineInput, ctrl_c: bool) {
    app.mode = Mode::Normal;
    let said = match &line.purpose {
        LinePurpose::Confirm { .. } => Some("cancelled: nothing was sent"),
        LinePurpose::BlockReason { .. } => Some("not marked blocked"),
        LinePurpose::Evidence { .. } if !ctrl_c => Some("cancelled: nothing ran"),
        LinePurpose::Evidence { .. } | LinePurpose::Key { .. } => None,
    };
    if let Some(s) = said {
        app.say(Tone::Info, s);
    }
}

/// Enter in a prompt.
fn submit_line(app: &mut App, line: LineInput) -> Vec<Effect> {
    let typed = line.typed.as_str().trim().to_string();
    match line.purpose {
        LinePurpose::Confirm { expected, then } => {
            if typed == expected {
                return start_check(app, *then);
            }
            app.say(Tone::Warning, format!("you typed {:?}, not {expected:?}: nothing was sent", line.typed.as_str()));
            vec![]
        }
        LinePurpose::BlockReason { guide, step } => block_with_reason(app, guide, step, &typed),
        LinePurpose::Evidence { then, confirm_writes } => {
            let mut req = *then;
            if !typed.is_empty() {
                req.opts.evidence = Some(typed);
            }
            confirm_or_start(app, req, confirm_writes)
        }
        LinePurpose::Key { guide, env } => {
            if typed.is_empty() {
                app.say(Tone::Warning, "no key typed");
                return vec![];
            }
            let key = ApiKey::new(typed);
            app.say(Tone::Success, format!("key {} kept in memory for {guide} {env} (never saved)", key.masked()));
            vec![Effect::RememberKey { guide, env, key }]
        }
    }
}

/// Quits: cancels the running checks (the runtime lets queued saves finish).
fn quit(app: &mut App) -> Vec<Effect> {
    let effects: Vec<Effect> = app.running.values().map(|r| Effect::CancelCheck { run_id: r.run_id }).collect();
    app.quit = true;
    effects
}

fn on_normal_key(app: &mut App, key: Key) -> Vec<Effect> {
    let Some(intent) = intent_for(&key) else {
        return vec![];
    };
    app.message = None;
    if app.screen == Screen::Picker {
        return on_picker(app, intent);
    }
    let n = app.items().len();
    match intent {
        Intent::Up => {
            super::peers::moved_by_hand(app);
            select(app, app.selected.saturating_sub(1))
        }
        Intent::Down => {
            super::peers::moved_by_hand(app);
            select(app, (app.selected + 1).min(n.saturating_sub(1)))
        }
        Intent::Top => {
            super::peers::moved_by_hand(app);
            select(app, 0)
        }
        Intent::Bottom => {
            super::peers::moved_by_hand(app);
            select(app, n.saturating_sub(1))
        }
        Intent::Follow => super::peers::follow_next(app),
        Intent::PageUp | Intent::ScrollDetailUp => scroll_detail(app, false),
        Intent::PageDown | Intent::ScrollDetailDown => scroll_detail(app, true),
        Intent::Open => {}
        Intent::Back => {
            // Esc first cancels a check running on this step.
            let key = (app.guide_id().to_string(), app.selected_step().map(|s| s.id().to_string()).unwrap_or_default());
            if let Some(r) = app.running.remove(&key) {
                run_all_ended(app, &key.0, &key.1, None);
                app.say(Tone::Info, "check cancelled");
                return vec![Effect::CancelCheck { run_id: r.run_id }];
            }
            app.screen = Screen::Picker;
            app.picker = app.current;
        }
        Intent::ToggleDone => {
            let Some(step) = app.selected_step() else {
                return vec![];
            };
            let next = if app.status(app.guide_id(), step.id()) == Status::Done { Status::Todo } else { Status::Done };
            return set_status(app, next);
        }
        Intent::SetTodo => return set_status(app, Status::Todo),
        Intent::SetInProgress => return set_status(app, Status::InProgress),
        Intent::SetDone => return set_status(app, Status::Done),
        Intent::SetBlocked => {
            if refuse_observer(app) {
                return vec![];
            }
            let Some(step) = app.selected_step() else {
                return vec![];
            };
            let (guide, step) = (app.guide_id().to_string(), step.id().to_string());
            let title = app.step_title(&guide, &step);
            app.mode = Mode::Line(LineInput::block_reason(guide, step, &title));
        }
        Intent::SetSkipped => return set_status(app, Status::Skipped),
        Intent::EditNote => {
            if refuse_observer(app) {
                return vec![];
            }
            let Some(step) = app.selected_step() else {
                return vec![];
            };
            let note = app.progress.step(app.guide_id(), step.id()).map(|r| r.note.clone()).unwrap_or_default();
            app.mode = Mode::EditNote {
                guide: app.guide_id().to_string(),
                step: step.id().to_string(),
                editor: Editor::new(&note),
            };
        }
        Intent::Search => app.mode = Mode::Search { query: String::new(), from: app.selected },
        Intent::NextMatch => {
            let q = app.last_search.clone();
            if q.is_empty() {
                app.say(Tone::Info, "no search yet: press / to search");
            } else if let Some(i) = find_match(app, &q, app.selected + 1, true) {
                select(app, i);
            } else {
                app.say(Tone::Warning, format!("no step matches {q:?}"));
            }
        }
        Intent::SwitchLanguage => {
            let Some(g) = app.guide() else { return vec![] };
            let langs = g.languages.clone();
            let id = g.id().to_string();
            let cur = app.lang.get(&id).cloned().unwrap_or_default();
            let pos = langs.iter().position(|l| *l == cur).unwrap_or(0);
            if let Some(next) = langs.get((pos + 1) % langs.len().max(1)) {
                app.lang.insert(id, next.clone());
                app.say(Tone::Info, format!("language: {next}"));
            }
        }
        Intent::Troubleshoot => return troubleshoot(app),
        Intent::JumpBack => match app.came_from.take() {
            Some((g, origin)) if g == app.guide_id() => {
                select(app, origin);
                let title = app.selected_step().map(|s| app.step_title(&g, s.id())).unwrap_or_default();
                app.say(Tone::Info, format!("back to {title}"));
            }
            _ => {
                app.say(Tone::Info, "nothing to go back to: t jumps to a step's troubleshooting, Backspace comes back")
            }
        },
        Intent::RunCheck => return run_check(app),
        Intent::RunAllChecks => return run_all(app),
        Intent::SwitchEnv => {
            let Some(g) = app.guide() else { return vec![] };
            let envs: Vec<String> = g.environments.keys().cloned().collect();
            let id = g.id().to_string();
            if envs.len() < 2 {
                app.say(Tone::Info, "this guide has one environment");
                return vec![];
            }
            let cur = app.env.get(&id).cloned().unwrap_or_default();
            let pos = envs.iter().position(|e| *e == cur).unwrap_or(0);
            let next = envs[(pos + 1) % envs.len()].clone();
            app.say(Tone::Warning, format!("environment: {next}"));
            app.env.insert(id, next);
        }
        Intent::EnterKey => {
            if refuse_observer(app) {
                return vec![];
            }
            if !app.settings.rights.type_keys {
                app.say(Tone::Warning, "only the host can type a key: keys never leave the host");
                return vec![];
            }
            let Some(env) = app.env_of(app.guide_id()).map(str::to_string) else {
                app.say(Tone::Info, "this guide has no environments, so no key");
                return vec![];
            };
            app.mode = Mode::Line(LineInput::key(app.guide_id().to_string(), env));
        }
        Intent::Acknowledge => {
            if refuse_observer(app) {
                return vec![];
            }
            let Some(step) = app.selected_step() else {
                return vec![];
            };
            let (gid, sid) = (app.guide_id().to_string(), step.id().to_string());
            if !app.drifted(&gid, &sid) {
                app.say(Tone::Info, "this step has not changed since it was ticked");
                return vec![];
            }
            let hash = app.entry().and_then(|e| e.hashes.get(&sid)).cloned().unwrap_or_default();
            let ops = vec![Op::Acknowledge { guide: gid, step: sid, hash }];
            apply_local(app, &ops);
            return vec![Effect::Save(ops)];
        }
        Intent::Help => app.mode = Mode::Help { scroll: 0 },
        Intent::Log => {
            app.mode = Mode::Log { scroll: 0 };
            return vec![Effect::LoadHistory { guide: app.guide_id().to_string() }];
        }
        Intent::Report => {
            // Observers may write reports too: it changes nothing shared.
            let Some(entry) = app.entry() else { return vec![] };
            let guide = entry.guide.full().clone();
            let lang = app.lang.get(guide.id()).cloned().unwrap_or_else(|| "en".into());
            let job = ReportJob {
                guide,
                lang,
                progress: app.progress.clone(),
                by: app.settings.user.clone(),
                observe: app.settings.observe,
            };
            app.say(Tone::Info, "writing the report…");
            return vec![Effect::WriteReport(job)];
        }
        Intent::Copy => {
            let choices = copyable(app);
            if choices.is_empty() {
                app.say(Tone::Info, "nothing to copy in this step");
                return vec![];
            }
            let n = app.copy_cursor % choices.len();
            app.copy_cursor = n + 1;
            let (what, text) = choices[n].clone();
            let more = if choices.len() > 1 {
                format!(" ({}/{}; y again: next)", n + 1, choices.len())
            } else {
                String::new()
            };
            app.say(Tone::Success, format!("copied {what}: {text}{more}"));
            return vec![Effect::Clipboard(text)];
        }
        Intent::Quit => return quit(app),
    }
    vec![]
}

fn on_picker(app: &mut App, intent: Intent) -> Vec<Effect> {
    let n = app.guides.len();
    match intent {
        Intent::Up => app.picker = app.picker.saturating_sub(1),
        Intent::Down => app.picker = (app.picker + 1).min(n.saturating_sub(1)),
        Intent::Top => app.picker = 0,
        Intent::Bottom => app.picker = n.saturating_sub(1),
        Intent::Open | Intent::ToggleDone if app.picker < n => {
            open_guide(app, app.picker);
        }
        Intent::Help => app.mode = Mode::Help { scroll: 0 },
        Intent::Quit | Intent::Back => return quit(app),
        _ => {}
    }
    vec![]
}
