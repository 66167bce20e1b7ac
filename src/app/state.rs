//! The app's one central state. Pure: no terminal, no IO.

use super::editor::Editor;
use crate::guide::{Guide, Step, step_hash};
use crate::progress::{Progress, Status, Verdict};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A guide as the app holds it.
#[derive(Debug, Clone)]
pub struct GuideEntry {
    /// Decoded in full when first read (a built-in guide's head is enough
    /// for the picker).
    pub guide: crate::guide::GuideCell,
    /// "built-in" or the file it came from.
    pub source: String,
    /// Content hash per step id.
    pub hashes: BTreeMap<String, String>,
}

impl GuideEntry {
    pub fn new(guide: Guide, source: String) -> Self {
        let hashes = guide.all_items().map(|s| (s.id().to_string(), step_hash(s))).collect();
        GuideEntry { guide: crate::guide::GuideCell::ready(Arc::new(guide)), source, hashes }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Picker,
    Checklist,
}

/// What the keyboard is doing right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Help {
        scroll: u16,
    },
    /// The event log of the current guide, newest first.
    Log {
        scroll: u16,
    },
    Search {
        query: String,
        from: usize,
    },
    EditNote {
        guide: String,
        step: String,
        editor: Editor,
    },
    /// A one-line prompt: a typed confirmation, a manual check's evidence,
    /// why a step is blocked, an API key.
    Line(super::line::LineInput),
}

/// A check for configured keys in text, given by the runtime (the app
/// itself holds no key).
#[derive(Clone, Default)]
pub struct SecretGuard(pub Option<KeyDetector>, pub Option<String>);

/// True if the text holds a configured key.
pub type KeyDetector = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl SecretGuard {
    /// A guard that finds keys with `detect`.
    pub fn new(detect: KeyDetector) -> Self {
        SecretGuard(Some(detect), None)
    }

    /// A guard that cannot know every key (why): it lets nothing that could
    /// carry one be written.
    pub fn broken(why: impl Into<String>) -> Self {
        SecretGuard(None, Some(why.into()))
    }

    pub fn holds_key(&self, text: &str) -> bool {
        self.0.as_ref().is_some_and(|f| f(text))
    }

    /// Why nothing that could carry a key may be written now, if so.
    pub fn refusal(&self) -> Option<&str> {
        self.1.as_deref()
    }
}

impl std::fmt::Debug for SecretGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "SecretGuard(on)" } else { "SecretGuard(off)" })
    }
}

/// Builds a check's request as a curl command the way the check engine
/// would send it (its base URL, overrides and config values), given by the
/// runtime; without one, copy falls back to the guide's own base URL.
#[derive(Clone, Default)]
pub struct CurlBuilder(pub Option<CurlFn>);

/// (guide, environment, request) -> the curl command, or why not.
pub type CurlFn = Arc<
    dyn Fn(&Guide, &str, &crate::guide::RequestSpec) -> Result<String, crate::check::curl::CurlError> + Send + Sync,
>;

impl std::fmt::Debug for CurlBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "CurlBuilder(engine)" } else { "CurlBuilder(guide)" })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub tone: Tone,
    /// Run all's progress line: said again as a wait for the call budget
    /// counts down ([`App::say_run_all`]).
    pub run_all: bool,
}

/// A check that is running for a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub run_id: u64,
    pub started: Timestamp,
    /// Waiting for the call budget before its next call (run all), as the
    /// runner last said.
    pub waiting: Option<crate::guide::BudgetWait>,
}

/// How the app was started.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Languages in order of preference (`--lang`, then the locale's).
    pub lang_pref: Vec<String>,
    pub user: String,
    pub observe: bool,
    /// Shown in the help and after a report: where the state lives.
    pub state_path: String,
    /// Banner text when checks go to a fake carrier.
    pub demo: bool,
    /// What this session may do (a remote editor of `cutover serve` less
    /// than the host); everything by default.
    pub rights: super::Rights,
}

#[derive(Debug, Clone)]
pub struct App {
    pub guides: Vec<GuideEntry>,
    /// Problems with user guide files that were skipped.
    pub guide_errors: Vec<String>,
    pub progress: Progress,
    pub screen: Screen,
    pub picker: usize,
    pub current: usize,
    pub selected: usize,
    pub detail_scroll: u16,
    /// Chosen language per guide id.
    pub lang: BTreeMap<String, String>,
    /// Active environment per guide id.
    pub env: BTreeMap<String, String>,
    pub mode: Mode,
    pub message: Option<Message>,
    pub settings: Settings,
    pub now: Timestamp,
    pub running: BTreeMap<(String, String), Running>,
    pub next_run_id: u64,
    pub spinner: usize,
    pub quit: bool,
    /// Why the last save failed, while a change is not saved: quitting then
    /// says so and exits 4.
    pub unsaved: Option<String>,
    /// Who else has this state open (already sanitized).
    pub others: Vec<String>,
    /// The other sessions of a served checklist (`cutover serve`).
    pub peers: Vec<super::Peer>,
    /// The session whose cursor this one follows (`f`).
    pub following: Option<u64>,
    /// The host's session of `cutover serve`: where it listens and the host
    /// key's fingerprint, for the help screen.
    pub serving: Option<String>,
    /// The server log's lines the host's session has seen (joins, leaves,
    /// refusals), merged into the history (`H`).
    pub serve_log: Vec<(Timestamp, String)>,
    /// Why this instance is not in the others' presence list (its entry
    /// could not be written), None when it is.
    pub not_announced: Option<String>,
    /// What is known of the state file when it could not be shown: "no
    /// progress saved yet", or why it cannot be read. None: shown.
    pub state_problem: Option<String>,
    /// Base URL per (guide, env) when it differs from the guide's own.
    pub overridden_urls: BTreeMap<(String, String), String>,
    /// Where a base URL that is not the built-in guide's own comes from
    /// (a variable, config.toml, a guide file of the user's own).
    pub url_origins: BTreeMap<(String, String), String>,
    /// The last search, for `n`.
    pub last_search: String,
    /// Which of the step's copyable items `y` copies next.
    pub copy_cursor: usize,
    /// Tells whether a text holds a configured API key; such a note is
    /// refused, not saved.
    pub secret_guard: SecretGuard,
    /// Freshness window per guide from the user's config, overriding the
    /// guide's own `fresh_for`, in seconds.
    pub fresh_override: BTreeMap<String, u64>,
    /// The default timeout of one check request, shown while a check runs.
    pub check_timeout_secs: u64,
    /// The detail pane as last drawn: rows shown and rows in all, so that
    /// scrolling stops at the end and pages by the pane's height. Written
    /// by the renderer (it alone knows the wrapped height), read by update.
    pub detail_view: std::cell::Cell<DetailView>,
    /// The "run all" under way or last finished, for its progress line.
    pub run_all: Option<RunAll>,
    /// How `y` turns a check into a curl command.
    pub curl: CurlBuilder,
    /// The step `t` jumped from (guide id, item index), for Backspace or
    /// Ctrl-O to go back to, and for `t` to cycle that step's items.
    pub came_from: Option<(String, usize)>,
    /// Every event of a guide as last read for the history view (guide id,
    /// events oldest first): the state keeps only the latest few, the rest
    /// are in the event archive.
    pub history: Option<(String, Vec<crate::progress::Event>)>,
}

/// The scrolled part of the detail pane as last drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetailView {
    /// Rows the scrolled text can show.
    pub rows: u16,
    /// Rows of text in all, wrapped to the pane's width.
    pub total: u16,
}

impl DetailView {
    /// The last useful scroll position: the end of the text at the bottom.
    pub fn max_scroll(self) -> u16 {
        self.total.saturating_sub(self.rows)
    }
}

/// A "run all": which steps it started and how each ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunAll {
    pub guide: String,
    pub started: Timestamp,
    /// Step ids in the order they were started.
    pub steps: Vec<String>,
    /// The verdict of each step that finished.
    pub finished: BTreeMap<String, Verdict>,
    /// Steps cancelled before they finished.
    pub cancelled: Vec<String>,
    /// Set when the last one ended.
    pub ended: Option<Timestamp>,
}

impl RunAll {
    /// "3/8 checks · 2 pass · 1 fail · 5 running".
    pub fn summary(&self) -> String {
        let total = self.steps.len();
        let done = self.finished.len() + self.cancelled.len();
        let mut parts = vec![format!("{done}/{total} checks")];
        for v in [Verdict::Pass, Verdict::Fail, Verdict::Error, Verdict::Indeterminate, Verdict::Skipped] {
            let n = self.finished.values().filter(|x| **x == v).count();
            if n > 0 {
                parts.push(format!("{n} {}", v.as_str()));
            }
        }
        if !self.cancelled.is_empty() {
            parts.push(format!("{} cancelled", self.cancelled.len()));
        }
        let running = total.saturating_sub(done);
        if running > 0 {
            parts.push(format!("{running} running"));
        }
        parts.join(" · ")
    }
}

/// One row of the step list.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub step: &'a Step,
    pub troubleshooting: bool,
}

impl App {
    pub fn new(guides: Vec<GuideEntry>, progress: Progress, settings: Settings, now: Timestamp) -> Self {
        let mut lang = BTreeMap::new();
        let mut env = BTreeMap::new();
        for g in &guides {
            // Languages and environments are in every guide's head: no
            // guide is decoded for this.
            let g = g.guide.head();
            let wanted: Vec<&str> = settings.lang_pref.iter().map(String::as_str).collect();
            lang.insert(g.id().to_string(), g.pick_language(&wanted));
            let first_env = g.environments.iter().find(|(_, e)| e.sandbox).or_else(|| g.environments.iter().next());
            if let Some((name, _)) = first_env {
                env.insert(g.id().to_string(), name.clone());
            }
        }
        App {
            guides,
            guide_errors: Vec::new(),
            progress,
            screen: Screen::Picker,
            picker: 0,
            current: 0,
            selected: 0,
            detail_scroll: 0,
            lang,
            env,
            mode: Mode::Normal,
            message: None,
            settings,
            now,
            running: BTreeMap::new(),
            next_run_id: 1,
            spinner: 0,
            quit: false,
            unsaved: None,
            others: Vec::new(),
            peers: Vec::new(),
            following: None,
            serving: None,
            serve_log: Vec::new(),
            not_announced: None,
            state_problem: None,
            overridden_urls: BTreeMap::new(),
            url_origins: BTreeMap::new(),
            last_search: String::new(),
            copy_cursor: 0,
            fresh_override: BTreeMap::new(),
            secret_guard: SecretGuard::default(),
            check_timeout_secs: 20,
            detail_view: std::cell::Cell::new(DetailView::default()),
            run_all: None,
            came_from: None,
            curl: CurlBuilder::default(),
            history: None,
        }
    }

    /// The current guide's events for the history view, oldest first: all
    /// of them once read from the archive, with what the state got since;
    /// until then the latest ones the state keeps. The flag: read in full.
    pub fn guide_history(&self) -> (Vec<&crate::progress::Event>, bool) {
        let gid = self.guide_id();
        let read = self.history.as_ref().filter(|(g, _)| g == gid).map(|(_, e)| e.as_slice());
        (crate::progress::guide_history(read.unwrap_or_default(), &self.progress.events, gid), read.is_some())
    }

    pub fn entry(&self) -> Option<&GuideEntry> {
        self.guides.get(self.current)
    }

    pub fn guide(&self) -> Option<&Guide> {
        self.entry().map(|e| e.guide.full().as_ref())
    }

    /// Runs `draw` on this App with the open guide decoded only as far as
    /// its screen shows: the head and the selected item in full
    /// ([`crate::guide::GuideCell::showing`]). For the first frame, before
    /// anything reads the guide in full; the App is as it was after.
    pub fn with_shown_guide<R>(&mut self, draw: impl FnOnce(&App) -> R) -> R {
        let shown = match self.screen {
            Screen::Checklist if !self.verdict_beside_selected() => {
                self.entry().and_then(|e| e.guide.showing(self.selected))
            }
            _ => None,
        };
        let Some(shown) = shown else { return draw(self) };
        let current = self.current;
        let real = std::mem::replace(&mut self.guides[current].guide, shown);
        let out = draw(self);
        self.guides[current].guide = real;
        out
    }

    /// An item other than the selected one has a verdict: the step list
    /// then reads that item's checks (to say it is stale), so the first
    /// frame needs the guide in full.
    fn verdict_beside_selected(&self) -> bool {
        let gid = self.guide_id();
        self.entry().is_some_and(|e| {
            e.guide
                .head()
                .all_items()
                .enumerate()
                .any(|(i, s)| i != self.selected && self.last_verdict(gid, s.id()).is_some())
        })
    }

    pub fn guide_id(&self) -> &str {
        self.entry().map(|e| e.guide.id()).unwrap_or("")
    }

    /// The language the current guide is shown in, and the fallbacks.
    pub fn lang_of<'a>(&'a self, guide: &'a Guide) -> (&'a str, &'a [String]) {
        let l = self.lang.get(guide.id()).map(String::as_str).unwrap_or("en");
        (l, &guide.languages)
    }

    /// A guide's text in the chosen language.
    pub fn text<'a>(&'a self, guide: &'a Guide, t: &'a crate::guide::Text) -> &'a str {
        let (l, fb) = self.lang_of(guide);
        t.get(l, fb)
    }

    pub fn env_of(&self, guide: &str) -> Option<&str> {
        self.env.get(guide).map(String::as_str)
    }

    /// Steps then troubleshooting items of the current guide.
    pub fn items(&self) -> Vec<Item<'_>> {
        match self.guide() {
            Some(g) => g
                .steps
                .iter()
                .map(|s| Item { step: s, troubleshooting: false })
                .chain(g.troubleshooting.iter().map(|s| Item { step: s, troubleshooting: true }))
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn selected_step(&self) -> Option<&Step> {
        self.items().get(self.selected).map(|i| i.step)
    }

    pub fn status(&self, guide: &str, step: &str) -> Status {
        self.progress.status(guide, step)
    }

    /// (closed, total) over the numbered steps of a guide.
    pub fn counts(&self, g: &Guide) -> (usize, usize) {
        self.progress.counts(g.id(), g.steps.iter().map(|s| s.id()))
    }

    /// A ticked step whose content changed since.
    pub fn drifted(&self, guide: &str, step: &str) -> bool {
        let Some(rec) = self.progress.step(guide, step) else {
            return false;
        };
        if rec.status == Status::Todo {
            return false;
        }
        let current = self.guides.iter().find(|e| e.guide.id() == guide).and_then(|e| e.hashes.get(step));
        match (&rec.hash, current) {
            (Some(saved), Some(now)) => saved != now,
            _ => false,
        }
    }

    /// Steps required by `step` that are not done yet.
    pub fn missing_requirements(&self, g: &Guide, step: &Step) -> Vec<String> {
        step.requires
            .iter()
            .filter(|r| !self.status(g.id(), r.get_ref()).is_closed())
            .map(|r| r.get_ref().clone())
            .collect()
    }

    /// The step's verdict (the latest run of each check, worst first) and
    /// when, if any check ran.
    pub fn last_verdict(&self, guide: &str, step: &str) -> Option<(Verdict, Timestamp)> {
        self.progress.step(guide, step).and_then(|r| r.verdict())
    }

    /// The freshness window of a step's verdicts in seconds: the config's
    /// override, else the shortest `fresh_for` of its checks; None: verdicts
    /// never go stale.
    pub fn fresh_window(&self, guide: &str, step: &Step) -> Option<u64> {
        self.fresh_override.get(guide).copied().or_else(|| {
            step.checks.iter().filter_map(|c| c.fresh_for.as_deref()).filter_map(crate::guide::parse_duration).min()
        })
    }

    /// The latest verdict is older than the step's freshness window.
    pub fn is_stale(&self, guide: &str, step: &Step) -> bool {
        match (self.last_verdict(guide, step.id()), self.fresh_window(guide, step)) {
            (Some((_, at)), Some(window)) => self.now.as_second() - at.as_second() > window as i64,
            _ => false,
        }
    }

    /// "5. Your API account" for a step, its title for a troubleshooting
    /// item, the id for a step the guide no longer has (sanitized: a guide
    /// is untrusted text).
    pub fn step_title(&self, guide: &str, step: &str) -> String {
        let Some(g) = self.guides.iter().find(|e| e.guide.id() == guide).map(|e| e.guide.full().as_ref()) else {
            return crate::sanitize::line(step);
        };
        match g.item(step) {
            Some(s) => {
                let t = crate::sanitize::line(self.text(g, &s.title));
                match s.number {
                    Some(n) => format!("{n}. {t}"),
                    None => t,
                }
            }
            None => crate::sanitize::line(step),
        }
    }

    pub fn is_running(&self, guide: &str, step: &str) -> bool {
        self.running.contains_key(&(guide.to_string(), step.to_string()))
    }

    pub fn say(&mut self, tone: Tone, text: impl Into<String>) {
        self.message = Some(Message { text: text.into(), tone, run_all: false });
    }

    /// Says run all's progress line, to be said again while it counts down.
    pub fn say_run_all(&mut self, tone: Tone, text: impl Into<String>) {
        self.message = Some(Message { text: text.into(), tone, run_all: true });
    }

    /// The soonest wait for the call budget among the running checks of
    /// the run all under way.
    pub fn run_all_wait(&self) -> Option<&crate::guide::BudgetWait> {
        let ra = self.run_all.as_ref().filter(|r| r.ended.is_none())?;
        ra.steps
            .iter()
            .filter_map(|s| self.running.get(&(ra.guide.clone(), s.clone()))?.waiting.as_ref())
            .min_by_key(|w| w.until)
    }

    /// Run all's progress line as it reads now: "run all: 3/8 checks ·
    /// 2 pass · 5 running"; while one of its checks waits for the call
    /// budget, that first (the soonest wait), so that a narrow footer cuts
    /// the counts rather than the wait: "run all: waiting for the rate
    /// limit · 23 s · 3/8 checks · 2 pass · 5 running".
    pub fn run_all_line(&self) -> Option<String> {
        let ra = self.run_all.as_ref().filter(|r| r.ended.is_none())?;
        Some(match self.run_all_wait() {
            Some(w) => {
                let what = if w.per_minute.is_some() { "the rate limit" } else { "the server's pause" };
                format!("run all: waiting for {what} · {} s · {}", w.secs_left(self.now), ra.summary())
            }
            None => format!("run all: {}", ra.summary()),
        })
    }
}
