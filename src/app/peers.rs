//! Other sessions of the same served checklist (`cutover serve`): who they
//! are, where they are, what they are running; following one; and what a
//! remote editor may not do. Pure: the server sends `Action::Peers` and
//! reads [`view`]; nothing here knows about SSH.

use super::state::{App, Screen, Tone};
use jiff::Timestamp;

/// Another session, as the server last saw it. Names are sanitized by the
/// server before they get here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub id: u64,
    pub name: String,
    /// `host`, `editor` or `observer`.
    pub role: String,
    pub view: View,
}

/// Where a session is and what it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct View {
    /// The open guide's id, None on the guide list.
    pub guide: Option<String>,
    /// The selected step's id and number (1-based).
    pub step: Option<(String, usize)>,
    /// Checks it has running.
    pub running: Vec<PeerRun>,
}

/// A check another session runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerRun {
    pub guide: String,
    pub step: String,
    /// The step's title, in that session's language.
    pub title: String,
    pub since: Timestamp,
    /// Waiting for the call budget (run all), if it is.
    pub waiting: Option<crate::guide::BudgetWait>,
}

impl Peer {
    /// "jan (observer) · step 6".
    pub fn summary(&self) -> String {
        let place = match (&self.view.guide, &self.view.step) {
            (Some(_), Some((_, n))) => format!("step {n}"),
            (Some(g), None) => g.clone(),
            _ => "guide list".into(),
        };
        format!("{} ({}) · {place}", self.name, self.role)
    }
}

/// What a remote editor may do beyond sandbox checks that create no data.
/// The local session (and `cutover` alone) may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    pub type_keys: bool,
    pub production: bool,
    pub commands: bool,
    pub writes: bool,
}

impl Rights {
    pub const ALL: Rights = Rights { type_keys: true, production: true, commands: true, writes: true };
}

impl Default for Rights {
    fn default() -> Self {
        Rights::ALL
    }
}

/// This session's view, for the server to pass on.
pub fn view(app: &App) -> View {
    let mut v = View::default();
    if app.screen == Screen::Checklist
        && let Some(g) = app.guide()
    {
        v.guide = Some(g.id().to_string());
        if let Some(s) = app.selected_step() {
            v.step = Some((s.id().to_string(), app.selected + 1));
        }
    }
    v.running = app
        .running
        .iter()
        .map(|((gid, sid), r)| PeerRun {
            guide: gid.clone(),
            step: sid.clone(),
            title: app.step_title(gid, sid),
            since: r.started,
            waiting: r.waiting.clone(),
        })
        .collect();
    v
}

/// Takes a new list of the other sessions; a follower goes where its
/// leader is.
pub fn peers_changed(app: &mut App, peers: Vec<super::Peer>) {
    app.peers = peers;
    let Some(leader) = app.following else { return };
    let Some(p) = app.peers.iter().find(|p| p.id == leader).cloned() else {
        app.following = None;
        app.say(Tone::Info, "the session you followed has left; not following anyone");
        return;
    };
    go_to(app, &p.view);
}

fn go_to(app: &mut App, v: &View) {
    let Some(gid) = &v.guide else { return };
    if app.guide().is_none_or(|g| g.id() != gid)
        && let Some(i) = app.guides.iter().position(|e| e.guide.id() == gid)
    {
        super::open_guide(app, i);
    }
    if let Some((sid, _)) = &v.step
        && let Some(g) = app.guide()
        && let Some(i) = g.steps.iter().position(|s| s.id() == sid)
        && app.selected != i
    {
        app.selected = i;
        app.detail_scroll = 0;
    }
}

/// `f`: follow the next session (the host first), and after the last one,
/// nobody.
pub fn follow_next(app: &mut App) {
    if app.peers.is_empty() {
        app.say(Tone::Info, "nobody else is here to follow");
        return;
    }
    let mut order: Vec<&super::Peer> = app.peers.iter().collect();
    order.sort_by_key(|p| (p.role != "host", p.id));
    let next = match app.following {
        None => order.first().map(|p| p.id),
        Some(cur) => {
            let at = order.iter().position(|p| p.id == cur);
            at.and_then(|i| order.get(i + 1)).map(|p| p.id)
        }
    };
    app.following = next;
    match next.and_then(|id| app.peers.iter().find(|p| p.id == id).cloned()) {
        Some(p) => {
            app.say(
                Tone::Info,
                format!("following {} ({}): your cursor goes where theirs goes; move to stop", p.name, p.role),
            );
            go_to(app, &p.view);
        }
        None => app.say(Tone::Info, "not following anyone"),
    }
}

/// A key that moves this session's cursor ends following.
pub fn moved_by_hand(app: &mut App) {
    if let Some(id) = app.following.take() {
        let name = app.peers.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_default();
        app.say(Tone::Info, format!("stopped following {name}"));
    }
}

/// Peers running a check on this step: "jan is running Sandbox key works… 3 s",
/// or "… waiting for the rate limit · 23 s" while its run waits for the
/// call budget.
pub fn running_here(app: &App, guide: &str, step: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in &app.peers {
        for r in p.view.running.iter().filter(|r| r.guide == guide && r.step == step) {
            out.push(match r.waiting.as_ref().map(|w| w.secs_left(app.now)) {
                Some(left) if left > 0 => {
                    format!("{} is running {}… waiting for the rate limit · {left} s", p.name, r.title)
                }
                _ => {
                    let secs = app.now.duration_since(r.since).as_secs().max(0);
                    format!("{} is running {}… {secs} s", p.name, r.title)
                }
            });
        }
    }
    out
}

/// The checks other sessions run on the step this session shows (what
/// the detail pane says of them, with a spinner): none off the checklist.
pub fn running_on_screen(app: &App) -> Vec<String> {
    match (app.screen, app.guide(), app.selected_step()) {
        (super::Screen::Checklist, Some(g), Some(step)) => running_here(app, g.id(), step.id()),
        _ => Vec::new(),
    }
}

/// Why this session may not run a check here, if it may not.
pub fn refusal(
    app: &App,
    g: &crate::guide::Guide,
    step: &crate::guide::Step,
    env: &str,
    writes: bool,
) -> Option<String> {
    let r = app.settings.rights;
    if !r.production && g.environments.get(env).is_some_and(|e| !e.sandbox) {
        return Some(format!("only the host can run checks in {env}"));
    }
    if !r.commands && step.checks.iter().any(|c| c.kind() == crate::guide::CheckKind::Command) {
        return Some("only the host can run command checks".into());
    }
    if !r.writes && writes {
        return Some(format!("only the host can run a check that can create data in {env}"));
    }
    None
}
