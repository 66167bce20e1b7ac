//! The one thing to do next on a step, and the keys that act on it: what
//! the verdict strip at the top of the detail and the footer both show.

use super::state::App;
use crate::guide::{CheckKind, Guide, Step};
use crate::progress::{CheckRecord, Status, Verdict};
use jiff::Timestamp;

/// A key worth pressing now, and what it does here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suggested {
    pub key: &'static str,
    pub what: &'static str,
}

/// Where a step stands and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Next<'a> {
    /// The step's verdict (worst of the latest run of each check) and when.
    pub verdict: Option<(Verdict, Timestamp)>,
    /// The latest verdict is older than the step's freshness window.
    pub stale: bool,
    /// The freshness window, if the step has one, in seconds.
    pub window: Option<u64>,
    /// The record that gives the step its verdict.
    pub deciding: Option<&'a CheckRecord>,
    /// Started at, while a check of this step runs.
    pub running_since: Option<Timestamp>,
    /// The running check waits for its call budget (run all).
    pub waiting: Option<&'a crate::guide::BudgetWait>,
    /// Every automatic check has a latest pass and the step is not done.
    pub offer_done: bool,
    /// The keys that act on it, most useful first.
    pub keys: Vec<Suggested>,
}

/// The verdict came from a key the carrier refused, or from no key at all:
/// typing one in (`p`) is the way on.
pub fn needs_key(rec: &CheckRecord) -> bool {
    if rec.verdict == Verdict::Pass {
        return false;
    }
    matches!(rec.http_status, Some(401) | Some(403)) || rec.message.starts_with("no key for")
}

/// The automatic checks of a step (what "run all" runs).
pub fn automatic(step: &Step) -> impl Iterator<Item = &crate::guide::CheckSpec> {
    step.checks.iter().filter(|c| c.kind() != CheckKind::Manual && !c.on_request)
}

/// What to do next on `step` of `g`.
pub fn next_for<'a>(app: &'a App, g: &Guide, step: &Step) -> Next<'a> {
    let gid = g.id();
    let sid = step.id();
    let rec = app.progress.step(gid, sid);
    let verdict = app.last_verdict(gid, sid);
    let deciding = rec.and_then(|r| r.deciding_check());
    let running = app.running.get(&(gid.to_string(), sid.to_string()));
    let running_since = running.map(|r| r.started);
    let waiting = running.and_then(|r| r.waiting.as_ref());
    let stale = app.is_stale(gid, step);
    let window = app.fresh_window(gid, step);
    let observe = app.settings.observe;
    let status = app.status(gid, sid);
    let offer_done = !observe && status != Status::Done && all_automatic_pass(app, gid, step);
    let mut keys: Vec<Suggested> = Vec::new();
    let mut push = |key: &'static str, what: &'static str| {
        if !keys.iter().any(|k| k.key == key) {
            keys.push(Suggested { key, what });
        }
    };
    if running_since.is_some() {
        if !observe {
            push("c", "cancel");
        }
    } else if !step.checks.is_empty() {
        if offer_done {
            push("d", "mark done");
        }
        if !observe {
            push("c", if verdict.is_some() { "check again" } else { "run the checks" });
        }
        if !observe && deciding.is_some_and(needs_key) && !g.environments.is_empty() {
            push("p", "type a key");
        }
        let failing = verdict.is_some_and(|(v, _)| v != Verdict::Pass && v != Verdict::Skipped);
        if failing && !step.troubleshoot.is_empty() {
            push("t", "troubleshooting");
        }
    }
    Next { verdict, stale, window, deciding, running_since, waiting, offer_done, keys }
}

/// Every automatic check of the step has a latest run, and each passed.
fn all_automatic_pass(app: &App, gid: &str, step: &Step) -> bool {
    let Some(rec) = app.progress.step(gid, step.id()) else {
        return false;
    };
    let wanted = automatic(step).count();
    if wanted == 0 {
        return false;
    }
    // The latest record of each check that ran; every one passed, and at
    // least as many ran as the step has automatic checks (records are named
    // in the language of the run, so counted rather than matched by name).
    let mut seen: Vec<(&str, Option<&str>)> = Vec::new();
    let mut all_pass = true;
    for r in rec.checks.iter().rev() {
        let k = (r.check.as_str(), r.env.as_deref());
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        all_pass &= r.verdict == Verdict::Pass;
    }
    all_pass && seen.len() >= wanted
}

/// The words the runner uses for a rate-limit wait: "rate limit: next call
/// possible in 37 s", "the server asked to wait: next call possible in 37 s".
const WAIT_WORDS: &str = "next call possible in ";

/// The wait a check's message announced, in seconds from when it ran.
pub fn wait_announced(rec: &CheckRecord) -> Option<i64> {
    let rest = &rec.message[rec.message.find(WAIT_WORDS)? + WAIT_WORDS.len()..];
    rest.strip_suffix(" s").unwrap_or(rest).split(' ').next()?.parse().ok()
}

/// Seconds left of that wait at `now`: `Some(0)` once it is over, `None`
/// for a record that announced none.
pub fn wait_left(rec: &CheckRecord, now: Timestamp) -> Option<i64> {
    let secs = wait_announced(rec)?;
    Some((rec.at.as_second() + secs - now.as_second()).max(0))
}

/// The record's message and hint as they read now: the wait counted down
/// ("next call possible in 12 s", "Wait 12 s: …"), or, once it is over,
/// "the wait is over: c checks again" and no hint.
pub fn counted_down(rec: &CheckRecord, now: Timestamp) -> (String, Option<String>) {
    let (Some(secs), Some(left)) = (wait_announced(rec), wait_left(rec, now)) else {
        return (rec.message.clone(), rec.hint.clone());
    };
    let prefix = rec.message.find(WAIT_WORDS).map(|i| &rec.message[..i]).unwrap_or_default();
    if left == 0 {
        return (format!("{prefix}the wait is over: c checks again"), None);
    }
    let hint = rec.hint.as_ref().map(|h| match h.strip_prefix(&format!("Wait {secs} s")) {
        Some(rest) => format!("Wait {left} s{rest}"),
        None => h.clone(),
    });
    (format!("{prefix}{WAIT_WORDS}{left} s"), hint)
}

impl App {
    /// Seconds left of a rate-limit wait shown for the selected step, while
    /// there is one: the runtime ticks every second until it is over.
    pub fn countdown(&self) -> Option<i64> {
        let g = self.guide()?;
        let step = self.selected_step()?;
        let rec = self.progress.step(g.id(), step.id())?.deciding_check()?;
        wait_left(rec, self.now).filter(|left| *left > 0)
    }
}
