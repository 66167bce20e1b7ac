//! Moving through the guide and marking its steps: selection, opening a
//! guide, troubleshooting jumps, statuses, the blocked reason, and the
//! changes applied at once to what the screen shows.

use super::effect::Effect;
use super::state::{App, Screen, Tone};
use crate::progress::{Op, Status};

/// Applies ops to the in-memory state at once, so the screen does not wait
/// for the disk; the saved state replaces it when the store answers.
pub(super) fn apply_local(app: &mut App, ops: &[Op]) {
    let by = app.settings.user.clone();
    let now = app.now;
    for op in ops {
        app.progress.apply(op, &by, now);
    }
}

/// Opens guide `idx` at its first step that is not closed.
pub fn open_guide(app: &mut App, idx: usize) {
    app.current = idx;
    app.screen = Screen::Checklist;
    app.detail_scroll = 0;
    let gid = app.guide_id().to_string();
    // The head has every step's id: opening a guide decodes none of it.
    let first_open = app
        .entry()
        .and_then(|e| e.guide.head().steps.iter().position(|s| !app.progress.status(&gid, s.id()).is_closed()));
    app.selected = first_open.unwrap_or(0);
}

/// `t`: the first troubleshooting item of the selected step; on an item
/// reached that way, the next item of the step it came from (cycling).
pub(super) fn troubleshoot(app: &mut App) -> Vec<Effect> {
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

pub(super) fn set_status(app: &mut App, status: Status) -> Vec<Effect> {
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
    vec![Effect::Save(ops)]
}

/// Scrolls the detail by its pane's height (less one row, to keep some
/// context), never past the end as last drawn.
pub(super) fn scroll_detail(app: &mut App, down: bool) {
    let view = app.detail_view.get();
    let page = if view.rows > 1 { view.rows - 1 } else { 5 };
    // Unknown (never drawn): unbounded, as the renderer clamps anyway.
    let max = if view.total == 0 && view.rows == 0 { u16::MAX } else { view.max_scroll() };
    let from = app.detail_scroll.min(max);
    app.detail_scroll = if down { from.saturating_add(page).min(max) } else { from.saturating_sub(page) };
}

/// Marks the step blocked; the reason, if one was typed, becomes its note
/// (after what the note already said), so the report lists it among the
/// blockers.
pub(super) fn block_with_reason(app: &mut App, guide: String, step: String, reason: &str) -> Vec<Effect> {
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
    vec![Effect::Save(ops)]
}
