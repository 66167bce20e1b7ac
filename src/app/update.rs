//! Actions in, state changed, effects out.

use super::copy::copyable;
use super::editor::Editor;
use super::input::{Code, Key};
use super::keymap::{Intent, intent_for};
use super::run::{confirm_or_start, run_all, run_check, start_effect};
use super::search::{find_match, jump_to_match};
use super::state::{App, Mode, Screen, Tone};
use crate::check::secret::ApiKey;
use crate::progress::{CheckRecord, Op, Progress, Status, Verdict};
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Key(Key),
    Paste(String),
    /// The mouse wheel over the detail pane (`--mouse`): scroll it by
    /// this many rows (up if negative), never past its end.
    ScrollDetail(i16),
    /// A click on a step of the list (`--mouse`): its index in `items()`.
    Select(usize),
    /// The clock moved (only sent while something time-dependent shows).
    Tick(Timestamp),
    /// The state as saved by us (`external: false`) or as changed by another instance.
    StateLoaded {
        progress: Progress,
        external: bool,
    },
    /// A save did not happen: why, the ops it held, and what the file holds
    /// now (None if it could not be read either).
    SaveFailed {
        why: String,
        ops: Vec<Op>,
        on_disk: Option<Box<Progress>>,
    },
    CheckFinished {
        run_id: u64,
        guide: String,
        step: String,
        records: Vec<CheckRecord>,
    },
    /// Who else has the state open.
    PresenceChanged(Vec<String>),
    /// This instance could not announce itself (Some: why), or now has.
    NotAnnounced(Option<String>),
    /// For an observer: why the state cannot be shown (Some), or that it
    /// can again (None).
    StateProblem(Option<String>),
    /// A save waits for the state lock ("held by bob (pid 4242) for 3 s").
    Waiting(String),
    /// SIGTERM, SIGHUP or Ctrl-C from outside: save what can be saved, quit.
    Shutdown,
    /// The other sessions of a served checklist, as they are now.
    Peers(Vec<super::Peer>),
    /// Something the server tells this session (a join, an editor's request).
    Notice(String),
    /// A line of the server log (the host's session only).
    ServeLog(Timestamp, String),
    /// Every event of a guide, archived ones included, oldest first, for the
    /// history view; or why they could not be read.
    HistoryLoaded {
        guide: String,
        events: Result<Vec<crate::progress::Event>, String>,
    },
}

pub use crate::guide::CheckRequest;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Apply these operations to the state file (under its lock) and save.
    Apply(Vec<Op>),
    RunCheck(CheckRequest),
    CancelCheck {
        run_id: u64,
    },
    /// Write the guide's hand-off report beside the state file.
    WriteReport {
        guide: String,
    },
    /// Put text on the clipboard of the terminal the user sits at (OSC 52).
    Copy(String),
    /// Keep a typed key in memory for this guide and environment.
    SetKey {
        guide: String,
        env: String,
        key: ApiKey,
    },
    /// Tell the host's session what a remote editor asked for and may not
    /// run itself (`cutover serve`).
    AskHost(String),
    /// Read every event of a guide, the archived ones included, for the
    /// history view (answered by [`Action::HistoryLoaded`]).
    LoadHistory {
        guide: String,
    },
    Quit,
}

pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(app, key),
        Action::ScrollDetail(rows) => {
            let view = app.detail_view.get();
            let max = if view.total == 0 && view.rows == 0 { u16::MAX } else { view.max_scroll() };
            let to = i32::from(app.detail_scroll.min(max)) + i32::from(rows);
            app.detail_scroll = to.clamp(0, i32::from(max)) as u16;
            vec![]
        }
        Action::Select(idx) => {
            if matches!(app.mode, Mode::Normal) && app.screen == Screen::Checklist && idx < app.items().len() {
                select(app, idx);
            }
            vec![]
        }
        Action::Paste(text) => {
            match &mut app.mode {
                Mode::EditNote { editor, .. } => editor.insert_str(&text),
                Mode::Search { query, .. } => query.push_str(&crate::sanitize::line(&text)),
                Mode::KeyPrompt { typed, .. } => typed.0.push_str(text.trim()),
                Mode::Confirm { typed, .. } | Mode::Evidence { typed, .. } | Mode::BlockReason { typed, .. } => {
                    typed.push_str(&crate::sanitize::line(&text))
                }
                _ => {}
            }
            vec![]
        }
        Action::Tick(now) => {
            app.now = now;
            if !app.running.is_empty() {
                app.spinner = app.spinner.wrapping_add(1);
            }
            vec![]
        }
        Action::StateLoaded { progress, external } => {
            if external
                && let Some(summary) =
                    describe_new_events(&app.progress, &progress, &app.settings.user, &|g, s| app.step_title(g, s))
            {
                app.say(Tone::Info, summary);
            }
            if let Some(conflict) = own_note_conflict(&app.progress, &progress, &app.settings.user) {
                app.say(Tone::Warning, conflict);
            }
            // Only the progress is replaced: the cursor, the scroll position,
            // an open editor and its unsaved text stay as they are.
            app.progress = progress;
            if !external {
                // An own save went through: what the screen shows is saved.
                app.unsaved = None;
            }
            // An open history reads the guide's events again: what the state
            // got may have pushed others out of it, into the archive.
            if matches!(app.mode, Mode::Log { .. }) {
                return vec![Effect::LoadHistory { guide: app.guide_id().to_string() }];
            }
            vec![]
        }
        Action::HistoryLoaded { guide, events } => {
            match events {
                Ok(events) => app.history = Some((guide, events)),
                Err(why) => app.say(Tone::Warning, format!("older events not shown: {why}")),
            }
            vec![]
        }
        Action::SaveFailed { why, ops, on_disk } => {
            // Never show as saved what was not: the screen goes back to what
            // the file holds, and a note that was not saved goes back into
            // the editor.
            let shown = if let Some(p) = on_disk {
                app.progress = *p;
                "the screen shows what the file holds"
            } else {
                "the file could not be read either"
            };
            if matches!(app.mode, Mode::Normal) {
                for op in &ops {
                    if let Op::SetNote { guide, step, note, base } = op {
                        let editor = crate::app::editor::Editor::with_base(note, base.as_deref().unwrap_or_default());
                        app.mode = Mode::EditNote { guide: guide.clone(), step: step.clone(), editor };
                    }
                }
            }
            app.unsaved = Some(why.clone());
            app.say(Tone::Error, format!("not saved: {why}; {shown}"));
            vec![]
        }
        Action::CheckFinished { run_id, guide, step, records } => {
            let key = (guide.clone(), step.clone());
            if app.running.get(&key).map(|r| r.run_id) != Some(run_id) {
                return vec![]; // stale: a newer run replaced it, or it was cancelled
            }
            app.running.remove(&key);
            let title = app.step_title(&guide, &step);
            if records.is_empty() {
                app.say(Tone::Info, format!("{title}: nothing to run"));
                run_all_ended(app, &guide, &step, None);
                return vec![];
            }
            let worst = Verdict::worst(records.iter().map(|r| r.verdict));
            // The message of the result that decides, so that the footer and
            // the list agree.
            let deciding = records.iter().rev().find(|r| Some(r.verdict) == worst).or(records.last());
            let text = deciding
                .map(|r| format!("{title}: {} — {}", worst.unwrap_or(r.verdict), r.message))
                .unwrap_or_default();
            let tone = match worst {
                Some(Verdict::Pass) => Tone::Success,
                Some(Verdict::Fail) | Some(Verdict::Error) => Tone::Error,
                _ => Tone::Warning,
            };
            app.say(tone, text);
            if let Some(summary) = run_all_ended(app, &guide, &step, worst) {
                // The summary takes the tone of the worst result so far.
                let all = app.run_all.as_ref().map(|r| Verdict::worst(r.finished.values().copied())).unwrap_or(worst);
                let tone = match all {
                    Some(Verdict::Pass) | Some(Verdict::Skipped) => Tone::Success,
                    Some(Verdict::Fail) | Some(Verdict::Error) => Tone::Error,
                    _ => Tone::Warning,
                };
                app.say(tone, summary);
            }
            let ops: Vec<Op> = records
                .into_iter()
                .map(|r| Op::RecordCheck { guide: guide.clone(), step: step.clone(), record: Box::new(r) })
                .collect();
            apply_local(app, &ops);
            vec![Effect::Apply(ops)]
        }
        Action::PresenceChanged(others) => {
            app.others = others;
            vec![]
        }
        Action::Peers(peers) => {
            super::peers::peers_changed(app, peers);
            vec![]
        }
        Action::Notice(text) => {
            app.say(Tone::Info, crate::sanitize::line(&text));
            vec![]
        }
        Action::ServeLog(at, line) => {
            if app.serve_log.len() >= 500 {
                app.serve_log.remove(0);
            }
            app.serve_log.push((at, crate::sanitize::line(&line)));
            vec![]
        }
        Action::NotAnnounced(problem) => {
            app.not_announced = problem;
            vec![]
        }
        Action::Waiting(what) => {
            app.say(Tone::Warning, crate::sanitize::line(&what));
            vec![]
        }
        Action::StateProblem(problem) => {
            app.state_problem = problem;
            vec![]
        }
        Action::Shutdown => {
            let mut effects = Vec::new();
            if let Mode::EditNote { guide, step, editor } = &app.mode
                && editor.changed()
                && !app.settings.observe
            {
                let ops = vec![Op::SetNote {
                    guide: guide.clone(),
                    step: step.clone(),
                    note: editor.text(),
                    base: Some(editor.base().to_string()),
                }];
                apply_local(app, &ops);
                effects.push(Effect::Apply(ops));
            }
            for r in app.running.values() {
                effects.push(Effect::CancelCheck { run_id: r.run_id });
            }
            app.quit = true;
            effects.push(Effect::Quit);
            effects
        }
    }
}

/// "bob: versioning → blocked" for what another instance just did, also
/// when it repeats an earlier change (the same status set again): events
/// are compared with their time. Our own changes are not news: `me`'s
/// events are left out.
/// `title` names a step (guide id, step id) as people read it: "3. Create
/// a password".
pub fn describe_new_events(
    old: &Progress,
    new: &Progress,
    me: &str,
    title: &dyn Fn(&str, &str) -> String,
) -> Option<String> {
    let known: Vec<&crate::progress::Event> = old.events.iter().rev().take(200).collect();
    let fresh: Vec<&crate::progress::Event> =
        new.events.iter().rev().take(50).filter(|e| e.by != me && !known.contains(e)).collect();
    let latest = fresh.first()?;
    let by = crate::sanitize::line(&latest.by);
    let step = crate::sanitize::line(&title(&latest.guide, &latest.step));
    let what = match latest.what.as_str() {
        "status" => format!("{by}: {step} → {}", crate::sanitize::line(&latest.detail)),
        "note" => format!("{by} edited the note of {step}"),
        "check" => format!("{by} ran the check of {step}: {}", crate::sanitize::line(&latest.detail)),
        _ => format!("{by}: {step} {}", crate::sanitize::line(&latest.detail)),
    };
    Some(if fresh.len() > 1 { format!("{what} (+{} more changes)", fresh.len() - 1) } else { what })
}

/// "bob changed this note while you edited it; both texts are kept", when
/// one of `me`'s note saves new in `new` found the note changed since its
/// editor opened (the store decided that under the lock, on the file).
pub fn own_note_conflict(old: &Progress, new: &Progress, me: &str) -> Option<String> {
    let known: Vec<&crate::progress::Event> = old.events.iter().rev().take(200).collect();
    new.events.iter().rev().take(50).filter(|e| e.by == me && e.what == "note" && !known.contains(e)).find_map(|e| {
        let (who, both) = crate::progress::note_changed_meanwhile(&e.detail)?;
        let who = crate::sanitize::line(who);
        Some(if both {
            format!("{who} changed this note while you edited it; both texts are kept")
        } else {
            format!("{who} changed this note while you edited it; it was not cleared, their text is kept")
        })
    })
}

/// Applies ops to the in-memory state at once, so the screen does not wait
/// for the disk; the saved state replaces it when the store answers.
fn apply_local(app: &mut App, ops: &[Op]) {
    let by = app.settings.user.clone();
    let now = app.now;
    for op in ops {
        app.progress.apply(op, &by, now);
    }
}

fn on_key(app: &mut App, key: Key) -> Vec<Effect> {
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
                match own_note_conflict(&before, &app.progress, &app.settings.user) {
                    Some(conflict) => app.say(Tone::Warning, conflict),
                    None => app.say(Tone::Success, "note saved"),
                }
                return vec![Effect::Apply(ops)];
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
        Mode::Confirm { prompt, expected, mut typed, then } => {
            match key.code {
                Code::Esc => {
                    app.mode = Mode::Normal;
                    app.say(Tone::Info, "cancelled: nothing was sent");
                }
                Code::Enter => {
                    app.mode = Mode::Normal;
                    if typed.trim() == expected {
                        return start_effect(app, *then);
                    }
                    app.say(Tone::Warning, format!("you typed {typed:?}, not {expected:?}: nothing was sent"));
                }
                Code::Backspace => {
                    typed.pop();
                    app.mode = Mode::Confirm { prompt, expected, typed, then };
                }
                Code::Char(c) if !key.ctrl => {
                    typed.push(c);
                    app.mode = Mode::Confirm { prompt, expected, typed, then };
                }
                _ if key == Key::ctrl('c') => {
                    app.mode = Mode::Normal;
                    app.say(Tone::Info, "cancelled: nothing was sent");
                }
                _ => {}
            }
            vec![]
        }
        Mode::BlockReason { guide, step, mut typed } => {
            match key.code {
                Code::Esc => {
                    app.mode = Mode::Normal;
                    app.say(Tone::Info, "not marked blocked");
                }
                Code::Enter => {
                    app.mode = Mode::Normal;
                    return block_with_reason(app, guide, step, typed.trim());
                }
                Code::Backspace => {
                    typed.pop();
                    app.mode = Mode::BlockReason { guide, step, typed };
                }
                Code::Char(c) if !key.ctrl && !key.alt => {
                    typed.push(c);
                    app.mode = Mode::BlockReason { guide, step, typed };
                }
                _ if key == Key::ctrl('c') => {
                    app.mode = Mode::Normal;
                    app.say(Tone::Info, "not marked blocked");
                }
                _ => {}
            }
            vec![]
        }
        Mode::Evidence { prompt, mut typed, then, confirm_writes } => {
            match key.code {
                Code::Esc => {
                    app.mode = Mode::Normal;
                    app.say(Tone::Info, "cancelled: nothing ran");
                }
                Code::Enter => {
                    app.mode = Mode::Normal;
                    let mut req = *then;
                    let text = typed.trim().to_string();
                    if !text.is_empty() {
                        req.opts.evidence = Some(text);
                    }
                    return confirm_or_start(app, req, confirm_writes.is_some());
                }
                Code::Backspace => {
                    typed.pop();
                    app.mode = Mode::Evidence { prompt, typed, then, confirm_writes };
                }
                Code::Char(c) if !key.ctrl => {
                    typed.push(c);
                    app.mode = Mode::Evidence { prompt, typed, then, confirm_writes };
                }
                _ if key == Key::ctrl('c') => app.mode = Mode::Normal,
                _ => {}
            }
            vec![]
        }
        Mode::KeyPrompt { guide, env, mut typed } => {
            match key.code {
                Code::Esc => app.mode = Mode::Normal,
                Code::Enter => {
                    app.mode = Mode::Normal;
                    let key = ApiKey::new(typed.0.trim().to_string());
                    if typed.0.trim().is_empty() {
                        app.say(Tone::Warning, "no key typed");
                        return vec![];
                    }
                    app.say(
                        Tone::Success,
                        format!("key {} kept in memory for {guide} {env} (never saved)", key.masked()),
                    );
                    return vec![Effect::SetKey { guide, env, key }];
                }
                Code::Backspace => {
                    typed.0.pop();
                    app.mode = Mode::KeyPrompt { guide, env, typed };
                }
                Code::Char(c) if !key.ctrl => {
                    typed.0.push(c);
                    app.mode = Mode::KeyPrompt { guide, env, typed };
                }
                _ if key == Key::ctrl('c') => app.mode = Mode::Normal,
                _ => {}
            }
            vec![]
        }
    }
}

fn quit(app: &mut App) -> Vec<Effect> {
    let mut effects: Vec<Effect> = app.running.values().map(|r| Effect::CancelCheck { run_id: r.run_id }).collect();
    app.quit = true;
    effects.push(Effect::Quit);
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
            app.mode = Mode::BlockReason {
                guide: app.guide_id().to_string(),
                step: step.id().to_string(),
                typed: String::new(),
            };
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
        Intent::CancelCheck => {}
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
            app.mode = Mode::KeyPrompt { guide: app.guide_id().to_string(), env, typed: Default::default() };
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
            return vec![Effect::Apply(ops)];
        }
        Intent::Help => app.mode = Mode::Help { scroll: 0 },
        Intent::Log => {
            app.mode = Mode::Log { scroll: 0 };
            return vec![Effect::LoadHistory { guide: app.guide_id().to_string() }];
        }
        Intent::Report => {
            // Observers may write reports too: it changes nothing shared.
            let guide = app.guide_id().to_string();
            app.say(Tone::Info, "writing the report…");
            return vec![Effect::WriteReport { guide }];
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
            return vec![Effect::Copy(text)];
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

/// Opens guide `idx` at its first step that is not closed.
pub fn open_guide(app: &mut App, idx: usize) {
    app.current = idx;
    app.screen = Screen::Checklist;
    app.detail_scroll = 0;
    let gid = app.guide_id().to_string();
    let first_open =
        app.guide().and_then(|g| g.steps.iter().position(|s| !app.progress.status(&gid, s.id()).is_closed()));
    app.selected = first_open.unwrap_or(0);
}

/// `t`: the first troubleshooting item of the selected step; on an item
/// reached that way, the next item of the step it came from (cycling).
fn troubleshoot(app: &mut App) -> Vec<Effect> {
    let gid = app.guide_id().to_string();
    let ids: Vec<(String, Vec<String>)> = app
        .items()
        .iter()
        .map(|i| (i.step.id().to_string(), i.step.troubleshoot.iter().map(|t| t.get_ref().clone()).collect()))
        .collect();
    let targets_of = |origin: usize| -> Vec<usize> {
        ids.get(origin)
            .map(|(_, t)| t.iter().filter_map(|t| ids.iter().position(|(id, _)| id == t)).collect())
            .unwrap_or_default()
    };
    // Still on one of the origin's items: cycle them; else start afresh.
    let origin = match &app.came_from {
        Some((g, o)) if *g == gid && targets_of(*o).contains(&app.selected) => *o,
        _ => app.selected,
    };
    let mut positions = targets_of(origin);
    positions.sort_unstable();
    if positions.is_empty() {
        app.say(Tone::Info, "this step has no troubleshooting items");
        return vec![];
    }
    let next = positions.iter().copied().find(|p| *p > app.selected).unwrap_or(positions[0]);
    let nth = positions.iter().position(|p| *p == next).unwrap_or(0) + 1;
    app.came_from = Some((gid.clone(), origin));
    select(app, next);
    let from = ids.get(origin).map(|(id, _)| app.step_title(&gid, id)).unwrap_or_default();
    let more = if positions.len() > 1 { " · t next" } else { "" };
    app.say(Tone::Info, format!("troubleshooting {nth} of {} for {from}{more} · Backspace back", positions.len()));
    vec![]
}

pub(super) fn select(app: &mut App, idx: usize) {
    if idx != app.selected {
        app.selected = idx;
        app.detail_scroll = 0;
        app.copy_cursor = 0;
    }
}

pub(super) fn refuse_observer(app: &mut App) -> bool {
    if app.settings.observe {
        app.say(Tone::Warning, "read-only: you are observing (--observe); nothing can be changed from here");
    }
    app.settings.observe
}

fn set_status(app: &mut App, status: Status) -> Vec<Effect> {
    if refuse_observer(app) {
        return vec![];
    }
    let Some(g) = app.guide() else { return vec![] };
    let Some(step) = app.selected_step() else {
        return vec![];
    };
    let gid = g.id().to_string();
    let sid = step.id().to_string();
    let missing = if status == Status::Done { app.missing_requirements(g, step) } else { Vec::new() };
    let hash = app.entry().and_then(|e| e.hashes.get(&sid)).cloned();
    let ops = vec![Op::SetStatus { guide: gid.clone(), step: sid.clone(), status, hash }];
    apply_local(app, &ops);
    let title = app.step_title(&gid, &sid);
    if missing.is_empty() {
        app.say(Tone::Success, format!("{title}: {status}"));
    } else {
        let missing: Vec<String> = missing.iter().map(|m| app.step_title(&gid, m)).collect();
        app.say(Tone::Warning, format!("{title}: {status}, but it needs {} first", missing.join(", ")));
    }
    vec![Effect::Apply(ops)]
}

/// Scrolls the detail by its pane's height (less one row, to keep some
/// context), never past the end as last drawn.
fn scroll_detail(app: &mut App, down: bool) {
    let view = app.detail_view.get();
    let page = if view.rows > 1 { view.rows - 1 } else { 5 };
    // Unknown (never drawn): unbounded, as the renderer clamps anyway.
    let max = if view.total == 0 && view.rows == 0 { u16::MAX } else { view.max_scroll() };
    let from = app.detail_scroll.min(max);
    app.detail_scroll = if down { from.saturating_add(page).min(max) } else { from.saturating_sub(page) };
}

/// Counts a finished (or cancelled: `None`) step of the "run all" under way;
/// returns its progress line, or the summary when it was the last.
pub(super) fn run_all_ended(app: &mut App, guide: &str, step: &str, verdict: Option<Verdict>) -> Option<String> {
    let now = app.now;
    let ra = app.run_all.as_mut().filter(|r| r.guide == guide && r.ended.is_none())?;
    if !ra.steps.iter().any(|s| s == step) || ra.finished.contains_key(step) || ra.cancelled.iter().any(|s| s == step) {
        return None;
    }
    match verdict {
        Some(v) => {
            ra.finished.insert(step.to_string(), v);
        }
        None => ra.cancelled.push(step.to_string()),
    }
    if ra.finished.len() + ra.cancelled.len() < ra.steps.len() {
        return Some(format!("run all: {}", ra.summary()));
    }
    ra.ended = Some(now);
    let secs = (now.as_second() - ra.started.as_second()).max(0);
    Some(format!("run all finished: {} in {secs} s", ra.summary()))
}

/// Marks the step blocked; the reason, if one was typed, becomes its note
/// (after what the note already said), so the report lists it among the
/// blockers.
fn block_with_reason(app: &mut App, guide: String, step: String, reason: &str) -> Vec<Effect> {
    if !reason.is_empty() && app.secret_guard.holds_key(reason) {
        app.say(Tone::Error, "not marked blocked: the reason contains an API key; type it without");
        return vec![];
    }
    let hash = app.guides.iter().find(|e| e.guide.id() == guide).and_then(|e| e.hashes.get(&step)).cloned();
    let mut ops = vec![Op::SetStatus { guide: guide.clone(), step: step.clone(), status: Status::Blocked, hash }];
    if !reason.is_empty() {
        let base = app.progress.step(&guide, &step).map(|r| r.note.clone()).unwrap_or_default();
        let old = base.trim_end();
        let line = format!("Blocked: {}", crate::sanitize::line(reason));
        let note = if old.is_empty() { line } else { format!("{old}\n{line}") };
        ops.push(Op::SetNote { guide: guide.clone(), step: step.clone(), note, base: Some(base) });
    }
    apply_local(app, &ops);
    let title = app.step_title(&guide, &step);
    if reason.is_empty() {
        app.say(Tone::Warning, format!("{title}: blocked (no reason given)"));
    } else {
        app.say(Tone::Warning, format!("{title}: blocked: {reason}"));
    }
    vec![Effect::Apply(ops)]
}
