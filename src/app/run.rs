//! Asking for checks: which environment, what needs a person's evidence or a
//! typed confirmation, and what "run all" leaves out.

use super::effect::{CheckRequest, Effect};
use super::line::LineInput;
use super::state::{App, Mode, Running, Tone};
use super::steps::refuse_observer;
use crate::guide::{CheckKind, RunOptions};
use crate::progress::Verdict;

pub(super) fn run_check(app: &mut App) -> Vec<Effect> {
    if refuse_observer(app) {
        return vec![];
    }
    let Some(g) = app.entry().map(|e| e.guide.full().clone()) else { return vec![] };
    let Some(step) = app.selected_step().and_then(|s| g.item(s.id())) else {
        return vec![];
    };
    if step.checks.is_empty() {
        app.say(Tone::Info, "this step has no check: tick it by hand (Space)");
        return vec![];
    }
    let gid = g.id().to_string();
    let sid = step.id().to_string();
    if app.is_running(&gid, &sid) {
        let run_id = app.running.get(&(gid.clone(), sid.clone())).map(|r| r.run_id).unwrap_or(0);
        app.running.remove(&(gid.clone(), sid.clone()));
        run_all_ended(app, &gid, &sid, None);
        app.say(Tone::Info, "check cancelled");
        return vec![Effect::CancelCheck { run_id }];
    }
    let req = new_request(app, &g, step, RunOptions { include_on_request: true, ..RunOptions::default() });
    let env = req.env.clone();
    let only_manual = step.checks.iter().all(|c| c.kind() == CheckKind::Manual);
    let writes = step.checks.iter().any(|c| c.creates_data_in(&env));
    if let Some(why) = super::peers::refusal(app, &g, step, &env, writes) {
        let title = app.step_title(&gid, &sid);
        app.say(Tone::Warning, format!("{why}; the host's session shows your request"));
        return vec![Effect::AskHost(format!("{} asks the host to run {title} in {env} ({why})", app.settings.user))];
    }
    let evidence_prompt = step
        .checks
        .iter()
        .find(|c| c.kind() == CheckKind::Manual)
        .map(|c| c.evidence.as_ref().map(|t| app.text(&g, t).to_string()).unwrap_or_default());
    if let Some(prompt) = evidence_prompt {
        // A manual check is a person's confirmation, with what they can show
        // for it (a ticket number). Empty runs only the automated checks.
        let prompt =
            if prompt.is_empty() { "Confirm this step by hand: what shows it is done?".to_string() } else { prompt };
        let hint = if only_manual {
            "Enter confirm · Esc cancel"
        } else {
            "Enter confirm (empty: only the automated checks) · Esc cancel"
        };
        app.mode = Mode::Line(LineInput::evidence(prompt, hint, req, writes));
        return vec![];
    }
    confirm_or_start(app, req, writes)
}

/// Asks for a typed confirmation when the run creates data, else starts it.
pub(super) fn confirm_or_start(app: &mut App, req: CheckRequest, writes: bool) -> Vec<Effect> {
    if writes {
        app.mode =
            Mode::Line(LineInput::confirm(CheckRequest { opts: RunOptions { allow_writes: true, ..req.opts }, ..req }));
        return vec![];
    }
    start_check(app, req)
}

/// A new request for `step` of the current guide `g`: a fresh run id, the
/// active environment (the step's own wins: [`crate::guide::Step::check_env`])
/// and the guide's language on screen for the texts saved with the verdict.
pub(super) fn new_request(
    app: &mut App,
    g: &std::sync::Arc<crate::guide::Guide>,
    step: &crate::guide::Step,
    opts: RunOptions,
) -> CheckRequest {
    let run_id = app.next_run_id;
    app.next_run_id += 1;
    let active = app.env_of(g.id()).unwrap_or("").to_string();
    let lang = app.lang.get(g.id()).cloned();
    CheckRequest::new(run_id, g.clone(), step, &active, RunOptions { lang, ..opts })
}

/// Starts the check: it shows as running until its records come back.
pub(super) fn start_check(app: &mut App, req: CheckRequest) -> Vec<Effect> {
    app.running.insert(
        (req.guide.id().to_string(), req.step.clone()),
        Running { run_id: req.run_id, started: app.now, waiting: None },
    );
    let title = app.step_title(req.guide.id(), &req.step);
    app.say(Tone::Info, format!("checking {title} in {}… (c again cancels)", req.env));
    vec![Effect::StartCheck(req)]
}

pub(super) fn run_all(app: &mut App) -> Vec<Effect> {
    if refuse_observer(app) {
        return vec![];
    }
    let Some(g) = app.entry().map(|e| e.guide.full().clone()) else {
        return vec![];
    };
    let mut effects = Vec::new();
    let mut started: Vec<String> = Vec::new();
    for step in &g.steps {
        let automatic = step.checks.iter().any(|c| c.kind() != CheckKind::Manual && !c.on_request);
        if !automatic || app.is_running(g.id(), step.id()) {
            continue;
        }
        let req = new_request(app, &g, step, RunOptions { run_all: true, ..RunOptions::default() });
        let env = req.env.clone();
        // Run all never creates data, so only the environment and the
        // kind of check can keep a remote editor out.
        if super::peers::refusal(app, &g, step, &env, false).is_some() {
            continue;
        }
        started.push(step.id().to_string());
        effects.extend(start_check(app, req));
    }
    if effects.is_empty() {
        app.say(Tone::Info, "no automatic checks in this guide");
    } else {
        let ra = super::state::RunAll {
            guide: g.id().to_string(),
            started: app.now,
            steps: started,
            finished: Default::default(),
            cancelled: Vec::new(),
            ended: None,
        };
        app.say_run_all(
            Tone::Info,
            format!("run all: {} (manual steps and data-creating checks are left out)", ra.summary()),
        );
        app.run_all = Some(ra);
    }
    effects
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

/// Says run all's progress line again as it reads now (its wait counted
/// down), if the footer shows it or nothing (a key cleared it).
pub(super) fn refresh_run_all_line(app: &mut App) {
    let Some(line) = app.run_all_line() else { return };
    match app.message.as_mut() {
        Some(m) if m.run_all => m.text = line,
        Some(_) => {}
        None => app.say_run_all(Tone::Info, line),
    }
}
