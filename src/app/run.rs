//! Asking for checks: which environment, what needs a person's evidence or a
//! typed confirmation, and what "run all" leaves out.

use super::state::{App, Mode, Running, Tone};
use super::update::{CheckRequest, Effect, refuse_observer};
use crate::guide::CheckKind;

pub(super) fn run_check(app: &mut App) -> Vec<Effect> {
    if refuse_observer(app) {
        return vec![];
    }
    let Some(g) = app.guide() else { return vec![] };
    let Some(step) = app.selected_step() else {
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
        super::update::run_all_ended(app, &gid, &sid, None);
        app.say(Tone::Info, "check cancelled");
        return vec![Effect::CancelCheck { run_id }];
    }
    let env = step_env(app, g, step);
    let only_manual = step.checks.iter().all(|c| c.kind() == CheckKind::Manual);
    let writes = step.checks.iter().any(|c| c.creates_data_in(&env));
    let req = CheckRequest {
        run_id: 0,
        guide: gid,
        step: sid,
        env: env.clone(),
        include_on_request: true,
        allow_writes: false,
        run_all: false,
        evidence: None,
        lang: None,
    };
    let evidence_prompt = step
        .checks
        .iter()
        .find(|c| c.kind() == CheckKind::Manual)
        .map(|c| c.evidence.as_ref().map(|t| app.text(g, t).to_string()).unwrap_or_default());
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
        app.mode = Mode::Evidence {
            prompt: format!("{prompt}\n{hint}"),
            typed: String::new(),
            then: Box::new(req),
            confirm_writes: writes.then_some(env),
        };
        return vec![];
    }
    confirm_or_start(app, req, writes)
}

/// Asks for a typed confirmation when the run creates data, else starts it.
pub(super) fn confirm_or_start(app: &mut App, req: CheckRequest, writes: bool) -> Vec<Effect> {
    if writes {
        let env = req.env.clone();
        app.mode = Mode::Confirm {
            prompt: format!(
                "Sent to {env}, this check can create data at the carrier (cutover cannot rule it out). Type {env} to send it"
            ),
            expected: env,
            typed: String::new(),
            then: Box::new(Effect::RunCheck(CheckRequest { allow_writes: true, ..req })),
        };
        return vec![];
    }
    start_effect(app, Effect::RunCheck(req))
}

/// The environment a step's checks run in: its own if bound to one,
/// else the active one.
pub(super) fn step_env(app: &App, g: &crate::guide::Guide, step: &crate::guide::Step) -> String {
    let active = app.env_of(g.id()).unwrap_or("").to_string();
    let mut bound: Vec<&str> = Vec::new();
    for c in &step.checks {
        if !c.envs.is_empty() {
            for e in c.env_names(g) {
                if !bound.contains(&e) {
                    bound.push(e);
                }
            }
        }
    }
    if bound.len() == 1 && bound[0] != active { bound[0].to_string() } else { active }
}

pub(super) fn start_effect(app: &mut App, effect: Effect) -> Vec<Effect> {
    match effect {
        Effect::RunCheck(mut req) => {
            req.run_id = app.next_run_id;
            req.lang = app.lang.get(&req.guide).cloned();
            app.next_run_id += 1;
            app.running.insert((req.guide.clone(), req.step.clone()), Running { run_id: req.run_id, started: app.now });
            let title = app.step_title(&req.guide, &req.step);
            app.say(Tone::Info, format!("checking {title} in {}… (c again cancels)", req.env));
            vec![Effect::RunCheck(req)]
        }
        other => vec![other],
    }
}

pub(super) fn run_all(app: &mut App) -> Vec<Effect> {
    if refuse_observer(app) {
        return vec![];
    }
    let Some(g) = app.guide().cloned() else {
        return vec![];
    };
    let mut effects = Vec::new();
    let mut started: Vec<String> = Vec::new();
    for step in &g.steps {
        let automatic = step.checks.iter().any(|c| c.kind() != CheckKind::Manual && !c.on_request);
        if !automatic || app.is_running(g.id(), step.id()) {
            continue;
        }
        let env = step_env(app, &g, step);
        let req = CheckRequest {
            run_id: 0,
            guide: g.id().to_string(),
            step: step.id().to_string(),
            env,
            include_on_request: false,
            allow_writes: false,
            run_all: true,
            evidence: None,
            lang: None,
        };
        started.push(step.id().to_string());
        effects.extend(start_effect(app, Effect::RunCheck(req)));
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
        app.say(Tone::Info, format!("run all: {} (manual steps and data-creating checks are left out)", ra.summary()));
        app.run_all = Some(ra);
    }
    effects
}
