//! The update: a message in, the App changed, effects out. Keys go on to
//! `keys.rs`; what the runtime reports is handled here.

use super::action::Action;
use super::effect::Effect;
use super::news::{describe_new_events, own_note_conflict};
use super::run::{refresh_run_all_line, run_all_ended};
use super::state::{App, Mode, Screen, Tone};
use super::steps::{apply_local, select};
use crate::progress::{Op, Verdict};

pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => super::keys::on_key(app, key),
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
                Mode::Line(line) => line.typed.paste(&text),
                _ => {}
            }
            vec![]
        }
        Action::Tick(now) => {
            app.now = now;
            if !app.running.is_empty() {
                app.spinner = app.spinner.wrapping_add(1);
            }
            if app.run_all_wait().is_some() {
                refresh_run_all_line(app);
            }
            vec![]
        }
        Action::CheckWaiting { run_id, guide, step, wait } => {
            let Some(r) = app.running.get_mut(&(guide, step)).filter(|r| r.run_id == run_id) else {
                return vec![]; // stale: it finished, was cancelled or replaced
            };
            r.waiting = wait;
            // The footer says it, unless it says something else now.
            refresh_run_all_line(app);
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
        Action::ReportWritten(written) => {
            match written {
                Ok(crate::report::ReportPlace::File(path)) => {
                    let own =
                        if app.settings.observe { " (your own data dir: observers write nothing shared)" } else { "" };
                    app.say(Tone::Success, format!("report written to {}{own}", path.display()));
                }
                Ok(crate::report::ReportPlace::Clipboard { bytes }) => app.say(
                    Tone::Success,
                    format!(
                        "report copied to your clipboard (Markdown, {} KiB): paste it into a file; nothing was written on the host",
                        bytes.div_ceil(1024)
                    ),
                ),
                Err(why) => app.say(Tone::Error, format!("report not written: {why}")),
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
                match app.run_all_line() {
                    // Still under way: said again as a wait counts down.
                    Some(line) => app.say_run_all(tone, line),
                    None => app.say(tone, summary),
                }
            }
            let ops: Vec<Op> = records
                .into_iter()
                .map(|r| Op::RecordCheck { guide: guide.clone(), step: step.clone(), record: Box::new(r) })
                .collect();
            apply_local(app, &ops);
            vec![Effect::Save(ops)]
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
                effects.push(Effect::Save(ops));
            }
            for r in app.running.values() {
                effects.push(Effect::CancelCheck { run_id: r.run_id });
            }
            app.quit = true;
            effects
        }
    }
}
